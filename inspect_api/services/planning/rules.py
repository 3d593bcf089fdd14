"""The planning rules every path calls (REST, portal, sync push, CLI): the two-inspector rule, jurisdiction,
the annual cap per enterprise, and the link from an inspection to its task (schema version 2)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import AppError, Conflict, NotFound, ValidationError
from ...models import Inspection, InspectionTask, User, region_prefix

CAP_EXEMPT_KINDS = ("complaint", "accident")  # may exceed the annual cap, with a recorded reason
OPEN_TASK_STATUSES = ("pending_approval", "assigned", "in_progress", "overdue")
LINKABLE_TASK_STATUSES = ("assigned", "in_progress", "overdue", "done")


class PlanImmutable(Conflict):
    code = "plan_immutable"
    message = "计划已批准，不能修改；请提出修订（新版本并说明理由） (an approved plan is immutable: amend it)"


class DrawMismatch(Conflict):
    code = "draw_inputs_mismatch"
    message = "抽取记录的输入不能更改；重新抽取须新建抽取并说明理由 (a draw cannot be re-run with other inputs)"


class AnnualCapExceeded(Conflict):
    code = "annual_cap_exceeded"
    message = "该企业本年度检查次数已达上限 (the enterprise reached the annual inspection cap)"


class CheckCodeNotFound(NotFound):
    code = "check_code_not_found"
    message = "检查码不存在或不属于本单位，请核对后重试 (no such inspection code for your enterprise)"


def in_jurisdiction(region_code: str | None, bureau_region: str) -> bool:
    return bool(region_code) and region_code.startswith(region_prefix(bureau_region))


def check_inspector_pair(session: Session, region_code: str, lead_id, co_id) -> tuple[User, User]:
    """Two distinct active inspectors with distinct 执法证号, both of the jurisdiction of ``region_code``."""
    if not lead_id or not co_id:
        raise ValidationError("检查须由两名执法人员进行 (two inspectors are required)", code="two_inspectors_required",
                              details={"fields": {"co_inspector_id" if lead_id else "lead_inspector_id": ["Required."]}})
    if lead_id == co_id:
        raise ValidationError("两名执法人员不能是同一人 (the two inspectors must differ)", code="two_inspectors_required",
                              details={"fields": {"co_inspector_id": ["Same as lead_inspector_id."]}})
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([lead_id, co_id])))}
    out = []
    for field, uid in (("lead_inspector_id", lead_id), ("co_inspector_id", co_id)):
        u = users.get(uid)
        if u is None or not u.is_active or u.role not in ("inspector", "supervisor") \
                or not (u.certificate_no or "").strip():
            raise ValidationError("执法人员须为持有执法证的在岗人员 (an active officer with a certificate is required)",
                                  code="inspector_not_certified", details={"fields": {field: ["Not a certified officer."]}})
        if not in_jurisdiction(region_code, u.region_id or "-"):
            raise ValidationError("执法人员不属于该辖区 (the officer is outside the jurisdiction)",
                                  code="inspector_out_of_jurisdiction", details={"fields": {field: ["Other jurisdiction."]}})
        out.append(u)
    if out[0].certificate_no.strip() == out[1].certificate_no.strip():
        raise ValidationError("两名执法人员的执法证号不能相同 (two distinct certificate numbers are required)",
                              code="two_inspectors_required", details={"fields": {"co_inspector_id": ["Same 执法证号."]}})
    return out[0], out[1]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, 1 January next year) of a calendar year in Asia/Shanghai, as UTC."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    return (datetime(year, 1, 1, tzinfo=tz).astimezone(timezone.utc),
            datetime(year + 1, 1, 1, tzinfo=tz).astimezone(timezone.utc))


def inspections_this_year(session: Session, enterprise_id: str, year: int, *, exclude_task: str | None = None) -> int:
    """Inspections counted against the cap: open or done tasks whose window starts in the year, and submitted
    inspections of the year without a task (无任务检查)."""
    lo, hi = year_bounds(year)
    tasks = select(func.count()).select_from(InspectionTask).where(
        InspectionTask.enterprise_id == enterprise_id, InspectionTask.deleted_at.is_(None),
        InspectionTask.status.in_(OPEN_TASK_STATUSES + ("done",)),
        InspectionTask.window_start_at >= lo, InspectionTask.window_start_at < hi)
    if exclude_task:
        tasks = tasks.where(InspectionTask.id != exclude_task)
    taskless = select(func.count()).select_from(Inspection).where(
        Inspection.enterprise_id == enterprise_id, Inspection.task_id.is_(None), Inspection.deleted_at.is_(None),
        Inspection.status == "submitted",
        func.coalesce(Inspection.started_at, Inspection.created_at) >= lo,
        func.coalesce(Inspection.started_at, Inspection.created_at) < hi)
    return int(session.scalar(tasks) or 0) + int(session.scalar(taskless) or 0)


def check_annual_cap(session: Session, cap: int | None, enterprise_id: str, year: int, kind: str,
                     reason: str | None) -> str | None:
    """Refuse a task beyond the cap; complaint/accident tasks may exceed it with a reason (returned to record)."""
    if cap is None:
        return None
    count = inspections_this_year(session, enterprise_id, year)
    if count < cap:
        return None
    details = {"cap": cap, "count": count, "year": year}
    if kind not in CAP_EXEMPT_KINDS:
        raise AnnualCapExceeded(details=details)
    if not (reason or "").strip():
        raise AnnualCapExceeded("投诉举报、事故类检查超出年度上限须说明理由 (a reason is required beyond the cap)",
                                code="over_cap_reason_required", details=details)
    return reason.strip()


def task_link_problem(session: Session, user: User, task_id: str | None, enterprise_id: str | None,
                      inspection_id: str) -> str | None:
    """Why an inspection may not carry ``task_id`` (None: it may). One rule for the sync push and REST."""
    if not task_id:
        return None
    task = session.get(InspectionTask, task_id)
    visible = task is not None and task.deleted_at is None and (
        user.id in (task.lead_inspector_id, task.co_inspector_id)
        or (user.role == "supervisor" and in_jurisdiction(task.region_code, user.region_id or "-"))
        or user.role == "admin")
    if not visible:
        return "task_id: unknown task"
    if task.enterprise_id != enterprise_id:
        return "task_id: the task is for another enterprise"
    if task.status not in LINKABLE_TASK_STATUSES:
        return f"task_id: the task is {task.status}"
    if task.status == "done" and task.inspection_id not in (None, inspection_id):
        return "task_id: the task was already carried out by another inspection"
    return None


def require_task_link(session: Session, user: User, task_id, enterprise_id, inspection_id) -> None:
    problem = task_link_problem(session, user, task_id, enterprise_id, inspection_id)
    if problem:
        raise AppError(problem, status=422, code="invalid_task", details={"fields": {"task_id": [problem]}})
