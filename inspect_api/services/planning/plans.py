"""The annual supervision plan (年度监督检查计划): capacity in work-days, the key list, the ordinary
inspections the rest allows; draft → approved (supervisor) → published; amendments are new versions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationError
from ...models import Enterprise, InspectionPlan, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped, region_in_scope, select_scoped
from .rules import PlanImmutable, in_jurisdiction

EDITABLE = ("title", "staff_count", "working_days", "booked_days", "days_per_class", "annual_cap",
            "marked_enterprise_ids", "note")
CLASSES = ("major_hazard", "large", "medium", "small", "micro", "default")


def enterprise_class(major_hazard_level: int | None, scale: str | None) -> str:
    """The class that prices an inspection: a major hazard source first, else the enterprise's scale."""
    if major_hazard_level:
        return "major_hazard"
    return scale if scale in CLASSES else "default"


def days_for(days_per_class: dict, cls: str) -> float:
    return float(days_per_class.get(cls, days_per_class["default"]))


def _check_numbers(data: dict) -> None:
    bad = {}
    for key in ("staff_count", "working_days", "booked_days"):
        if key in data and (data[key] is None or data[key] < 0):
            bad[key] = ["Must be >= 0."]
    if "working_days" in data and data["working_days"] is not None and data["working_days"] > 366:
        bad["working_days"] = ["At most 366."]
    days = data.get("days_per_class")
    if days is not None:
        if "default" not in days:
            bad["days_per_class"] = ["A 'default' class is required."]
        elif any(k not in CLASSES or not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 30
                 for k, v in days.items()):
            bad["days_per_class"] = [f"Classes {', '.join(CLASSES)}; days > 0 and <= 30."]
    if "annual_cap" in data and data["annual_cap"] is not None and data["annual_cap"] < 1:
        bad["annual_cap"] = ["Must be >= 1."]
    if bad:
        raise ValidationError(details={"fields": bad})


def recompute(session: Session, plan: InspectionPlan) -> None:
    """Capacity, key list, key days and the ordinary count (docs/planning.md, "The plan")."""
    capacity = plan.staff_count * plan.working_days - plan.booked_days
    if capacity < 0:
        raise ValidationError("其他工作占用天数超过总工作日 (booked days exceed staff × working days)",
                              details={"fields": {"booked_days": ["Exceeds staff × working days."]}})
    prefix_rows = session.execute(select(Enterprise.id, Enterprise.major_hazard_level, Enterprise.scale).where(
        Enterprise.deleted_at.is_(None), Enterprise.region_id.like(_prefix(plan.region_code) + "%"))).all()
    by_id = {r.id: r for r in prefix_rows}
    marked = sorted(set(plan.marked_enterprise_ids or []))
    unknown = [e for e in marked if e not in by_id]
    if unknown:
        raise ValidationError("标记的重点企业不在本辖区 (marked enterprises outside the jurisdiction)",
                              details={"fields": {"marked_enterprise_ids": unknown}})
    key = sorted({r.id for r in prefix_rows if r.major_hazard_level} | set(marked))
    key_set = set(key)
    cost = {r.id: days_for(plan.days_per_class, enterprise_class(r.major_hazard_level, r.scale)) for r in prefix_rows}
    key_days = sum(cost[e] for e in key)
    others = [cost[e] for e in by_id if e not in key_set]
    remaining = max(0.0, capacity - key_days)
    # ordinary inspections = floor(remaining days / mean days of the non-key enterprises), exact arithmetic
    ordinary = int((remaining * len(others)) // sum(others)) if others else 0
    plan.marked_enterprise_ids = marked
    plan.key_enterprise_ids = key
    plan.capacity_days = capacity
    plan.key_days = int(round(key_days))
    plan.ordinary_count = ordinary


def _prefix(region: str) -> str:
    from ...models import region_prefix

    return region_prefix(region)


def _require_supervisor(actor: Actor) -> None:
    if actor.role not in ("supervisor", "admin"):
        raise Forbidden("仅监管负责人可以进行此操作 (supervisors only)")


def plans_stmt(user, *, year: int | None = None, status: str | None = None):
    stmt = select_scoped(InspectionPlan, user)
    if year:
        stmt = stmt.where(InspectionPlan.year == year)
    if status:
        stmt = stmt.where(InspectionPlan.status == status)
    return stmt.order_by(InspectionPlan.year.desc(), InspectionPlan.region_code, InspectionPlan.version.desc())


def get_plan(session: Session, user, plan_id: str, *, for_update: bool = False) -> InspectionPlan:
    return get_scoped(session, InspectionPlan, plan_id, user, for_update=for_update)


def create_plan(session: Session, actor: Actor, data: dict) -> InspectionPlan:
    _require_supervisor(actor)
    region = data.get("region_code") or actor.user.region_id
    if not region or not region_in_scope(actor.user, region):
        raise ValidationError("辖区不在您的管辖范围 (region outside your jurisdiction)",
                              details={"fields": {"region_code": ["Outside your jurisdiction."]}})
    _check_numbers(data)
    exists = session.scalar(select(InspectionPlan.id).where(
        InspectionPlan.region_code == region, InspectionPlan.year == data["year"]))
    if exists:
        raise Conflict("该辖区本年度已有计划，请修订现有计划 (a plan exists for this year: amend it)",
                       code="plan_exists", details={"plan_id": exists})
    fields = {"booked_days": 0, "marked_enterprise_ids": [], **{k: data[k] for k in EDITABLE if k in data}}
    plan = InspectionPlan(region_code=region, year=data["year"], version=1, status="draft",
                          created_by_id=actor.id, **fields)
    plan.title = plan.title or f"{data['year']}年度监督检查计划"
    recompute(session, plan)
    session.add(plan)
    session.flush()
    record_event(session, actor, "plan.created", plan, to_state="draft", data=_summary(plan))
    return plan


def update_plan(session: Session, actor: Actor, plan: InspectionPlan, data: dict) -> InspectionPlan:
    _require_supervisor(actor)
    if plan.status != "draft":
        raise PlanImmutable(details={"status": plan.status})
    _check_numbers(data)
    for key in EDITABLE:
        if key in data:
            setattr(plan, key, data[key])
    recompute(session, plan)
    session.flush()
    record_event(session, actor, "plan.updated", plan, data=_summary(plan))
    return plan


def approve_plan(session: Session, actor: Actor, plan: InspectionPlan) -> InspectionPlan:
    _require_supervisor(actor)
    if plan.status != "draft":
        raise PlanImmutable("只有草稿可以批准 (only a draft can be approved)", code="invalid_transition",
                            details={"status": plan.status})
    recompute(session, plan)  # the figures approved are the figures of the register today
    plan.status, plan.approved_by_id, plan.approved_at = "approved", actor.id, utcnow()
    session.flush()
    record_event(session, actor, "plan.approved", plan, from_state="draft", to_state="approved", data=_summary(plan))
    return plan


def publish_plan(session: Session, actor: Actor, plan: InspectionPlan) -> InspectionPlan:
    _require_supervisor(actor)
    if plan.status != "approved":
        raise Conflict("只有已批准的计划可以发布 (only an approved plan can be published)", code="invalid_transition",
                       details={"status": plan.status})
    for old in session.scalars(select(InspectionPlan).where(
            InspectionPlan.region_code == plan.region_code, InspectionPlan.year == plan.year,
            InspectionPlan.id != plan.id, InspectionPlan.status.in_(("approved", "published")))):
        old.status = "superseded"
        record_event(session, actor, "plan.superseded", old, to_state="superseded", data={"by": plan.id})
    plan.status, plan.published_at = "published", utcnow()
    session.flush()
    record_event(session, actor, "plan.published", plan, from_state="approved", to_state="published")
    return plan


def amend_plan(session: Session, actor: Actor, plan: InspectionPlan, data: dict, reason: str) -> InspectionPlan:
    """A new draft version of an approved or published plan, with the reason for the change."""
    _require_supervisor(actor)
    if plan.status not in ("approved", "published"):
        raise Conflict("只能修订已批准或已发布的计划 (amend an approved or published plan)", code="invalid_transition",
                       details={"status": plan.status})
    if not (reason or "").strip():
        raise ValidationError("修订须说明理由 (a reason is required)", details={"fields": {"reason": ["Required."]}})
    pending = session.scalar(select(InspectionPlan.id).where(
        InspectionPlan.region_code == plan.region_code, InspectionPlan.year == plan.year,
        InspectionPlan.status == "draft"))
    if pending:
        raise Conflict("已有待批准的修订版本 (a draft amendment exists)", code="plan_exists", details={"plan_id": pending})
    _check_numbers(data)
    latest = session.scalar(select(InspectionPlan.version).where(
        InspectionPlan.region_code == plan.region_code, InspectionPlan.year == plan.year)
        .order_by(InspectionPlan.version.desc()).limit(1))
    new = InspectionPlan(region_code=plan.region_code, year=plan.year, version=latest + 1, status="draft",
                         supersedes_id=plan.id, amendment_reason=reason.strip(), created_by_id=actor.id,
                         **{k: data.get(k, getattr(plan, k)) for k in EDITABLE})
    recompute(session, new)
    session.add(new)
    session.flush()
    record_event(session, actor, "plan.amended", new, to_state="draft", reason=reason.strip(),
                 data={"supersedes": plan.id, "version": new.version, **_summary(new)})
    return new


def current_plan(session: Session, region_code: str, year: int) -> InspectionPlan | None:
    """The plan in force for an enterprise's region: the newest approved/published version of the nearest bureau."""
    rows = session.scalars(select(InspectionPlan).where(
        InspectionPlan.year == year, InspectionPlan.status.in_(("approved", "published")))
        .order_by(InspectionPlan.version.desc())).all()
    rows = [p for p in rows if in_jurisdiction(region_code, p.region_code)]
    rows.sort(key=lambda p: (-len(_prefix(p.region_code)), -p.version))
    return rows[0] if rows else None


def _summary(plan: InspectionPlan) -> dict:
    return {"capacity_days": plan.capacity_days, "key_days": plan.key_days, "ordinary_count": plan.ordinary_count,
            "key_count": len(plan.key_enterprise_ids or []), "annual_cap": plan.annual_cap}


__all__ = ["create_plan", "update_plan", "approve_plan", "publish_plan", "amend_plan", "get_plan", "plans_stmt",
           "current_plan", "recompute", "enterprise_class"]
