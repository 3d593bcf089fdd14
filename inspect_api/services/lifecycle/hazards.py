"""The hazard lifecycle (隐患闭环): one state machine, one table.

States (``Hazard.status``, English on the wire):

    found         登记: recorded by an inspector (tablet or API)
    ordered       责令整改: on a rectification notice, with a deadline
    acknowledged  签收: the enterprise signed for the notice
    reported      整改完成: the enterprise reported a fix (a pending Rectification)
    rejected      复查不合格: the review refused the fix; the enterprise rectifies again
    verified      复查合格, 待销号: a MAJOR hazard whose fix an inspector accepted; it
                  waits for a supervisor to close it (only supervisors close major hazards)
    closed        销号

TRANSITIONS (action — from → to — roles — guard):

    order          found → ordered                      inspector
                   params: deadline_at (aware datetime, required), notice (Notice, required,
                   same enterprise). Called by issue_notice and by the sync service when a
                   notice arrives from a tablet.
    acknowledge    ordered → acknowledged               enterprise
                   called by notices.acknowledge_notice for every ordered hazard of the notice
    report         acknowledged | rejected → reported   enterprise
                   params: rectification (pending Rectification of this hazard);
                   guard: a major hazard needs a complete remediation plan (五落实)
    accept         reported → closed (general) | verified (major)   inspector
                   params: review (Review, result accepted); called by review_rectification
    reject         reported → rejected                  inspector
                   params: review (Review, result rejected), new_deadline_at (optional:
                   becomes the hazard's deadline)
    close_on_spot  found → closed                       inspector
                   当场整改: params co_inspector (User) or co_inspector_id — a second,
                   distinct inspector with a certificate number; guard: general grade and at
                   least one ready photo of the hazard (owner_table "hazards")
    grade          found | ordered | acknowledged | rejected → (unchanged)   inspector
                   params: grade (general/major), criterion_clause_id or major_criterion_code
                   (HC2017-01..20); guard: a listed hazard cannot be downgraded, and the clause
                   must be in force on the day the hazard was found (services/criteria/rules.py)
    set_deadline   ordered | acknowledged | rejected → (unchanged)   inspector
                   params: deadline_at (aware datetime in the future) — re-issues the deadline
    list           any state but closed → (unchanged)   supervisor
                   挂牌督办: params level (optional; must equal the supervisor's jurisdiction
                   level: province / city / county); guard: major grade, not yet listed
    close          verified → closed                    supervisor
                   销号 of a major hazard: guard: major, listed, complete remediation plan, and
                   the supervisor's level at or above the listing level (a county supervisor
                   cannot close a city-listed hazard)

The enterprise's own findings (``origin = "self"``, 企业自查, services/selfcheck) use the same table:

    report         also found → reported for a self-found hazard (no notice orders it): a major
                   one goes to the bureau as an inspector's does (plan, listing, supervisor closure)
    self_close     found → closed                       enterprise
                   自查自改销号: guard: self-found, general grade, a pending rectification of it
                   (what was done, by whom, when); the rectification is accepted with it
    reopen         closed → found                       inspector
                   地方复核 found the fix wanting: guard: self-found and closed by the enterprise;
                   params recheck (the RecheckTask); the caller then orders it with a notice

Every action also takes ``reason`` (kept in the audit event) and ``expected_version``
(compare-and-set: a stale version answers 412). Admins take no part in the
lifecycle. ``Actor.system()`` (user None: CLI, seeding) is trusted: it skips the
role and scope checks, never the state and guard checks.

Refusals: out of the actor's scope → 404 not_found; any other refusal (wrong state,
wrong role, failed guard) → 409 invalid_transition with
``details = {"action", "status", "reason"}``, and nothing changes.

Concurrency: ``transition`` takes the sync cursor lock (allocate_seq(…, 0)), then
re-reads the hazard with SELECT … FOR UPDATE, so two concurrent transitions queue
and the second sees the first one's state; ``Hazard.version`` (version_id_col)
catches any write from a stale copy as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ...errors import Conflict, NotFound, PreconditionFailed, ValidationError
from ...models import Hazard, Inspection, Notice, Photo, User, allocate_seq, utcnow
from ...models.hazards import HAZARD_GRADES
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import region_in_scope, scope_clause
from ..criteria import rules as criteria_rules

OPEN_STATUSES = ("found", "ordered", "acknowledged", "reported", "rejected", "verified")
ALL_STATUSES = OPEN_STATUSES + ("closed",)
MAJOR_CRITERIA = tuple(f"HC2017-{n:02d}" for n in range(1, 21))
LEVEL_BY_REGION_LEVEL = {1: "province", 2: "city", 3: "county"}
LEVEL_RANK = {"county": 1, "city": 2, "province": 3}


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "此操作在当前状态下不允许 (transition not allowed)"


@dataclass(frozen=True)
class Step:
    action: str
    sources: tuple[str, ...]
    target: str | Callable[[Hazard], str] | None  # None: status unchanged
    roles: tuple[str, ...]
    guard: Callable[..., str | None] = field(default=lambda s, a, h, p: None)
    apply: Callable[..., None] = field(default=lambda s, a, h, p: None)

    def target_for(self, hazard: Hazard) -> str:
        if self.target is None:
            return hazard.status
        if callable(self.target):
            return self.target(hazard)
        return self.target


# ---------------------------------------------------------------- guards / effects

def _aware(value) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _guard_order(session, actor, hazard, p):
    if not _aware(p.get("deadline_at")):
        return "整改期限必须给出 (deadline_at required)"
    notice = p.get("notice")
    if notice is None:
        return "责令整改须有整改指令书 (a notice is required)"
    if notice.status == "closed":
        return "指令书已结束，请另行签发 (the notice is closed; issue a new one)"
    if notice.enterprise_id != hazard.enterprise_id:
        return "指令书与隐患不属于同一企业 (notice belongs to another enterprise)"
    if hazard.rectified_on_spot:
        return "已当场整改的隐患无需责令整改 (rectified on the spot)"
    return None


def _apply_order(session, actor, hazard, p):
    hazard.deadline_at = p["deadline_at"]
    hazard.notice_id = p["notice"].id


def _guard_report(session, actor, hazard, p):
    if hazard.status == "found" and hazard.origin != "self":
        return "检查发现的隐患须先责令整改 (an inspector's finding is reported after its notice)"
    rect = p.get("rectification")
    if rect is None or rect.hazard_id != hazard.id or rect.status != "pending":
        return "须提交整改报告 (a pending rectification of this hazard is required)"
    if hazard.grade == "major" and not (hazard.plan and hazard.plan.is_complete):
        return "重大隐患须先提交完整的治理方案（五落实） (a complete remediation plan is required)"
    return None


def _review_guard(result):
    def guard(session, actor, hazard, p):
        review = p.get("review")
        if review is None or review.hazard_id != hazard.id or review.result != result:
            return f"须有复查记录 (a review with result {result} is required)"
        return None
    return guard


def _apply_accept(session, actor, hazard, p):
    if hazard.grade != "major":
        _close(hazard, actor)


def _apply_reject(session, actor, hazard, p):
    new_deadline = p.get("new_deadline_at")
    if new_deadline is not None:
        hazard.deadline_at = new_deadline


def _co_inspector(session, p):
    co = p.get("co_inspector")
    if co is None and p.get("co_inspector_id"):
        co = session.get(User, p["co_inspector_id"])
    return co


def _guard_close_on_spot(session, actor, hazard, p):
    if hazard.grade == "major":
        return "重大隐患不能当场整改销号 (a major hazard cannot be closed on the spot)"
    co = _co_inspector(session, p)
    if (co is None or co.role != "inspector" or not co.is_active or not (co.certificate_no or "").strip()
            or not region_in_scope(co, hazard.region_code)):
        return "须有第二名本辖区持执法证的执法人员 (a second inspector of this jurisdiction with a certificate)"
    if actor.user is not None and (co.id == actor.user.id or co.certificate_no == actor.user.certificate_no):
        return "两名执法人员必须不同 (the two officers must be different people)"
    if actor.user is not None and not (actor.user.certificate_no or "").strip():
        return "执法人员须有执法证号 (the acting inspector has no certificate number)"
    if count_ready_photos(session, "hazards", hazard.id) < 1:
        return "当场整改须有整改照片 (a ready photo of the fixed hazard is required)"
    return None


def _apply_close_on_spot(session, actor, hazard, p):
    hazard.rectified_on_spot = True
    _close(hazard, actor)


def _guard_grade(session, actor, hazard, p):
    grade = p.get("grade", hazard.grade)
    if grade not in HAZARD_GRADES:
        return "隐患等级无效 (grade must be general or major)"
    if grade == "general" and hazard.listing_level:
        return "已挂牌督办的隐患不能降级 (a listed hazard cannot be downgraded)"
    return criteria_rules.check_grade(session, hazard, p)  # 422 unless the clause was in force on the day found


def _apply_grade(session, actor, hazard, p):
    criteria_rules.apply_grade(session, hazard, p)  # the clause and code judged by the grade asked
    hazard.grade = p.get("grade", hazard.grade)


def _guard_set_deadline(session, actor, hazard, p):
    if not _aware(p.get("deadline_at")):
        return "整改期限必须给出 (deadline_at required)"
    if p["deadline_at"] <= utcnow():
        return "新的整改期限须晚于现在 (the new deadline must be in the future)"
    return None


def _apply_set_deadline(session, actor, hazard, p):
    hazard.deadline_at = p["deadline_at"]


def supervisor_level(user: User | None) -> str | None:
    if user is None or user.region is None:
        return None
    return LEVEL_BY_REGION_LEVEL.get(user.region.level)


def _guard_list(session, actor, hazard, p):
    if hazard.grade != "major":
        return "只有重大隐患可以挂牌督办 (only major hazards are listed)"
    if hazard.listing_level:
        return "该隐患已挂牌督办 (already listed)"
    own = supervisor_level(actor.user) if actor.user is not None else p.get("level")
    level = p.get("level") or own
    if level is None or level != own:
        return "督办级别须与本人管辖级别一致 (listing level must match your jurisdiction level)"
    return None


def _apply_list(session, actor, hazard, p):
    hazard.listing_level = p.get("level") or supervisor_level(actor.user)
    hazard.listed_at = utcnow()
    hazard.listed_by_id = actor.id


def _guard_close(session, actor, hazard, p):
    if hazard.grade != "major":
        return "一般隐患经复查合格即销号 (general hazards close on accepted review)"
    if not hazard.listing_level:
        return "重大隐患须先挂牌督办 (a major hazard must be listed before closure)"
    own = supervisor_level(actor.user) if actor.user is not None else None
    if actor.user is not None and LEVEL_RANK.get(own, 0) < LEVEL_RANK[hazard.listing_level]:
        return "须由挂牌督办级别或更高级别的负责人销号 (closure needs a supervisor at the listing level or above)"
    if not (hazard.plan and hazard.plan.is_complete):
        return "重大隐患须有完整的治理方案 (a complete remediation plan is required)"
    return None


def _apply_close(session, actor, hazard, p):
    _close(hazard, actor)


def _guard_self_close(session, actor, hazard, p):
    if hazard.origin != "self":
        return "只有企业自查发现的隐患可以由企业自行销号 (only self-found hazards are closed by the enterprise)"
    if hazard.grade == "major":
        return "重大隐患须由监管部门销号 (a major hazard is closed by a supervisor)"
    rect = p.get("rectification")
    if rect is None or rect.hazard_id != hazard.id or rect.status != "pending":
        return "须提交整改情况 (a pending rectification of this hazard is required)"
    return None


def _apply_self_close(session, actor, hazard, p):
    p["rectification"].status = "accepted"
    _close(hazard, actor)


def _guard_reopen(session, actor, hazard, p):
    if hazard.origin != "self":
        return "只有企业自查自改的隐患经复核重新打开 (only self-closed hazards are reopened by a re-check)"
    task = p.get("recheck")
    if task is None or task.hazard_id != hazard.id:
        return "须有复核任务 (a re-check task of this hazard is required)"
    return None


def _apply_reopen(session, actor, hazard, p):
    hazard.closed_at = None
    hazard.closed_by_id = None


def _close(hazard: Hazard, actor: Actor) -> None:
    hazard.closed_at = utcnow()
    hazard.closed_by_id = actor.id


# ---------------------------------------------------------------- the table

TRANSITIONS: dict[str, Step] = {s.action: s for s in (
    Step("order", ("found",), "ordered", ("inspector",), _guard_order, _apply_order),
    Step("acknowledge", ("ordered",), "acknowledged", ("enterprise",)),
    Step("report", ("found", "acknowledged", "rejected"), "reported", ("enterprise",), _guard_report),
    Step("accept", ("reported",), lambda h: "verified" if h.grade == "major" else "closed", ("inspector",),
         _review_guard("accepted"), _apply_accept),
    Step("reject", ("reported",), "rejected", ("inspector",), _review_guard("rejected"), _apply_reject),
    Step("close_on_spot", ("found",), "closed", ("inspector",), _guard_close_on_spot, _apply_close_on_spot),
    Step("grade", ("found", "ordered", "acknowledged", "rejected"), None, ("inspector",), _guard_grade,
         _apply_grade),
    Step("set_deadline", ("ordered", "acknowledged", "rejected"), None, ("inspector",), _guard_set_deadline,
         _apply_set_deadline),
    Step("list", OPEN_STATUSES, None, ("supervisor",), _guard_list, _apply_list),
    Step("close", ("verified",), "closed", ("supervisor",), _guard_close, _apply_close),
    Step("self_close", ("found",), "closed", ("enterprise",), _guard_self_close, _apply_self_close),
    Step("reopen", ("closed",), "found", ("inspector",), _guard_reopen, _apply_reopen),
)}


def allowed_actions(hazard: Hazard, role: str | None) -> list[str]:
    """Actions the table allows for this role from the hazard's state (guards not evaluated)."""
    return [a for a, s in TRANSITIONS.items() if hazard.status in s.sources and (role is None or role in s.roles)]


def _refuse(action: str, hazard: Hazard, reason: str, message: str | None = None) -> InvalidTransition:
    return InvalidTransition(message, details={"action": action, "status": hazard.status, "reason": reason})


def _audit_data(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if key in ("reason", "expected_version"):
            continue
        if hasattr(value, "__tablename__"):
            out[f"{key}_id"] = value.id
        else:
            out[key] = value
    return out


def transition(session: Session, actor: Actor, hazard: Hazard, action: str, **params) -> Hazard:
    """Apply one lifecycle action to a hazard (see the module docstring for the table).

    Adds and flushes; the caller commits. Raises NotFound (out of scope),
    InvalidTransition (409), PreconditionFailed (412, stale expected_version).
    """
    step = TRANSITIONS.get(action)
    if step is None:
        raise _refuse(action, hazard, "unknown_action", f"未知操作 (unknown action {action!r})")
    user = actor.user
    # Take the sync cursor lock first (lock order: cursor, then rows), then lock and re-read the hazard.
    allocate_seq(session, 0)
    session.flush()
    # One round trip: scope check, row lock and fresh state (populate_existing refreshes `hazard` itself).
    stmt = select(Hazard).where(Hazard.id == hazard.id, Hazard.deleted_at.is_(None))
    if user is not None:
        stmt = stmt.where(scope_clause(Hazard, user))
    locked = session.scalars(stmt.with_for_update().execution_options(populate_existing=True)).first()
    if locked is None:
        raise NotFound("hazard not found")
    if locked is not hazard:  # pragma: no cover - a detached copy was passed in
        hazard = locked
    expected = params.get("expected_version")
    if expected is not None and int(expected) != hazard.version:
        raise PreconditionFailed("隐患已被他人修改，请刷新 (the hazard changed since it was read)",
                                 details={"version": hazard.version})
    if user is not None and user.role not in step.roles:
        raise _refuse(action, hazard, "role", f"角色 {user.role} 不能执行 {action} (role not allowed)")
    if hazard.status not in step.sources:
        raise _refuse(action, hazard, "state",
                      f"状态 {hazard.status} 下不能执行 {action} (not allowed from status {hazard.status})")
    problem = step.guard(session, actor, hazard, params)
    if problem:
        raise _refuse(action, hazard, "guard", problem)
    from_state = hazard.status
    to_state = step.target_for(hazard)
    step.apply(session, actor, hazard, params)
    hazard.status = to_state
    record_event(session, actor, f"hazard.{action}", hazard, from_state=from_state, to_state=to_state,
                 reason=params.get("reason"), data=_audit_data(params))
    try:
        session.flush()
    except StaleDataError as exc:  # pragma: no cover - the row lock makes this a last resort
        raise InvalidTransition("隐患已被他人修改 (concurrent change)",
                                details={"action": action, "status": from_state, "reason": "concurrent"}) from exc
    if to_state == "closed" and hazard.notice_id:
        _close_notice_if_done(session, actor, hazard.notice_id)
    return hazard


def _close_notice_if_done(session: Session, actor: Actor, notice_id: str) -> None:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.status == "closed":
        return
    open_left = session.scalar(select(func.count()).select_from(Hazard).where(
        Hazard.notice_id == notice_id, Hazard.status != "closed", Hazard.deleted_at.is_(None)))
    if open_left == 0:
        before = notice.status
        notice.status = "closed"
        record_event(session, actor, "notice.close", notice, from_state=before, to_state="closed",
                     reason="全部隐患已销号 (all hazards closed)")
        session.flush()


# ---------------------------------------------------------------- queries

def overdue_clause(now: datetime):
    """SQL: the hazard is past its deadline and not closed (never a stored flag)."""
    return and_(Hazard.deadline_at.is_not(None), Hazard.deadline_at < now, Hazard.status != "closed",
                Hazard.deleted_at.is_(None))


def is_overdue(hazard: Hazard, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(hazard.deadline_at is not None and hazard.deadline_at < now and hazard.status != "closed"
                and hazard.deleted_at is None)


def count_ready_photos(session: Session, owner_table: str, owner_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Photo).where(
        Photo.owner_table == owner_table, Photo.owner_id == owner_id, Photo.status == "ready",
        Photo.deleted_at.is_(None))) or 0)


def hazards_stmt(user: User, *, status: str | None = None, enterprise_id: str | None = None,
                 notice_id: str | None = None, inspection_id: str | None = None, grade: str | None = None,
                 overdue: bool | None = None, listed: bool | None = None, region_code: str | None = None,
                 open: bool | None = None, now: datetime | None = None):
    """The hazards a user may see, filtered; newest first."""
    stmt = select(Hazard).where(scope_clause(Hazard, user), Hazard.deleted_at.is_(None))
    if status:
        stmt = stmt.where(Hazard.status == status)
    if enterprise_id:
        stmt = stmt.where(Hazard.enterprise_id == enterprise_id)
    if notice_id:
        stmt = stmt.where(Hazard.notice_id == notice_id)
    if inspection_id:
        stmt = stmt.where(Hazard.inspection_id == inspection_id)
    if grade:
        stmt = stmt.where(Hazard.grade == grade)
    if region_code:
        from ...models import region_prefix

        stmt = stmt.where(Hazard.region_code.like(region_prefix(region_code) + "%"))
    if overdue is not None:
        clause = overdue_clause(now or utcnow())
        stmt = stmt.where(clause if overdue else ~clause)
    if listed is not None:
        stmt = stmt.where(Hazard.listing_level.is_not(None) if listed else Hazard.listing_level.is_(None))
    if open is not None:
        stmt = stmt.where(Hazard.status != "closed" if open else Hazard.status == "closed")
    return stmt.order_by(Hazard.found_at.desc(), Hazard.id)


def hazards_for_enterprise(session: Session, user: User, enterprise_id: str | None = None,
                           open_only: bool = False) -> list[Hazard]:
    """An enterprise's hazards with their deadlines, soonest deadline first (portal home page)."""
    stmt = select(Hazard).where(scope_clause(Hazard, user), Hazard.deleted_at.is_(None))
    if enterprise_id:
        stmt = stmt.where(Hazard.enterprise_id == enterprise_id)
    if open_only:
        stmt = stmt.where(Hazard.status != "closed")
    stmt = stmt.order_by(Hazard.deadline_at.is_(None), Hazard.deadline_at, Hazard.found_at)
    return list(session.scalars(stmt))


def get_hazard(session: Session, user: User, hazard_id: str, for_update: bool = False) -> Hazard:
    from ..access.scope import get_scoped

    return get_scoped(session, Hazard, hazard_id, user, for_update=for_update)


# ---------------------------------------------------------------- creation and verb_noun wrappers

def create_hazard(session: Session, actor: Actor, data: dict) -> Hazard:
    """Record a hazard through the API (tablets push theirs by sync). Status found."""
    from ...models import Enterprise
    from ..access.scope import get_scoped

    user = actor.user
    inspection = None
    if data.get("inspection_id"):
        inspection = get_scoped(session, Inspection, data["inspection_id"], user)
        enterprise_id = inspection.enterprise_id
        if data.get("enterprise_id") and data["enterprise_id"] != enterprise_id:
            raise ValidationError("隐患企业与检查企业不一致 (enterprise differs from the inspection's)",
                                  details={"fields": {"enterprise_id": ["differs from the inspection's"]}})
    elif data.get("enterprise_id"):
        enterprise_id = get_scoped(session, Enterprise, data["enterprise_id"], user).id
    else:
        raise ValidationError("须指定企业或检查 (enterprise_id or inspection_id required)",
                              details={"fields": {"enterprise_id": ["required"]}})
    enterprise = session.get(Enterprise, enterprise_id)
    grade = data.get("grade") or "general"
    judged = criteria_rules.judge_new_hazard(session, enterprise, data)  # services/criteria/rules.py
    hazard = Hazard(
        id=data.get("id") or None,
        inspection_id=inspection.id if inspection else None,
        enterprise_id=enterprise.id, region_code=enterprise.region_id,
        description=data["description"], location=data.get("location"), **judged,
        basis=data.get("basis"), deadline_at=data.get("deadline_at"),
        status="found", found_at=data.get("found_at") or utcnow(), found_by_id=actor.id,
    )
    if hazard.id is None:
        del hazard.id
    session.add(hazard)
    session.flush()
    record_event(session, actor, "hazard.create", hazard, to_state="found",
                 data={"grade": grade, "description": hazard.description})
    return hazard


def close_on_spot_if_ready(session: Session, hazard: Hazard, actor: Actor | None = None) -> bool:
    """Close a hazard a tablet marked rectified_on_spot, once its evidence is there.

    For hazards that arrive by sync with ``rectified_on_spot`` true: the two officers are the
    inspection's lead (the actor, unless one is given) and co-inspector; the guard still needs a
    ready photo of the hazard. Returns True when the hazard was closed; False (nothing changed) when
    it is not (yet) closable. Safe to call repeatedly (after a push, after a photo becomes ready, or
    from ``flask hazards close-on-spot``).
    """
    if hazard.status != "found" or not hazard.rectified_on_spot or hazard.inspection_id is None:
        return False
    inspection = session.get(Inspection, hazard.inspection_id)
    if inspection is None or not inspection.lead_inspector_id or not inspection.co_inspector_id:
        return False
    if actor is None:
        lead = session.get(User, inspection.lead_inspector_id)
        actor = Actor(user=lead, ip="system")
    co_id = inspection.co_inspector_id if actor.id != inspection.co_inspector_id else inspection.lead_inspector_id
    try:
        with session.begin_nested():
            transition(session, actor, hazard, "close_on_spot", co_inspector_id=co_id,
                       reason="当场整改（平板同步） (rectified on the spot, from the tablet)")
    except (InvalidTransition, NotFound):
        return False
    return True


def grade_hazard(session, actor, hazard, grade, major_criterion_code=None, reason=None, **kw) -> Hazard:
    return transition(session, actor, hazard, "grade", grade=grade, major_criterion_code=major_criterion_code,
                      reason=reason, **kw)


def set_deadline(session, actor, hazard, deadline_at, reason=None, **kw) -> Hazard:
    """Re-issue a hazard's deadline (延期 / 重新限期)."""
    return transition(session, actor, hazard, "set_deadline", deadline_at=deadline_at, reason=reason, **kw)


def close_on_spot(session, actor, hazard, co_inspector_id, reason=None, **kw) -> Hazard:
    return transition(session, actor, hazard, "close_on_spot", co_inspector_id=co_inspector_id, reason=reason,
                      **kw)


def list_hazard(session, actor, hazard, level=None, reason=None, **kw) -> Hazard:
    """挂牌督办 a major hazard at the supervisor's level."""
    return transition(session, actor, hazard, "list", level=level, reason=reason, **kw)


def close_hazard(session, actor, hazard, reason=None, **kw) -> Hazard:
    """销号 of a verified major hazard by a supervisor."""
    return transition(session, actor, hazard, "close", reason=reason, **kw)


def submit_plan(session: Session, actor: Actor, hazard: Hazard, data: dict):
    """Create or replace a major hazard's remediation plan (治理方案, 五落实)."""
    from ...models import RemediationPlan

    user = actor.user
    allocate_seq(session, 0)  # lock order: cursor, then the hazard row (concurrent plan writers queue)
    session.flush()
    stmt = select(Hazard).where(Hazard.id == hazard.id, Hazard.deleted_at.is_(None))
    if user is not None:
        stmt = stmt.where(scope_clause(Hazard, user))
    if session.scalars(stmt.with_for_update().execution_options(populate_existing=True)).first() is None:
        raise NotFound("hazard not found")
    if user is not None and user.role not in ("enterprise", "inspector"):
        raise _refuse("submit_plan", hazard, "role", "只有企业或执法人员可以提交治理方案 (role not allowed)")
    if hazard.grade != "major":
        raise _refuse("submit_plan", hazard, "guard", "只有重大隐患需要治理方案 (only major hazards have a plan)")
    if hazard.status == "closed":
        raise _refuse("submit_plan", hazard, "state", "已销号的隐患不能修改治理方案 (hazard is closed)")
    plan = session.scalars(select(RemediationPlan).where(RemediationPlan.hazard_id == hazard.id)
                           .execution_options(populate_existing=True)).first()
    created = plan is None
    if created:
        plan = RemediationPlan(hazard_id=hazard.id)
        session.add(plan)
    for key in ("responsibility", "measures", "funds", "time_limit", "contingency", "goal"):
        if key in data:
            setattr(plan, key, data[key])
    plan.submitted_by_id = actor.id
    hazard.plan = plan
    session.flush()
    record_event(session, actor, "hazard.plan_create" if created else "hazard.plan_update", hazard,
                 data={k: data.get(k) for k in data}, reason=data.get("reason"))
    # Touch the hazard so tablets pull the change
    hazard.updated_at = utcnow()
    session.flush()
    return plan


def hazard_history(session: Session, hazard: Hazard) -> list:
    """Every audit event of a hazard and of its rectifications (reports, reviews), oldest first."""
    from ...models import AuditEvent, Rectification

    rect_ids = select(Rectification.id).where(Rectification.hazard_id == hazard.id)
    return list(session.scalars(select(AuditEvent).where(
        ((AuditEvent.object_table == "hazards") & (AuditEvent.object_id == hazard.id))
        | ((AuditEvent.object_table == "rectifications") & AuditEvent.object_id.in_(rect_ids))
    ).order_by(AuditEvent.id)))
