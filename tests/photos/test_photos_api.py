"""Photo records and access: either order of record and upload, scope, variants, form posts."""
from __future__ import annotations

import hashlib
import io
import random

import pytest
from PIL import Image

from inspect_api.models import AuditEvent, Photo, Upload
from inspect_api.services.evidence import photos as photo_service
from inspect_api.services.access.actor import Actor

from . import imagegen
from .conftest import make_photo


def get_json(client, url, headers):
    resp = client.get(url, headers=headers)
    return resp.status_code, resp.get_json()


def test_record_first_then_upload_makes_the_photo_ready(client, auth, owners, tus_for):
    headers = auth.headers("inspector1")
    resp = client.post("/api/v1/photos", headers=headers,
                       json={"id": "ApiFirst00000001", "owner_table": "hazards", "owner_id": owners.hazard.id,
                             "taken_at": 1764554709000, "latitude": 37.7, "longitude": 115.6})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "pending"
    assert body["variants"] == {"original": None, "preview": None, "thumb": None}
    data = imagegen.jpeg_bytes(900, 700, seed=11)
    assert tus_for("inspector1").upload(data, "ApiFirst00000001")[1].status_code == 204
    status, body = get_json(client, "/api/v1/photos/ApiFirst00000001", headers)
    assert status == 200 and body["status"] == "ready"
    assert body["taken_at"] == 1764554709000 and body["latitude"] == 37.7
    assert body["variants"]["thumb"].endswith("/api/v1/photos/ApiFirst00000001/content?variant=thumb")


def test_upload_first_then_record_ends_in_the_same_state(client, auth, owners, tus_for):
    data = imagegen.jpeg_bytes(900, 700, seed=12)
    assert tus_for("inspector1").upload(data, "UpFirst000000001")[1].status_code == 204
    headers = auth.headers("inspector1")
    assert client.get("/api/v1/photos/UpFirst000000001", headers=headers).status_code == 404
    resp = client.post("/api/v1/photos", headers=headers,
                       json={"id": "UpFirst000000001", "owner_table": "hazards",
                             "owner_id": owners.hazard.id})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "ready" and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["width"], body["height"]) == (900, 700)


def test_attach_synced_photo_fills_server_columns_from_a_finished_upload(db, owners, tus_for):
    data = imagegen.jpeg_bytes(640, 480, seed=13)
    assert tus_for("inspector1").upload(data, "SyncPhoto0000001")[1].status_code == 204
    # what the sync service does when a tablet pushes the photos record
    photo = make_photo(db, owners.inspection, "inspections", "SyncPhoto0000001",
                       sha256=hashlib.sha256(data).hexdigest())
    seq_before = photo.sync_seq
    photo_service.attach_synced_photo(db, photo)
    db.flush()
    assert photo.status == "ready"
    assert (photo.width, photo.height, photo.content_type) == (640, 480, "image/jpeg")
    assert photo.storage_key == photo_service.original_key(photo.sha256)
    assert photo.exif_latitude is not None and photo.exif_taken_at is not None
    assert photo.sync_seq > seq_before  # the change reaches tablets on their next pull


def test_upload_finishing_after_the_record_bumps_its_sync_cursor(db, owners, tus_for):
    photo = make_photo(db, owners.hazard, "hazards", "SeqPhoto00000001")
    db.commit()
    seq_before = photo.sync_seq
    assert tus_for("inspector1").upload(imagegen.jpeg_bytes(300, 200, seed=14), "SeqPhoto00000001")[1] \
        .status_code == 204
    db.expire_all()
    photo = db.get(Photo, "SeqPhoto00000001")
    assert photo.status == "ready" and photo.sync_seq > seq_before
    actions = [e.action for e in db.query(AuditEvent).filter_by(object_id="SeqPhoto00000001")]
    assert "photo.file_attached" in actions


def test_record_whose_sha256_differs_from_the_finished_upload_is_rejected(db, owners, tus_for):
    assert tus_for("inspector1").upload(imagegen.jpeg_bytes(300, 200, seed=15), "ShaPhoto00000001")[1] \
        .status_code == 204
    photo = make_photo(db, owners.hazard, "hazards", "ShaPhoto00000001", sha256="a" * 64)
    photo_service.attach_synced_photo(db, photo)
    assert photo.status == "rejected" and photo.rejected_reason == "checksum_mismatch"


def test_upload_by_someone_outside_the_records_scope_is_not_attached(db, owners, tus_for):
    # inspector3 (深州市) uploads for an id that later turns out to be a 桃城区 hazard photo
    assert tus_for("inspector3").upload(imagegen.jpeg_bytes(300, 200, seed=16), "ForeignPhoto0001")[1] \
        .status_code == 204
    photo = make_photo(db, owners.hazard, "hazards", "ForeignPhoto0001")
    photo_service.attach_synced_photo(db, photo)
    assert photo.status == "pending" and photo.storage_key is None


@pytest.mark.parametrize("username,visible", [
    ("inspector1", True), ("supervisor", True), ("supervisor_taocheng", True), ("admin", True),
    ("enterprise1", True), ("enterprise2", False), ("inspector3", False)])
def test_hazard_photo_is_visible_only_in_scope(db, client, auth, owners, username, visible):
    make_photo(db, owners.hazard, "hazards", "ScopePhoto000001")
    db.commit()
    status, body = get_json(client, "/api/v1/photos/ScopePhoto000001", auth.headers(username))
    assert status == (200 if visible else 404)
    if not visible:
        assert body["code"] == "not_found"


def test_enterprise_does_not_see_inspection_photos_of_its_own_plant(db, client, auth, owners):
    make_photo(db, owners.inspection, "inspections", "InspPhoto0000001")
    make_photo(db, owners.rectification, "rectifications", "RectPhoto0000001")
    db.commit()
    headers = auth.headers("enterprise1")
    assert client.get("/api/v1/photos/InspPhoto0000001", headers=headers).status_code == 404
    assert client.get("/api/v1/photos/RectPhoto0000001", headers=headers).status_code == 200
    inspector = auth.headers("inspector2")
    assert client.get("/api/v1/photos/InspPhoto0000001", headers=inspector).status_code == 200


def test_enterprise_creates_photos_only_for_its_hazards_and_rectifications(client, auth, owners):
    headers = auth.headers("enterprise1")
    ok = client.post("/api/v1/photos", headers=headers,
                     json={"owner_table": "rectifications", "owner_id": owners.rectification.id})
    assert ok.status_code == 201 and len(ok.get_json()["id"]) == 16
    for table, owner in (("inspections", owners.inspection), ("hazards", owners.hazard_ent2)):
        resp = client.post("/api/v1/photos", headers=headers,
                           json={"owner_table": table, "owner_id": owner.id})
        assert resp.status_code == 422
        assert resp.get_json()["code"] == "invalid_owner"


def test_photo_for_an_owner_outside_scope_or_unknown_is_refused(client, auth, owners):
    headers = auth.headers("inspector1")
    for body in ({"owner_table": "hazards", "owner_id": owners.hazard_shenzhou.id},
                 {"owner_table": "hazards", "owner_id": "doesnotexist0000"}):
        resp = client.post("/api/v1/photos", headers=headers, json=body)
        assert resp.status_code == 422 and resp.get_json()["code"] == "invalid_owner"
    resp = client.post("/api/v1/photos", headers=headers,
                       json={"owner_table": "users", "owner_id": "x", "evil": True})
    assert resp.status_code == 422
    assert {"owner_table", "evil"} <= set(resp.get_json()["details"]["fields"])


def test_duplicate_photo_id_is_409(client, auth, owners):
    headers = auth.headers("inspector1")
    body = {"id": "DupPhoto00000001", "owner_table": "hazards", "owner_id": owners.hazard.id}
    assert client.post("/api/v1/photos", headers=headers, json=body).status_code == 201
    resp = client.post("/api/v1/photos", headers=headers, json=body)
    assert resp.status_code == 409 and resp.get_json()["code"] == "photo_exists"


def test_content_serves_the_original_byte_for_byte_with_etag_and_immutable_cache(db, client, auth, owners,
                                                                                  tus_for):
    data = imagegen.jpeg_bytes(1500, 1000, seed=17)
    make_photo(db, owners.hazard, "hazards", "ContentPhoto0001")
    db.commit()
    tus_for("inspector1").upload(data, "ContentPhoto0001")
    headers = auth.headers("enterprise1")
    url = "/api/v1/photos/ContentPhoto0001/content?variant="
    resp = client.get(url + "original", headers=headers, buffered=True)
    assert resp.status_code == 200
    assert resp.data == data
    assert resp.mimetype == "image/jpeg"
    assert "immutable" in resp.headers["Cache-Control"]
    assert "max-age=31536000" in resp.headers["Cache-Control"]
    etag = resp.headers["ETag"]
    assert hashlib.sha256(data).hexdigest() in etag
    again = client.get("/api/v1/photos/ContentPhoto0001/content?variant=original",
                       headers={**headers, "If-None-Match": etag}, buffered=True)
    assert again.status_code == 304 and again.data == b""
    preview = client.get(url + "preview", headers=headers, buffered=True)
    assert preview.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(preview.data)).size == (1280, 853)
    thumb = client.get(url + "thumb", headers=headers, buffered=True)
    assert Image.open(io.BytesIO(thumb.data)).size == (256, 171)
    assert preview.headers["ETag"] != etag
    assert client.get("/api/v1/photos/ContentPhoto0001/content?variant=thumb",
                      headers=auth.headers("enterprise2"), buffered=True).status_code == 404


def test_content_of_a_pending_photo_or_a_bad_variant(db, client, auth, owners):
    make_photo(db, owners.hazard, "hazards", "PendingPhoto0001")
    db.commit()
    headers = auth.headers("inspector1")
    resp = client.get("/api/v1/photos/PendingPhoto0001/content", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["code"] == "photo_not_ready"
    resp = client.get("/api/v1/photos/PendingPhoto0001/content?variant=huge", headers=headers)
    assert resp.status_code == 422


def test_with_s3_storage_content_redirects_to_a_presigned_url(db, app, client, auth, owners, tus_for, moto_s3,
                                                             monkeypatch):
    monkeypatch.setitem(app.extensions, "inspect_storage", moto_s3)
    data = imagegen.jpeg_bytes(500, 400, seed=18)
    make_photo(db, owners.hazard, "hazards", "S3Photo000000001")
    db.commit()
    assert tus_for("inspector1").upload(data, "S3Photo000000001")[1].status_code == 204
    sha = hashlib.sha256(data).hexdigest()
    assert moto_s3.read_bytes(photo_service.original_key(sha)) == data
    assert moto_s3.list("uploads-tmp/") == []
    resp = client.get("/api/v1/photos/S3Photo000000001/content?variant=preview",
                      headers=auth.headers("inspector1"))
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert f"derived/{sha}/preview.jpg" in location and "X-Amz-Signature=" in location
    assert "X-Amz-Expires=300" in location


def test_form_post_stores_through_the_same_path(client, auth, owners, storage):
    data = imagegen.jpeg_bytes(700, 500, seed=19)
    resp = client.post("/api/v1/photos/files", headers=auth.headers("enterprise1"),
                       data={"owner_table": "rectifications", "owner_id": owners.rectification.id,
                             "file": (io.BytesIO(data), "整改后.jpg", "image/jpeg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "ready" and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert storage.read_bytes(photo_service.original_key(body["sha256"])) == data


def test_form_post_of_a_hostile_file_is_422_and_creates_nothing(db, client, auth, owners, storage):
    data = imagegen.jpeg_bytes(300, 200, seed=20) + imagegen.zip_bytes()
    resp = client.post("/api/v1/photos/files", headers=auth.headers("enterprise1"),
                       data={"owner_table": "hazards", "owner_id": owners.hazard.id,
                             "photo_id": "FormBad000000001",
                             "file": (io.BytesIO(data), "a.jpg", "image/jpeg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.get_json()["code"] == "polyglot_file"
    assert db.get(Photo, "FormBad000000001") is None
    assert not storage.exists(photo_service.original_key(hashlib.sha256(data).hexdigest()))


def test_same_photo_uploaded_twice_is_stored_once(db, owners, tus_for, storage, monkeypatch):
    data = imagegen.jpeg_bytes(400, 300, seed=21)
    saved = []
    real_save = type(storage).save

    def counting_save(self, key, fileobj, content_type=None):
        saved.append(key)
        return real_save(self, key, fileobj, content_type)

    monkeypatch.setattr(type(storage), "save", counting_save)
    for photo_id in ("TwicePhoto000001", "TwicePhoto000002"):
        make_photo(db, owners.hazard, "hazards", photo_id)
        db.commit()
        assert tus_for("inspector1").upload(data, photo_id)[1].status_code == 204
    key = photo_service.original_key(hashlib.sha256(data).hexdigest())
    assert saved.count(key) == 1
    db.expire_all()
    first, second = db.get(Photo, "TwicePhoto000001"), db.get(Photo, "TwicePhoto000002")
    assert first.storage_key == second.storage_key == key


def test_ingest_photo_file_service_creates_a_ready_record(db, world, owners, storage):
    photo = photo_service.ingest_photo_file(
        db, storage, Actor(user=world["inspector1"]), None, "hazards", owners.hazard.id,
        io.BytesIO(imagegen.png_bytes(320, 200)), "x.png", "image/png", photo_service.UploadLimits())
    assert photo.status == "ready" and photo.content_type == "image/png"
    assert photo.enterprise_id == owners.hazard.enterprise_id and photo.region_code == "131102"
    assert db.query(Upload).filter_by(photo_id=photo.id).count() == 0


def test_with_a_real_s3_server_upload_lands_there_and_the_redirect_serves_it(db, app, client, auth, owners,
                                                                             tus_for, monkeypatch):
    import uuid

    import requests

    from ..storage.conftest import real_s3_storage

    s3 = real_s3_storage(f"photos-test-{uuid.uuid4().hex[:10]}/")
    if s3 is None:
        pytest.skip("no real S3 server configured (INSPECT_TEST_S3_ENDPOINT…, see .ci/s3-start)")
    monkeypatch.setitem(app.extensions, "inspect_storage", s3)
    try:
        data = imagegen.jpeg_bytes(800, 600, seed=22)
        make_photo(db, owners.hazard, "hazards", "RealS3Photo00001")
        db.commit()
        assert tus_for("inspector1").upload(data, "RealS3Photo00001", chunk=50_000)[1].status_code == 204
        assert s3.list("uploads-tmp/") == []
        for variant in ("original", "thumb"):
            resp = client.get(f"/api/v1/photos/RealS3Photo00001/content?variant={variant}",
                              headers=auth.headers("inspector1"))
            assert resp.status_code == 302
            fetched = requests.get(resp.headers["Location"], timeout=30)
            assert fetched.status_code == 200
            if variant == "original":
                assert fetched.content == data
            else:
                assert Image.open(io.BytesIO(fetched.content)).size == (256, 192)
    finally:
        for key in s3.list(""):
            s3.delete(key)


def test_photo_of_a_deleted_owner_record_is_no_longer_served(db, client, auth, owners):
    from inspect_api.models import utcnow

    make_photo(db, owners.hazard_ent2, "hazards", "OrphanPhoto00001")
    db.commit()
    headers = auth.headers("inspector1")
    assert client.get("/api/v1/photos/OrphanPhoto00001", headers=headers).status_code == 200
    owners.hazard_ent2.deleted_at = utcnow()
    db.commit()
    assert client.get("/api/v1/photos/OrphanPhoto00001", headers=headers).status_code == 404


class _GunicornLikeInput:
    """A WSGI input that returns at most 64 KiB per read, as a socket does."""

    def __init__(self, data: bytes):
        self._buf = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        n = 65536 if n is None or n < 0 else min(n, 65536)
        return self._buf.read(n)


def _big_png() -> bytes:
    # ~4.5 MB of noise: incompressible, so the PNG is bigger than one 4 MiB PATCH
    rng = random.Random(7)
    img = Image.frombytes("RGB", (1300, 1200), bytes(rng.getrandbits(8) for _ in range(1300 * 1200 * 3)))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.mark.parametrize("backend", ["s3-moto", "s3-real", "local"])
@pytest.mark.parametrize("with_checksum", [False, True], ids=["plain", "checksum"])
def test_a_4mib_single_patch_from_a_short_reading_socket_is_stored_whole(db, app, client, auth, owners, storage,
                                                                        moto_s3, monkeypatch, backend,
                                                                        with_checksum):
    import uuid

    from ..storage.conftest import real_s3_storage
    from .conftest import TUS, metadata, sha1_header

    if backend == "s3-real":
        target = real_s3_storage(f"photos-test-{uuid.uuid4().hex[:10]}/")
        if target is None:
            pytest.skip("no real S3 server configured (INSPECT_TEST_S3_ENDPOINT…, see .ci/s3-start)")
    else:
        target = moto_s3 if backend == "s3-moto" else storage
    monkeypatch.setitem(app.extensions, "inspect_storage", target)
    data = _big_png()
    assert len(data) > 4 * 1024 * 1024
    photo_id = f"Big4MiB{int(with_checksum)}{backend[:3]}xxxxx"[:16]
    make_photo(db, owners.hazard, "hazards", photo_id)
    db.commit()
    headers = {**TUS, **auth.headers("inspector1")}
    resp = client.post("/api/v1/uploads", headers={**headers, "Upload-Length": str(len(data)),
                                                   "Upload-Metadata": metadata(photo_id=photo_id)})
    assert resp.status_code == 201
    location = resp.headers["Location"]
    first = data[:4 * 1024 * 1024]
    extra = {"Upload-Checksum": sha1_header(first)} if with_checksum else {}
    resp = client.patch(location, headers={**headers, "Upload-Offset": "0", **extra,
                                           "Content-Type": "application/offset+octet-stream",
                                           "Content-Length": str(len(first))},
                        environ_overrides={"wsgi.input": _GunicornLikeInput(first),
                                           "CONTENT_LENGTH": str(len(first))})
    assert resp.status_code == 204, resp.get_data(as_text=True)
    assert int(resp.headers["Upload-Offset"]) == len(first)
    rest = data[len(first):]
    resp = client.patch(location, headers={**headers, "Upload-Offset": str(len(first)),
                                           "Content-Type": "application/offset+octet-stream",
                                           "Content-Length": str(len(rest))},
                        environ_overrides={"wsgi.input": _GunicornLikeInput(rest),
                                           "CONTENT_LENGTH": str(len(rest))})
    assert resp.status_code == 204, resp.get_data(as_text=True)
    try:
        sha = hashlib.sha256(data).hexdigest()
        assert target.read_bytes(photo_service.original_key(sha)) == data
        assert client.get(f"/api/v1/photos/{photo_id}", headers=auth.headers("inspector1")).get_json()[
            "status"] == "ready"
    finally:
        if backend == "s3-real":
            for key in target.list(""):
                target.delete(key)
