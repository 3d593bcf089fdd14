"""Check duties and the self-checks they make due.

A bureau configures, for its region, how often each duty role checks a major hazard source (one
check per period of N days; optionally per source grade, the grade-specific row winning). No default
frequency is shipped: the periods of 应急厅〔2021〕12号 / AQ 3072—2026 were not confirmed from their
texts here (docs/selfcheck.md). Periods are Shanghai calendar days counted from 2000-01-03 (a Monday), so
a 7-day period is a calendar week and every source's periods line up. ``generate_dues`` makes the due
item of the current period for every source and role; ``mark_missed`` closes the periods that ended
without a check. Both are idempotent (a job or a daily timer runs them; the portal runs them for the
page it shows).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from ...models import (
    CheckDuty, ChecklistTemplate, DutyHolder, MajorHazardSource, Region, SelfCheckDue, User, region_prefix,
)
from ...models.selfcheck import DUTY_ROLES, SOURCE_GRADES
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import region_in_scope, scope_clause
from .common import field_error, local_today, require_role, text
from .sources import current_holder

EPOCH = date(2000, 1, 3)


def period_of(day: date, every_days: int) -> tuple[date, date]:
    """The period of ``every_days`` days holding ``day``: (first day, last day)."""
    start = EPOCH + timedelta(days=((day - EPOCH).days // every_days) * every_days)
    return start, start + timedelta(days=every_days - 1)


def set_duty(session: Session, actor: Actor, data: dict) -> CheckDuty:
    """A supervisor (or admin) sets how often a role checks the sources of the bureau's region."""
    user = actor.user
    require_role(user, "supervisor", "admin")
    region = data.get("region_code") or (user.region_id if user else None)
    if not region or session.get(Region, region) is None or (user.role != "admin" and not region_in_scope(user, region)):
        raise field_error("region_code", "须为本辖区 (a region of your jurisdiction)")
    role = data.get("role")
    if role not in DUTY_ROLES:
        raise field_error("role", "包保责任类别无效 (role)")
    grade = data.get("source_grade")
    if grade is not None and grade not in SOURCE_GRADES:
        raise field_error("source_grade", "重大危险源等级须为 1～4 (source_grade)")
    every = data.get("every_days")
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 366:
        raise field_error("every_days", "检查周期须为 1～366 天 (every_days 1..366)")
    template_id = data.get("template_id") or None
    if template_id and session.scalar(select(ChecklistTemplate.status).where(
            ChecklistTemplate.id == template_id)) != "published":
        raise field_error("template_id", "须为已发布的检查表 (a published checklist)")
    basis = text(data, "basis", max_len=500)
    duty = session.scalars(select(CheckDuty).where(
        CheckDuty.region_code == region, CheckDuty.role == role,
        CheckDuty.source_grade.is_(None) if grade is None else CheckDuty.source_grade == grade)).first()
    before = None
    if duty is None:
        duty = CheckDuty(region_code=region, role=role, source_grade=grade, created_by_id=actor.id)
        session.add(duty)
    else:
        before = {"every_days": duty.every_days, "template_id": duty.template_id}
    duty.every_days, duty.template_id, duty.basis = every, template_id, basis
    session.flush()
    record_event(session, actor, "check_duty.set", duty, table="check_duties", object_id=duty.id,
                 data={"region_code": region, "role": role, "source_grade": grade, "every_days": every,
                       "before": before})
    return duty


def duties_for(session: Session, user: User) -> list[CheckDuty]:
    stmt = select(CheckDuty)
    if user.role != "admin":
        if not user.region_id:
            return []
        # the duties of the user's region and of the regions above it (a city's duties apply to its counties)
        stmt = stmt.where(CheckDuty.region_code.in_(_ancestors(session, user.region_id)))
    return list(session.scalars(stmt.order_by(CheckDuty.region_code, CheckDuty.role, CheckDuty.source_grade)))


def _ancestors(session: Session, region_code: str) -> list[str]:
    out, code = [], region_code
    while code:
        out.append(code)
        code = session.scalar(select(Region.parent_id).where(Region.id == code))
    return out


def duty_for_source(duties: list[CheckDuty], source: MajorHazardSource, role: str) -> CheckDuty | None:
    """The duty that applies: the closest region first, a grade-specific row before an any-grade one."""
    best, best_key = None, None
    for duty in duties:
        if duty.role != role or not source.region_code.startswith(region_prefix(duty.region_code)):
            continue
        if duty.source_grade is not None and duty.source_grade != source.grade:
            continue
        key = (len(region_prefix(duty.region_code)), duty.source_grade is not None)
        if best_key is None or key > best_key:
            best, best_key = duty, key
    return best


def generate_dues(session: Session, today: date | None = None, *, region_code: str | None = None) -> int:
    """Create the current period's due check of every source and role that has a duty. Returns how many."""
    today = today or local_today()
    duties = list(session.scalars(select(CheckDuty)))
    if not duties:
        return 0
    stmt = select(MajorHazardSource).where(MajorHazardSource.deleted_at.is_(None))
    if region_code:
        stmt = stmt.where(MajorHazardSource.region_code.like(region_prefix(region_code) + "%"))
    made = 0
    for source in session.scalars(stmt):
        for role in DUTY_ROLES:
            duty = duty_for_source(duties, source, role)
            if duty is None:
                continue
            start, end = period_of(today, duty.every_days)
            exists = session.scalar(select(SelfCheckDue.id).where(
                SelfCheckDue.source_id == source.id, SelfCheckDue.role == role, SelfCheckDue.period_start == start))
            if exists:
                continue
            holder = current_holder(session, source.id, role)
            session.add(SelfCheckDue(source_id=source.id, enterprise_id=source.enterprise_id,
                                     region_code=source.region_code, duty_id=duty.id,
                                     holder_id=holder.id if holder else None, role=role, period_start=start,
                                     period_end=end, status="due"))
            made += 1
    session.flush()
    return made


def mark_missed(session: Session, today: date | None = None) -> int:
    """Dues whose period ended before ``today`` without a check become missed. Returns how many."""
    today = today or local_today()
    rows = list(session.scalars(select(SelfCheckDue).where(SelfCheckDue.status == "due",
                                                           SelfCheckDue.period_end < today)))
    for due in rows:
        due.status = "missed"
        record_event(session, Actor.system("selfcheck"), "self_check_due.missed", due, table="self_check_dues",
                     object_id=due.id, from_state="due", to_state="missed",
                     data={"source_id": due.source_id, "role": due.role, "period_end": due.period_end})
    session.flush()
    return len(rows)


def dues_stmt(user: User, *, status: str | None = None, mine: bool = False, enterprise_id: str | None = None):
    """Due, done and missed self-checks the user may see (a duty holder: with ``mine``, only theirs)."""
    stmt = select(SelfCheckDue).where(scope_clause(SelfCheckDue, user))
    if status:
        stmt = stmt.where(SelfCheckDue.status == status)
    if enterprise_id:
        stmt = stmt.where(SelfCheckDue.enterprise_id == enterprise_id)
    if mine:
        # the current holder of the role owns the due check (a holder replaced mid-period hands it over)
        stmt = stmt.where(exists().where(and_(
            DutyHolder.source_id == SelfCheckDue.source_id, DutyHolder.role == SelfCheckDue.role,
            DutyHolder.user_id == user.id, DutyHolder.ended_on.is_(None))))
    return stmt.order_by(SelfCheckDue.period_end, SelfCheckDue.source_id, SelfCheckDue.role)
