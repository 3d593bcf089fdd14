"""Schema versions after 1 (CONTRACT §4), through the HTTP API, with a made-up version 2 registered for
the test: a table (rectifications, read-only) and a writable column (inspections.summary, stored in the
inspection's note). A version-1 tablet must see no change, byte for byte."""
from __future__ import annotations

import json

import pytest

from inspect_api.models import Inspection, Rectification
from inspect_api.services import sync as sync_service
from inspect_api.services.sync import Col, TableSpec, register_columns, register_table, tables_for

from .helpers import changes, ids, inspection_raw, pull, pull_ok, push


@pytest.fixture()
def version2():
    saved_tables, saved_order = dict(sync_service.TABLES), list(sync_service.PUSH_ORDER)
    register_table(TableSpec("rectifications", Rectification, (
        Col("hazard_id", "id"), Col("description", "text")), since=2))
    register_columns("inspections", Col("summary", "text", attr="note", since=2))
    yield
    sync_service.TABLES.clear()
    sync_service.TABLES.update(saved_tables)
    sync_service.PUSH_ORDER[:] = saved_order
    tables_for.cache_clear()


@pytest.fixture()
def tab(auth):
    return auth.headers("inspector1", device_id="tablet-v")


@pytest.fixture()
def rectification(db, world):
    from inspect_api.models import Hazard

    hz = Hazard(enterprise_id=world.ent1.id, region_code="131102", description="防火堤破损")
    db.add(hz)
    db.flush()
    rect = Rectification(hazard_id=hz.id, enterprise_id=world.ent1.id, region_code="131102", description="已修复")
    db.add(rect)
    db.commit()
    return rect


def test_a_version_1_pull_is_byte_for_byte_the_same_when_version_2_exists(request, client, world, tab,
                                                                         rectification):
    first = pull(client, tab).get_data()
    ts = json.loads(first)["timestamp"]
    request.getfixturevalue("version2")
    again = pull(client, tab).get_data()
    assert json.loads(again)["timestamp"] == ts
    assert again == first
    assert b"rectifications" not in again and b"summary" not in again


def test_a_version_2_first_pull_carries_the_new_table_and_column(client, world, tab, version2, rectification):
    body = pull_ok(client, tab, schema_version=2)
    assert ids(body, "rectifications", "created") == {rectification.id}
    assert body["changes"]["rectifications"]["created"][0]["description"] == "已修复"
    assert list(body["changes"])[-1] == "rectifications"


def test_a_tablet_newer_than_the_server_gets_the_newest_tables(client, world, tab, version2, rectification):
    newest = sync_service.latest_version()
    assert newest >= 2 and pull_ok(client, tab, schema_version=99) == pull_ok(client, tab, schema_version=newest)


def test_migrating_from_1_to_2_sends_the_new_table_and_the_rows_with_new_columns_in_full(
        client, db, world, tab, version2, rectification):
    ins = Inspection(enterprise_id=world.ent1.id, region_code="131102", note="旧检查")
    db.add(ins)
    db.commit()
    ts = pull_ok(client, tab)["timestamp"]
    migration = json.dumps({"from": 1, "tables": ["rectifications"],
                            "columns": [{"table": "inspections", "columns": ["summary"]}]})
    body = pull_ok(client, tab, ts, schema_version=2, migration=migration)
    assert ids(body, "rectifications", "updated") | ids(body, "rectifications", "created") == {rectification.id}
    rows = body["changes"]["inspections"]["created"] + body["changes"]["inspections"]["updated"]
    assert [r["summary"] for r in rows if r["id"] == ins.id] == ["旧检查"]
    # without the migration, nothing changed since ts
    plain = pull_ok(client, tab, ts, schema_version=2)
    assert all(not t["created"] and not t["updated"] for t in plain["changes"].values())


def test_a_migration_from_a_version_not_lower_is_refused(client, world, tab, version2):
    resp = pull(client, tab, 5, schema_version=2, migration=json.dumps({"from": 2, "tables": [], "columns": []}))
    assert resp.status_code == 422 and resp.get_json()["code"] == "validation_error"


def test_a_column_of_a_newer_version_is_ignored_when_a_version_1_tablet_pushes_it(client, db, world, tab,
                                                                                  version2):
    ts = pull_ok(client, tab)["timestamp"]
    v1 = inspection_raw(world.ent1.id, note="v1 的备注", summary="不应写入")
    assert push(client, tab, changes(inspections={"created": [v1]}), ts).status_code == 200
    assert db.get(Inspection, v1["id"]).note == "v1 的备注"
    v2 = inspection_raw(world.ent1.id, note=None, summary="v2 的小结")
    del v2["note"]
    assert push(client, tab, changes(inspections={"created": [v2]}), ts, schema_version=2).status_code == 200
    assert db.get(Inspection, v2["id"]).note == "v2 的小结"


def test_a_table_of_a_newer_version_is_unknown_to_a_version_1_push_and_read_only_to_version_2(
        client, world, tab, version2, rectification):
    ts = pull_ok(client, tab)["timestamp"]
    body = changes()
    body["rectifications"] = {"created": [{"id": "R" * 16, "hazard_id": "x", "description": "y"}],
                              "updated": [], "deleted": []}
    resp = push(client, tab, body, ts)
    assert resp.status_code == 422 and resp.get_json()["code"] == "unknown_table"
    resp = push(client, tab, body, ts, schema_version=2)
    assert resp.status_code == 403 and resp.get_json()["code"] == "forbidden"


def test_registering_a_version_1_table_or_an_existing_column_is_refused(version2):
    with pytest.raises(ValueError):
        register_table(TableSpec("other", Rectification, ()))
    with pytest.raises(ValueError):
        register_columns("inspections", Col("note", "text", since=2))
