"""Reporting: the supervisor's statistics (stats) and the exports and ledger (exports)."""
