"""Overdue = past the deadline and not closed, computed in SQL at query time."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from inspect_api.models import Hazard, utcnow
from inspect_api.services.lifecycle.hazards import is_overdue, overdue_clause

from . import helpers


def _make(db, world):
    now = utcnow()
    rows = {
        "late_ordered": helpers.hazard(db, world, status="ordered", deadline_at=now - timedelta(days=3),
                                       description="逾期未整改"),
        "late_reported": helpers.hazard(db, world, status="reported", deadline_at=now - timedelta(hours=1),
                                        description="逾期已报告待复查"),
        "late_closed": helpers.hazard(db, world, status="closed", deadline_at=now - timedelta(days=9),
                                      description="逾期但已销号"),
        "in_time": helpers.hazard(db, world, status="acknowledged", deadline_at=now + timedelta(days=2),
                                  description="未到期"),
        "no_deadline": helpers.hazard(db, world, status="found", description="无期限"),
        "late_shenzhou": helpers.hazard(db, world, enterprise=world.ent_shenzhou, status="rejected",
                                        deadline_at=now - timedelta(days=40), description="深州逾期"),
    }
    db.commit()
    return rows


def test_overdue_clause_selects_past_deadline_and_not_closed(db, world):
    rows = _make(db, world)
    ids = set(db.scalars(select(Hazard.id).where(overdue_clause(utcnow()))))
    assert ids == {rows["late_ordered"].id, rows["late_reported"].id, rows["late_shenzhou"].id}
    assert {k for k, h in rows.items() if is_overdue(h)} == {"late_ordered", "late_reported", "late_shenzhou"}
    # the same hazard is not overdue when looked at before its deadline: no stored flag
    earlier = utcnow() - timedelta(days=5)
    assert set(db.scalars(select(Hazard.id).where(overdue_clause(earlier)))) == {rows["late_shenzhou"].id}


def test_api_filters_on_overdue_within_scope(api, db, world):
    rows = _make(db, world)
    status, body = api.get("inspector1", "/hazards", {"overdue": "true"})
    assert status == 200 and {h["id"] for h in body} == {rows["late_ordered"].id, rows["late_reported"].id}
    assert all(h["overdue"] for h in body)
    status, body = api.get("inspector1", "/hazards", {"overdue": "false"})
    assert {h["id"] for h in body} == {rows["late_closed"].id, rows["in_time"].id, rows["no_deadline"].id}
    status, body = api.get("supervisor", "/hazards", {"overdue": "true"})
    assert len(body) == 3
    status, body = api.get("enterprise2", "/hazards", {"overdue": "true"})
    assert body == []


def test_cli_lists_overdue_hazards_per_region(app, db, world):
    rows = _make(db, world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hazards", "overdue", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 3
    assert [(g["region_code"], g["region_name"], g["count"]) for g in data["regions"]] == [
        ("131102", "桃城区", 2), ("131182", "深州市", 1)]
    taocheng = data["regions"][0]["hazards"]
    assert [h["id"] for h in taocheng] == [rows["late_ordered"].id, rows["late_reported"].id]
    assert taocheng[0]["enterprise"] == "衡水示例化工有限公司" and taocheng[0]["days_overdue"] == 3

    text = runner.invoke(args=["hazards", "overdue", "--region", "131182"])
    assert text.exit_code == 0
    assert "深州市 (131182): 1" in text.output and "深州逾期" in text.output and "桃城区" not in text.output
    assert "逾期 40 天" in text.output

    failing = runner.invoke(args=["hazards", "overdue", "--fail-if-any"])
    assert failing.exit_code == 1
    quiet = runner.invoke(args=["hazards", "overdue", "--fail-if-any", "--now",
                                (utcnow() - timedelta(days=60)).isoformat()])
    assert quiet.exit_code == 0 and ": 0" in quiet.output
