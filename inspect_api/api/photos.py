"""Photo records and their bytes (CONTRACT §3: GET /photos/<id>, …/content)."""
from __future__ import annotations

from flask import Response, current_app, redirect, request, send_file, url_for
from flask.views import MethodView
from .common import Blueprint

from ..extensions import db
from ..schemas.common import ApiErrorSchema
from ..schemas.photos import (
    PhotoContentQuerySchema, PhotoCreateSchema, PhotoFileSchema, PhotoSchema,
)
from ..services.evidence import photos as photo_service
from ..storage import get_storage
from .security import auth_required, current_actor

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos",
                description="Photo evidence: records and files")

IMMUTABLE = "private, max-age=31536000, immutable"


def _dump(photo):
    photo.variants = {
        v: (url_for("photos.PhotoContent", photo_id=photo.id, variant=v, _external=True)
            if photo.status == "ready" else None)
        for v in photo_service.VARIANTS
    }
    return photo


@blp.route("")
class Photos(MethodView):
    @auth_required
    @blp.arguments(PhotoCreateSchema)
    @blp.response(201, PhotoSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="photo_exists")
    @blp.alt_response(422, schema=ApiErrorSchema, description="invalid_owner")
    def post(self, data):
        """Create a photos record (portal and enterprise users, who do not sync); upload its file over tus
        with ``photo_id`` = the record's id, or post it to /photos/files."""
        return _dump(photo_service.create_photo(db.session, current_actor(), data))


@blp.route("/files")
class PhotoFiles(MethodView):
    @auth_required
    @blp.arguments(PhotoFileSchema, location="form_and_files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema,
                      description="invalid_image, checksum_mismatch, invalid_owner")
    def post(self, form):
        """A plain multipart form post of one photo file: the same validation and storage as tus."""
        upload = form["file"]
        photo = photo_service.ingest_photo_file(
            db.session, get_storage(), current_actor(), form.get("photo_id"), form["owner_table"],
            form["owner_id"], upload.stream, upload.filename, upload.mimetype,
            photo_service.UploadLimits.from_config(current_app.config), sha256=form.get("sha256"))
        return _dump(photo)


@blp.route("/<photo_id>")
class PhotoById(MethodView):
    @auth_required
    @blp.response(200, PhotoSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, photo_id):
        """A photo's metadata and the URLs of its variants (original, preview, thumb)."""
        return _dump(photo_service.get_photo(db.session, current_actor(), photo_id))


@blp.route("/<photo_id>/content")
class PhotoContent(MethodView):
    @auth_required
    @blp.arguments(PhotoContentQuerySchema, location="query")
    @blp.response(200, description="the bytes (immutable: ETag and long cache lifetime)")
    @blp.alt_response(302, description="S3: a short-lived presigned URL")
    @blp.alt_response(304, description="not modified (If-None-Match)")
    @blp.alt_response(404, schema=ApiErrorSchema, description="not_found, photo_not_ready")
    def get(self, args, photo_id):
        """The original (byte for byte) or a JPEG derivative (preview 1280, thumb 256; no EXIF, no GPS)."""
        photo = photo_service.get_photo(db.session, current_actor(), photo_id)
        variant = args["variant"]
        key = photo_service.variant_key(photo, variant)
        storage = get_storage()
        etag = f"{photo.sha256}-{variant}"
        signed = storage.url(key, current_app.config["S3_URL_EXPIRES"])
        if signed:
            resp = redirect(signed, 302)
            resp.headers["Cache-Control"] = "no-store"
            return resp
        if request.if_none_match and request.if_none_match.contains(etag):
            resp = Response(status=304)
        else:
            mimetype = photo.content_type if variant == "original" else "image/jpeg"
            resp = send_file(storage.open(key), mimetype=mimetype, etag=False, conditional=False,
                             max_age=None, download_name=f"{photo.id}-{variant}.{_ext(mimetype)}")
            resp.headers["Content-Disposition"] = f'inline; filename="{photo.id}-{variant}.{_ext(mimetype)}"'
        resp.set_etag(etag)
        resp.headers["Cache-Control"] = IMMUTABLE
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp


def _ext(mimetype: str | None) -> str:
    extensions = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
    return extensions.get(mimetype or "", "bin")

