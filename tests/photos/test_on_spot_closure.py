"""A hazard a tablet marks rectified on the spot (当场整改) closes by itself once its photo is ready,
whichever arrives last: the synced records or the upload."""
from __future__ import annotations

from ..sync.helpers import changes, hazard_raw, inspection_raw, pull_ok, push
from . import imagegen


def _photo_raw(photo_id, hazard_id):
    return {"id": photo_id, "owner_table": "hazards", "owner_id": hazard_id, "sha256": None,
            "taken_at": 1764554709000, "latitude": 37.74, "longitude": 115.67, "status": "pending",
            "_status": "created", "_changed": ""}


def _hazard_status(client, headers, hazard_id):
    resp = client.get(f"/api/v1/hazards/{hazard_id}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _records(world):
    insp = inspection_raw(world.ent1.id, lead_inspector_id=world["inspector1"].id,
                          co_inspector_id=world["inspector2"].id, status="submitted")
    haz = hazard_raw(insp["id"], world.ent1.id, description="灭火器压力不足，当场更换", rectified_on_spot=True)
    return insp, haz


def test_on_spot_hazard_closes_when_its_photo_upload_finishes_after_the_push(client, auth, world, tus_for):
    tab = auth.headers("inspector1", device_id="tablet-onspot-a")
    last = pull_ok(client, tab)["timestamp"]
    insp, haz = _records(world)
    resp = push(client, tab, changes(inspections={"created": [insp]}, hazards={"created": [haz]},
                                     photos={"created": [_photo_raw("OnSpotPhotoA0001", haz["id"])]}), last)
    assert resp.status_code == 200 and not resp.get_json().get("rejected"), resp.get_json()
    assert _hazard_status(client, tab, haz["id"])["status"] == "found", "no photo file yet: still open"

    done = tus_for("inspector1").upload(imagegen.jpeg_bytes(800, 600, seed=71), "OnSpotPhotoA0001")[1]
    assert done.status_code == 204
    body = _hazard_status(client, tab, haz["id"])
    assert body["status"] == "closed" and body["closed_by_id"] == world["inspector1"].id
    pulled = pull_ok(client, tab, last)["changes"]["hazards"]
    assert {r["id"]: r["status"] for r in pulled["created"] + pulled["updated"]}[haz["id"]] == "closed"


def test_on_spot_hazard_closes_at_the_push_when_its_photo_was_uploaded_first(client, auth, world, tus_for):
    tab = auth.headers("inspector2", device_id="tablet-onspot-b")
    last = pull_ok(client, tab)["timestamp"]
    insp, haz = _records(world)
    done = tus_for("inspector2").upload(imagegen.jpeg_bytes(800, 600, seed=72), "OnSpotPhotoB0001")[1]
    assert done.status_code == 204
    resp = push(client, tab, changes(inspections={"created": [insp]}, hazards={"created": [haz]},
                                     photos={"created": [_photo_raw("OnSpotPhotoB0001", haz["id"])]}), last)
    assert resp.status_code == 200 and not resp.get_json().get("rejected"), resp.get_json()
    body = _hazard_status(client, tab, haz["id"])
    assert body["status"] == "closed" and body["closed_by_id"] == world["inspector2"].id


def test_on_spot_hazard_without_a_photo_stays_open(client, auth, world):
    tab = auth.headers("inspector1", device_id="tablet-onspot-c")
    last = pull_ok(client, tab)["timestamp"]
    insp, haz = _records(world)
    assert push(client, tab, changes(inspections={"created": [insp]}, hazards={"created": [haz]}), last
                ).status_code == 200
    assert _hazard_status(client, tab, haz["id"])["status"] == "found"
