"""The supervisor's planning forms in the portal: a plan, its approval, a draw, the tasks from the draw, an
approval of a task outside the plan; bad input answers 422 with the message and changes nothing."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from inspect_api.models import InspectionPlan, InspectionTask, PlanDraw
from tests.browser.portal_helpers import portal_login, post_form

from .. import factories
from .helpers import task_body


def test_a_supervisor_plans_draws_and_hands_out_tasks_from_the_portal(client, db, auth, world):
    for i in range(5):
        factories.enterprise(db, f"表单抽查企业{i}", "131102", seed=700 + i, risk_color="blue")
    db.commit()
    portal_login(client, "supervisor_taocheng")
    year = date.today().year
    bad = post_form(client, "/planning/plans/new", {"year": str(year), "staff_count": "3", "working_days": "400",
                                                    "booked_days": "0", "days_major": "2", "days_default": "1"})
    assert bad.status_code == 422 and "请输入0至366之间的整数" in bad.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(InspectionPlan)) == 0
    resp = post_form(client, "/planning/plans/new", {"year": str(year), "staff_count": "3", "working_days": "248",
                                                     "booked_days": "600", "days_major": "2", "days_default": "1",
                                                     "annual_cap": "2"})
    assert resp.status_code == 302
    plan = db.scalars(select(InspectionPlan)).one()
    assert plan.capacity_days == 144 and plan.annual_cap == 2 and plan.status == "draft"
    resp = post_form(client, f"/planning/plans/{plan.id}/approve", page_url=f"/planning/plans/{plan.id}")
    assert resp.status_code == 302
    db.refresh(plan)
    assert plan.status == "approved"
    resp = post_form(client, f"/planning/plans/{plan.id}/draws/new", {
        "period_label": "第一批", "period_start": f"{year}-01-01", "period_end": f"{year}-12-31", "sample_size": "3",
        "risk_colors": "blue"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    draw = db.scalars(select(PlanDraw)).one()
    assert len(draw.result) == 3
    page = client.get(f"/planning/draws/{draw.id}").get_data(as_text=True)
    assert draw.seed in page and "按记录复核" in page
    resp = post_form(client, f"/planning/draws/{draw.id}/verify", page_url=f"/planning/draws/{draw.id}",
                     follow_redirects=True)
    assert "复核通过" in resp.get_data(as_text=True)
    resp = post_form(client, f"/planning/draws/{draw.id}/tasks", {"window_start": f"{year}-12-01",
                                                                  "window_end": f"{year}-12-31"},
                     page_url=f"/planning/draws/{draw.id}", follow_redirects=True)
    assert "已下达3项检查任务" in resp.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(InspectionTask).where(InspectionTask.draw_id == draw.id)) == 3
    # an inspector asks for a task outside the plan; the supervisor approves it in the portal
    insp = auth.headers("inspector1")
    pending = client.post("/api/v1/tasks", json=task_body(world, enterprise_id=world.ent2.id, kind="special",
                                                         reason="专项检查"), headers=insp).get_json()
    assert pending["status"] == "pending_approval"
    resp = post_form(client, f"/planning/tasks/{pending['id']}/approve", {"reason": "同意"},
                     page_url=f"/planning/tasks/{pending['id']}", follow_redirects=True)
    assert "已批准" in resp.get_data(as_text=True)
    assert db.get(InspectionTask, pending["id"]).status == "assigned"
