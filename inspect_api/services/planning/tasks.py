"""Inspection tasks (检查任务): creation under the rules (two inspectors, jurisdiction, annual cap, 审批 for
tasks outside the plan), the 检查码, the state machine driven by the inspections that arrive
(assigned → in_progress → done; overdue after the window) and the enterprise's code check."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationError
from ...models import (
    ChecklistItem, ChecklistTemplate, Enterprise, Inspection, InspectionPlan, InspectionTask, PlanDraw, utcnow,
)
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped, select_scoped
from .plans import current_plan
from .rules import CheckCodeNotFound, check_annual_cap, check_inspector_pair, in_jurisdiction

KINDS = ("key", "random", "special", "complaint", "accident", "follow_up")
KIND_NAMES = {"key": "重点检查", "random": "双随机抽查", "special": "专项检查", "complaint": "投诉举报核查",
              "accident": "事故调查检查", "follow_up": "复查"}
STATUS_NAMES = {"pending_approval": "待审批", "assigned": "已下达", "in_progress": "检查中", "done": "已完成",
                "overdue": "已逾期", "cancelled": "已撤销"}
# 检查码: 10 characters without 0/O, 1/I/L (easy to read aloud and type); ~49 bits
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _shanghai_year(moment: datetime) -> int:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).year


def _check_items(session: Session, template_ids: list, item_ids: list) -> None:
    if template_ids:
        found = set(session.scalars(select(ChecklistTemplate.id).where(
            ChecklistTemplate.id.in_(template_ids), ChecklistTemplate.status == "published")))
        missing = [t for t in template_ids if t not in found]
        if missing:
            raise ValidationError("检查表不存在或未发布 (unknown or unpublished checklist)",
                                  details={"fields": {"template_ids": missing}})
    if item_ids:
        rows = dict(session.execute(select(ChecklistItem.id, ChecklistItem.template_id)
                                    .where(ChecklistItem.id.in_(item_ids))).all())
        bad = [i for i in item_ids if i not in rows or (template_ids and rows[i] not in template_ids)]
        if bad:
            raise ValidationError("检查事项不属于所选检查表 (items outside the chosen checklists)",
                                  details={"fields": {"item_ids": bad}})


def _in_plan(session: Session, plan: InspectionPlan | None, draw: PlanDraw | None, enterprise_id: str, kind: str) -> bool:
    if plan is None:
        return False
    if kind == "key":
        return enterprise_id in (plan.key_enterprise_ids or [])
    if kind == "random" and draw is not None:
        return any(row[0] == enterprise_id for row in draw.result)
    return False


def create_task(session: Session, actor: Actor, data: dict, *, draw: PlanDraw | None = None) -> InspectionTask:
    """One task under every rule; a task outside the plan is pending until a supervisor approves it
    (a supervisor creating one approves it with the reason given)."""
    if actor.role not in ("supervisor", "inspector", "admin"):
        raise Forbidden()
    user = actor.user
    # the enterprise row is locked: two tasks made at once for one enterprise cannot both pass the cap
    ent = get_scoped(session, Enterprise, data["enterprise_id"], user, for_update=True)
    kind = data["kind"]
    if kind not in KINDS:
        raise ValidationError(details={"fields": {"kind": [f"One of {', '.join(KINDS)}."]}})
    start, end = data["window_start_at"], data["window_end_at"]
    if end <= start:
        raise ValidationError("检查时限的结束须晚于开始 (the window must end after it starts)",
                              details={"fields": {"window_end_at": ["Not after window_start_at."]}})
    plan = None
    if data.get("plan_id"):
        plan = get_scoped(session, InspectionPlan, data["plan_id"], user)
        if plan.status not in ("approved", "published") or not in_jurisdiction(ent.region_id, plan.region_code):
            raise ValidationError("计划未批准或企业不在计划辖区 (plan not approved or enterprise outside it)",
                                  details={"fields": {"plan_id": ["Not usable for this enterprise."]}})
    lead, co = check_inspector_pair(session, ent.region_id, data.get("lead_inspector_id"), data.get("co_inspector_id"))
    template_ids, item_ids = list(dict.fromkeys(data.get("template_ids") or [])), list(dict.fromkeys(data.get("item_ids") or []))
    _check_items(session, template_ids, item_ids)
    year = _shanghai_year(start)
    cap_plan = plan if plan is not None and plan.year == year else current_plan(session, ent.region_id, year)
    over_reason = check_annual_cap(session, cap_plan.annual_cap if cap_plan else None, ent.id, year, kind,
                                   data.get("over_cap_reason"))
    in_plan = _in_plan(session, plan, draw, ent.id, kind)
    reason = (data.get("reason") or "").strip() or None
    if not in_plan and not reason:
        raise ValidationError("计划外检查须说明理由并经审批 (a task outside the plan needs a reason and approval)",
                              code="approval_reason_required", details={"fields": {"reason": ["Required."]}})
    approves = not in_plan and actor.role in ("supervisor", "admin")
    task = InspectionTask(
        plan_id=plan.id if plan else None, draw_id=draw.id if draw else None, enterprise_id=ent.id,
        region_code=ent.region_id, kind=kind, title=(data.get("title") or f"{KIND_NAMES[kind]}：{ent.name}")[:200],
        lead_inspector_id=lead.id, co_inspector_id=co.id, window_start_at=start, window_end_at=end,
        template_ids=template_ids, item_ids=item_ids, is_joint=bool(data.get("is_joint")) or len(template_ids) > 1,
        code=_unique_code(session), in_plan=in_plan, over_cap_reason=over_reason, approval_reason=reason,
        status="assigned" if in_plan or approves else "pending_approval", note=data.get("note"),
        approved_by_id=actor.id if approves else None, approved_at=utcnow() if approves else None,
        created_by_id=actor.id)
    session.add(task)
    session.flush()
    record_event(session, actor, "task.created", task, to_state=task.status, reason=reason,
                 data={"kind": kind, "in_plan": in_plan, "over_cap_reason": over_reason, "draw_id": task.draw_id,
                       "lead": lead.certificate_no, "co": co.certificate_no})
    return task


def _unique_code(session: Session) -> str:
    while True:
        code = new_code()
        if session.scalar(select(InspectionTask.id).where(InspectionTask.code == code)) is None:
            return code


def tasks_from_draw(session: Session, actor: Actor, draw: PlanDraw, data: dict) -> list[InspectionTask]:
    """双随机 tasks for every drawn enterprise that got a pair and has no task from this draw yet."""
    done = set(session.scalars(select(InspectionTask.enterprise_id).where(InspectionTask.draw_id == draw.id)))
    if draw.status != "published":
        raise Conflict("该抽取已被替代 (this draw was replaced)", code="invalid_transition")
    out = []
    for ent_id, lead, co in draw.result:
        if lead is None or ent_id in done:
            continue
        out.append(create_task(session, actor, {
            "enterprise_id": ent_id, "kind": "random", "plan_id": draw.plan_id, "lead_inspector_id": lead,
            "co_inspector_id": co, "window_start_at": data["window_start_at"], "window_end_at": data["window_end_at"],
            "template_ids": data.get("template_ids"), "item_ids": data.get("item_ids")}, draw=draw))
    return out


def approve_task(session: Session, actor: Actor, task: InspectionTask, reason: str | None = None) -> InspectionTask:
    if actor.role not in ("supervisor", "admin"):
        raise Forbidden("计划外检查须由监管负责人审批 (a supervisor approves tasks outside the plan)")
    if task.status != "pending_approval":
        raise Conflict("该任务无需审批 (the task is not awaiting approval)", code="invalid_transition",
                       details={"status": task.status})
    task.status, task.approved_by_id, task.approved_at = "assigned", actor.id, utcnow()
    session.flush()
    record_event(session, actor, "task.approved", task, from_state="pending_approval", to_state="assigned", reason=reason)
    return task


def cancel_task(session: Session, actor: Actor, task: InspectionTask, reason: str) -> InspectionTask:
    if actor.role not in ("supervisor", "admin"):
        raise Forbidden()
    if not (reason or "").strip():
        raise ValidationError("撤销须说明理由 (a reason is required)", details={"fields": {"reason": ["Required."]}})
    if task.status in ("done", "cancelled"):
        raise Conflict("已完成或已撤销的任务不能撤销 (the task is closed)", code="invalid_transition",
                       details={"status": task.status})
    old, task.status = task.status, "cancelled"
    session.flush()
    record_event(session, actor, "task.cancelled", task, from_state=old, to_state="cancelled", reason=reason.strip())
    return task


def tasks_stmt(user, *, status: str | None = None, kind: str | None = None, plan_id: str | None = None,
               enterprise_id: str | None = None, mine: bool = False):
    stmt = select_scoped(InspectionTask, user).where(InspectionTask.deleted_at.is_(None))
    for col, value in ((InspectionTask.status, status), (InspectionTask.kind, kind),
                       (InspectionTask.plan_id, plan_id), (InspectionTask.enterprise_id, enterprise_id)):
        if value:
            stmt = stmt.where(col == value)
    if mine:
        stmt = stmt.where((InspectionTask.lead_inspector_id == user.id) | (InspectionTask.co_inspector_id == user.id))
    return stmt.order_by(InspectionTask.window_start_at, InspectionTask.id)


def get_task(session: Session, user, task_id: str) -> InspectionTask:
    return get_scoped(session, InspectionTask, task_id, user)


def verify_code(session: Session, user, code: str) -> InspectionTask:
    """The enterprise checks the code the inspectors show: only its own, approved tasks; the same error for
    a code that does not exist and for another enterprise's (nothing leaks)."""
    norm = normalize_code(code)
    if len(norm) != CODE_LENGTH or not user.enterprise_id:
        raise CheckCodeNotFound(details={"code": code[:20] if code else ""})
    task = session.scalars(select(InspectionTask).where(
        InspectionTask.code == norm, InspectionTask.enterprise_id == user.enterprise_id,
        InspectionTask.deleted_at.is_(None), InspectionTask.status != "pending_approval")).first()
    if task is None:
        raise CheckCodeNotFound(details={"code": code[:20]})
    if task.status == "cancelled":
        raise Conflict("该检查任务已撤销，检查码已失效，请拒绝以此码入企检查 (the task was cancelled: the code is void)",
                       code="check_code_void", details={"code": code[:20]})
    return task


# ------------------------------------------------------------------ state from the inspections that arrive

def on_inspections_written(session: Session, actor: Actor, inspection_ids: list[str]) -> int:
    """Move the tasks of these inspections: a draft → in_progress, a submitted one → done. Returns moves."""
    if not inspection_ids:
        return 0
    rows = session.execute(select(Inspection.id, Inspection.task_id, Inspection.status, Inspection.finished_at)
                           .where(Inspection.id.in_(inspection_ids), Inspection.task_id.is_not(None))).all()
    moved = 0
    for insp_id, task_id, status, finished in rows:
        task = session.get(InspectionTask, task_id)
        if task is None or task.status in ("cancelled", "pending_approval"):
            continue
        old = task.status
        if status == "submitted" and old != "done":
            task.status, task.inspection_id, task.completed_at = "done", insp_id, finished or utcnow()
            task.started_at = task.started_at or task.completed_at
        elif status != "submitted" and old == "assigned":
            task.status, task.inspection_id, task.started_at = "in_progress", insp_id, utcnow()
        else:
            continue
        moved += 1
        record_event(session, actor, "task." + task.status, task, from_state=old, to_state=task.status,
                     data={"inspection_id": insp_id})
    session.flush()
    return moved


def mark_overdue(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Tasks past their window and not done become overdue (run from cron: ``flask planning mark-overdue``)."""
    now = now or utcnow()
    late = list(session.scalars(select(InspectionTask).where(
        InspectionTask.status.in_(("assigned", "in_progress")), InspectionTask.window_end_at < now,
        InspectionTask.deleted_at.is_(None))))
    for task in late:
        old, task.status = task.status, "overdue"
        record_event(session, actor, "task.overdue", task, from_state=old, to_state="overdue")
    session.flush()
    return len(late)


__all__ = ["create_task", "tasks_from_draw", "approve_task", "cancel_task", "tasks_stmt", "get_task", "verify_code",
           "on_inspections_written", "mark_overdue"]


def on_push(ctx) -> int:
    """Called once by a sync push after its writes (services/sync/push.py)."""
    ids = [r["id"] for r in ctx.inserts.get("inspections", [])] + [r["b_id"] for r in ctx.updates.get("inspections", [])]
    return on_inspections_written(ctx.session, ctx.actor, ids)
