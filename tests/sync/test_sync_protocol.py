"""The WatermelonDB sync protocol (CONTRACT §2), through the HTTP API."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from inspect_api.models import AuditEvent, Device, Enterprise, Finding, Hazard, Inspection, Notice

from .helpers import (
    changes, finding_raw, hazard_raw, ids, inspection_raw, notice_raw, published_checklist, pull, pull_ok, push,
)


@pytest.fixture()
def checklist(world, db):
    tmpl = published_checklist(db)
    other = published_checklist(db, code="HC-OTHER", items=1)
    draft = published_checklist(db, code="HC-DRAFT", items=1, status="draft")
    db.commit()
    return {"tmpl": tmpl, "items": [i.id for i in tmpl.items], "other_item": other.items[0].id, "draft": draft}


@pytest.fixture()
def tab1(auth):
    return auth.headers("inspector1", device_id="tablet-1")


@pytest.fixture()
def tab2(auth):
    return auth.headers("inspector2", device_id="tablet-2")


# ------------------------------------------------------------------ roles and scope of a pull


@pytest.mark.parametrize("username", ["enterprise1", "admin"])
def test_enterprise_users_and_admins_get_403_on_pull_and_push(client, auth, world, username):
    headers = auth.headers(username)
    assert pull(client, headers).status_code == 403
    resp = push(client, headers, changes(), 0)
    assert resp.status_code == 403
    assert resp.get_json()["code"] == "forbidden"


def test_sync_without_a_token_is_401(client, world):
    assert client.get("/api/v1/sync").status_code == 401


def test_first_pull_holds_the_jurisdiction_and_published_checklists_only(client, world, checklist, tab1):
    body = pull_ok(client, tab1)
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 0
    assert ids(body, "enterprises", "created") == {world.ent1.id, world.ent2.id}
    assert {"131100", "131102", "131182"} <= ids(body, "regions", "created")
    assert ids(body, "checklist_templates", "created") == {checklist["tmpl"].id,
                                                           body["changes"]["checklist_templates"]["created"][1]["id"]}
    assert checklist["draft"].id not in ids(body, "checklist_templates", "created")
    assert set(checklist["items"]) <= ids(body, "checklist_items", "created")
    for table in body["changes"].values():
        assert table["deleted"] == [] and table["updated"] == []
    ent = next(r for r in body["changes"]["enterprises"]["created"] if r["id"] == world.ent1.id)
    assert ent["region_id"] == "131102" and ent["major_hazard_level"] == 3 and ent["risk_color"] == "orange"
    assert isinstance(ent["uscc"], str) and "_status" not in ent and "sync_seq" not in ent


def test_inspector_of_another_county_pulls_only_its_county(client, auth, world):
    body = pull_ok(client, auth.headers("inspector3"))
    assert ids(body, "enterprises", "created") == {world.ent_shenzhou.id}


def test_city_supervisor_pulls_every_county(client, auth, world):
    body = pull_ok(client, auth.headers("supervisor"))
    assert ids(body, "enterprises", "created") == {world.ent1.id, world.ent2.id, world.ent_shenzhou.id}


def test_null_string_and_zero_all_mean_everything(client, world, tab1):
    a = pull_ok(client, tab1, "null")
    b = pull_ok(client, tab1, 0)
    c = client.get("/api/v1/sync", headers=tab1)
    assert ids(a, "enterprises", "created") == ids(b, "enterprises", "created") == \
        ids(c.get_json(), "enterprises", "created")


def test_pull_updates_the_devices_last_sync_at(client, world, db, tab1):
    pull_ok(client, tab1)
    device = db.scalars(select(Device).where(Device.client_device_id == "tablet-1")).one()
    assert device.last_sync_at is not None


# ------------------------------------------------------------------ push basics


def test_pushed_records_are_stored_with_scope_from_their_parents(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, checklist["tmpl"].id)
    find = finding_raw(insp["id"], checklist["items"][0])
    haz = hazard_raw(insp["id"], world.ent1.id, finding_id=find["id"])
    resp = push(client, tab1, changes(inspections={"created": [insp]}, findings={"created": [find]},
                                      hazards={"created": [haz]}), last)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"ok": True, "experimentalRejectedIds": {}, "rejected": {}}
    stored = db.get(Hazard, haz["id"])
    assert stored.region_code == "131102" and stored.status == "found" and stored.enterprise_id == world.ent1.id
    assert db.get(Finding, find["id"]).region_code == "131102"
    assert db.get(Inspection, insp["id"]).created_by_id == world["inspector1"].id
    audit = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == haz["id"])).all()
    assert audit == ["sync.hazards.created"]


def test_a_pushed_hazard_carries_its_findings_checklist_item_for_the_ledger(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, checklist["tmpl"].id)
    find = finding_raw(insp["id"], checklist["items"][0])
    haz = hazard_raw(insp["id"], world.ent1.id, finding_id=find["id"])
    loose = hazard_raw(insp["id"], world.ent1.id)
    assert push(client, tab1, changes(inspections={"created": [insp]}, findings={"created": [find]},
                                      hazards={"created": [haz, loose]}), last).status_code == 200

    def item_of(hazard_id):
        db.expire_all()
        return db.scalar(select(Hazard.item_id).where(Hazard.id == hazard_id))

    assert (item_of(haz["id"]), item_of(loose["id"])) == (checklist["items"][0], None)
    # the finding moves to another item of the checklist: its hazard follows
    last = pull_ok(client, tab1, last)["timestamp"]
    moved = {**find, "item_id": checklist["items"][1], "_status": "updated", "_changed": "item_id"}
    assert push(client, tab1, changes(findings={"updated": [moved]}), last).status_code == 200
    assert item_of(haz["id"]) == checklist["items"][1]
    # the loose hazard is tied to the finding later
    last = pull_ok(client, tab1, last)["timestamp"]
    tied = {**loose, "finding_id": find["id"], "_status": "updated", "_changed": "finding_id"}
    assert push(client, tab1, changes(hazards={"updated": [tied]}), last).status_code == 200
    assert item_of(loose["id"]) == checklist["items"][1]


def test_pull_after_push_echoes_own_records_as_updated_and_others_see_them_created(
        client, auth, world, checklist, tab1, tab2):
    last1 = pull_ok(client, tab1)["timestamp"]
    last2 = pull_ok(client, tab2)["timestamp"]
    insp = inspection_raw(world.ent1.id, checklist["tmpl"].id)
    assert push(client, tab1, changes(inspections={"created": [insp]}), last1).status_code == 200
    mine = pull_ok(client, tab1, last1)
    assert ids(mine, "inspections", "updated") == {insp["id"]} and ids(mine, "inspections", "created") == set()
    theirs = pull_ok(client, tab2, last2)
    assert ids(theirs, "inspections", "created") == {insp["id"]}
    row = theirs["changes"]["inspections"]["created"][0]
    assert row["started_at"] == 1764547200000 and row["latitude"] == 37.73 and row["status"] == "draft"
    assert row["template_id"] == checklist["tmpl"].id and row["lead_inspector_id"] is None
    # and nothing in the other county
    other = pull_ok(client, auth.headers("inspector3"), last2)
    assert ids(other, "inspections", "created") == set()


def test_push_replayed_three_times_leaves_the_same_state(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, checklist["tmpl"].id)
    haz = hazard_raw(insp["id"], world.ent1.id)
    note = notice_raw(insp["id"], world.ent1.id)
    haz["notice_id"] = note["id"]
    body = changes(inspections={"created": [insp]}, hazards={"created": [haz]}, notices={"created": [note]})
    first = push(client, tab1, body, last)
    assert first.status_code == 200, first.get_json()
    number = db.get(Notice, note["id"]).number
    seq_before = db.get(Hazard, haz["id"]).sync_seq
    for _ in range(3):
        again = push(client, tab1, body, last)
        assert again.status_code == 200, again.get_json()
        assert again.get_json()["rejected"] == {}
    db.expire_all()
    assert db.scalar(select(Inspection.id).where(Inspection.id == insp["id"])) == insp["id"]
    assert len(db.scalars(select(Notice).where(Notice.id == note["id"])).all()) == 1
    assert db.get(Notice, note["id"]).number == number
    assert db.get(Hazard, haz["id"]).sync_seq == seq_before


def test_created_record_that_exists_is_updated(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    assert push(client, tab1, changes(inspections={"created": [insp]}), last).status_code == 200
    last = pull_ok(client, tab1, last)["timestamp"]
    insp2 = {**insp, "note": "复核后补充"}
    resp = push(client, tab1, changes(inspections={"created": [insp2]}), last)
    assert resp.status_code == 200
    db.expire_all()
    assert db.get(Inspection, insp["id"]).note == "复核后补充"


def test_updated_record_missing_on_the_server_is_created(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, _status="updated", _changed="note")
    assert push(client, tab1, changes(inspections={"updated": [insp]}), last).status_code == 200
    assert db.get(Inspection, insp["id"]) is not None


def test_deleting_a_missing_record_is_ignored(client, world, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    resp = push(client, tab1, changes(hazards={"deleted": ["doesNotExist1234"]}), last)
    assert resp.status_code == 200 and resp.get_json()["rejected"] == {}


def test_update_of_a_record_deleted_on_the_server_is_a_conflict(client, world, db, tab1, tab2):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id)
    assert push(client, tab1, changes(inspections={"created": [insp]}, hazards={"created": [haz]}),
                last).status_code == 200
    last = pull_ok(client, tab1, last)["timestamp"]
    assert push(client, tab2, changes(hazards={"deleted": [haz["id"]]}), last).status_code == 200
    resp = push(client, tab1, changes(hazards={"updated": [{**haz, "description": "改"}]}), last)
    assert resp.status_code == 409
    assert resp.get_json()["details"]["conflicts"] == [{"table": "hazards", "id": haz["id"]}]


def test_conflict_is_409_with_ids_and_applies_nothing_then_recovers_after_pull(client, world, db, tab1, tab2):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id)
    assert push(client, tab1, changes(inspections={"created": [insp]}, hazards={"created": [haz]}),
                last).status_code == 200
    last1 = pull_ok(client, tab1, last)["timestamp"]
    last2 = last1
    # tablet 2 edits the hazard first
    assert push(client, tab2, changes(hazards={"updated": [{**haz, "location": "二号罐"}]}), last2).status_code == 200
    other = inspection_raw(world.ent2.id)
    resp = push(client, tab1, changes(inspections={"created": [other]},
                                      hazards={"updated": [{**haz, "description": "报警器已拆除"}]}), last1)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["code"] == "sync_conflict"
    assert body["details"]["conflicts"] == [{"table": "hazards", "id": haz["id"]}]
    db.expire_all()
    assert db.get(Inspection, other["id"]) is None  # nothing applied
    # recover: pull, merge, push again
    pulled = pull_ok(client, tab1, last1)
    server = next(r for r in pulled["changes"]["hazards"]["updated"] if r["id"] == haz["id"])
    assert server["location"] == "二号罐"
    merged = {**server, "description": "报警器已拆除"}
    resp = push(client, tab1, changes(inspections={"created": [other]}, hazards={"updated": [merged]}),
                pulled["timestamp"])
    assert resp.status_code == 200, resp.get_json()
    db.expire_all()
    h = db.get(Hazard, haz["id"])
    assert (h.location, h.description) == ("二号罐", "报警器已拆除")


def test_server_owned_columns_are_ignored_when_pushed(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id, status="closed", region_code="999999", sync_seq=1)
    note = notice_raw(insp["id"], world.ent1.id, number="伪造〔2020〕1号", status="closed")
    resp = push(client, tab1, changes(inspections={"created": [insp]}, hazards={"created": [haz]},
                                      notices={"created": [note]}), last)
    assert resp.status_code == 200, resp.get_json()
    h = db.get(Hazard, haz["id"])
    n = db.get(Notice, note["id"])
    assert h.status == "found" and h.region_code == "131102"
    assert n.status == "issued" and n.number != "伪造〔2020〕1号" and "桃城" in n.number


# ------------------------------------------------------------------ table rules


def test_records_for_read_only_tables_are_403_and_nothing_is_applied(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    body = changes(inspections={"created": [insp]},
                   enterprises={"updated": [{"id": world.ent1.id, "name": "改名"}]})
    resp = push(client, tab1, body, last)
    assert resp.status_code == 403 and resp.get_json()["details"]["tables"] == ["enterprises"]
    assert db.get(Inspection, insp["id"]) is None


def test_unknown_table_with_records_is_422_but_empty_is_ignored(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    body = changes(inspections={"created": [insp]})
    body["weather"] = {"created": [{"id": "x"}], "updated": [], "deleted": []}
    resp = push(client, tab1, body, last)
    assert resp.status_code == 422 and resp.get_json()["code"] == "unknown_table"
    assert db.get(Inspection, insp["id"]) is None
    body["weather"] = {"created": [], "updated": [], "deleted": []}
    assert push(client, tab1, body, last).status_code == 200
    assert db.get(Inspection, insp["id"]) is not None


def test_a_text_plain_body_from_a_bare_fetch_is_accepted(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    resp = client.post(f"/api/v1/sync?last_pulled_at={last}", data=json.dumps(changes(inspections={"created": [insp]})),
                       content_type="text/plain;charset=UTF-8", headers=tab1)
    assert resp.status_code == 200, resp.get_json()
    assert db.get(Inspection, insp["id"]) is not None


def test_malformed_json_is_422_in_the_error_shape(client, world, tab1):
    resp = client.post("/api/v1/sync?last_pulled_at=1", data="{oops", content_type="text/plain", headers=tab1)
    assert resp.status_code == 422
    assert set(resp.get_json()) == {"status", "code", "message", "details"}


def test_invalid_records_are_rejected_and_named_while_the_rest_applies(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    good = inspection_raw(world.ent1.id, checklist["tmpl"].id)
    foreign = inspection_raw(world.ent_shenzhou.id)  # another county's enterprise
    wrong_item = finding_raw(good["id"], checklist["other_item"])
    orphan = finding_raw(foreign["id"])
    wrong_ent = hazard_raw(good["id"], world.ent2.id)
    bad_result = finding_raw(good["id"], checklist["items"][1], result="maybe")
    ok_finding = finding_raw(good["id"], checklist["items"][0])
    resp = push(client, tab1, changes(
        inspections={"created": [good, foreign]},
        findings={"created": [wrong_item, orphan, bad_result, ok_finding]},
        hazards={"created": [wrong_ent]}), last)
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body["experimentalRejectedIds"]["inspections"]) == {foreign["id"]}
    assert set(body["experimentalRejectedIds"]["findings"]) == {wrong_item["id"], orphan["id"], bad_result["id"]}
    assert body["experimentalRejectedIds"]["hazards"] == [wrong_ent["id"]]
    assert "checklist" in body["rejected"]["findings"][wrong_item["id"]]
    assert db.get(Inspection, good["id"]) is not None and db.get(Finding, ok_finding["id"]) is not None
    assert db.get(Inspection, foreign["id"]) is None and db.get(Hazard, wrong_ent["id"]) is None


def test_a_pushed_id_of_another_scope_is_rejected_without_leaking(client, auth, world, db, tab1):
    t3 = auth.headers("inspector3", device_id="tablet-3")
    last3 = pull_ok(client, t3)["timestamp"]
    theirs = inspection_raw(world.ent_shenzhou.id, note="深州的检查")
    assert push(client, t3, changes(inspections={"created": [theirs]}), last3).status_code == 200
    last = pull_ok(client, tab1)["timestamp"]
    hijack = {**theirs, "enterprise_id": world.ent1.id, "note": "hijack"}
    resp = push(client, tab1, changes(inspections={"updated": [hijack]}, hazards={"deleted": []}), last)
    assert resp.status_code == 200
    assert resp.get_json()["rejected"] == {"inspections": {theirs["id"]: "not found"}}
    resp = push(client, tab1, changes(inspections={"deleted": [theirs["id"]]}), last)
    assert resp.get_json()["rejected"] == {"inspections": {theirs["id"]: "not found"}}
    db.expire_all()
    row = db.get(Inspection, theirs["id"])
    assert row.note == "深州的检查" and row.deleted_at is None and row.enterprise_id == world.ent_shenzhou.id


def test_submitting_needs_two_distinct_certified_officers(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    i1, i2 = world["inspector1"].id, world["inspector2"].id
    alone = inspection_raw(world.ent1.id, status="submitted", lead_inspector_id=i1, co_inspector_id="")
    same = inspection_raw(world.ent1.id, status="submitted", lead_inspector_id=i1, co_inspector_id=i1)
    uncertified = inspection_raw(world.ent1.id, status="submitted", lead_inspector_id=i1,
                                 co_inspector_id=world["supervisor"].id)
    ok = inspection_raw(world.ent1.id, status="submitted", lead_inspector_id=i1, co_inspector_id=i2)
    resp = push(client, tab1, changes(inspections={"created": [alone, same, uncertified, ok]}), last)
    rejected = resp.get_json()["experimentalRejectedIds"]["inspections"]
    assert set(rejected) == {alone["id"], same["id"], uncertified["id"]}
    assert db.get(Inspection, ok["id"]).status == "submitted"
    # a submitted inspection is locked
    last = pull_ok(client, tab1, last)["timestamp"]
    resp = push(client, tab1, changes(inspections={"updated": [{**ok, "note": "改"}]}), last)
    assert resp.get_json()["experimentalRejectedIds"] == {"inspections": [ok["id"]]}


def test_a_notice_gets_the_next_number_and_orders_its_hazards(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, lead_inspector_id=world["inspector1"].id,
                          co_inspector_id=world["inspector2"].id)
    note1 = notice_raw(insp["id"], world.ent1.id, deadline_at=1767225600000)
    h1 = hazard_raw(insp["id"], world.ent1.id, notice_id=note1["id"])
    h2 = hazard_raw(insp["id"], world.ent1.id, notice_id=note1["id"], deadline_at=1766620800000)
    resp = push(client, tab1, changes(inspections={"created": [insp]}, notices={"created": [note1]},
                                      hazards={"created": [h1, h2]}), last)
    assert resp.status_code == 200, resp.get_json()
    db.expire_all()
    n1 = db.get(Notice, note1["id"])
    assert n1.number.startswith("（桃城）应急责改〔") and n1.issued_at is not None and n1.bureau_code == "131102"
    assert db.get(Hazard, h1["id"]).status == "ordered"
    assert db.get(Hazard, h1["id"]).deadline_at == n1.deadline_at
    assert db.get(Hazard, h2["id"]).status == "ordered"
    # a hazard that arrives later for the same notice is ordered too; a second notice gets the next number
    last = pull_ok(client, tab1, last)["timestamp"]
    h3 = hazard_raw(insp["id"], world.ent1.id, notice_id=note1["id"])
    note2 = notice_raw(insp["id"], world.ent1.id)
    resp = push(client, tab1, changes(hazards={"created": [h3]}, notices={"created": [note2]}), last)
    assert resp.status_code == 200, resp.get_json()
    db.expire_all()
    assert db.get(Hazard, h3["id"]).status == "ordered"
    n2 = db.get(Notice, note2["id"])
    assert (n2.year, n2.seq_no) == (n1.year, n1.seq_no + 1)
    pulled = pull_ok(client, tab1, last)
    row = next(r for r in pulled["changes"]["notices"]["updated"] if r["id"] == note2["id"])
    assert row["number"] == n2.number and isinstance(row["number"], str) and row["status"] == "issued"
    hz = next(r for r in pulled["changes"]["hazards"]["updated"] if r["id"] == h3["id"])
    assert hz["status"] == "ordered"


# ------------------------------------------------------------------ deletes, scope exits, paging, migrations


def test_deleted_records_come_down_as_deleted_ids(client, world, db, tab1, tab2):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id)
    push(client, tab1, changes(inspections={"created": [insp]}, hazards={"created": [haz]}), last)
    last2 = pull_ok(client, tab2)["timestamp"]
    assert push(client, tab1, changes(hazards={"deleted": [haz["id"]]}), last2).status_code == 200
    body = pull_ok(client, tab2, last2)
    assert body["changes"]["hazards"]["deleted"] == [haz["id"]]
    assert ids(body, "hazards", "updated") == set() and ids(body, "hazards", "created") == set()
    assert db.get(Hazard, haz["id"]).deleted_at is not None  # a tombstone, not a hard delete
    first = pull_ok(client, tab2)
    assert haz["id"] not in ids(first, "hazards", "created")  # a first pull has no deleted records


def test_records_leaving_the_scope_come_down_as_deleted(client, auth, world, db, tab1):
    t3 = auth.headers("inspector3", device_id="tablet-3")
    last1 = pull_ok(client, tab1)["timestamp"]
    last3 = pull_ok(client, t3)["timestamp"]
    ent = db.get(Enterprise, world.ent2.id)
    ent.region_id = "131182"  # the enterprise moved to 深州市
    db.commit()
    mine = pull_ok(client, tab1, last1)
    assert mine["changes"]["enterprises"]["deleted"] == [world.ent2.id]
    theirs = pull_ok(client, t3, last3)
    assert world.ent2.id in ids(theirs, "enterprises", "updated") | ids(theirs, "enterprises", "created")
    assert theirs["changes"]["enterprises"]["deleted"] == []


def test_large_first_sync_pages_with_limit_until_has_more_is_false(client, world, db, checklist, tab1):
    everything = pull_ok(client, tab1)
    expected = {t: ids(everything, t, "created") for t in everything["changes"]}
    seen = {t: set() for t in expected}
    last, pages = None, 0
    while True:
        page = pull_ok(client, tab1, last, limit=4)
        pages += 1
        count = sum(len(p["created"]) + len(p["updated"]) for name, p in page["changes"].items()
                    if name != "checklist_items")
        assert count <= 4
        for t in seen:
            seen[t] |= ids(page, t, "created") | ids(page, t, "updated")
        last = page["timestamp"]
        if not page.get("has_more"):
            break
        assert pages < 50
    assert pages > 2
    assert seen == expected
    assert last == everything["timestamp"]


def test_migration_sends_whole_tables_the_tablet_just_added(client, world, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    migration = json.dumps({"from": 0, "tables": ["enterprises"], "columns": []})
    body = pull_ok(client, tab1, last, schema_version=1, migration=migration)
    assert ids(body, "enterprises", "updated") | ids(body, "enterprises", "created") == {world.ent1.id, world.ent2.id}
    assert pull_ok(client, tab1, last)["changes"]["enterprises"] == {"created": [], "updated": [], "deleted": []}


def test_bad_schema_version_and_migration_are_422(client, world, tab1):
    assert pull(client, tab1, schema_version=0).status_code == 422
    assert pull(client, tab1, 5, migration="{nope").status_code == 422
    assert pull(client, tab1, 5, migration=json.dumps({"from": 3})).status_code == 422


def test_photos_take_their_scope_from_the_owner_and_foreign_owners_are_rejected(client, auth, world, db, tab1):
    from inspect_api.models import Photo

    t3 = auth.headers("inspector3", device_id="tablet-3")
    last3 = pull_ok(client, t3)["timestamp"]
    foreign = inspection_raw(world.ent_shenzhou.id)
    assert push(client, t3, changes(inspections={"created": [foreign]}), last3).status_code == 200
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id)
    sha = "ab" * 32
    ok = {"id": "PhotoOk000000001", "owner_table": "hazards", "owner_id": haz["id"], "sha256": sha.upper(),
          "taken_at": 1764547200000, "latitude": 37.7, "longitude": 115.6, "status": "ready"}
    alien = {**ok, "id": "PhotoBad00000001", "owner_table": "inspections", "owner_id": foreign["id"]}
    bad_table = {**ok, "id": "PhotoBad00000002", "owner_table": "users"}
    resp = push(client, tab1, changes(inspections={"created": [insp]}, hazards={"created": [haz]},
                                      photos={"created": [ok, alien, bad_table]}), last)
    assert resp.status_code == 200
    assert set(resp.get_json()["experimentalRejectedIds"]["photos"]) == {alien["id"], bad_table["id"]}
    photo = db.get(Photo, ok["id"])
    assert (photo.enterprise_id, photo.region_code, photo.sha256, photo.status) == \
        (world.ent1.id, "131102", sha, "pending")
    pulled = pull_ok(client, tab1, last)
    row = next(r for r in pulled["changes"]["photos"]["updated"] if r["id"] == ok["id"])
    assert row["status"] == "pending" and row["owner_id"] == haz["id"]


def test_publishing_a_template_later_brings_its_items_in_the_next_pull(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    draft = db.get(type(checklist["draft"]), checklist["draft"].id)
    draft.status = "published"
    db.commit()
    body = pull_ok(client, tab1, last)
    assert ids(body, "checklist_templates", "created") | ids(body, "checklist_templates", "updated") == {draft.id}
    assert ids(body, "checklist_items", "created") | ids(body, "checklist_items", "updated") == \
        {i.id for i in draft.items}


def test_submitted_inspections_and_ordered_hazards_cannot_be_deleted_from_a_tablet(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id, status="submitted", lead_inspector_id=world["inspector1"].id,
                          co_inspector_id=world["inspector2"].id)
    note = notice_raw(insp["id"], world.ent1.id)
    haz = hazard_raw(insp["id"], world.ent1.id, notice_id=note["id"])
    assert push(client, tab1, changes(inspections={"created": [insp]}, notices={"created": [note]},
                                      hazards={"created": [haz]}), last).status_code == 200
    last = pull_ok(client, tab1, last)["timestamp"]
    resp = push(client, tab1, changes(inspections={"deleted": [insp["id"]]}, hazards={"deleted": [haz["id"]]},
                                      notices={"deleted": [note["id"]]}), last)
    assert resp.status_code == 200
    assert resp.get_json()["experimentalRejectedIds"] == {"inspections": [insp["id"]], "hazards": [haz["id"]],
                                                          "notices": [note["id"]]}
    db.expire_all()
    assert db.get(Hazard, haz["id"]).deleted_at is None and db.get(Hazard, haz["id"]).status == "ordered"


def test_an_empty_push_takes_no_cursor(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    before = pull_ok(client, tab1, last)["timestamp"]
    assert push(client, tab1, changes(), last).status_code == 200
    assert pull_ok(client, tab1, last)["timestamp"] == before  # an empty push takes no cursor


def test_a_push_with_a_cursor_the_server_never_gave_is_422(client, world, db, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    insp = inspection_raw(world.ent1.id)
    resp = push(client, tab1, changes(inspections={"created": [insp]}), last + 10_000)
    assert resp.status_code == 422
    assert db.get(Inspection, insp["id"]) is None


def test_a_large_push_is_stored_whole_with_defaults_and_audit(client, world, db, checklist, tab1):
    last = pull_ok(client, tab1)["timestamp"]
    inspections = [inspection_raw(world.ent1.id, checklist["tmpl"].id) for _ in range(60)]
    findings = [finding_raw(i["id"], checklist["items"][n % 3]) for i in inspections for n in range(3)]
    hazards = [hazard_raw(i["id"], world.ent1.id, description=f"隐患{n}") for n, i in enumerate(inspections * 4)]
    resp = push(client, tab1, changes(inspections={"created": inspections}, findings={"created": findings},
                                      hazards={"created": hazards}), last)
    assert resp.status_code == 200 and resp.get_json()["rejected"] == {}
    stored = db.scalars(select(Hazard).where(Hazard.id.in_([h["id"] for h in hazards]))).all()
    assert len(stored) == 240
    assert {(h.status, h.version, h.region_code) for h in stored} == {("found", 1, "131102")}
    assert all(h.found_at is not None and h.found_by_id == world["inspector1"].id for h in stored)
    assert db.scalar(select(func.count()).select_from(Finding).where(
        Finding.id.in_([f["id"] for f in findings]))) == 180
    audited = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("sync.%.created"),
                                                                           AuditEvent.actor_username == "inspector1"))
    assert audited == 60 + 180 + 240
    body = pull_ok(client, tab1, last)
    assert {r["id"] for r in body["changes"]["hazards"]["updated"]} == {h["id"] for h in hazards}



def test_a_rejected_change_to_a_visible_record_never_reaches_its_tablets_as_a_deletion(client, auth, world):
    """Rejections reach the pusher's next pull under deleted only for ids it cannot see: a rejected change
    to a record in its scope (here: moving an inspection to another enterprise) leaves the record on every
    tablet (issue #19 item 8)."""
    from .helpers import changes, ids, inspection_raw, pull_ok, push

    city, taocheng = auth.headers("supervisor"), auth.headers("inspector1")
    first = pull_ok(client, city)
    raw = inspection_raw(world.ent1.id)
    assert push(client, city, changes(inspections={"created": [raw]}), first["timestamp"]).get_json()["rejected"] == {}
    seen, mine = pull_ok(client, taocheng), pull_ok(client, city, first["timestamp"])
    moved = {**raw, "enterprise_id": world.ent_shenzhou.id, "_status": "updated"}
    resp = push(client, city, changes(inspections={"updated": [moved]}), mine["timestamp"])
    assert list(resp.get_json()["rejected"]["inspections"]) == [raw["id"]]
    for headers, since in ((city, mine["timestamp"]), (taocheng, seen["timestamp"])):
        assert raw["id"] not in ids(pull_ok(client, headers, since), "inspections", "deleted")
