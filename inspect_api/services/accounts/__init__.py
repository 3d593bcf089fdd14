"""Accounts: sign-in and bearer tokens (auth), password hashing (passwords), users, their roles and devices (users)."""
