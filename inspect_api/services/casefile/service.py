"""送达: recording that a document was served on the party (the 送达回执 of the file).

Documents that can be served: a penalty decision (行政处罚决定书), a rectification notice, a review opinion.
Two officers serve (two distinct 执法证号); the time is not in the future; the method is one of the
statutory ones (直接、留置、邮寄、电子、公告).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...models import Notice, PenaltyDecision, Review, ServiceRecord, User, utcnow
from ...models.casefile import SERVICE_METHODS
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped
from .guard import ensure_not_archived

SERVABLE = {"penalty_decisions": (PenaltyDecision, "行政处罚决定书"), "notices": (Notice, "责令限期整改指令书"),
            "reviews": (Review, "整改复查意见书")}


def _error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def record_service(session: Session, actor: Actor, data: dict) -> ServiceRecord:
    """data: document_table, document_id, served_at (aware), method, recipient, place?, officer2_id, note?"""
    if actor.user is None or actor.user.role not in ("inspector", "supervisor"):
        raise Forbidden("只有执法人员可以登记送达 (only officers record service)")
    table = data.get("document_table")
    if table not in SERVABLE:
        raise _error("document_table", "只能登记处罚决定书、指令书或复查意见书的送达 (unknown document type)")
    model, title = SERVABLE[table]
    doc = get_scoped(session, model, data.get("document_id"), actor.user)
    ensure_not_archived(session, table, doc.id)
    served_at = data.get("served_at")
    if not isinstance(served_at, datetime) or served_at.tzinfo is None:
        raise _error("served_at", "须填写送达时间 (served_at required, with a time zone)")
    if served_at > utcnow():
        raise _error("served_at", "送达时间不能晚于现在 (served_at in the future)")
    if data.get("method") not in SERVICE_METHODS:
        raise _error("method", "送达方式无效 (method must be one of " + ", ".join(SERVICE_METHODS) + ")")
    recipient = (data.get("recipient") or "").strip()
    if not recipient:
        raise _error("recipient", "须填写签收人 (recipient required)")
    second = session.get(User, data.get("officer2_id")) if data.get("officer2_id") else None
    if second is None or second.role not in ("inspector", "supervisor") or not second.certificate_no \
            or second.certificate_no == actor.user.certificate_no or not actor.user.certificate_no:
        raise _error("officer2_id", "送达须两名持不同执法证的执法人员 (two officers with distinct certificates)")
    rec = ServiceRecord(document_table=table, document_id=doc.id, document_title=title,
                        document_number=getattr(doc, "number", None), enterprise_id=doc.enterprise_id,
                        region_code=doc.region_code, served_at=served_at, method=data["method"],
                        place=(data.get("place") or "").strip() or None, recipient=recipient,
                        officer1_id=actor.user.id, officer2_id=second.id, note=data.get("note"),
                        created_by_id=actor.user.id)
    session.add(rec)
    session.flush()
    record_event(session, actor, "service.record", rec, data={"document_table": table, "document_id": doc.id,
                                                              "method": rec.method, "served_at": served_at})
    return rec
