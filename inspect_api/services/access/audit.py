"""Writing the audit log. Every state change calls record_event."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent
from .actor import Actor


def record_event(session: Session, actor: Actor, action: str, obj=None, *, table: str | None = None,
                 object_id: str | None = None, from_state: str | None = None, to_state: str | None = None,
                 reason: str | None = None, data: dict | None = None) -> AuditEvent:
    if obj is not None:
        table = table or obj.__tablename__
        object_id = object_id or str(getattr(obj, "id", None))
    region = getattr(obj, "region_code", None) if obj is not None else None
    enterprise = getattr(obj, "enterprise_id", None) if obj is not None else None
    if obj is not None and table == "enterprises":
        enterprise = obj.id
    user = actor.user
    event = AuditEvent(
        actor_id=user.id if user else None,
        actor_username=user.username if user else None,
        actor_role=user.role if user else "system",
        device_id=actor.device_id,
        ip=actor.ip,
        action=action,
        object_table=table,
        object_id=object_id,
        region_code=region,
        enterprise_id=enterprise,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=_jsonable(data or {}),
    )
    session.add(event)
    return event


def _jsonable(value):
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def history_of(session: Session, table: str, object_id: str) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_table == table, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.id)
    ))
