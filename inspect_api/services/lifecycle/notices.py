"""Rectification notices (责令限期整改指令书): issue, number, acknowledge.

A notice orders one or more hazards of one inspection to be fixed by a
deadline. It is issued by two distinct officers with certificate numbers
(执法证号); the server gives it its number (文号) — kind "notice" — when it is
created through the API (issue_notice) or first arrives from a tablet
(number_notice, called by the sync service). The enterprise signs for it
(acknowledge_notice: 签收), which moves its ordered hazards to acknowledged.
It closes by itself when its last hazard is closed (services/hazards.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden, NotFound, ValidationError
from ...models import Enterprise, Hazard, Notice, User, allocate_seq, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..casefile.guard import ensure_not_archived
from .hazards import InvalidTransition, overdue_clause, transition
from .numbering import assign_number
from ..access.scope import get_scoped, region_in_scope, scope_clause
from ...models import limits
from .lengths import check_lengths


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def check_officers(session: Session, officer1: User | None, officer2_id: str | None, region_code: str,
                   field: str = "officer2_id") -> User:
    """Two distinct inspectors with certificate numbers, both with jurisdiction over the region."""
    if officer1 is None or officer1.role != "inspector" or not (officer1.certificate_no or "").strip():
        raise Forbidden("只有持执法证的执法人员可以签发 (only inspectors with a certificate may sign)")
    if not officer2_id:
        raise _field_error(field, "须有第二名执法人员 (a second officer is required)")
    officer2 = session.get(User, officer2_id)
    if (officer2 is None or officer2.role != "inspector" or not officer2.is_active
            or not (officer2.certificate_no or "").strip() or not region_in_scope(officer2, region_code)):
        raise _field_error(field, "第二名执法人员须是本辖区持执法证的执法人员 "
                                  "(the second officer must be an inspector of this jurisdiction with a certificate)")
    if officer2.id == officer1.id or officer2.certificate_no == officer1.certificate_no:
        raise _field_error(field, "两名执法人员必须不同 (the two officers must be different people)")
    return officer2


def notice_officers(session: Session, notice: Notice) -> tuple[User | None, User | None]:
    """The two officers of a notice; a notice from a tablet names none, so its inspection's two inspectors."""
    o1 = session.get(User, notice.officer1_id) if notice.officer1_id else None
    o2 = session.get(User, notice.officer2_id) if notice.officer2_id else None
    if (o1 is None or o2 is None) and notice.inspection_id:
        from ...models import Inspection

        insp = session.get(Inspection, notice.inspection_id)
        if insp is not None:
            o1 = o1 or (session.get(User, insp.lead_inspector_id) if insp.lead_inspector_id else None)
            o2 = o2 or (session.get(User, insp.co_inspector_id) if insp.co_inspector_id else None)
    return o1, o2


def number_notice(session: Session, notice: Notice, default_bureau: str) -> Notice:
    """Give a notice its number (文号) if it has none; sets issued_at if missing. Idempotent."""
    if notice.issued_at is None:
        notice.issued_at = utcnow()
    if notice.number is None:
        bureau, year, seq_no, number = assign_number(session, "notice", notice.region_code, notice.issued_at,
                                                     default_bureau)
        notice.bureau_code, notice.year, notice.seq_no, notice.number = bureau, year, seq_no, number
        session.flush()
    return notice


def issue_notice(session: Session, actor: Actor, data: dict, default_bureau: str) -> Notice:
    """Create a notice from hazards of one inspection and order them.

    data: hazard_ids (≥1), deadline_at (aware, after issued_at), officer2_id, safety_measures?,
    issued_at?, reason?. The acting inspector is officer 1.
    """
    check_lengths(data, limits.NOTICE)
    user = actor.user
    hazard_ids = list(dict.fromkeys(data.get("hazard_ids") or []))
    if not hazard_ids:
        raise _field_error("hazard_ids", "至少选择一项隐患 (at least one hazard)")
    allocate_seq(session, 0)
    hazards = [get_scoped(session, Hazard, hid, user) for hid in hazard_ids]
    first = hazards[0]
    if any(h.enterprise_id != first.enterprise_id for h in hazards):
        raise _field_error("hazard_ids", "隐患须属于同一企业 (hazards of one enterprise)")
    if any(h.inspection_id != first.inspection_id for h in hazards):
        raise _field_error("hazard_ids", "隐患须来自同一次检查 (hazards of one inspection)")
    for h in hazards:
        if h.status != "found" or h.notice_id is not None:
            raise InvalidTransition(f"隐患 {h.id} 状态为 {h.status}，不能再下达整改 (hazard not in status found)",
                                    details={"action": "order", "status": h.status, "reason": "state",
                                             "hazard_id": h.id})
    issued_at = data.get("issued_at") or utcnow()
    deadline = data.get("deadline_at")
    if deadline is None or deadline.tzinfo is None:
        raise _field_error("deadline_at", "整改期限必须给出 (deadline required)")
    if deadline <= issued_at:
        raise _field_error("deadline_at", "整改期限须晚于签发时间 (deadline must be after the issue time)")
    officer2 = check_officers(session, user, data.get("officer2_id"), first.region_code)
    with session.begin_nested():
        notice = Notice(
            inspection_id=first.inspection_id, enterprise_id=first.enterprise_id, region_code=first.region_code,
            deadline_at=deadline, issued_at=issued_at, issued_by_id=actor.id, officer1_id=user.id,
            officer2_id=officer2.id, safety_measures=data.get("safety_measures"), status="issued",
        )
        session.add(notice)
        number_notice(session, notice, default_bureau)
        record_event(session, actor, "notice.issue", notice, to_state="issued", reason=data.get("reason"),
                     data={"number": notice.number, "hazard_ids": hazard_ids, "deadline_at": deadline,
                           "officer1_id": user.id, "officer2_id": officer2.id})
        for h in hazards:
            transition(session, actor, h, "order", deadline_at=deadline, notice=notice, reason=data.get("reason"))
    return notice


def acknowledge_notice(session: Session, actor: Actor, notice: Notice, reason: str | None = None) -> Notice:
    """签收: the enterprise acknowledges the notice; its ordered hazards become acknowledged."""
    user = actor.user
    allocate_seq(session, 0)
    session.flush()
    if user is not None:
        if session.scalar(select(Notice.id).where(Notice.id == notice.id, scope_clause(Notice, user))) is None:
            raise NotFound("整改指令书不存在 (notice not found)")
    session.refresh(notice, with_for_update=True)
    ensure_not_archived(session, "notices", notice.id)
    if user is not None and user.role != "enterprise":
        raise InvalidTransition("只有企业可以签收 (only the enterprise acknowledges)",
                                details={"action": "acknowledge", "status": notice.status, "reason": "role"})
    waiting = [h for h in notice.hazards if h.status == "ordered" and h.deleted_at is None]
    # An acknowledged notice can be signed again only for hazards a tablet added to it later.
    if notice.status == "closed" or (notice.status == "acknowledged" and not waiting):
        raise InvalidTransition(f"指令书状态为 {notice.status}，不能签收 (notice already acknowledged or closed)",
                                details={"action": "acknowledge", "status": notice.status, "reason": "state"})
    with session.begin_nested():
        before = notice.status
        notice.status = "acknowledged"
        if notice.acknowledged_at is None:
            notice.acknowledged_at = utcnow()
            notice.acknowledged_by_id = actor.id
        record_event(session, actor, "notice.acknowledge", notice, from_state=before, to_state="acknowledged",
                     reason=reason, data={"hazard_ids": [h.id for h in waiting]})
        for h in waiting:
            transition(session, actor, h, "acknowledge", reason=reason)
        session.flush()
    return notice


def get_notice(session: Session, user: User, notice_id: str) -> Notice:
    return get_scoped(session, Notice, notice_id, user)


def notices_stmt(user: User, *, status: str | None = None, enterprise_id: str | None = None,
                 inspection_id: str | None = None, overdue: bool | None = None, now: datetime | None = None):
    """Notices a user may see, newest first; overdue = holds an overdue hazard."""
    stmt = select(Notice).where(scope_clause(Notice, user), Notice.deleted_at.is_(None))
    if status:
        stmt = stmt.where(Notice.status == status)
    if enterprise_id:
        stmt = stmt.where(Notice.enterprise_id == enterprise_id)
    if inspection_id:
        stmt = stmt.where(Notice.inspection_id == inspection_id)
    if overdue is not None:
        late = select(Hazard.notice_id).where(Hazard.notice_id.is_not(None), overdue_clause(now or utcnow()))
        stmt = stmt.where(Notice.id.in_(late) if overdue else Notice.id.not_in(late))
    return stmt.order_by(Notice.issued_at.desc(), Notice.id)


def notices_for_enterprise(session: Session, user: User, open_only: bool = False) -> list[Notice]:
    """The notices an (enterprise) user sees, open first by deadline."""
    stmt = select(Notice).where(scope_clause(Notice, user), Notice.deleted_at.is_(None))
    if open_only:
        stmt = stmt.where(Notice.status != "closed")
    return list(session.scalars(stmt.order_by(Notice.deadline_at.is_(None), Notice.deadline_at)))


def enterprise_of(session: Session, notice: Notice) -> Enterprise:
    return session.get(Enterprise, notice.enterprise_id)
