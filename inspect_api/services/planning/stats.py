"""Planning statistics: plan completion (planned / done / overdue by kind and region), inspections per
enterprise against the annual cap, the share of random / key / other-task / task-less inspections, and
the inspection list with 是否随机抽取 filled from the task (exports in CSV with BOM and XLSX)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from ...models import Enterprise, Inspection, InspectionPlan, InspectionTask, User, utcnow
from ..access.scope import scope_clause
from .rules import year_bounds
from .tasks import KIND_NAMES


def _late(now: datetime):
    T = InspectionTask
    return or_(T.status == "overdue", and_(T.status.in_(("assigned", "in_progress")), T.window_end_at < now))


def plan_completion(session: Session, user, plan: InspectionPlan, now: datetime | None = None) -> dict:
    """Tasks of the plan year in the plan's jurisdiction, by kind and county: planned, done, overdue, open."""
    now = now or utcnow()
    T = InspectionTask
    lo, hi = year_bounds(plan.year)
    from ...models import region_prefix

    rows = session.execute(select(
        T.kind, func.substr(T.region_code, 1, 6).label("county"), func.count().label("planned"),
        func.sum(case((T.status == "done", 1), else_=0)).label("done"),
        func.sum(case((_late(now), 1), else_=0)).label("overdue"))
        .where(scope_clause(T, user), T.deleted_at.is_(None), T.status.not_in(("cancelled", "pending_approval")),
               T.region_code.like(region_prefix(plan.region_code) + "%"), T.window_start_at >= lo, T.window_start_at < hi)
        .group_by(T.kind, "county").order_by(T.kind, "county")).all()
    out = [{"kind": r.kind, "kind_name": KIND_NAMES.get(r.kind, r.kind), "region_code": r.county,
            "planned": int(r.planned), "done": int(r.done or 0), "overdue": int(r.overdue or 0),
            "open": int(r.planned) - int(r.done or 0) - int(r.overdue or 0)} for r in rows]
    total = {k: sum(r[k] for r in out) for k in ("planned", "done", "overdue", "open")}
    key_done = set(session.scalars(select(T.enterprise_id).where(
        T.kind == "key", T.status == "done", T.window_start_at >= lo, T.window_start_at < hi)))
    keys = plan.key_enterprise_ids or []
    return {"plan_id": plan.id, "year": plan.year, "rows": out, "total": total,
            "key_enterprises": len(keys), "key_covered": len([e for e in keys if e in key_done]),
            "ordinary_planned": plan.ordinary_count,
            "random_tasks": sum(r["planned"] for r in out if r["kind"] == "random"),
            "completion_rate": round(total["done"] / total["planned"], 4) if total["planned"] else None}


def inspection_shares(session: Session, user, year: int) -> dict:
    """Submitted inspections of the year: random, key, other tasks, 无任务检查 (without a task)."""
    lo, hi = year_bounds(year)
    I, T = Inspection, InspectionTask
    d = func.coalesce(I.started_at, I.created_at)
    kind = case((I.task_id.is_(None), literal("none")), else_=T.kind)
    rows = dict(session.execute(select(kind, func.count()).select_from(I).outerjoin(T, T.id == I.task_id).where(
        scope_clause(I, user), I.deleted_at.is_(None), I.status == "submitted", d >= lo, d < hi)
        .group_by(kind)).all())
    total = sum(rows.values())
    buckets = {"random": rows.get("random", 0), "key": rows.get("key", 0), "taskless": rows.get("none", 0)}
    buckets["other_task"] = total - sum(buckets.values())
    return {"year": year, "total": total, **buckets,
            "shares": {k: (round(v / total, 4) if total else None) for k, v in buckets.items()}}


def cap_usage(session: Session, user, year: int, cap: int | None, limit: int = 200) -> list[dict]:
    """Enterprises with the most inspections this year (tasks open or done + task-less), against the cap."""
    lo, hi = year_bounds(year)
    I, T = Inspection, InspectionTask
    d = func.coalesce(I.started_at, I.created_at)
    tasks = select(T.enterprise_id.label("e")).where(
        scope_clause(T, user), T.deleted_at.is_(None), T.status.not_in(("cancelled",)),
        T.window_start_at >= lo, T.window_start_at < hi)
    free = select(I.enterprise_id.label("e")).where(
        scope_clause(I, user), I.deleted_at.is_(None), I.task_id.is_(None), I.status == "submitted", d >= lo, d < hi)
    u = tasks.union_all(free).subquery()
    rows = session.execute(select(u.c.e, Enterprise.name, func.count().label("n"))
                           .join(Enterprise, Enterprise.id == u.c.e).group_by(u.c.e, Enterprise.name)
                           .order_by(func.count().desc(), u.c.e).limit(limit)).all()
    return [{"enterprise_id": e, "enterprise_name": name, "count": int(n), "cap": cap,
             "over_cap": cap is not None and n > cap} for e, name, n in rows]


INSPECTION_LIST_HEADER = ["企业名称", "县(市、区)", "检查时间", "检查人员", "检查类型", "是否随机抽取", "检查任务", "检查码"]


def inspection_rows(session: Session, user, year: int) -> list[list]:
    """The year's submitted inspections with 是否随机抽取 taken from the task (是 for a 双随机 task)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    lo, hi = year_bounds(year)
    I, T = Inspection, InspectionTask
    d = func.coalesce(I.started_at, I.created_at)
    lead, co = User.__table__.alias("lead"), User.__table__.alias("co")
    rows = session.execute(select(Enterprise.name, I.region_code, d.label("at"), lead.c.display_name, lead.c.certificate_no,
                                  co.c.display_name, co.c.certificate_no, T.kind, T.title, T.code)
                           .select_from(I).join(Enterprise, Enterprise.id == I.enterprise_id)
                           .outerjoin(T, T.id == I.task_id).outerjoin(lead, lead.c.id == I.lead_inspector_id)
                           .outerjoin(co, co.c.id == I.co_inspector_id)
                           .where(scope_clause(I, user), I.deleted_at.is_(None), I.status == "submitted", d >= lo, d < hi)
                           .order_by(d, I.id)).all()
    out = []
    for name, region, at, ln, lc, cn, cc, kind, title, code in rows:
        people = "、".join(f"{n or ''}（{c or ''}）" for n, c in ((ln, lc), (cn, cc)) if n or c)
        out.append([name, region, at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "", people,
                    KIND_NAMES.get(kind, "无任务检查") if kind else "无任务检查", "是" if kind == "random" else "否",
                    title or "", code or ""])
    return out


PUBLICATION_HEADER = ["序号", "被抽查企业", "统一社会信用代码", "检查时间", "检查事项", "检查结果"]


def publication_rows(session: Session, draw) -> list[list]:
    """抽查结果公示 of a draw: enterprise, time, items, outcome (from the tasks made from the draw)."""
    from zoneinfo import ZoneInfo

    from ...models import ChecklistTemplate, Hazard

    tz = ZoneInfo("Asia/Shanghai")
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_([r[0] for r in draw.result])))}
    tasks = {t.enterprise_id: t for t in session.scalars(select(InspectionTask).where(InspectionTask.draw_id == draw.id))}
    titles = dict(session.execute(select(ChecklistTemplate.id, ChecklistTemplate.title)).all())
    out = []
    for i, (eid, _lead, _co) in enumerate(draw.result, 1):
        ent, task = ents.get(eid), tasks.get(eid)
        when, items, outcome = "", "", "未检查"
        if task is not None:
            moment = task.completed_at or task.window_start_at
            when = moment.astimezone(tz).strftime("%Y-%m-%d")
            items = "；".join(titles.get(t, t) for t in task.template_ids or []) or "按检查事项清单"
            if task.status == "done":
                found = session.scalar(select(func.count()).select_from(Hazard).where(
                    Hazard.inspection_id == task.inspection_id, Hazard.deleted_at.is_(None))) or 0
                outcome = f"发现问题{found}项，已责令整改" if found else "未发现问题"
            else:
                outcome = {"overdue": "逾期未检查", "cancelled": "已撤销"}.get(task.status, "检查中")
        out.append([i, ent.name if ent else eid, ent.uscc if ent else "", when, items, outcome])
    return out


def dashboard_figures(session: Session, user, year: int) -> dict:
    """The planning card of the dashboard: the year's shares and the completion of the plan in force."""
    from .plans import current_plan

    plan = current_plan(session, user.region_id, year) if user.region_id else None
    return {"year": year, "shares": inspection_shares(session, user, year),
            "completion": plan_completion(session, user, plan) if plan is not None else None,
            "plan_title": plan.title if plan is not None else None,
            "cap_usage": cap_usage(session, user, year, plan.annual_cap if plan is not None else None, limit=10)}


def table_export(title: str, header: list[str], rows: list[list], fmt: str):
    """A small table as CSV (UTF-8 with BOM) or XLSX chunks, with the writers of services/reporting/exports.py."""
    from ..reporting import exports

    if fmt == "csv":
        return exports.stream_csv(header, [[[exports.csv_safe(v) for v in r] for r in rows]])
    cols = [exports.ExportColumn(h, "int" if h == "序号" else "text", 8 if h == "序号" else 24) for h in header]
    rows = [[str(v) if c.kind == "text" else v for v, c in zip(r, cols)] for r in rows]
    return exports.XlsxStream(title, "", cols, sheet_name=title[:31]).generate([rows], lambda: None)
