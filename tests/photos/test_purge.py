"""`flask uploads purge-expired`: expired unfinished uploads and their parts go; the rest stays."""
from __future__ import annotations

from datetime import timedelta

from inspect_api.models import Upload, utcnow

from . import imagegen
from .conftest import make_photo


def _expire(db, location):
    upload = db.get(Upload, location.rsplit("/", 1)[1])
    upload.expires_at = utcnow() - timedelta(minutes=1)
    return upload.id


def test_purge_removes_expired_unfinished_uploads_and_their_parts(app, db, tus_for, owners, storage):
    tus = tus_for("inspector1")
    old = tus.create(5000, {"photo_id": "PurgeOld00000001"}).headers["Location"]
    tus.patch(old, 0, b"x" * 1000)
    tus.patch(old, 1000, b"y" * 1000)
    fresh = tus.create(5000, {"photo_id": "PurgeNew00000001"}).headers["Location"]
    tus.patch(fresh, 0, b"z" * 100)
    old_id = _expire(db, old)
    db.commit()
    assert len(storage.list(f"uploads-tmp/{old_id}/")) == 2

    result = app.test_cli_runner().invoke(args=["uploads", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "purged 1 unfinished" in result.output
    db.expire_all()
    assert db.get(Upload, old_id) is None
    assert storage.list(f"uploads-tmp/{old_id}/") == []
    assert tus.head(old).status_code == 404
    assert tus.head(fresh).headers["Upload-Offset"] == "100"

    again = app.test_cli_runner().invoke(args=["uploads", "purge-expired"])
    assert again.exit_code == 0 and "purged 0 unfinished" in again.output


def test_purge_keeps_a_finished_upload_whose_record_has_not_arrived(app, db, tus_for, owners):
    tus = tus_for("inspector1")
    waiting, last = tus.upload(imagegen.jpeg_bytes(200, 150, seed=31), "Waiting000000001")
    assert last.status_code == 204
    make_photo(db, owners.hazard, "hazards", "Attached00000001")
    db.commit()
    attached, last = tus.upload(imagegen.jpeg_bytes(200, 150, seed=32), "Attached00000001")
    assert last.status_code == 204
    waiting_id, attached_id = _expire(db, waiting), _expire(db, attached)
    db.commit()
    result = app.test_cli_runner().invoke(args=["uploads", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "kept 1 finished" in result.output
    db.expire_all()
    assert db.get(Upload, waiting_id) is not None
    assert db.get(Upload, attached_id) is None


def test_a_finished_upload_whose_record_never_arrives_expires_as_an_orphan(app, db, tus_for, owners, storage):
    """INSPECT_UPLOAD_ORPHAN_SECONDS after it finished, an upload no photos record took goes with its file
    (issue #19 item 8); a file a record uses is never deleted."""
    from inspect_api.services.evidence.photos import original_key

    tus = tus_for("inspector1")
    data = imagegen.jpeg_bytes(200, 150, seed=33)
    orphan, last = tus.upload(data, "Orphan0000000001")
    assert last.status_code == 204
    shared_data = imagegen.jpeg_bytes(200, 150, seed=34)
    shared, last = tus.upload(shared_data, "Orphan0000000002")
    assert last.status_code == 204
    import hashlib

    make_photo(db, owners.hazard, "hazards", "SameBytes0000001", sha256=hashlib.sha256(shared_data).hexdigest())
    orphan_id, shared_id = _expire(db, orphan), _expire(db, shared)
    for upload_id in (orphan_id, shared_id):
        db.get(Upload, upload_id).completed_at = utcnow() - timedelta(seconds=app.config["UPLOAD_ORPHAN_SECONDS"] + 60)
    db.commit()
    key = original_key(hashlib.sha256(data).hexdigest())
    assert storage.exists(key)
    result = app.test_cli_runner().invoke(args=["uploads", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "2 of them orphans" in result.output and "kept 0 finished" in result.output
    db.expire_all()
    assert db.get(Upload, orphan_id) is None and db.get(Upload, shared_id) is None
    assert not storage.exists(key)
    assert storage.exists(original_key(hashlib.sha256(shared_data).hexdigest()))
