"""The storage contract (inspect_api/storage/base.py), the same for every backend."""
from __future__ import annotations

import hashlib
import io
import os
import urllib.request

import pytest

from inspect_api.errors import ObjectMissing, StorageError
from inspect_api.storage.base import StoredObject
from inspect_api.storage.local import LocalStorage
from inspect_api.storage.s3 import S3Storage


class ChunkOnlyReader:
    """A stream that refuses to be read whole: at most 16 MiB per read()."""

    def __init__(self, total: int, block: bytes = b"0123456789abcdef"):
        self.left = total
        self.block = block
        self.sha = hashlib.sha256()
        self.largest_read = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > 16 * 1024 * 1024:
            raise AssertionError(f"read({n}) would hold the whole stream in memory")
        n = min(n, self.left)
        self.largest_read = max(self.largest_read, n)
        data = (self.block * (n // len(self.block) + 1))[:n]
        self.left -= n
        self.sha.update(data)
        return data


class FailingReader:
    def __init__(self, good: int):
        self.good = good

    def read(self, n: int = -1) -> bytes:
        if self.good <= 0:
            raise OSError("connection reset by peer")
        n = min(n if n and n > 0 else 65536, self.good)
        self.good -= n
        return b"y" * n


def test_save_returns_key_size_and_sha256_and_open_reads_the_same_bytes(any_storage):
    data = os.urandom(300_000)
    stored = any_storage.save("photos/ab/cd/abcd1234", io.BytesIO(data), "image/jpeg")
    assert stored == StoredObject("photos/ab/cd/abcd1234", len(data), hashlib.sha256(data).hexdigest())
    with any_storage.open("photos/ab/cd/abcd1234") as f:
        assert f.read() == data
    assert any_storage.size("photos/ab/cd/abcd1234") == len(data)
    assert any_storage.exists("photos/ab/cd/abcd1234")


def test_save_streams_in_chunks_without_reading_everything_at_once(any_storage):
    reader = ChunkOnlyReader(12 * 1024 * 1024 + 123)  # past S3's 8 MiB multipart threshold
    stored = any_storage.save("uploads-tmp/big/part", reader)
    assert stored.size == 12 * 1024 * 1024 + 123
    assert stored.sha256 == reader.sha.hexdigest()
    assert any_storage.size("uploads-tmp/big/part") == stored.size
    sha = hashlib.sha256()
    with any_storage.open("uploads-tmp/big/part") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            sha.update(block)
    assert sha.hexdigest() == stored.sha256


def test_empty_object_can_be_stored(any_storage):
    stored = any_storage.save("derived/x/empty.jpg", io.BytesIO(b""))
    assert stored.size == 0 and stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert any_storage.read_bytes("derived/x/empty.jpg") == b""


def test_save_replaces_an_existing_object(any_storage):
    any_storage.save("a/b", io.BytesIO(b"first"))
    any_storage.save("a/b", io.BytesIO(b"second version"))
    assert any_storage.read_bytes("a/b") == b"second version"
    assert any_storage.size("a/b") == len(b"second version")


def test_a_failed_save_leaves_the_previous_object_intact(any_storage):
    any_storage.save("a/keep", io.BytesIO(b"the original"))
    with pytest.raises((StorageError, OSError)):
        any_storage.save("a/keep", FailingReader(10_000))
    assert any_storage.read_bytes("a/keep") == b"the original"
    assert any_storage.list("a/") == ["a/keep"]


def test_missing_objects_raise_object_missing(any_storage):
    with pytest.raises(ObjectMissing):
        any_storage.open("photos/00/00/nothing")
    with pytest.raises(ObjectMissing):
        any_storage.size("photos/00/00/nothing")
    assert not any_storage.exists("photos/00/00/nothing")


def test_delete_removes_and_deleting_a_missing_key_is_fine(any_storage):
    any_storage.save("x/y/z", io.BytesIO(b"1"))
    any_storage.delete("x/y/z")
    assert not any_storage.exists("x/y/z")
    any_storage.delete("x/y/z")
    any_storage.delete("never/there")


def test_list_and_delete_prefix_touch_only_that_prefix(any_storage):
    for key in ("uploads-tmp/u1/000000000000000-a", "uploads-tmp/u1/000000000000100-b", "uploads-tmp/u10/p",
                "uploads-tmp/u2/p"):
        any_storage.save(key, io.BytesIO(b"data"))
    assert any_storage.list("uploads-tmp/u1/") == ["uploads-tmp/u1/000000000000000-a",
                                                   "uploads-tmp/u1/000000000000100-b"]
    assert any_storage.delete_prefix("uploads-tmp/u1/") == 2
    assert any_storage.list("uploads-tmp/u1/") == []
    assert any_storage.list("uploads-tmp/") == ["uploads-tmp/u10/p", "uploads-tmp/u2/p"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "a//b", "a/../../b", "a\\b", "", "a/./b",
                                 "photos/.hidden", "photos/ab/", "名字.jpg"])
def test_malformed_keys_are_refused_before_the_backend_sees_them(any_storage, key):
    with pytest.raises(ValueError):
        any_storage.save(key, io.BytesIO(b"x"))
    with pytest.raises(ValueError):
        any_storage.open(key)


def test_url_is_none_for_local_and_a_v4_presigned_get_for_s3(any_storage):
    data = b"presigned bytes"
    any_storage.save("photos/pr/es/signed", io.BytesIO(data))
    url = any_storage.url("photos/pr/es/signed", 60)
    if isinstance(any_storage, LocalStorage):
        assert url is None
        return
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    if any_storage.endpoint_url:  # a real server on loopback: the URL works without credentials
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == data


def test_backend_errors_are_wrapped_with_their_cause(any_storage, tmp_path):
    if isinstance(any_storage, LocalStorage):
        blocker = tmp_path / "not-a-dir"
        blocker.write_bytes(b"")
        broken = LocalStorage(str(blocker))
    else:
        broken = S3Storage(any_storage.bucket, endpoint_url="http://127.0.0.1:9", region="us-east-1",
                           access_key_id="k", secret_access_key="s")
        broken.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError) as info:
        broken.save("a/b", io.BytesIO(b"x"))
    assert not isinstance(info.value, ObjectMissing)
    assert info.value.__cause__ is not None


class ShortReader:
    """A stream that answers every read() with at most ``max_read`` bytes, as a WSGI
    input, a socket or a decompressor does long before its end."""

    def __init__(self, data: bytes, max_read: int):
        self._data = memoryview(data)
        self._pos = 0
        self.max_read = max_read
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        if n is None or n < 0:
            n = len(self._data)
        n = min(n, self.max_read, len(self._data) - self._pos)
        out = bytes(self._data[self._pos:self._pos + n])
        self._pos += n
        return out


@pytest.mark.parametrize("max_read,total", [
    (1, 20_000),                          # one byte per read
    (7, 200_003),
    (65_536, 4 * 1024 * 1024 + 3),        # a 4 MiB tus chunk from gunicorn's input
    (1024 * 1024, 9 * 1024 * 1024 + 1),   # past S3's 8 MiB multipart threshold
    (16 * 1024 * 1024, 17 * 1024 * 1024 + 5),
], ids=["1B", "7B", "64KiB", "1MiB", "16MiB"])
def test_save_consumes_the_whole_stream_whatever_the_read_sizes(any_storage, max_read, total):
    data = os.urandom(total)
    reader = ShortReader(data, max_read)
    stored = any_storage.save("uploads-tmp/short/part", reader)
    assert stored.size == total
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert any_storage.size("uploads-tmp/short/part") == total
    assert reader.read(1) == b""  # nothing left unread
    with any_storage.open("uploads-tmp/short/part") as f:
        assert hashlib.sha256(f.read()).hexdigest() == stored.sha256
