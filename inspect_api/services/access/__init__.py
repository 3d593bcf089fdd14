"""Access: who is acting (Actor), what they may see (scope: every query of a scoped table goes through scope_clause / get_scoped), and the append-only audit log every state change writes."""
