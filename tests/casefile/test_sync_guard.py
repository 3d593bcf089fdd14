"""A tablet's push cannot change an archived file: each such record is rejected, the rest is stored."""
from __future__ import annotations

from inspect_api.models import Finding, Inspection
from inspect_api.services.casefile import archive as archive_service

from tests.sync.helpers import changes, finding_raw, hazard_raw, inspection_raw, pull_ok, push

from .conftest import legal_actor


def test_push_touching_an_archived_inspection_is_rejected_per_record(client, auth, db, closed_case, legal,
                                                                      settings, world):
    archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    db.commit()
    tab = auth.headers("inspector1", device_id="tablet-cf")
    last = pull_ok(client, tab)["timestamp"]
    archived = db.get(Inspection, closed_case.inspection_id)
    edit = inspection_raw(world.ent1.id, id=archived.id, note="改写的检查记录", status="submitted",
                          _status="updated")
    added = finding_raw(archived.id)
    fresh = inspection_raw(world.ent1.id)
    resp = push(client, tab, changes(inspections={"updated": [edit], "created": [fresh]},
                                     findings={"created": [added]},
                                     hazards={"created": [hazard_raw(fresh["id"], world.ent1.id)]}), last)
    assert resp.status_code == 200, resp.get_json()
    rejected = resp.get_json()["rejected"]
    assert set(rejected) == {"inspections", "findings"}
    assert list(rejected["inspections"]) == [archived.id] and list(rejected["findings"]) == [added["id"]]
    assert rejected["inspections"][archived.id].startswith("archived")
    db.expire_all()
    assert db.get(Inspection, archived.id).note != "改写的检查记录"
    assert db.get(Finding, added["id"]) is None
    assert db.get(Inspection, fresh["id"]) is not None, "the rest of the push is stored"
