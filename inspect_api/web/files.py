"""Session-authenticated photo and document routes for the portal.

The API's photo URLs take bearer tokens; these routes take the portal session,
check scope with services/scope.get_scoped (another scope's photo is a 404),
and stream from the configured storage.
"""
from __future__ import annotations

import importlib

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import NotFound, ObjectMissing
from ..extensions import db
from ..models import Photo
from ..services.access.scope import get_scoped, scope_clause
from ..storage import get_storage
from .session_auth import current_portal_actor, login_required

bp = Blueprint("files", __name__, url_prefix="/files")

VARIANTS = ("thumb", "preview", "original")


def _service(name: str):
    try:
        return importlib.import_module(f"inspect_api.services.lifecycle.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"inspect_api.services.lifecycle.{name}":
            return None
        raise


def photos_by_owner(user, owner_table: str, owner_ids: list[str]) -> dict[str, list[Photo]]:
    """Ready photos of the given owners that the user may see, grouped by owner id."""
    out: dict[str, list[Photo]] = {}
    if not owner_ids:
        return out
    stmt = (select(Photo).where(scope_clause(Photo, user), Photo.owner_table == owner_table,
                                Photo.owner_id.in_(owner_ids), Photo.status == "ready",
                                Photo.deleted_at.is_(None))
            .order_by(Photo.taken_at.is_(None), Photo.taken_at, Photo.created_at))
    for photo in db.session.scalars(stmt):
        out.setdefault(photo.owner_id, []).append(photo)
    return out


def ingest_upload(actor, file_storage, owner_table: str, owner_id: str) -> Photo:
    """A photo posted in a portal form, through the photos service (same checks and storage as tus)."""
    from ..services.evidence import photos

    return photos.ingest_photo_file(
        db.session, get_storage(), actor, None, owner_table, owner_id, file_storage.stream,
        file_storage.filename, file_storage.mimetype, photos.UploadLimits.from_config(current_app.config),
    )


def is_photo_error(exc) -> bool:
    """The error came from validating or storing an uploaded photo (not from the form's other fields)."""
    from ..services.evidence import photos
    from ..services.evidence.images import ImageRejected

    return isinstance(exc, (ImageRejected, photos.ChecksumMismatch, photos.PhotoTooLarge,
                            photos.InvalidOwner))


def _variant_key(photo: Photo, variant: str) -> str:
    from ..services.evidence import photos

    return photos.variant_key(photo, variant)


@bp.route("/photos/<photo_id>/<variant>")
@login_required
def photo_content(photo_id, variant):
    if variant not in VARIANTS:
        abort(404)
    actor = current_portal_actor()
    photo = get_scoped(db.session, Photo, photo_id, actor.user)
    if photo.status != "ready":
        raise NotFound("照片尚未处理完成 (photo not ready)")
    key = _variant_key(photo, variant)
    storage = get_storage()
    if not key:
        raise NotFound("照片缩略图缺失 (photo variant missing)")
    try:
        fileobj = storage.open(key)
    except ObjectMissing:
        raise NotFound("照片文件缺失 (photo content missing)") from None
    content_type = photo.content_type if variant == "original" else "image/jpeg"
    resp = send_file(fileobj, mimetype=content_type or "application/octet-stream", max_age=3600,
                     conditional=True, etag=f"{photo.sha256 or photo.id}-{variant}")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.route("/photos/<photo_id>")
@login_required
def photo_page(photo_id):
    actor = current_portal_actor()
    photo = get_scoped(db.session, Photo, photo_id, actor.user)
    back = request.referrer if _same_origin_referrer() else None
    return render_template("photo.html", photo=photo, back=back)


def _same_origin_referrer() -> bool:
    ref = request.referrer or ""
    return ref.startswith(request.host_url)


# ------------------------------------------------------------------ documents (PDF)

def documents_available() -> bool:
    return _service("documents") is not None


def _pdf(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype="application/pdf")
    from urllib.parse import quote

    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def notice_pdf_response(actor, notice) -> Response:
    docs = _service("documents")
    if docs is None:
        raise NotFound(_("文书暂不可下载"))
    data = docs.render_notice_pdf(db.session, notice, docs.DocumentConfig.from_mapping(current_app.config))
    return _pdf(data, f"{notice.number or notice.id}.pdf")


def review_pdf_response(actor, review) -> Response:
    docs = _service("documents")
    if docs is None:
        raise NotFound(_("文书暂不可下载"))
    data = docs.render_review_pdf(db.session, review, docs.DocumentConfig.from_mapping(current_app.config))
    return _pdf(data, f"{review.number or review.id}.pdf")
