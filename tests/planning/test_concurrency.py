"""Tasks made at once for one enterprise over real HTTP: the annual cap holds (the enterprise row is locked
on PostgreSQL; SQLite serialises writers)."""
from datetime import datetime, timedelta, timezone

import requests

from ..registry.test_concurrency import _race, _token
from ..conftest import start_live_server

import pytest


@pytest.fixture(scope="module")
def live():
    live, stop = start_live_server()
    yield live
    stop()


def test_four_tasks_at_once_against_a_cap_of_two_let_exactly_two_through(live):
    h = _token(live, "supervisor_taocheng")
    year = datetime.now(timezone.utc).year
    plan = requests.post(live.url + "/api/v1/plans", headers=h, timeout=30, json={
        "year": year, "region_code": "131102", "staff_count": 2, "working_days": 200,
        "days_per_class": {"default": 1}, "annual_cap": 2}).json()
    assert requests.post(f"{live.url}/api/v1/plans/{plan['id']}/approve", headers=h, timeout=30).status_code == 200
    start = datetime.now(timezone.utc)
    body = {"enterprise_id": live.ids["ent1"], "kind": "key", "plan_id": plan["id"],
            "lead_inspector_id": live.ids["inspector1"], "co_inspector_id": live.ids["inspector2"],
            "window_start_at": start.isoformat(), "window_end_at": (start + timedelta(days=10)).isoformat()}
    statuses = _race(4, lambda i: requests.post(live.url + "/api/v1/tasks", json=body, headers=h,
                                                timeout=60).status_code)
    assert sorted(statuses) == [201, 201, 409, 409]
    tasks = requests.get(live.url + f"/api/v1/tasks?enterprise_id={live.ids['ent1']}", headers=h, timeout=30).json()
    assert len(tasks) == 2
