"""One storage contract suite, run against every backend (Kinto's storage/testing.py habit).

Backends: ``local`` on tmp_path; ``s3-moto`` against moto's in-process mock
(fast, always); ``s3-real`` against a real S3-compatible server on loopback
when INSPECT_TEST_S3_ENDPOINT (+ _KEY, _SECRET, _BUCKET) is set — .ci/s3-start
starts SeaweedFS and sets them. Under CI (CI=true) a missing endpoint is a
failure, not a skip: the S3 backend must be tested against a real server there.
"""
from __future__ import annotations

import os
import uuid

import pytest

from inspect_api.storage.local import LocalStorage
from inspect_api.storage.s3 import S3Storage

S3_ENV = ("INSPECT_TEST_S3_ENDPOINT", "INSPECT_TEST_S3_KEY", "INSPECT_TEST_S3_SECRET",
          "INSPECT_TEST_S3_BUCKET")


def real_s3_settings() -> dict | None:
    values = {name: os.environ.get(name) for name in S3_ENV}
    if all(values.values()):
        return values
    if os.environ.get("CI", "").lower() == "true":
        missing = [n for n, v in values.items() if not v]
        pytest.fail(f"CI=true but the real S3 server is not configured ({', '.join(missing)} missing): "
                    "source .ci/s3-start first")
    return None


def real_s3_storage(prefix: str) -> S3Storage | None:
    settings = real_s3_settings()
    if settings is None:
        return None
    return S3Storage(settings["INSPECT_TEST_S3_BUCKET"], endpoint_url=settings["INSPECT_TEST_S3_ENDPOINT"],
                     region="us-east-1", access_key_id=settings["INSPECT_TEST_S3_KEY"],
                     secret_access_key=settings["INSPECT_TEST_S3_SECRET"], addressing_style="path",
                     prefix=prefix)


@pytest.fixture()
def moto_s3():
    """moto's mock of S3 with a bucket 'inspect-test'; yields an S3Storage on it."""
    from moto import mock_aws

    with mock_aws():
        storage = S3Storage("inspect-test", region="us-east-1", access_key_id="testing",
                            secret_access_key="testing")
        storage.client.create_bucket(Bucket="inspect-test")
        yield storage


@pytest.fixture(params=["local", "s3-moto", "s3-real"])
def any_storage(request, tmp_path):
    if request.param == "local":
        yield LocalStorage(str(tmp_path / "store"))
    elif request.param == "s3-moto":
        yield request.getfixturevalue("moto_s3")
    else:
        storage = real_s3_storage(f"contract-{uuid.uuid4().hex[:12]}/")
        if storage is None:
            pytest.skip("no real S3 server configured (set INSPECT_TEST_S3_ENDPOINT…, see .ci/s3-start)")
        yield storage
        for key in storage.list(""):
            storage.delete(key)
