"""Photo evidence: records, stored originals, derivatives, access.

One path stores every photo file, whether it came over tus (services/uploads.py)
or as a plain form post (``ingest_photo_file``): ``store_photo_file`` checks the
whole-file sha256, validates the image (services/images.py), stores the
original byte for byte under ``photos/ab/cd/<sha256>`` (content-addressed: the
same photo uploaded twice is stored once) and the JPEG derivatives under
``derived/<sha256>/{preview,thumb}.jpg``, and returns the facts as a plain dict
(the *result*). ``apply_result`` copies a result into the server-owned columns
of a photos record. The record (synced from tablets or created through the
API) and the upload meet in either order: ``attach_synced_photo`` is called by
the sync service after it applies a record; ``uploads.finish_upload`` calls
``attach_result`` when the record already exists.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import AppError, Conflict, NotFound, ValidationError
from ...models import Finding, Hazard, Inspection, Photo, Rectification, Upload, User, new_id
from ...models.photos import PHOTO_OWNER_TABLES
from ...models.sync import allocate_seq
from ..access.actor import Actor
from ..access.audit import record_event
from .images import ImageInfo, ImageRejected, inspect_image
from ..access.scope import get_scoped, scope_clause

VARIANTS = ("original", "preview", "thumb")
OWNER_MODELS = {"inspections": Inspection, "findings": Finding, "hazards": Hazard,
                "rectifications": Rectification}
ENTERPRISE_OWNER_TABLES = ("hazards", "rectifications")
PHOTO_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class UploadLimits:
    """Config values the photo path needs (UPLOAD_MAX_SIZE, UPLOAD_EXPIRES_SECONDS, IMAGE_MAX_PIXELS)."""

    max_size: int = 50 * 1024 * 1024
    expires_seconds: int = 7 * 24 * 3600
    max_pixels: int = 60_000_000

    @classmethod
    def from_config(cls, config) -> "UploadLimits":
        return cls(int(config["UPLOAD_MAX_SIZE"]), int(config["UPLOAD_EXPIRES_SECONDS"]),
                   int(config["IMAGE_MAX_PIXELS"]))


class ChecksumMismatch(ValidationError):
    status = 422
    code = "checksum_mismatch"
    message = "文件校验和不符 (the file's sha256 does not match the one given)"


class PhotoTooLarge(AppError):
    status = 413
    code = "upload_too_large"
    message = "文件超过大小上限 (the file is larger than the upload limit)"


class PhotoAlreadyStored(Conflict):
    code = "photo_already_stored"
    message = "该照片已有另一份文件 (this photo record already holds a different file)"


class InvalidOwner(ValidationError):
    code = "invalid_owner"
    message = "照片所属记录不存在或不可见 (the photo's owner record does not exist or is not visible)"


def original_key(sha256: str) -> str:
    return f"photos/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def derived_key(sha256: str, variant: str) -> str:
    return f"derived/{sha256}/{variant}.jpg"


def variant_key(photo: Photo, variant: str) -> str:
    if variant not in VARIANTS:
        raise ValidationError("variant 必须是 original、preview 或 thumb",
                              details={"fields": {"variant": ["must be original, preview or thumb"]}})
    if photo.status != "ready" or not photo.sha256:
        raise NotFound("照片文件尚未上传 (the photo's file has not been uploaded yet)", code="photo_not_ready")
    return photo.storage_key if variant == "original" else derived_key(photo.sha256, variant)


def file_sha256(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            sha.update(block)
    return sha.hexdigest()


def _millis(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _from_millis(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def store_photo_file(storage, path: str, limits: UploadLimits, expected_sha256: str | None = None) -> dict:
    """Validate the file at ``path`` and store it with its derivatives; return the result dict.

    Raises ChecksumMismatch or images.ImageRejected (both 422) and stores
    nothing in that case.
    """
    size = os.path.getsize(path)
    if size > limits.max_size:
        raise PhotoTooLarge()
    sha256 = file_sha256(path)
    if expected_sha256 and expected_sha256.lower() != sha256:
        raise ChecksumMismatch(details={"expected": expected_sha256.lower(), "actual": sha256})
    info: ImageInfo = inspect_image(path, limits.max_pixels)
    key = original_key(sha256)
    if not storage.exists(key):
        with open(path, "rb") as f:
            stored = storage.save(key, f, info.content_type)
        if stored.sha256 != sha256:  # the store did not keep what we read
            storage.delete(key)
            raise ChecksumMismatch("存储后的文件校验和不符 (the stored bytes differ from the upload)")
    for variant, data in (("preview", info.preview), ("thumb", info.thumb)):
        dkey = derived_key(sha256, variant)
        if not storage.exists(dkey):
            storage.save(dkey, io.BytesIO(data), "image/jpeg")
    return {
        "sha256": sha256, "size": size, "content_type": info.content_type, "width": info.width,
        "height": info.height, "orientation": info.orientation, "exif_taken_at": _millis(info.exif_taken_at),
        "exif_latitude": info.exif_latitude, "exif_longitude": info.exif_longitude, "storage_key": key,
    }


def apply_result(session: Session, actor: Actor, photo: Photo, result: dict) -> Photo:
    """Fill the server-owned columns of ``photo`` from a stored file's result.

    A photo that is ready with a different file is never overwritten
    (PhotoAlreadyStored). A record whose tablet-given sha256 differs from the
    file becomes ``rejected`` (checksum_mismatch).
    """
    if photo.status == "ready" and photo.storage_key:
        if photo.storage_key == result["storage_key"]:
            return photo
        raise PhotoAlreadyStored()
    before = photo.status
    given = (photo.sha256 or "").lower()
    if given and given != result["sha256"]:
        photo.status = "rejected"
        photo.rejected_reason = "checksum_mismatch"
        record_event(session, actor, "photo.rejected", photo, from_state=before, to_state="rejected",
                     reason="checksum_mismatch", data={"file_sha256": result["sha256"]})
        session.flush()
        return photo
    photo.sha256 = result["sha256"]
    photo.size = result["size"]
    photo.content_type = result["content_type"]
    photo.width = result["width"]
    photo.height = result["height"]
    photo.orientation = result["orientation"]
    photo.exif_taken_at = _from_millis(result["exif_taken_at"])
    photo.exif_latitude = result["exif_latitude"]
    photo.exif_longitude = result["exif_longitude"]
    photo.storage_key = result["storage_key"]
    photo.rejected_reason = None
    photo.status = "ready"
    record_event(session, actor, "photo.file_attached", photo, from_state=before, to_state="ready",
                 data={"sha256": result["sha256"], "size": result["size"]})
    session.flush()
    _close_on_spot_hazard(session, actor, photo)
    return photo


def _close_on_spot_hazard(session: Session, actor: Actor, photo: Photo) -> None:
    """A hazard a tablet marked rectified on the spot closes once its photo evidence is ready."""
    if photo.owner_table != "hazards":
        return
    from ...models import Hazard
    from ..lifecycle.hazards import close_on_spot_if_ready

    hazard = session.get(Hazard, photo.owner_id)
    if hazard is not None and hazard.rectified_on_spot and hazard.status == "found":
        close_on_spot_if_ready(session, hazard, actor if actor.role == "inspector" else None)


def reject_photo(session: Session, actor: Actor, photo: Photo, reason: str) -> None:
    if photo.status == "ready":
        return  # a good file already attached stays; the failed upload is simply dropped
    before = photo.status
    photo.status = "rejected"
    photo.rejected_reason = reason[:200]
    record_event(session, actor, "photo.rejected", photo, from_state=before, to_state="rejected",
                 reason=reason)
    session.flush()


def _uploader_may_see(session: Session, photo_id: str, user: User | None) -> bool:
    if user is None:
        return False
    stmt = select(Photo.id).where(Photo.id == photo_id, scope_clause(Photo, user))
    return session.scalar(stmt) is not None


def uploader_may_write(session: Session, user: User | None, photo: Photo) -> bool:
    """Whether an upload's bytes may become ``photo``'s file: its uploader may write that record, i.e. sees
    it and could have created it (the owner record is in the uploader's scope and of a table the uploader's
    role may attach photos to). The one check every path that attaches a finished upload goes through
    (attach_synced_photo, uploads.finish_upload, uploads.create_upload)."""
    if user is None or not getattr(user, "is_active", True) or not _uploader_may_see(session, photo.id, user):
        return False
    try:
        resolve_owner(session, Actor(user=user, ip="upload"), photo.owner_table, photo.owner_id)
    except InvalidOwner:
        return False
    return True


def attach_synced_photo(session: Session, photo: Photo) -> Photo:
    """Called by the sync service after it applied a photos record.

    If an upload for ``photo.id`` has already finished (by a user who may see
    the record), its file is attached now; otherwise the record stays
    ``pending`` until the upload finishes (uploads.finish_upload attaches it).
    """
    if photo.deleted_at is not None or (photo.status == "ready" and photo.storage_key):
        return photo
    uploads = session.scalars(
        select(Upload)
        .where(Upload.photo_id == photo.id, Upload.state == "done", Upload.is_partial.is_(False))
        .order_by(Upload.completed_at.desc())
    ).all()
    session.flush()  # the record must be visible to the scope query below
    for upload in uploads:
        result = (upload.meta or {}).get("result")
        user = session.get(User, upload.user_id)
        if not result or not uploader_may_write(session, user, photo):
            continue
        apply_result(session, Actor(user=user, ip="upload"), photo, result)
        upload.meta = {**upload.meta, "attached": True}
        session.flush()
        break
    return photo


def resolve_owner(session: Session, actor: Actor, owner_table: str, owner_id: str):
    """The owner record of a photo, if ``actor`` may attach photos to it; else InvalidOwner."""
    if owner_table not in PHOTO_OWNER_TABLES:
        allowed = ", ".join(PHOTO_OWNER_TABLES)
        raise InvalidOwner(details={"fields": {"owner_table": [f"must be one of {allowed}"]}})
    if actor.role == "enterprise" and owner_table not in ENTERPRISE_OWNER_TABLES:
        raise InvalidOwner("企业用户只能为隐患或整改上传照片 (enterprise users attach photos to hazards and "
                           "rectifications only)", details={"fields": {"owner_table": ["not allowed"]}})
    try:
        return get_scoped(session, OWNER_MODELS[owner_table], owner_id, actor.user)
    except NotFound:
        raise InvalidOwner(details={"fields": {"owner_id": ["not found"]}}) from None


def create_photo(session: Session, actor: Actor, data: dict) -> Photo:
    """Create a photos record through the API (portal, enterprise users): the same rules as sync."""
    owner = resolve_owner(session, actor, data["owner_table"], data["owner_id"])
    photo_id = data.get("id") or new_id()
    if not PHOTO_ID.match(photo_id):
        raise ValidationError(details={"fields": {"id": ["1–64 characters of [A-Za-z0-9_-]"]}})
    if session.get(Photo, photo_id) is not None:
        raise Conflict("照片编号已存在 (a photo with this id exists)", code="photo_exists")
    sha = (data.get("sha256") or "").lower() or None
    if sha and not _SHA256.match(sha):
        raise ValidationError(details={"fields": {"sha256": ["64 lower-case hex digits"]}})
    allocate_seq(session, 0)
    photo = Photo(id=photo_id, owner_table=data["owner_table"], owner_id=owner.id,
                  enterprise_id=getattr(owner, "enterprise_id", None),
                  region_code=getattr(owner, "region_code", None),
                  sha256=sha, taken_at=data.get("taken_at"), latitude=data.get("latitude"),
                  longitude=data.get("longitude"), status="pending", created_by_id=actor.id)
    session.add(photo)
    session.flush()
    record_event(session, actor, "photo.created", photo, to_state="pending",
                 data={"owner_table": photo.owner_table, "owner_id": photo.owner_id})
    attach_synced_photo(session, photo)
    return photo


def get_photo(session: Session, actor: Actor, photo_id: str) -> Photo:
    """A photo the actor may see: the photo in scope *and* its owner record visible (else 404)."""
    photo = get_scoped(session, Photo, photo_id, actor.user)
    owner_model = OWNER_MODELS.get(photo.owner_table)
    if owner_model is None:
        raise NotFound("照片不存在 (photo not found)", code="not_found")
    get_scoped(session, owner_model, photo.owner_id, actor.user)
    return photo


def spool_to_file(fileobj: BinaryIO, max_size: int, directory: str | None = None) -> str:
    """Copy a stream to a temporary file in chunks (never whole in memory); return its path."""
    fd, path = tempfile.mkstemp(prefix="inspect-photo-", dir=directory)
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = fileobj.read(1024 * 1024)
                if not block:
                    break
                total += len(block)
                if total > max_size:
                    raise PhotoTooLarge()
                out.write(block)
    except BaseException:
        os.unlink(path)
        raise
    return path


def ingest_photo_file(session: Session, storage, actor: Actor, photo_id: str | None, owner_table: str,
                      owner_id: str, fileobj: BinaryIO, filename: str | None, content_type: str | None,
                      limits: UploadLimits, *, sha256: str | None = None) -> Photo:
    """A plain form post from the portal: the same validation and storage path as a tus completion.

    Creates the photos record (or uses the existing, visible one with
    ``photo_id``) and attaches the file. ``filename`` and ``content_type`` are
    only recorded: the stored type comes from the bytes.
    """
    owner = resolve_owner(session, actor, owner_table, owner_id)
    photo = None
    if photo_id:
        photo = session.get(Photo, photo_id)
        if photo is not None:
            photo = get_photo(session, actor, photo_id)
            if photo.owner_table != owner_table or photo.owner_id != owner.id:
                raise InvalidOwner("照片属于另一条记录 (the photo belongs to another record)")
    path = spool_to_file(fileobj, limits.max_size)
    try:
        result = store_photo_file(storage, path, limits, sha256)
    finally:
        os.unlink(path)
    if photo is None:
        photo = create_photo(session, actor,
                             {"id": photo_id, "owner_table": owner_table, "owner_id": owner.id})
    allocate_seq(session, 0)
    apply_result(session, actor, photo, result)
    record_event(session, actor, "photo.ingested", photo,
                 data={"filename": (filename or "")[:200], "declared_type": (content_type or "")[:100],
                       "sha256": result["sha256"]})
    return photo


def photo_variants(photo: Photo) -> list[str]:
    return list(VARIANTS) if photo.status == "ready" else []


__all__ = [
    "UploadLimits", "ChecksumMismatch", "PhotoAlreadyStored", "PhotoTooLarge", "InvalidOwner",
    "ImageRejected", "store_photo_file", "apply_result", "attach_synced_photo", "uploader_may_write", "create_photo", "get_photo",
    "ingest_photo_file",
    "original_key", "derived_key", "variant_key", "reject_photo",
]
