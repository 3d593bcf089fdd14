"""tus 1.0.0 as CONTRACT §3 fixes it, driven by hand over the Flask test client."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from inspect_api.models import Photo, Upload, utcnow

from . import imagegen
from .conftest import TUS, make_photo, metadata, sha1_header


def test_options_advertises_version_extensions_size_and_checksums(client):
    resp = client.options("/api/v1/uploads")
    assert resp.status_code == 204
    assert resp.headers["Tus-Version"] == "1.0.0"
    extensions = set(resp.headers["Tus-Extension"].split(","))
    assert {"creation", "creation-with-upload", "checksum", "termination", "expiration",
            "concatenation"} <= extensions
    assert int(resp.headers["Tus-Max-Size"]) == 50 * 1024 * 1024
    assert set(resp.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}


def test_other_tus_version_is_412_in_the_error_shape(client, auth, owners):
    headers = {**auth.headers("inspector1"), "Tus-Resumable": "0.2.2", "Upload-Length": "10",
               "Upload-Metadata": metadata(photo_id="p1")}
    resp = client.post("/api/v1/uploads", headers=headers)
    assert resp.status_code == 412
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.get_json()["code"] == "unsupported_tus_version"
    del headers["Tus-Resumable"]
    assert client.post("/api/v1/uploads", headers=headers).status_code == 412


def test_upload_without_token_is_401(client):
    resp = client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "10"})
    assert resp.status_code == 401
    assert resp.get_json()["code"] == "unauthorized"


def test_chunked_upload_makes_the_existing_photo_ready_with_exif(db, tus_for, owners, world, sample_jpeg,
                                                                 client,
                                                                 auth):
    make_photo(db, owners.hazard, "hazards", "HazPhoto00000001")
    db.commit()
    tus = tus_for("inspector1")
    location, last = tus.upload(sample_jpeg, "HazPhoto00000001", chunk=100_000, filename="a.jpg",
                                filetype="image/jpeg")
    assert last.status_code == 204
    assert last.headers["Upload-Offset"] == str(len(sample_jpeg))
    assert last.headers["Tus-Resumable"] == "1.0.0"
    body = client.get("/api/v1/photos/HazPhoto00000001", headers=auth.headers("inspector1")).get_json()
    assert body["status"] == "ready"
    assert body["sha256"] == hashlib.sha256(sample_jpeg).hexdigest()
    assert body["content_type"] == "image/jpeg"
    # orientation 6: 1600×1200 stored sideways, displayed 1200×1600
    assert (body["width"], body["height"]) == (1200, 1600)
    assert abs(body["exif_latitude"] - (37 + 44 / 60 + 21.6 / 3600)) < 1e-6
    assert abs(body["exif_longitude"] - (115 + 40 / 60 + 12 / 3600)) < 1e-6
    # EXIF 2026:11:30 14:05:09 with OffsetTimeOriginal +08:00 = 06:05:09 UTC
    taken = datetime(2026, 11, 30, 6, 5, 9, tzinfo=timezone.utc)
    assert body["exif_taken_at"] == int(taken.timestamp() * 1000)
    assert set(body["variants"]) == {"original", "preview", "thumb"}


def test_head_reports_offset_length_expiry_and_no_store(tus_for, owners, sample_jpeg):
    tus = tus_for("inspector1")
    resp = tus.create(len(sample_jpeg), {"photo_id": "HeadPhoto0000001"})
    location = resp.headers["Location"]
    assert location.startswith("http://localhost/api/v1/uploads/")
    assert "Upload-Expires" in resp.headers
    tus.patch(location, 0, sample_jpeg[:1000])
    head = tus.head(location)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "1000"
    assert head.headers["Upload-Length"] == str(len(sample_jpeg))
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Upload-Expires"].endswith("GMT")


def test_patch_at_a_wrong_offset_is_409_and_names_the_offset(tus_for, owners, sample_jpeg):
    tus = tus_for("inspector1")
    location = tus.create(len(sample_jpeg), {"photo_id": "OffPhoto00000001"}).headers["Location"]
    assert tus.patch(location, 0, sample_jpeg[:500]).status_code == 204
    resp = tus.patch(location, 0, sample_jpeg[:500])
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "offset_mismatch"
    assert resp.headers["Upload-Offset"] == "500"
    assert tus.head(location).headers["Upload-Offset"] == "500"


def test_patch_with_the_wrong_content_type_is_415(tus_for, owners):
    tus = tus_for("inspector1")
    location = tus.create(100, {"photo_id": "TypePhoto0000001"}).headers["Location"]
    resp = tus.patch(location, 0, b"x" * 10, extra={"Content-Type": "image/jpeg"})
    assert resp.status_code == 415
    assert resp.get_json()["code"] == "unsupported_media_type"


def test_upload_over_the_size_limit_is_413(tus_for, owners, app):
    tus = tus_for("inspector1")
    resp = tus.create(app.config["UPLOAD_MAX_SIZE"] + 1, {"photo_id": "BigPhoto00000001"})
    assert resp.status_code == 413
    assert resp.get_json()["code"] == "upload_too_large"
    location = tus.create(100, {"photo_id": "BigPhoto00000001"}).headers["Location"]
    resp = tus.patch(location, 0, b"x" * 101)
    assert resp.status_code == 413
    assert tus.head(location).headers["Upload-Offset"] == "0"


def test_sha1_and_sha256_chunk_checksums_are_checked_and_a_bad_chunk_is_discarded(tus_for, owners,
                                                                                   sample_jpeg):
    tus = tus_for("inspector1")
    location = tus.create(len(sample_jpeg), {"photo_id": "SumPhoto00000001"}).headers["Location"]
    chunk = sample_jpeg[:4000]
    bad = tus.patch(location, 0, chunk, extra={"Upload-Checksum": sha1_header(b"other bytes")})
    assert bad.status_code == 460
    assert bad.get_json()["code"] == "checksum_mismatch"
    assert tus.head(location).headers["Upload-Offset"] == "0"
    good = tus.patch(location, 0, chunk, extra={"Upload-Checksum": sha1_header(chunk)})
    assert good.status_code == 204 and good.headers["Upload-Offset"] == "4000"
    rest = sample_jpeg[4000:]
    sha256 = "sha256 " + base64.b64encode(hashlib.sha256(rest).digest()).decode()
    done = tus.patch(location, 4000, rest, extra={"Upload-Checksum": sha256})
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(sample_jpeg))


def test_unsupported_checksum_algorithm_is_400(tus_for, owners):
    tus = tus_for("inspector1")
    location = tus.create(100, {"photo_id": "Md5Photo00000001"}).headers["Location"]
    md5 = "md5 " + base64.b64encode(b"0" * 16).decode()
    resp = tus.patch(location, 0, b"x" * 10, extra={"Upload-Checksum": md5})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "unsupported_checksum_algorithm"


def test_whole_file_sha256_mismatch_is_422_and_nothing_is_kept(db, tus_for, owners, storage, sample_jpeg):
    make_photo(db, owners.hazard, "hazards", "BadSumPhoto00001")
    db.commit()
    tus = tus_for("inspector1")
    location, last = tus.upload(sample_jpeg, "BadSumPhoto00001", sha256="0" * 64)
    assert last.status_code == 422
    assert last.get_json()["code"] == "checksum_mismatch"
    upload_id = location.rsplit("/", 1)[1]
    assert storage.list(f"uploads-tmp/{upload_id}/") == []
    assert tus.head(location).status_code == 404
    photo = db.get(Photo, "BadSumPhoto00001")
    db.refresh(photo)
    assert photo.status == "rejected" and photo.rejected_reason == "checksum_mismatch"


def test_matching_whole_file_sha256_is_accepted(tus_for, owners, sample_jpeg):
    tus = tus_for("inspector1")
    _, last = tus.upload(sample_jpeg, "GoodSumPhoto0001", sha256=hashlib.sha256(sample_jpeg).hexdigest())
    assert last.status_code == 204


def test_upload_is_visible_only_to_its_creator(tus_for, owners):
    mine = tus_for("inspector1")
    location = mine.create(100, {"photo_id": "MinePhoto0000001"}).headers["Location"]
    for username in ("inspector2", "admin"):
        other = tus_for(username)
        assert other.head(location).status_code == 404
        assert other.patch(location, 0, b"x" * 10).status_code == 404
        assert other.delete(location).status_code == 404
    assert mine.head(location).status_code == 200


def test_delete_terminates_the_upload_and_drops_its_parts(tus_for, owners, storage):
    tus = tus_for("inspector1")
    location = tus.create(1000, {"photo_id": "DelPhoto00000001"}).headers["Location"]
    tus.patch(location, 0, b"x" * 100)
    upload_id = location.rsplit("/", 1)[1]
    assert len(storage.list(f"uploads-tmp/{upload_id}/")) == 1
    assert tus.delete(location).status_code == 204
    assert storage.list(f"uploads-tmp/{upload_id}/") == []
    assert tus.head(location).status_code == 404


def test_missing_photo_id_is_refused(tus_for, owners):
    resp = tus_for("inspector1").create(100, {"filename": "a.jpg"})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "missing_photo_id"


def test_photo_of_another_scope_cannot_be_uploaded_to(db, tus_for, owners):
    make_photo(db, owners.hazard_shenzhou, "hazards", "ShenzhouPhoto001")
    db.commit()
    resp = tus_for("inspector1").create(100, {"photo_id": "ShenzhouPhoto001"})
    assert resp.status_code == 404


def test_expired_upload_answers_410(db, tus_for, owners):
    tus = tus_for("inspector1")
    location = tus.create(1000, {"photo_id": "ExpPhoto00000001"}).headers["Location"]
    upload = db.get(Upload, location.rsplit("/", 1)[1])
    upload.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert tus.head(location).status_code == 410
    resp = tus.patch(location, 0, b"x")
    assert resp.status_code == 410
    assert resp.get_json()["code"] == "upload_expired"


def test_creation_with_upload_takes_the_whole_file_in_the_post(db, tus_for, owners, sample_jpeg, client,
                                                               auth):
    make_photo(db, owners.hazard, "hazards", "OneShotPhoto0001")
    db.commit()
    resp = tus_for("inspector1").create(len(sample_jpeg), {"photo_id": "OneShotPhoto0001"}, data=sample_jpeg)
    assert resp.status_code == 201
    assert resp.headers["Upload-Offset"] == str(len(sample_jpeg))
    body = client.get("/api/v1/photos/OneShotPhoto0001", headers=auth.headers("inspector1")).get_json()
    assert body["status"] == "ready"


def test_concatenation_of_partial_uploads_makes_one_photo(db, tus_for, owners, sample_jpeg, client, auth):
    make_photo(db, owners.hazard, "hazards", "ConcatPhoto00001")
    db.commit()
    tus = tus_for("inspector1")
    half = len(sample_jpeg) // 2
    locations = []
    for piece in (sample_jpeg[:half], sample_jpeg[half:]):
        resp = tus.create(len(piece), extra={"Upload-Concat": "partial"})
        assert resp.status_code == 201
        assert resp.headers["Upload-Concat"] == "partial"
        loc = resp.headers["Location"]
        assert tus.patch(loc, 0, piece).status_code == 204
        locations.append(loc)
    resp = tus.create(None, {"photo_id": "ConcatPhoto00001"},
                      extra={"Upload-Concat": "final;" + " ".join(locations)})
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers["Upload-Offset"] == str(len(sample_jpeg))
    body = client.get("/api/v1/photos/ConcatPhoto00001", headers=auth.headers("inspector1")).get_json()
    assert body["status"] == "ready"
    assert body["sha256"] == hashlib.sha256(sample_jpeg).hexdigest()
    # the partial uploads are gone once concatenated
    assert tus.head(locations[0]).status_code == 404


def test_final_upload_of_an_unfinished_partial_is_refused(tus_for, owners):
    tus = tus_for("inspector1")
    loc = tus.create(1000, extra={"Upload-Concat": "partial"}).headers["Location"]
    resp = tus.create(None, {"photo_id": "ConcatPhoto00002"}, extra={"Upload-Concat": f"final;{loc}"})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "partial_incomplete"


def test_someone_elses_partial_cannot_be_concatenated(tus_for, owners):
    loc = tus_for("inspector2").create(10, extra={"Upload-Concat": "partial"}).headers["Location"]
    resp = tus_for("inspector1").create(None, {"photo_id": "ConcatPhoto00003"},
                                        extra={"Upload-Concat": f"final;{loc}"})
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "invalid_concat"


def test_a_ready_photo_never_takes_a_different_file(db, tus_for, owners, sample_jpeg):
    make_photo(db, owners.hazard, "hazards", "KeepPhoto0000001")
    db.commit()
    tus = tus_for("inspector1")
    assert tus.upload(sample_jpeg, "KeepPhoto0000001")[1].status_code == 204
    again = tus.upload(sample_jpeg, "KeepPhoto0000001")[1]
    assert again.status_code == 204  # the very same bytes: idempotent
    other = imagegen.jpeg_bytes(640, 480, seed=77)
    resp = tus.upload(other, "KeepPhoto0000001")[1]
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "photo_already_stored"
    photo = db.get(Photo, "KeepPhoto0000001")
    db.refresh(photo)
    assert photo.status == "ready" and photo.sha256 == hashlib.sha256(sample_jpeg).hexdigest()


def test_empty_photo_upload_is_refused_at_creation(tus_for, owners):
    resp = tus_for("inspector1").create(0, {"photo_id": "EmptyPhoto000001"})
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "invalid_image"
