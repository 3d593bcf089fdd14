"""Backend-specific behaviour the contract suite cannot express."""
from __future__ import annotations

import io
import os

import pytest

from inspect_api import create_app
from inspect_api.errors import StorageError
from inspect_api.storage import build_storage
from inspect_api.storage.local import LocalStorage
from inspect_api.storage.s3 import S3Storage


def test_local_refuses_a_key_that_escapes_the_root_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "photos")
    storage = LocalStorage(str(root))
    with pytest.raises(ValueError):
        storage.save("photos/ab/x", io.BytesIO(b"x"))
    assert list(outside.iterdir()) == []


def test_local_writes_leave_no_temporary_files(tmp_path):
    storage = LocalStorage(str(tmp_path))
    storage.save("photos/ab/cd/key", io.BytesIO(b"x" * 5000))
    with pytest.raises(OSError):
        storage.save("photos/ab/cd/key2", _Exploding())
    assert sorted(os.listdir(tmp_path / "photos" / "ab" / "cd")) == ["key"]


class _Exploding:
    def __init__(self):
        self.calls = 0

    def read(self, n=-1):
        self.calls += 1
        if self.calls > 1:
            raise OSError("gone")
        return b"z" * 100


def test_s3_client_is_built_lazily_from_config():
    storage = build_storage({"STORAGE_BACKEND": "s3", "S3_BUCKET": "bucket-x",
                             "S3_ENDPOINT_URL": "http://127.0.0.1:9", "S3_REGION": "cn-north-1",
                             "S3_ACCESS_KEY_ID": "AK", "S3_SECRET_ACCESS_KEY": "SK",
                             "S3_ADDRESSING_STYLE": "path"})
    assert isinstance(storage, S3Storage)
    assert storage._client is None  # nothing reached at construction
    client = storage.client
    assert client.meta.region_name == "cn-north-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.config.signature_version == "s3v4"
    assert client.meta.config.s3["addressing_style"] == "path"


def test_create_app_keeps_the_configured_storage(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:///" + str(tmp_path / "x.db"),
                      "UPLOAD_ROOT": str(tmp_path / "up")})
    from inspect_api.storage import get_storage

    storage = get_storage(app)
    assert isinstance(storage, LocalStorage) and storage.root == os.path.realpath(tmp_path / "up")


def test_s3_wrong_credentials_are_a_storage_error(moto_s3):
    # moto accepts any key; a real server refuses: see test_contract with s3-real.
    # Here: a missing bucket is an error of the store, not a missing object.
    other = S3Storage("no-such-bucket", region="us-east-1", access_key_id="testing",
                      secret_access_key="testing")
    with pytest.raises(StorageError) as info:
        other.save("a/b", io.BytesIO(b"x"))
    assert info.value.__cause__ is not None


def test_real_s3_refuses_wrong_credentials():
    from .conftest import real_s3_settings

    settings = real_s3_settings()
    if settings is None:
        pytest.skip("no real S3 server configured")
    bad = S3Storage(settings["INSPECT_TEST_S3_BUCKET"], endpoint_url=settings["INSPECT_TEST_S3_ENDPOINT"],
                    region="us-east-1", access_key_id="wrong", secret_access_key="wrong")
    with pytest.raises(StorageError) as info:
        bad.save("a/b", io.BytesIO(b"x"))
    cause = str(info.value.__cause__)
    assert "InvalidAccessKeyId" in cause or "SignatureDoesNotMatch" in cause
