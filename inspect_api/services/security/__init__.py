"""Security (等保三级 on the application): the audit administrator's search, export and the retention rule
of the audit log (audit), the application's database role on PostgreSQL (migration 0013, deploy/)."""
