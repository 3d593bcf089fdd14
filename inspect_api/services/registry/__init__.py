"""Registry: the enterprise register (enterprises, the GB 32100 credit-code check in uscc, bulk imports from spreadsheets in imports) and the versioned checklist templates (checklists)."""
