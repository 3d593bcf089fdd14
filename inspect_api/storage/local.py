"""Local disk storage under one root directory (the default: <project>/uploads).

Every write goes to a temporary file in the target directory, is fsynced and
renamed into place (atomic on POSIX), and the directory is fsynced, so a crash
leaves either the old object or the new one. Keys are joined under the root
after ``check_key`` and the result is checked to stay inside the root.
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO

from ..errors import ObjectMissing, StorageError
from .base import CHUNK_SIZE, HashingReader, Storage, StoredObject, check_key


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: str):
        self.root = os.path.realpath(root)

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def _path(self, key: str) -> str:
        check_key(key)
        path = os.path.realpath(os.path.join(self.root, *key.split("/")))
        if os.path.commonpath([path, self.root]) != self.root or path == self.root:
            raise ValueError(f"storage key escapes the root: {key!r}")
        return path

    def save(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> StoredObject:
        path = self._path(key)
        directory = os.path.dirname(path)
        reader = HashingReader(fileobj)
        tmp = None
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        data = reader.read(CHUNK_SIZE)
                    except BaseException as exc:  # the source failed, not the store: re-raised as is
                        raise _SourceError() from exc
                    if not data:
                        break
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            tmp = None
            _fsync_dir(directory)
        except _SourceError as exc:
            raise exc.__cause__ from None
        except OSError as exc:
            raise StorageError(f"could not write {key}") from exc
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        return StoredObject(key, reader.size, reader.sha256)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {key}") from exc
        except OSError as exc:
            raise StorageError(f"could not read {key}") from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"could not delete {key}") from exc
        # drop empty parent directories up to the root
        directory = os.path.dirname(path)
        while directory != self.root:
            try:
                os.rmdir(directory)
            except OSError:
                break
            directory = os.path.dirname(directory)

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def size(self, key: str) -> int:
        try:
            return os.stat(self._path(key)).st_size
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {key}") from exc

    def list(self, prefix: str) -> list[str]:
        base = prefix.rstrip("/")
        start = self._path(base) if base else self.root
        if not os.path.isdir(start):
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            for name in filenames:
                if name.startswith(".tmp-"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")
                if rel.startswith(prefix):
                    keys.append(rel)
        return sorted(keys)

    def url(self, key: str, expires: int) -> str | None:
        check_key(key)
        return None

    def local_path(self, key: str) -> str:
        """The file's path (for send_file); ObjectMissing when absent."""
        path = self._path(key)
        if not os.path.isfile(path):
            raise ObjectMissing(f"no object {key}")
        return path


class _SourceError(Exception):
    """Reading the caller's file object failed (say, a client disconnected)."""


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
