"""The append-only audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntPK, UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_table", "object_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_username: Mapped[str | None] = mapped_column(String(80))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    device_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    object_table: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(64), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


# The database refuses changes too, not only the ORM (created with the table and by migration 0002).
PG_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END
$$ LANGUAGE plpgsql
"""
PG_GUARD_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
SQLITE_GUARD_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
]


def _install_guard(target, connection, **kw):
    from sqlalchemy import text

    if connection.dialect.name == "postgresql":
        connection.execute(text(PG_GUARD_FUNCTION))
        connection.execute(text(PG_GUARD_TRIGGER))
    elif connection.dialect.name == "sqlite":
        for stmt in SQLITE_GUARD_TRIGGERS:
            connection.execute(text(stmt))


event.listen(AuditEvent.__table__, "after_create", _install_guard)
