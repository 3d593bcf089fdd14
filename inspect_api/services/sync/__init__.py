"""Sync: the WatermelonDB protocol of CONTRACT §2 — the wire format, the per-table rules, pull and push (engine)."""
