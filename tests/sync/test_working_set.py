"""Schema version 4, the working set (services/sync/working_set.py), through the HTTP API: what an
inspector's tablet holds, what leaves as deleted and comes back, supervisors' aggregates, a tablet
migrating from version 1, the paged history endpoint — and a version-1 pull that sees no change."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy import select

from inspect_api.models import Finding, Hazard, Inspection, InspectionTask, Notice, User, utcnow

from .helpers import changes, hazard_raw, ids, inspection_raw, published_checklist, pull, pull_ok, push

V4 = {"schema_version": 4}


def _ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


@pytest.fixture()
def scene(db, world):
    """ent1: inspected by inspector1 10 days ago (worked on): an open hazard and notice, one closed 5 days
    ago, one closed 60 days ago; an inspection 200 days ago. ent2: an open hazard, no work of inspector1's.
    深州: an open hazard (another jurisdiction)."""
    published_checklist(db)
    me = world.users["inspector1"]
    old = Inspection(enterprise_id=world.ent1.id, region_code="131102", lead_inspector_id=me.id,
                     started_at=_ago(200), status="submitted")
    recent = Inspection(enterprise_id=world.ent1.id, region_code="131102", lead_inspector_id=me.id,
                        co_inspector_id=world.users["inspector2"].id, started_at=_ago(10), status="submitted")
    other = Inspection(enterprise_id=world.ent2.id, region_code="131102",
                       lead_inspector_id=world.users["inspector2"].id, started_at=_ago(300), status="submitted")
    db.add_all([old, recent, other])
    db.flush()
    f_old = Finding(inspection_id=old.id, enterprise_id=world.ent1.id, region_code="131102", result="fail")
    f_new = Finding(inspection_id=recent.id, enterprise_id=world.ent1.id, region_code="131102", result="fail")
    db.add_all([f_old, f_new])
    notice = Notice(inspection_id=recent.id, enterprise_id=world.ent1.id, region_code="131102",
                    deadline_at=_ago(-20), issued_at=_ago(10), status="issued")
    db.add(notice)
    db.flush()

    def hz(ent, insp, status="ordered", closed=None, region="131102", desc="隐患"):
        h = Hazard(enterprise_id=ent, inspection_id=insp, region_code=region, description=desc, status=status,
                   found_at=_ago(12), deadline_at=_ago(-5), closed_at=closed)
        db.add(h)
        db.flush()
        return h

    h = {
        "open": hz(world.ent1.id, recent.id, desc="开放"),
        "closed5": hz(world.ent1.id, recent.id, "closed", _ago(5), desc="五天前销号"),
        "closed60": hz(world.ent1.id, old.id, "closed", _ago(60), desc="六十天前销号"),
        "ent2": hz(world.ent2.id, other.id, desc="企业二"),
        "shenzhou": hz(world.ent_shenzhou.id, None, region="131182", desc="深州"),
    }
    h["open"].notice_id = notice.id
    db.commit()
    return {"h": {k: v.id for k, v in h.items()}, "old": old.id, "recent": recent.id, "other": other.id,
            "notice": notice.id, "f_old": f_old.id, "f_new": f_new.id, "world": world}


@pytest.fixture()
def tab(auth):
    return auth.headers("inspector1", device_id="tablet-ws")


def test_first_v4_pull_is_the_working_set(client, scene, tab):
    body = pull_ok(client, tab, **V4)
    h = scene["h"]
    assert ids(body, "hazards", "created") == {h["open"], h["closed5"]}
    assert ids(body, "inspections", "created") == {scene["recent"]}  # the last inspection, within 30 days
    assert ids(body, "findings", "created") == {scene["f_new"]}
    assert ids(body, "notices", "created") == {scene["notice"]}
    w = scene["world"]
    assert {w.ent1.id, w.ent2.id} <= ids(body, "enterprises", "created")  # the registry of the jurisdiction
    assert w.ent_shenzhou.id not in ids(body, "enterprises", "created")
    raw = next(r for r in body["changes"]["hazards"]["created"] if r["id"] == h["closed5"])
    assert isinstance(raw["closed_at"], int) and raw["status"] == "closed"  # version 4 adds closed_at
    assert body["changes"]["enterprise_summaries"] == {"created": [], "updated": [], "deleted": []}
    assert all(part["deleted"] == [] for part in body["changes"].values())


def test_a_version_1_pull_still_carries_the_whole_jurisdiction(client, scene, tab):
    body = pull_ok(client, tab)
    h = scene["h"]
    assert ids(body, "hazards", "created") == {h["open"], h["closed5"], h["closed60"], h["ent2"]}
    assert "enterprise_summaries" not in body["changes"]
    assert all("closed_at" not in r for r in body["changes"]["hazards"]["created"])


def test_records_leave_as_deleted_when_time_passes_and_come_back(client, scene, tab, app, monkeypatch):
    first = pull_ok(client, tab, **V4)
    ts = first["timestamp"]
    again = pull_ok(client, tab, ts, **V4)  # nothing changed
    assert again["timestamp"] == ts and all(not any(p.values()) for p in again["changes"].values())
    monkeypatch.setitem(app.config, "SYNC_HISTORY_DAYS", 3)  # the 5-day-old closure is history now
    shrunk = pull_ok(client, tab, ts, **V4)
    assert shrunk["changes"]["hazards"]["deleted"] == [scene["h"]["closed5"]]
    assert shrunk["timestamp"] > ts  # another answer, another timestamp
    # the same request again (its answer was lost): the same answer
    assert pull_ok(client, tab, ts, **V4) == shrunk
    monkeypatch.setitem(app.config, "SYNC_HISTORY_DAYS", 30)
    back = pull_ok(client, tab, shrunk["timestamp"], **V4)
    assert ids(back, "hazards", "created") == {scene["h"]["closed5"]}
    assert back["changes"]["hazards"]["deleted"] == []


def test_an_assigned_task_brings_an_enterprise_in_and_its_end_takes_it_out(client, db, scene, tab):
    ts = pull_ok(client, tab, **V4)["timestamp"]
    w = scene["world"]
    now = utcnow()
    task = InspectionTask(enterprise_id=w.ent2.id, region_code="131102", kind="random", title="双随机抽查",
                          lead_inspector_id=w.users["inspector1"].id, co_inspector_id=w.users["inspector2"].id,
                          window_start_at=now, window_end_at=now + timedelta(days=10), code="WSTEST0001",
                          status="assigned")
    db.add(task)
    db.commit()
    came = pull_ok(client, tab, ts, **V4)
    assert ids(came, "hazards", "created") == {scene["h"]["ent2"]}
    assert ids(came, "inspections", "created") == {scene["other"]}  # its last inspection, 300 days old
    task.status = "done"
    db.commit()
    went = pull_ok(client, tab, came["timestamp"], **V4)
    assert went["changes"]["hazards"]["deleted"] == [scene["h"]["ent2"]]
    assert went["changes"]["inspections"]["deleted"] == [scene["other"]]


def test_a_change_inside_the_working_set_comes_as_updated(client, db, scene, tab):
    ts = pull_ok(client, tab, **V4)["timestamp"]
    hz = db.get(Hazard, scene["h"]["open"])
    hz.description = "描述已更正"
    db.commit()
    body = pull_ok(client, tab, ts, **V4)
    assert ids(body, "hazards", "updated") == {scene["h"]["open"]}
    assert body["changes"]["hazards"]["updated"][0]["description"] == "描述已更正"
    assert ids(body, "hazards", "created") == set()


def test_a_tablets_own_push_comes_back_as_updated_not_created(client, scene, tab):
    ts = pull_ok(client, tab, **V4)["timestamp"]
    w = scene["world"]
    insp = inspection_raw(w.ent1.id)
    hazard = hazard_raw(insp["id"], w.ent1.id)
    body = changes(inspections={"created": [insp]}, hazards={"created": [hazard]})
    body["enterprise_summaries"] = {"created": [], "updated": [], "deleted": []}  # a v4 tablet sends it empty
    resp = push(client, tab, body, ts, schema_version=4)
    assert resp.status_code == 200, resp.get_json()
    body = pull_ok(client, tab, ts, **V4)
    assert hazard["id"] in ids(body, "hazards", "updated") and hazard["id"] not in ids(body, "hazards", "created")


def test_a_tablet_migrating_from_version_1_loses_what_left_its_set(client, scene, tab):
    ts = pull_ok(client, tab)["timestamp"]
    migration = json.dumps({"from": 1, "tables": [], "columns": [{"table": "hazards", "columns": ["closed_at"]}]})
    body = pull_ok(client, tab, ts, schema_version=4, migration=migration)
    h = scene["h"]
    assert ids(body, "hazards", "updated") == {h["open"], h["closed5"]}
    assert set(body["changes"]["hazards"]["deleted"]) == {h["closed60"], h["ent2"]}
    assert scene["old"] in body["changes"]["inspections"]["deleted"]
    assert scene["f_old"] in body["changes"]["findings"]["deleted"]


def test_a_supervisor_gets_aggregates_not_raw_history(client, scene, auth):
    sup = auth.headers("supervisor_taocheng", device_id="sup-tab")
    body = pull_ok(client, sup, **V4)
    for table in ("inspections", "findings", "hazards", "notices", "photos"):
        assert body["changes"][table]["created"] == [], table
    rows = {r["id"]: r for r in body["changes"]["enterprise_summaries"]["created"]}
    w = scene["world"]
    assert set(rows) == {w.ent1.id, w.ent2.id}
    e1 = rows[w.ent1.id]
    assert (e1["open_hazards"], e1["closed_recent"], e1["overdue_hazards"]) == (1, 1, 0)
    assert rows[w.ent2.id]["open_hazards"] == 1 and isinstance(e1["last_inspected_at"], int)


def test_history_of_one_enterprise_is_paged_and_scoped(client, scene, tab):
    w = scene["world"]
    url = f"/api/v1/sync/enterprises/{w.ent1.id}/history"
    first = client.get(url, query_string={"table": "hazards", "limit": 2}, headers=tab)
    assert first.status_code == 200
    page = first.get_json()
    assert len(page["records"]) == 2 and page["next"]
    rest = client.get(url, query_string={"table": "hazards", "limit": 2, "after": page["next"]}, headers=tab).get_json()
    got = [r["id"] for r in page["records"] + rest["records"]]
    h = scene["h"]
    assert sorted(got) == sorted([h["open"], h["closed5"], h["closed60"]]) and rest["next"] is None
    insp = client.get(url, query_string={"table": "inspections"}, headers=tab).get_json()
    assert [r["id"] for r in insp["records"]] == [scene["recent"], scene["old"]]  # newest first
    outside = client.get(f"/api/v1/sync/enterprises/{w.ent_shenzhou.id}/history", headers=tab)
    assert outside.status_code == 404
    assert client.get(url, query_string={"table": "users"}, headers=tab).status_code == 422
    assert client.get(url, query_string={"after": "garbage"}, headers=tab).status_code == 422


def test_rules_are_configurable(client, scene, tab, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "SYNC_WORKSET_INSPECTED_BY", "anyone")
    monkeypatch.setitem(app.config, "SYNC_WORKSET_INSPECTED_DAYS", 400)
    body = pull_ok(client, tab, **V4)
    assert scene["h"]["ent2"] in ids(body, "hazards", "created")  # inspected by inspector2 300 days ago
    assert db.get(User, scene["world"].users["inspector1"].id) is not None


def test_a_version_4_tablet_also_gets_its_tasks_and_the_criteria_of_the_versions_before(client, db, scene, tab):
    from inspect_api.models import CriteriaClause

    w = scene["world"]
    now = utcnow()
    task = InspectionTask(enterprise_id=w.ent2.id, region_code="131102", kind="random", title="双随机抽查",
                          lead_inspector_id=w.users["inspector1"].id, co_inspector_id=w.users["inspector2"].id,
                          window_start_at=now, window_end_at=now + timedelta(days=10), code="WSTEST0002",
                          status="assigned")
    db.add(task)
    db.commit()
    body = pull_ok(client, tab, **V4)
    assert ids(body, "inspection_tasks", "created") == {task.id}
    clauses = set(db.scalars(select(CriteriaClause.id)))
    assert clauses and ids(body, "criteria_clauses", "created") == clauses
