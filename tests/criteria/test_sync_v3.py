"""Schema version 3 over HTTP: the catalogues and clauses on the tablets, hazards.criterion_clause_id
judged on every push; a version-1 tablet sees no change and keeps pushing HC2017 codes as before."""
from __future__ import annotations

import json

import pytest

from inspect_api.models import Hazard
from inspect_api.services import sync as sync_service
from inspect_api.services.sync import tables_for

from ..sync.helpers import changes, hazard_raw, ids, inspection_raw, pull, pull_ok, push
from .helpers import clause_of, publish_test_catalogue


@pytest.fixture()
def tab(auth, world):
    return auth.headers("inspector1", device_id="tablet-v3")


@pytest.fixture()
def test_cat(client, auth, hc2017):
    return publish_test_catalogue(client, auth)


def _v3_changes(**tables):
    body = changes(**tables)
    for name in ("criteria_catalogues", "criteria_clauses"):
        body[name] = {"created": [], "updated": [], "deleted": []}
    return body


def _push_hazard(client, tab, world, version, **fields):
    ts = pull_ok(client, tab, schema_version=version)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id, **fields)
    body = (_v3_changes if version >= 3 else changes)(inspections={"created": [insp]}, hazards={"created": [haz]})
    resp = push(client, tab, body, ts, schema_version=version)
    assert resp.status_code == 200, resp.get_json()
    return haz["id"], resp.get_json()["rejected"]


def test_a_version_3_first_pull_carries_the_published_catalogues_and_their_clauses(client, auth, tab, test_cat):
    draft = client.post("/api/v1/criteria/catalogues", headers=auth.headers("admin"), json={
        "code": "DRAFT", "title": "草稿", "doc_no": "D", "kind": "national_rule", "effective_from": "2027-01-01",
        "clauses": [{"number": "1", "text": "草稿条款"}]})
    assert draft.status_code == 201, draft.get_json()
    body = pull_ok(client, tab, schema_version=3)
    assert ids(body, "criteria_catalogues", "created") == {"crit-HC2017-v1", test_cat["id"]}
    cats = {c["id"]: c for c in body["changes"]["criteria_catalogues"]["created"]}
    assert cats["crit-HC2017-v1"]["effective_to"] == "2026-09-29" and cats["crit-HC2017-v1"]["effective_from"] is None
    assert cats[test_cat["id"]]["effective_from"] == "2026-09-30" and cats[test_cat["id"]]["industries"] == "C25,C26"
    clauses = body["changes"]["criteria_clauses"]["created"]
    assert len(clauses) == 25 and {c["catalogue_id"] for c in clauses} == set(cats)
    assert {c["code"] for c in clauses} >= {"HC2017-01", "TEST-AQ-5.2.2"}


def test_publishing_reaches_a_version_3_tablet_incrementally(client, auth, tab, hc2017):
    ts = pull_ok(client, tab, schema_version=3)["timestamp"]
    cat = publish_test_catalogue(client, auth)
    body = pull_ok(client, tab, ts, schema_version=3)
    assert ids(body, "criteria_catalogues", "created") == {cat["id"]}
    assert ids(body, "criteria_catalogues", "updated") == {"crit-HC2017-v1"}  # it ended
    assert len(ids(body, "criteria_clauses", "created")) == 5


def test_a_version_1_tablet_sees_no_change(client, auth, tab, hc2017):
    ts = pull_ok(client, tab)["timestamp"]
    publish_test_catalogue(client, auth)
    later = pull_ok(client, tab, ts)
    assert all(not t["created"] and not t["updated"] and not t["deleted"] for t in later["changes"].values())
    assert set(later["changes"]) == set(tables_for(1))
    with_v3 = pull(client, tab).get_data()
    saved_tables, saved_order = dict(sync_service.TABLES), list(sync_service.PUSH_ORDER)
    try:  # the same pull as if version 3 did not exist: byte for byte
        for name in ("criteria_catalogues", "criteria_clauses"):
            sync_service.TABLES.pop(name)
        for name in ("hazards", "checklist_items"):
            spec = sync_service.TABLES[name]
            sync_service.TABLES[name] = type(spec)(**{**spec.__dict__, "cols": tuple(
                c for c in spec.cols if c.since < 3)})
        tables_for.cache_clear()
        without = pull(client, tab).get_data()
    finally:
        sync_service.TABLES.clear()
        sync_service.TABLES.update(saved_tables)
        sync_service.PUSH_ORDER[:] = saved_order
        tables_for.cache_clear()
    assert with_v3 == without and b"criteria" not in with_v3 and b"criterion_clause_id" not in with_v3


def test_a_version_3_push_grades_with_a_clause_in_force(client, db, world, tab, test_cat):
    clause = clause_of(test_cat, "5.2.1")
    hid, rejected = _push_hazard(client, tab, world, 3, grade="major", criterion_clause_id=clause,
                                 major_criterion_code="TEST-AQ-5.2.1")
    assert rejected == {}
    h = db.get(Hazard, hid)
    assert (h.grade, h.criterion_clause_id, h.major_criterion_code) == ("major", clause, "TEST-AQ-5.2.1")
    raw = next(r for r in pull_ok(client, tab, schema_version=3)["changes"]["hazards"]["updated"] +
               pull_ok(client, tab, schema_version=3)["changes"]["hazards"]["created"] if r["id"] == hid)
    assert raw["criterion_clause_id"] == clause


@pytest.mark.parametrize("fields, reason", [
    ({"criterion_clause_id": "crit-HC2017-05"}, "retired"),  # found today: 2017 ended 2026-09-29
    ({"criterion_clause_id": ""}, "clause_required"),
    ({"criterion_clause_id": "nope"}, "unknown_clause"),
])
def test_a_version_3_push_with_a_clause_not_in_force_is_rejected_with_a_reason(client, db, world, tab, test_cat,
                                                                              fields, reason):
    hid, rejected = _push_hazard(client, tab, world, 3, grade="major", **fields)
    assert f"[{reason}]" in rejected["hazards"][hid]
    assert db.get(Hazard, hid) is None


def test_a_version_1_push_keeps_working_exactly_as_before(client, auth, db, world, tab, hc2017):
    hid, rejected = _push_hazard(client, tab, world, 1, grade="major", major_criterion_code="HC2017-05")
    assert rejected == {} and db.get(Hazard, hid).criterion_clause_id == "crit-HC2017-05"
    publish_test_catalogue(client, auth)
    # after the successor: a version-1 tablet's HC2017 code is still accepted as it was (version 1 never
    # changes); no clause is linked, and the hazard waits for re-grading under the new standard
    hid2, rejected = _push_hazard(client, tab, world, 1, grade="major", major_criterion_code="HC2017-07")
    assert rejected == {}
    h = db.get(Hazard, hid2)
    assert (h.grade, h.major_criterion_code, h.criterion_clause_id) == ("major", "HC2017-07", None)
    # a version-1 raw naming the new column is a version-1 raw: the column is ignored
    hid3, rejected = _push_hazard(client, tab, world, 1, grade="general", criterion_clause_id="crit-HC2017-05")
    assert rejected == {} and db.get(Hazard, hid3).criterion_clause_id is None
    assert db.get(Hazard, hid).criterion_clause_id == "crit-HC2017-05"  # the old judgement stays


def test_catalogue_tables_are_read_only_for_version_3_and_unknown_to_version_1(client, tab, test_cat):
    ts = pull_ok(client, tab, schema_version=3)["timestamp"]
    body = _v3_changes()
    body["criteria_clauses"]["created"] = [{"id": "X" * 16, "catalogue_id": test_cat["id"], "number": "9",
                                            "text": "平板不能写"}]
    resp = push(client, tab, body, ts, schema_version=3)
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden"
    resp = push(client, tab, body, ts)
    assert resp.status_code == 422 and resp.get_json()["code"] == "unknown_table"


def test_a_tablet_migrating_from_1_to_3_gets_the_catalogues_and_judged_hazards_in_full(client, auth, db, world,
                                                                                      tab, hc2017):
    hid, _ = _push_hazard(client, tab, world, 1, grade="major", major_criterion_code="HC2017-05")
    ts = pull_ok(client, tab)["timestamp"]
    migration = json.dumps({"from": 1, "tables": ["criteria_catalogues", "criteria_clauses"],
                            "columns": [{"table": "hazards", "columns": ["criterion_clause_id"]},
                                        {"table": "checklist_items", "columns": ["criterion_clause_id"]}]})
    body = pull_ok(client, tab, ts, schema_version=3, migration=migration)
    got = ids(body, "criteria_catalogues", "created") | ids(body, "criteria_catalogues", "updated")
    assert got == {"crit-HC2017-v1"}
    assert len(ids(body, "criteria_clauses", "created") | ids(body, "criteria_clauses", "updated")) == 20
    rows = body["changes"]["hazards"]["created"] + body["changes"]["hazards"]["updated"]
    assert [r["criterion_clause_id"] for r in rows if r["id"] == hid] == ["crit-HC2017-05"]
