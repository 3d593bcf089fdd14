"""The audit administrator's work on the audit log (等保三级 8.1.4.3): search, export, retention.

Search by time range, actor, action, object and source address, newest first. An export is itself an
audit event. Records are kept at least AUDIT_RETENTION_DAYS (default and minimum 180: the six months of
network-log retention in the Cybersecurity Law, art. 21); a purge of anything younger is refused. A purge
of older records is an owner's operation (the append-only trigger is lifted for it inside the purge's
transaction, which the application's database role cannot do on PostgreSQL) and leaves an audit event.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ...errors import Conflict, ValidationError
from ...models import AuditEvent, User, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import scope_clause

MIN_RETENTION_DAYS = 180
EXPORT_LIMIT = 100_000
COLUMNS = (("at", "时间(UTC)"), ("actor_username", "用户"), ("actor_role", "角色"), ("ip", "来源地址"),
           ("device_id", "设备"), ("action", "事件类型"), ("object_table", "对象类型"), ("object_id", "对象"),
           ("from_state", "原状态"), ("to_state", "新状态"), ("reason", "原因"))


def search_stmt(user: User, args: dict):
    stmt = select(AuditEvent).where(scope_clause(AuditEvent, user))
    for key in ("object_table", "object_id", "actor_id", "action", "ip", "actor_username"):
        if args.get(key):
            stmt = stmt.where(getattr(AuditEvent, key) == args[key])
    if args.get("action_prefix"):
        stmt = stmt.where(AuditEvent.action.like(args["action_prefix"].replace("%", "") + "%"))
    if args.get("at_from"):
        stmt = stmt.where(AuditEvent.at >= args["at_from"])
    if args.get("at_to"):
        stmt = stmt.where(AuditEvent.at < args["at_to"])
    return stmt.order_by(AuditEvent.id.desc())


def export_csv(session: Session, actor: Actor, args: dict) -> str:
    """The matching records as CSV (UTF-8 with BOM); at most EXPORT_LIMIT rows (narrow the search)."""
    stmt = search_stmt(actor.user, args)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if total > EXPORT_LIMIT:
        raise ValidationError(f"导出记录过多（{total} 条），请缩小时间范围，单次至多 {EXPORT_LIMIT} 条 "
                              f"(too many records)", code="export_too_large")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in COLUMNS])
    for event in session.scalars(stmt.execution_options(yield_per=1000)):
        writer.writerow([_cell(getattr(event, key)) for key, _ in COLUMNS])
    record_event(session, actor, "audit.export", table="audit_events", object_id=None,
                 data={"filters": {k: v for k, v in args.items() if v}, "rows": total})
    return "\ufeff" + buf.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    s = str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def purge_before(session: Session, actor: Actor, before: datetime, retention_days: int) -> int:
    """Delete records older than ``before`` — refused when that is inside the retention period."""
    retention_days = max(retention_days, MIN_RETENTION_DAYS)
    limit = utcnow() - timedelta(days=retention_days)
    if before > limit:
        raise Conflict(f"审计记录至少保存 {retention_days} 天，不能清除 {limit.date()} 之后的记录 "
                       f"(records are kept at least {retention_days} days)", code="retention_period",
                       details={"earliest_allowed_before": limit.isoformat()})
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    elif dialect == "sqlite":
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
    count = session.execute(delete(AuditEvent).where(AuditEvent.at < before)).rowcount
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    elif dialect == "sqlite":
        session.execute(text("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                             "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"))
    record_event(session, actor, "audit.purge", table="audit_events", object_id=None,
                 data={"before": before, "deleted": count, "retention_days": retention_days})
    return count
