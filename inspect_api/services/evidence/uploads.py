"""tus 1.0.0 uploads (CONTRACT §3): creation, creation-with-upload, checksum,
termination, expiration, concatenation.

State lives in the database (models.photos.Upload: offset, length, the list of
stored parts, expiry), bytes in storage (``uploads-tmp/<upload id>/<part>``), so
any app server process can continue any upload, also after a restart.

A PATCH is three steps so that no database lock is held while bytes stream in:
``check_patch`` (offset, type, size — before reading the body), ``store_chunk``
(streams the body into a new part object; no database), ``commit_chunk`` (locks
the upload row, re-checks the offset, records the part; on the last byte calls
``finish_upload``, which validates and stores first and takes the sync cursor
lock only just before it writes the photos record). Two requests racing on the same offset: one wins, the
other's part is deleted and it answers 409.

``finish_upload`` assembles the parts into a temporary file (on disk, never in
memory), and hands it to photos.store_photo_file — the same path a portal form
post takes. A refused file raises UploadRejected (422) after the parts, the
upload row, and (if the photos record exists) a ``rejected`` status are written:
the caller must commit before answering.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import tempfile
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import AppError, Conflict, Forbidden, NotFound, ValidationError
from ...models import Photo, Upload, User, utcnow
from ...models.sync import allocate_seq
from . import photos as photo_service
from ..access.actor import Actor
from ..access.audit import record_event
from .images import ImageRejected
from .photos import UploadLimits
from ..access.scope import scope_clause

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum,concatenation"
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
OCTET_STREAM = "application/offset+octet-stream"
READ_SIZE = 1024 * 1024
_META_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class TusError(AppError):
    status = 400
    code = "bad_request"


class UnsupportedVersion(TusError):
    status = 412
    code = "unsupported_tus_version"
    message = "只支持 tus 1.0.0 (Tus-Resumable must be 1.0.0)"


class OffsetMismatch(Conflict):
    code = "offset_mismatch"
    message = "Upload-Offset 与服务器记录不符 (Upload-Offset does not match the upload's offset)"


class ChunkChecksumMismatch(TusError):
    status = 460
    code = "checksum_mismatch"
    message = "分块校验和不符，已丢弃 (the chunk's checksum does not match; it was discarded)"


class WrongContentType(TusError):
    status = 415
    code = "unsupported_media_type"
    message = "Content-Type 必须是 application/offset+octet-stream"


class UploadTooLarge(TusError):
    status = 413
    code = "upload_too_large"
    message = "超过上传大小上限 (over the upload size limit)"


class UploadGone(TusError):
    status = 410
    code = "upload_expired"
    message = "上传已过期 (the upload expired and was removed)"


class UploadNotFound(NotFound):
    code = "upload_not_found"
    message = "上传不存在 (no such upload)"


class UploadRejected(ValidationError):
    """The finished file was refused: ``code`` is the reason (invalid_image, checksum_mismatch …)."""


# ---------------------------------------------------------------- headers


def parse_metadata(header: str | None) -> dict:
    """``Upload-Metadata: key base64,key2 base64,flag`` -> dict of str (flag -> "")."""
    result: dict[str, str] = {}
    if not header:
        return result
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        if not _META_KEY.match(key) or key in result:
            raise TusError("Upload-Metadata 无效 (invalid Upload-Metadata)", code="invalid_metadata")
        try:
            value = value.strip()
            result[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(f"Upload-Metadata 中 {key} 不是有效的 base64 (invalid base64 for {key})",
                           code="invalid_metadata") from None
    return result


def parse_checksum(header: str | None):
    """``Upload-Checksum: sha1 <base64>`` -> (algorithm, digest bytes) or None."""
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise TusError("不支持的校验算法 (unsupported checksum algorithm)", code="unsupported_checksum_algorithm")
    try:
        return algorithm, base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise TusError("Upload-Checksum 无效 (invalid Upload-Checksum)", code="invalid_checksum") from None


def parse_length(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 15:
        raise TusError(f"{name} 必须是非负整数 ({name} must be a non-negative integer)", code="invalid_header")
    return int(value)


def part_prefix(upload_id: str) -> str:
    return f"uploads-tmp/{upload_id}/"


# ---------------------------------------------------------------- lookups


def get_upload(session: Session, actor: Actor, upload_id: str, *, now: datetime | None = None,
               for_update: bool = False) -> Upload:
    """An upload of ``actor``; others' uploads answer 404; an expired open one 410."""
    stmt = select(Upload).where(Upload.id == upload_id, scope_clause(Upload, actor.user))
    if for_update:
        stmt = stmt.with_for_update()
    upload = session.scalars(stmt).first()
    if upload is None:
        raise UploadNotFound()
    if upload.state == "open" and upload.expires_at <= (now or utcnow()):
        raise UploadGone()
    return upload


def _parts(upload: Upload) -> list[str]:
    return list((upload.meta or {}).get("parts", []))


# ---------------------------------------------------------------- creation


def create_upload(session: Session, actor: Actor, *, length: int | None, metadata: dict, concat: str | None,
                  final_ids: list[str] | None, limits: UploadLimits, storage=None,
                  now: datetime | None = None) -> Upload:
    """POST /uploads. ``concat`` is None, "partial" or "final" (then ``final_ids`` name the partials)."""
    now = now or utcnow()
    is_partial = concat == "partial"
    parts: list[str] = []
    if concat == "final":
        if length is not None:
            raise TusError("最终上传不能带 Upload-Length (a final upload takes no Upload-Length)",
                           code="invalid_header")
        if not final_ids:
            raise TusError("Upload-Concat 无效 (invalid Upload-Concat)", code="invalid_concat")
        length = 0
        for pid in final_ids:
            try:
                part = get_upload(session, actor, pid, now=now)
            except UploadNotFound:
                raise TusError(f"分片上传 {pid} 不存在 (unknown partial upload)", code="invalid_concat") from None
            if not part.is_partial or part.state != "done":
                raise TusError(f"分片上传 {pid} 未完成 (partial upload {pid} is not complete)",
                               code="partial_incomplete")
            parts.extend(_parts(part))
            length += part.length or 0
    elif length is None:
        raise TusError("缺少 Upload-Length (Upload-Length is required)", code="length_required")
    if length > limits.max_size:
        raise UploadTooLarge(details={"max_size": limits.max_size})
    if length == 0 and not is_partial:
        raise TusError("空文件不是照片 (an empty file is not a photo)", code="invalid_image", status=422)
    photo_id = None
    if not is_partial:
        photo_id = metadata.get("photo_id") or ""
        if not photo_service.PHOTO_ID.match(photo_id):
            raise TusError("Upload-Metadata 必须含 photo_id (Upload-Metadata must carry photo_id)",
                           code="missing_photo_id", details={"fields": {"photo_id": ["required"]}})
        sha = metadata.get("sha256")
        if sha and not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
            raise TusError("sha256 必须是 64 位十六进制 (sha256 must be 64 hex digits)", code="invalid_metadata")
        existing = session.get(Photo, photo_id)
        if existing is not None:
            photo_service.get_photo(session, actor, photo_id)  # 404 when another scope's
            if not photo_service.uploader_may_write(session, actor.user, existing):
                raise Forbidden("不能为该照片记录上传文件 (you may not upload the file of this photo record)")
    upload = Upload(id=_new_upload_id(), user_id=actor.id, photo_id=photo_id, length=length, offset=0,
                    meta={"metadata": {k: v for k, v in metadata.items() if k in
                                       ("photo_id", "filename", "filetype", "sha256")}, "parts": parts},
                    is_partial=is_partial, concat_parts=list(final_ids) if concat == "final" else None,
                    part_count=len(parts), state="open", created_at=now,
                    expires_at=now + timedelta(seconds=limits.expires_seconds))
    session.add(upload)
    session.flush()
    record_event(session, actor, "upload.created", upload, to_state="open",
                 data={"photo_id": photo_id, "length": length, "concat": concat})
    if concat == "final":
        upload.offset = length
        if storage is None:
            raise RuntimeError("storage is required for a final upload")
        finish_upload(session, storage, actor, upload, limits)
    return upload


def _new_upload_id() -> str:
    return secrets.token_urlsafe(18).replace("-", "A").replace("_", "B")


# ---------------------------------------------------------------- PATCH


def check_patch(upload: Upload, offset: int | None, content_type: str | None,
                content_length: int | None) -> None:
    """Everything that can be refused before the body is read."""
    if (content_type or "").split(";")[0].strip().lower() != OCTET_STREAM:
        raise WrongContentType()
    if offset is None:
        raise TusError("缺少 Upload-Offset (Upload-Offset is required)", code="offset_required")
    if upload.concat_parts is not None:
        raise TusError("最终上传不能再追加 (a final upload cannot be patched)", code="final_upload", status=403)
    if offset != upload.offset:
        raise OffsetMismatch(details={"offset": upload.offset})
    if content_length is not None and upload.length is not None and offset + content_length > upload.length:
        raise UploadTooLarge("超过 Upload-Length (the chunk goes past Upload-Length)",
                             details={"length": upload.length})


class _ChunkReader:
    """Reads the request body in chunks: counts, hashes, stops at ``limit`` bytes, survives a disconnect."""

    def __init__(self, stream: BinaryIO, limit: int, algorithm: str | None):
        self.stream = stream
        self.limit = limit
        self.size = 0
        self.hash = hashlib.new(algorithm) if algorithm else None
        self.interrupted = False
        self.over_limit = False

    def read(self, n: int = -1) -> bytes:
        if self.interrupted or self.over_limit:
            return b""
        n = READ_SIZE if n is None or n < 0 else min(n, READ_SIZE)
        try:
            data = self.stream.read(n)
        except Exception:  # client went away mid-chunk (werkzeug ClientDisconnected, socket errors)
            self.interrupted = True
            return b""
        if not data:
            return b""
        if self.size + len(data) > self.limit:
            self.over_limit = True
            return b""
        self.size += len(data)
        if self.hash is not None:
            self.hash.update(data)
        return data


def store_chunk(storage, upload_id: str, offset: int, length: int, stream: BinaryIO,
                checksum: tuple[str, bytes] | None) -> tuple[str | None, int, bool]:
    """Stream the body into a new part object. Returns (part key or None if empty, size, interrupted).

    No database access here. Raises ChunkChecksumMismatch (460) or
    UploadTooLarge (413) after deleting the part.
    """
    key = f"{part_prefix(upload_id)}{offset:015d}-{secrets.token_hex(4)}"
    reader = _ChunkReader(stream, length - offset, checksum[0] if checksum else None)
    stored = storage.save(key, reader, "application/octet-stream")
    if reader.over_limit:
        storage.delete(key)
        raise UploadTooLarge("超过 Upload-Length (the chunk goes past Upload-Length)")
    if checksum is not None and (reader.interrupted or reader.hash.digest() != checksum[1]):
        storage.delete(key)
        raise ChunkChecksumMismatch()
    if stored.size == 0:
        storage.delete(key)
        return None, 0, reader.interrupted
    return key, stored.size, reader.interrupted


def commit_chunk(session: Session, storage, actor: Actor, upload_id: str, offset: int, part_key: str | None,
                 size: int, limits: UploadLimits, now: datetime | None = None) -> Upload:
    """Record a stored part under the row lock; on the last byte, finish the upload."""
    now = now or utcnow()
    try:
        upload = get_upload(session, actor, upload_id, now=now, for_update=True)
    except AppError:
        if part_key:
            storage.delete(part_key)
        raise
    if upload.offset != offset or upload.state != "open":
        if part_key:
            storage.delete(part_key)
        raise OffsetMismatch(details={"offset": upload.offset})
    if part_key:
        upload.meta = {**upload.meta, "parts": _parts(upload) + [part_key]}
        upload.part_count = upload.part_count + 1
        upload.offset = offset + size
    upload.expires_at = now + timedelta(seconds=limits.expires_seconds)
    session.flush()
    if upload.length is not None and upload.offset == upload.length and not upload.is_partial:
        finish_upload(session, storage, actor, upload, limits)
    elif upload.length is not None and upload.offset == upload.length:
        upload.state = "done"
        upload.completed_at = now
        session.flush()
    return upload


# ---------------------------------------------------------------- completion


def assemble(storage, keys: list[str], directory: str | None = None) -> str:
    """Concatenate stored parts into a temporary file, chunk by chunk; return its path."""
    fd, path = tempfile.mkstemp(prefix="inspect-upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for key in keys:
                with storage.open(key) as part:
                    while True:
                        block = part.read(READ_SIZE)
                        if not block:
                            break
                        out.write(block)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _discard_parts(session: Session, storage, upload: Upload) -> None:
    storage.delete_prefix(part_prefix(upload.id))
    for pid in upload.concat_parts or []:
        storage.delete_prefix(part_prefix(pid))
        partial = session.get(Upload, pid)
        if partial is not None and partial.user_id == upload.user_id:
            session.delete(partial)


def finish_upload(session: Session, storage, actor: Actor, upload: Upload, limits: UploadLimits) -> Upload:
    """The last byte arrived: validate, store, attach to the photos record if it exists."""
    meta = (upload.meta or {}).get("metadata", {})
    photo = session.get(Photo, upload.photo_id) if upload.photo_id else None
    path = assemble(storage, _parts(upload))
    try:
        try:
            if photo is not None and photo.status == "ready" and photo.storage_key:
                # evidence is never replaced: only the very same bytes may be uploaded again
                if photo_service.file_sha256(path) != photo.sha256:
                    raise photo_service.PhotoAlreadyStored(status=422)
            expected = meta.get("sha256") or (photo.sha256 if photo is not None and photo.deleted_at is None
                                               else None)
            result = photo_service.store_photo_file(storage, path, limits, expected)
        except (ImageRejected, photo_service.ChecksumMismatch, photo_service.PhotoTooLarge,
                photo_service.PhotoAlreadyStored) as exc:
            _reject(session, storage, actor, upload, exc)
            raise UploadRejected(exc.message, code=exc.code, status=422, details=exc.details) from exc
    finally:
        os.unlink(path)
    _discard_parts(session, storage, upload)
    upload.state = "done"
    upload.completed_at = utcnow()
    upload.meta = {**upload.meta, "parts": [], "result": result}
    session.flush()
    record_event(session, actor, "upload.completed", upload, from_state="open", to_state="done",
                 data={"photo_id": upload.photo_id, "sha256": result["sha256"], "size": result["size"]})
    # The sync cursor lock is taken only now, after the slow part (validation, storage), so sync
    # pushes are not held up by a photo being processed. Holding it, a push that created the
    # record has committed (we see it below) and a later push waits for our commit (and then
    # sees this finished upload in attach_synced_photo): the two never miss each other.
    # Cursor before the photos row is the lock order every syncing transaction uses.
    allocate_seq(session, 0)
    photo = (session.get(Photo, upload.photo_id, populate_existing=True, with_for_update=True)
             if upload.photo_id else None)
    if photo is not None and photo.deleted_at is None and not photo_service.uploader_may_write(
            session, actor.user, photo):
        # the record arrived from someone else after this upload began: its bytes are not attached
        record_event(session, actor, "upload.not_attached", upload, data={"photo_id": upload.photo_id},
                     reason="not_writable")
        photo = None
    if photo is not None and photo.deleted_at is None:
        try:
            photo_service.apply_result(session, actor, photo, result)
        except photo_service.PhotoAlreadyStored as exc:  # another file won the race
            _reject(session, storage, actor, upload, exc)
            raise UploadRejected(exc.message, code=exc.code, status=422) from exc
        upload.meta = {**upload.meta, "attached": True}
        session.flush()
    return upload


def _reject(session: Session, storage, actor: Actor, upload: Upload, exc: AppError) -> None:
    """Nothing of a refused file is kept: parts and upload row go; the record says why."""
    _discard_parts(session, storage, upload)
    record_event(session, actor, "upload.rejected", upload, from_state="open", to_state="rejected",
                 reason=exc.code, data={"photo_id": upload.photo_id})
    photo = session.get(Photo, upload.photo_id) if upload.photo_id else None
    if photo is not None and photo.deleted_at is None:
        allocate_seq(session, 0)
        photo_service.reject_photo(session, actor, photo, exc.code)
    session.delete(upload)
    session.flush()


# ---------------------------------------------------------------- termination and expiry


def terminate_upload(session: Session, storage, actor: Actor, upload_id: str) -> None:
    upload = get_upload(session, actor, upload_id)
    storage.delete_prefix(part_prefix(upload.id))
    record_event(session, actor, "upload.terminated", upload, from_state=upload.state, to_state="deleted")
    session.delete(upload)
    session.flush()


def purge_expired(session: Session, storage, now: datetime | None = None, *,
                  orphan_seconds: int | None = None) -> dict:
    """Delete open uploads past their expiry (parts and row), and finished uploads past it whose
    file is attached to its photos record. Safe to run concurrently and repeatedly (cron).

    Finished uploads whose photos record has not arrived yet are kept while the record may still come by
    sync — until ``orphan_seconds`` after they finished (INSPECT_UPLOAD_ORPHAN_SECONDS, default 30 days):
    then the upload is an orphan and goes, with its stored file and derivatives unless a photos record
    uses the same bytes.
    """
    now = now or utcnow()
    expired = session.scalars(select(Upload).where(Upload.expires_at <= now).order_by(Upload.id)
                              .with_for_update(skip_locked=True)).all()
    counts = {"open": 0, "done": 0, "parts": 0, "kept": 0, "orphans": 0}
    for upload in expired:
        if upload.state == "done" and not upload.is_partial and not (upload.meta or {}).get("attached"):
            photo = session.get(Photo, upload.photo_id) if upload.photo_id else None
            if photo is None or photo.status != "ready":
                if not _is_orphan(upload, now, orphan_seconds):
                    counts["kept"] += 1
                    continue
                _delete_orphan_file(session, storage, upload)
                counts["orphans"] += 1
        counts["parts"] += storage.delete_prefix(part_prefix(upload.id))
        counts["open" if upload.state == "open" else "done"] += 1
        record_event(session, Actor.system("purge-expired"), "upload.expired", upload,
                     from_state=upload.state, to_state="deleted")
        session.delete(upload)
    session.flush()
    return counts


def _is_orphan(upload: Upload, now: datetime, orphan_seconds: int | None) -> bool:
    if orphan_seconds is None or upload.completed_at is None:
        return False
    return upload.completed_at <= now - timedelta(seconds=orphan_seconds)


def _delete_orphan_file(session: Session, storage, upload: Upload) -> None:
    """The stored original and derivatives of a finished upload no photos record took, unless a record uses
    the same bytes (keys are content addresses)."""
    sha = ((upload.meta or {}).get("result") or {}).get("sha256")
    if not sha or session.scalar(select(Photo.id).where(Photo.sha256 == sha).limit(1)) is not None:
        return
    for key in (photo_service.original_key(sha), *(photo_service.derived_key(sha, v)
                                                  for v in photo_service.VARIANTS if v != "original")):
        storage.delete(key)


def upload_user(session: Session, upload: Upload) -> User | None:
    return session.get(User, upload.user_id)
