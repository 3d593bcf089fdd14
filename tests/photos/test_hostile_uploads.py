"""The hostile corpus through the full tus path: 422 with a code, nothing left behind."""
from __future__ import annotations

import hashlib

import pytest

from inspect_api.models import Photo, Upload
from inspect_api.services.evidence.photos import derived_key, original_key

from . import imagegen
from .conftest import make_photo

CORPUS = {
    "png_bomb": (lambda: imagegen.png_bomb(40000, 40000), "image_too_large"),
    "jpeg_header_bomb": (lambda: imagegen.jpeg_header_bomb(), "image_too_large"),
    "truncated_jpeg": (lambda: imagegen.jpeg_bytes(640, 480, seed=3)[:-300], "truncated_image"),
    "pdf_renamed": (imagegen.pdf_bytes, "unsupported_type"),
    "exe_renamed": (imagegen.exe_bytes, "unsupported_type"),
    "jpeg_plus_zip": (lambda: imagegen.jpeg_bytes(320, 240, seed=4) + imagegen.zip_bytes(), "polyglot_file"),
    "jpeg_plus_html": (lambda: imagegen.jpeg_bytes(320, 240, seed=5) + b"<html><script>alert(1)</script>",
                       "polyglot_file"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_file_is_refused_with_422_and_leaves_nothing_behind(db, tus_for, owners, storage, name):
    make, code = CORPUS[name]
    data = make()
    photo_id = f"Hostile{name[:9]}".ljust(16, "0")
    make_photo(db, owners.hazard, "hazards", photo_id)
    db.commit()
    location, last = tus_for("inspector1").upload(data, photo_id, chunk=256 * 1024)
    assert last.status_code == 422
    body = last.get_json()
    assert body["code"] == code and set(body) == {"status", "code", "message", "details"}
    upload_id = location.rsplit("/", 1)[1]
    sha = hashlib.sha256(data).hexdigest()
    assert storage.list(f"uploads-tmp/{upload_id}/") == []
    assert not storage.exists(original_key(sha))
    assert not storage.exists(derived_key(sha, "preview"))
    db.expire_all()
    assert db.get(Upload, upload_id) is None
    photo = db.get(Photo, photo_id)
    assert photo.status == "rejected" and photo.rejected_reason == code
