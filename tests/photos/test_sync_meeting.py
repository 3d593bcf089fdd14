"""The photos record by sync (CONTRACT §2) and its upload (§3) meet in either order."""
from __future__ import annotations

import hashlib

from . import imagegen


def push_photo(client, headers, photo_id, hazard_id, last_pulled_at, sha256=None):
    raw = {"id": photo_id, "owner_table": "hazards", "owner_id": hazard_id, "sha256": sha256,
           "taken_at": 1764554709000, "latitude": 37.74, "longitude": 115.67, "status": "ready",
           "_status": "created", "_changed": ""}
    resp = client.post(f"/api/v1/sync?last_pulled_at={last_pulled_at}", headers=headers,
                       json={"photos": {"created": [raw], "updated": [], "deleted": []}})
    assert resp.status_code == 200, resp.get_json()
    assert not resp.get_json().get("rejected"), resp.get_json()


def pull(client, headers, last_pulled_at):
    resp = client.get(f"/api/v1/sync?last_pulled_at={last_pulled_at}&schema_version=1", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def photo_in(changes, photo_id):
    rows = changes["changes"].get("photos", {})
    for row in rows.get("created", []) + rows.get("updated", []):
        if row["id"] == photo_id:
            return row
    return None


def test_upload_first_then_pushed_record_is_ready_on_the_next_pull(client, auth, owners, tus_for):
    headers = auth.headers("inspector1")
    data = imagegen.jpeg_bytes(640, 480, seed=51)
    first = pull(client, headers, "null")
    assert tus_for("inspector1").upload(data, "SyncUpFirst00001")[1].status_code == 204
    push_photo(client, headers, "SyncUpFirst00001", owners.hazard.id, first["timestamp"],
               sha256=hashlib.sha256(data).hexdigest())
    row = photo_in(pull(client, headers, first["timestamp"]), "SyncUpFirst00001")
    assert row is not None and row["status"] == "ready" and row["sha256"] == hashlib.sha256(data).hexdigest()


def test_pushed_record_first_then_upload_reaches_the_tablet_as_ready(client, auth, owners, tus_for):
    headers = auth.headers("inspector1")
    first = pull(client, headers, "null")
    push_photo(client, headers, "SyncRecFirst0001", owners.hazard.id, first["timestamp"])
    after_push = pull(client, headers, first["timestamp"])
    row = photo_in(after_push, "SyncRecFirst0001")
    assert row is not None and row["status"] == "pending"  # the tablet's "ready" is server-owned, ignored
    data = imagegen.jpeg_bytes(640, 480, seed=52)
    assert tus_for("inspector1").upload(data, "SyncRecFirst0001")[1].status_code == 204
    row = photo_in(pull(client, headers, after_push["timestamp"]), "SyncRecFirst0001")
    assert row is not None and row["status"] == "ready" and row["sha256"] == hashlib.sha256(data).hexdigest()
