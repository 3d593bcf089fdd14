"""The CLI (verify-draw, mark-overdue) on the demo data's draw, and the demo plan."""
from __future__ import annotations

import json

from sqlalchemy import select

from inspect_api.cli.demo_data import seed_demo
from inspect_api.models import InspectionPlan, InspectionTask, PlanDraw, User


def test_demo_seed_makes_a_published_plan_a_draw_and_tasks_for_the_demo_inspectors(app, db):
    seed_demo(db, password="demo-pass-42")
    db.commit()
    plan = db.scalars(select(InspectionPlan).where(InspectionPlan.region_code == "131102")).one()
    assert plan.status == "published" and plan.key_enterprise_ids
    i1 = db.scalars(select(User).where(User.username == "inspector1")).one()
    mine = db.scalars(select(InspectionTask).where(
        (InspectionTask.lead_inspector_id == i1.id) | (InspectionTask.co_inspector_id == i1.id))).all()
    assert mine and {t.kind for t in mine} <= {"key", "random"}
    draw = db.scalars(select(PlanDraw)).one()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["planning", "verify-draw", draw.id])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verified"] is True
    draw.result = draw.result[::-1] if len(draw.result) > 1 else [[draw.result[0][0], None, None]]
    db.commit()
    result = runner.invoke(args=["planning", "verify-draw", draw.id])
    assert result.exit_code == 1 and json.loads(result.output)["verified"] is False
    result = runner.invoke(args=["planning", "verify-draw", "nope"])
    assert result.exit_code != 0 and "抽取记录不存在" in result.output
    result = runner.invoke(args=["planning", "mark-overdue"])
    assert result.exit_code == 0 and result.output.strip() == "0 task(s) marked overdue"
