"""Enterprise fixes (整改) and their reviews (复查).

report_rectification: the enterprise reports a fix of one hazard (description,
measures, funds in yuan, responsible person, completion date); photos of the
fixed state are uploaded afterwards as Photo rows with owner_table
"rectifications" and owner_id = the rectification's id (CONTRACT §3).

review_rectification: an inspector of the region, with a second officer,
accepts or rejects a pending fix. The review needs evidence: at least one
ready photo of the rectification or an on-site check record (现场核查记录).
Each review gets a number (kind "review") and an opinion document (整改复查意见书).
Accepting closes a general hazard and leaves a major one "verified" for a
supervisor to close; rejecting sends the hazard back to rectification, with a
new deadline when the reviewer sets one.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...models import Hazard, Rectification, Review, User, allocate_seq, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..casefile.guard import ensure_not_archived
from .hazards import InvalidTransition, count_ready_photos, transition
from .notices import check_officers
from .numbering import SHANGHAI, assign_number
from ..access.scope import get_scoped, scope_clause

from ...models import limits
from .lengths import check_lengths

REVIEW_RESULTS = ("accepted", "rejected")


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def report_rectification(session: Session, actor: Actor, hazard: Hazard, data: dict) -> Rectification:
    """整改完成: record the fix and move the hazard to reported (all or nothing)."""
    check_lengths(data, limits.RECTIFICATION)
    description = (data.get("description") or "").strip()
    if not description:
        raise _field_error("description", "须填写整改情况 (description required)")
    funds = data.get("funds")
    if funds is not None:
        funds = Decimal(str(funds))
        if funds < 0:
            raise _field_error("funds", "整改资金不能为负 (funds cannot be negative)")
    completed_on = data.get("completed_on")
    if completed_on is not None and completed_on > utcnow().astimezone(SHANGHAI).date():
        raise _field_error("completed_on", "完成日期不能晚于今天 (completion date is in the future)")
    allocate_seq(session, 0)
    ensure_not_archived(session, "hazards", hazard.id)
    with session.begin_nested():
        rect = Rectification(
            hazard_id=hazard.id, enterprise_id=hazard.enterprise_id, region_code=hazard.region_code,
            description=description, measures=data.get("measures"), funds=funds,
            responsible_person=data.get("responsible_person"), completed_on=completed_on,
            reported_by_id=actor.id, reported_at=utcnow(), status="pending",
        )
        if data.get("id"):
            rect.id = data["id"]
        session.add(rect)
        transition(session, actor, hazard, "report", rectification=rect, reason=data.get("reason"))
        record_event(session, actor, "rectification.report", rect, to_state="pending",
                     data={"hazard_id": hazard.id, "description": description, "measures": rect.measures,
                           "funds": funds, "responsible_person": rect.responsible_person,
                           "completed_on": completed_on})
        session.flush()
    return rect


def review_rectification(session: Session, actor: Actor, rect: Rectification, data: dict,
                         default_bureau: str) -> Review:
    """复查: accept or reject a pending rectification (all or nothing).

    data: result (accepted/rejected), opinion (required when rejected), onsite_check?,
    new_deadline_at? (rejected only, in the future), co_reviewer_id (second officer), reason?.
    """
    user = actor.user
    if user is None:
        raise Forbidden("复查须由执法人员进行 (a review needs an inspector)")
    check_lengths(data, limits.REVIEW)
    result = data.get("result")
    if result not in REVIEW_RESULTS:
        raise _field_error("result", "复查结论须为 accepted 或 rejected (result must be accepted or rejected)")
    allocate_seq(session, 0)
    session.flush()
    if user is not None and session.scalar(
            select(Rectification.id).where(Rectification.id == rect.id, scope_clause(Rectification, user))) is None:
        from ...errors import NotFound

        raise NotFound("整改报告不存在 (rectification not found)")
    session.refresh(rect, with_for_update=True)
    ensure_not_archived(session, "rectifications", rect.id)
    hazard = session.get(Hazard, rect.hazard_id)
    action = "accept" if result == "accepted" else "reject"
    if user is not None and user.role != "inspector":
        raise InvalidTransition("只有执法人员可以复查 (only inspectors review)",
                                details={"action": action, "status": hazard.status, "reason": "role"})
    if rect.status != "pending":
        raise InvalidTransition("该整改已复查 (this rectification was already reviewed)",
                                details={"action": action, "status": hazard.status, "reason": "state"})
    opinion = (data.get("opinion") or "").strip()
    if result == "rejected" and not opinion:
        raise _field_error("opinion", "不合格须写明复查意见 (a rejection needs an opinion)")
    if not opinion:
        opinion = "经复查，你单位已按要求完成整改，符合安全要求。"
    onsite = (data.get("onsite_check") or "").strip() or None
    new_deadline = data.get("new_deadline_at")
    if new_deadline is not None:
        if result != "rejected":
            raise _field_error("new_deadline_at", "只有不合格时可以重新限期 (a new deadline needs a rejection)")
        if new_deadline <= utcnow():
            raise _field_error("new_deadline_at", "新的整改期限须晚于现在 (the new deadline must be in the future)")
    if onsite is None and count_ready_photos(session, "rectifications", rect.id) < 1:
        raise InvalidTransition("复查须有整改后照片或现场核查记录 (a ready photo or an on-site check is required)",
                                details={"action": action, "status": hazard.status, "reason": "guard",
                                         "guard": "evidence"})
    co = check_officers(session, user, data.get("co_reviewer_id"), rect.region_code, field="co_reviewer_id")
    now = utcnow()
    with session.begin_nested():
        bureau, year, seq_no, number = assign_number(session, "review", rect.region_code, now, default_bureau)
        review = Review(
            rectification_id=rect.id, hazard_id=hazard.id, enterprise_id=rect.enterprise_id,
            region_code=rect.region_code, reviewer_id=actor.id, co_reviewer_id=co.id if co else None,
            result=result, opinion=opinion, onsite_check=onsite, new_deadline_at=new_deadline, reviewed_at=now,
            bureau_code=bureau, year=year, seq_no=seq_no, number=number,
        )
        session.add(review)
        rect.status = result
        session.flush()
        transition(session, actor, hazard, action, review=review, new_deadline_at=new_deadline,
                   reason=data.get("reason") or opinion)
        record_event(session, actor, "rectification.review", rect, from_state="pending", to_state=result,
                     reason=opinion, data={"review_id": review.id, "number": number, "onsite_check": onsite,
                                           "new_deadline_at": new_deadline,
                                           "co_reviewer_id": co.id if co else None})
        session.flush()
    return review


def get_rectification(session: Session, user: User, rect_id: str) -> Rectification:
    return get_scoped(session, Rectification, rect_id, user)


def get_review(session: Session, user: User, review_id: str) -> Review:
    return get_scoped(session, Review, review_id, user)


def rectifications_stmt(user: User, *, status: str | None = None, hazard_id: str | None = None,
                        enterprise_id: str | None = None):
    stmt = select(Rectification).where(scope_clause(Rectification, user), Rectification.deleted_at.is_(None))
    if status:
        stmt = stmt.where(Rectification.status == status)
    if hazard_id:
        stmt = stmt.where(Rectification.hazard_id == hazard_id)
    if enterprise_id:
        stmt = stmt.where(Rectification.enterprise_id == enterprise_id)
    return stmt.order_by(Rectification.reported_at.desc(), Rectification.id)


def pending_reviews_stmt(user: User):
    """Rectifications awaiting review in the user's jurisdiction, oldest first (inspector worklist)."""
    return (select(Rectification).where(scope_clause(Rectification, user), Rectification.status == "pending",
                                        Rectification.deleted_at.is_(None))
            .order_by(Rectification.reported_at, Rectification.id))


def with_photo_counts(session: Session, rects: list[Rectification]) -> list[Rectification]:
    """Set ``ready_photo_count`` on each rectification with one query (for list views)."""
    from sqlalchemy import func

    from ...models import Photo

    ids = [r.id for r in rects]
    counts = dict(session.execute(
        select(Photo.owner_id, func.count()).where(
            Photo.owner_table == "rectifications", Photo.owner_id.in_(ids), Photo.status == "ready",
            Photo.deleted_at.is_(None)).group_by(Photo.owner_id)).all()) if ids else {}
    for r in rects:
        r.ready_photo_count = int(counts.get(r.id, 0))
    return rects
