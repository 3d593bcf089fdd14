"""The storage contract. Every backend (local.py, s3.py) implements it, and
tests/storage/ runs one contract suite against each of them.

Keys are built by the services, never taken from user input: ``photos/ab/cd/<sha256>``
for originals, ``derived/<sha256>/preview.jpg`` for derivatives,
``uploads-tmp/<upload id>/<part>`` for tus uploads in progress. A key is a
relative path of ``[A-Za-z0-9._-]`` segments separated by ``/``; anything else
(``..``, a leading ``/``, backslashes, empty segments) is refused with
ValueError before a backend sees it.

Errors: a key that does not exist raises ``errors.ObjectMissing``; any other
failure of the backend raises ``errors.StorageError`` with the original
exception as ``__cause__``.
"""
from __future__ import annotations

import abc
import hashlib
import re
from typing import BinaryIO, NamedTuple

CHUNK_SIZE = 1024 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StoredObject(NamedTuple):
    """What ``save`` stored: the key, its size in bytes and the hex sha256 of its bytes."""

    key: str
    size: int
    sha256: str


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed storage key, else raise ValueError."""
    if not isinstance(key, str) or not key or len(key) > 400:
        raise ValueError(f"invalid storage key: {key!r}")
    parts = key.split("/")
    for part in parts:
        if not _SEGMENT.match(part) or part in (".", ".."):
            raise ValueError(f"invalid storage key: {key!r}")
    return key


class HashingReader:
    """Wraps a readable file object; counts and hashes (sha256) what is read through it.

    ``read(n)`` returns exactly ``n`` bytes unless the source is exhausted: it
    keeps reading until it has them or the source answers ``b""``. Sources
    such as a WSGI input stream, a socket or a decompressor return short
    reads long before their end, and consumers such as s3transfer take a
    short read for the end of the stream (that stored 2 MiB of a 4 MiB tus
    chunk on S3). Every backend reads its source through this class, so a
    save consumes the whole stream whatever the source's read sizes are.
    ``read()`` / ``read(-1)`` read to the end.
    """

    def __init__(self, fileobj: BinaryIO):
        self._f = fileobj
        self.size = 0
        self._sha = hashlib.sha256()
        self.source_error: BaseException | None = None
        self._eof = False

    def _read_some(self, n: int) -> bytes:
        if self._eof:
            return b""
        try:
            data = self._f.read(n)
        except BaseException as exc:
            self.source_error = exc
            raise
        if not data:
            self._eof = True
            return b""
        return data

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while True:
                data = self._read_some(CHUNK_SIZE)
                if not data:
                    break
                parts.append(data)
        else:
            parts = []
            want = n
            while want > 0:
                data = self._read_some(want)
                if not data:
                    break
                parts.append(data)
                want -= len(data)
        data = b"".join(parts)
        if data:
            self.size += len(data)
            self._sha.update(data)
        return data

    def readable(self) -> bool:
        return True

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class Storage(abc.ABC):
    """An object store of immutable byte strings addressed by key."""

    #: short name shown in logs and the health check
    name = "abstract"

    @abc.abstractmethod
    def save(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> StoredObject:
        """Store everything readable from ``fileobj`` under ``key``.

        The bytes are streamed in chunks (never read whole into memory). The
        object appears atomically: a reader sees either the previous object or
        the complete new one, never a partial write. An existing object under
        the same key is replaced. Returns StoredObject(key, size, sha256) of
        the bytes actually stored.
        """

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary file object on the object's bytes (close it after use).

        Raises ObjectMissing when there is no object under ``key``.
        """

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object. Deleting a missing key is not an error."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """True when an object is stored under ``key``."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """The object's size in bytes; ObjectMissing when there is none."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix`` (a directory-like prefix ending in ``/``), sorted."""

    @abc.abstractmethod
    def url(self, key: str, expires: int) -> str | None:
        """A URL a client may GET the object from for ``expires`` seconds, or None.

        None means the backend has no URLs of its own (local disk): the app
        serves the bytes itself. S3 answers a presigned URL (signature v4).
        """

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (ends in ``/``); return how many were deleted.

        Used to drop the parts of an abandoned tus upload.
        """
        if not prefix.endswith("/"):
            raise ValueError("prefix must end with '/'")
        check_key(prefix.rstrip("/"))
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def open_from(self, key: str, start: int) -> BinaryIO:
        """A readable file object on the object's bytes from offset ``start`` (a resumed download, HTTP
        Range). ObjectMissing when there is no object. Backends override it to skip without reading
        (S3: a ranged GET); this default seeks, or reads and drops the first ``start`` bytes."""
        f = self.open(key)
        if start <= 0:
            return f
        try:
            seekable = f.seekable()
        except (AttributeError, OSError):
            seekable = False
        if seekable:
            f.seek(start)
            return f
        left = start
        while left > 0:
            data = f.read(min(left, CHUNK_SIZE))
            if not data:
                break
            left -= len(data)
        return f

    def read_bytes(self, key: str) -> bytes:
        """The whole object in memory: for small objects (derivatives, tests) only."""
        with self.open(key) as f:
            return f.read()
