"""The business. Services take the acting user and validated data; they add and
flush, never commit, and never touch the request."""
