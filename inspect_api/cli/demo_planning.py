"""Demo data for planning: the 桃城区 plan of the current year (approved and published), one 双随机 draw and
tasks for the demo inspectors (key tasks for the major-hazard enterprises, random tasks from the draw).
Idempotent: nothing is added when the plan exists. Called by seed_demo (cli/demo_data.py)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import InspectionPlan, User, utcnow
from ..services.access.actor import Actor
from ..services.planning import draw as draw_service
from ..services.planning import plans as plan_service
from ..services.planning import tasks as task_service

DEMO_REGION = "131102"


def seed_planning(session: Session) -> dict:
    """Flushes, never commits. Returns what it did."""
    from zoneinfo import ZoneInfo

    year = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).year
    if session.scalar(select(InspectionPlan.id).where(InspectionPlan.region_code == DEMO_REGION,
                                                      InspectionPlan.year == year)):
        return {"plan": "exists"}
    people = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(("supervisor_taocheng", "inspector1", "inspector2"))))}
    if len(people) < 3 or people["supervisor_taocheng"].region_id != DEMO_REGION:
        return {"plan": "skipped: demo users missing or changed"}
    sup = Actor(people["supervisor_taocheng"], None, "seed-demo")
    plan = plan_service.create_plan(session, sup, {
        "year": year, "region_code": DEMO_REGION, "title": f"桃城区{year}年度安全生产监督检查计划（演示）",
        "staff_count": 6, "working_days": 248, "booked_days": 1100,
        "days_per_class": {"major_hazard": 2, "large": 1.5, "default": 1}, "annual_cap": None,
        "note": "演示数据。年度检查频次上限按本地规定由本局填写（此处未设定）。"})
    plan_service.approve_plan(session, sup, plan)
    plan_service.publish_plan(session, sup, plan)
    # the coming quarter: enterprises the demo year inspected already are not "inspected this period"
    start = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    draw = draw_service.make_draw(session, sup, plan, {
        "period_label": f"{year}年{start.month}月起双随机抽查", "period_start": start,
        "period_end": date(year, 12, 31),
        "sample_size": max(1, min(plan.ordinary_count, 4))})
    now = utcnow()
    window = {"window_start_at": now - timedelta(days=3), "window_end_at": now + timedelta(days=27)}
    made = task_service.tasks_from_draw(session, sup, draw, window)
    i1, i2 = people["inspector1"], people["inspector2"]
    for n, ent_id in enumerate(plan.key_enterprise_ids[:3]):
        made.append(task_service.create_task(session, sup, {
            "enterprise_id": ent_id, "kind": "key", "plan_id": plan.id, "lead_inspector_id": (i1, i2)[n % 2].id,
            "co_inspector_id": (i2, i1)[n % 2].id, **window}))
    session.flush()
    return {"plan": plan.id, "draw": draw.id, "tasks": len(made)}


__all__ = ["seed_planning"]
