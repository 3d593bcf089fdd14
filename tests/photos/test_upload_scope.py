"""Issue #19 item 4: an upload's bytes attach only to a photos record its uploader may write."""
from __future__ import annotations

from inspect_api.models import Photo

from . import imagegen
from .test_sync_meeting import photo_in, pull, push_photo


def test_an_upload_from_another_jurisdiction_is_not_planted_on_a_record_that_arrives_later(
        client, auth, owners, tus_for, db):
    # inspector3 (深州市) guesses / learns the id the 桃城区 tablet will use and uploads first
    data = imagegen.jpeg_bytes(320, 240, seed=71)
    assert tus_for("inspector3").upload(data, "PlantedPhoto0001")[1].status_code == 204
    headers = auth.headers("inspector1")
    first = pull(client, headers, "null")
    push_photo(client, headers, "PlantedPhoto0001", owners.hazard.id, first["timestamp"])
    row = photo_in(pull(client, headers, first["timestamp"]), "PlantedPhoto0001")
    assert row is not None and row["status"] == "pending" and row["sha256"] is None
    db.expire_all()
    assert db.get(Photo, "PlantedPhoto0001").storage_key is None
    # the rightful uploader's file still attaches
    own = imagegen.jpeg_bytes(320, 240, seed=72)
    assert tus_for("inspector1").upload(own, "PlantedPhoto0001")[1].status_code == 204
    row = photo_in(pull(client, headers, first["timestamp"]), "PlantedPhoto0001")
    assert row["status"] == "ready"


def test_an_upload_finishing_after_another_users_record_arrived_is_not_attached(
        client, auth, owners, tus_for, db):
    data = imagegen.jpeg_bytes(320, 240, seed=73)
    tus = tus_for("inspector3")
    resp = tus.create(len(data), {"photo_id": "PlantedPhoto0002"})
    assert resp.status_code == 201
    location = resp.headers["Location"]
    half = len(data) // 2
    assert tus.patch(location, 0, data[:half]).status_code == 204
    headers = auth.headers("inspector1")
    first = pull(client, headers, "null")
    push_photo(client, headers, "PlantedPhoto0002", owners.hazard.id, first["timestamp"])
    last = tus.patch(location, half, data[half:])
    assert last.status_code == 204  # the upload itself is fine; its bytes just do not become this record's
    db.expire_all()
    photo = db.get(Photo, "PlantedPhoto0002")
    assert photo.status == "pending" and photo.storage_key is None


def test_opening_an_upload_for_a_visible_record_one_may_not_write_is_forbidden(client, auth, owners, tus_for, db):
    # enterprise1 sees the inspection's photos of its own enterprise but may not attach to inspections
    from .conftest import make_photo

    make_photo(db, owners.inspection, "inspections", photo_id="InspPhoto0000001")
    db.commit()
    resp = tus_for("enterprise1").create(1000, {"photo_id": "InspPhoto0000001"})
    assert resp.status_code in (403, 404), resp.get_data(as_text=True)
