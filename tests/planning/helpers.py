"""Helpers for the planning tests: a county plan, tasks, sync pushes of inspections with a task."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..sync.helpers import inspection_raw, published_checklist  # noqa: F401

YEAR = 2026
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def plan_body(**kw):
    body = {"year": YEAR, "staff_count": 4, "working_days": 248, "booked_days": 900,
            "days_per_class": {"major_hazard": 2, "default": 1}, "annual_cap": 3, "title": "桃城区2026年度监督检查计划"}
    body.update(kw)
    return body


def approved_plan(client, headers, **kw):
    resp = client.post("/api/v1/plans", json=plan_body(**kw), headers=headers)
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    resp = client.post(f"/api/v1/plans/{plan['id']}/approve", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def iso(moment: datetime) -> str:
    return moment.isoformat()


def window(days_from_now=0, length=30, now=None):
    start = (now or datetime.now(timezone.utc)) + timedelta(days=days_from_now)
    return iso(start), iso(start + timedelta(days=length))


def task_body(world, **kw):
    start, end = window()
    body = {"enterprise_id": world.ent1.id, "kind": "key", "lead_inspector_id": world["inspector1"].id,
            "co_inspector_id": world["inspector2"].id, "window_start_at": start, "window_end_at": end}
    body.update(kw)
    return body
