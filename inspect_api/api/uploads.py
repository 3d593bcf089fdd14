"""tus 1.0.0 resumable uploads of photo files (CONTRACT §3).

The bodies are raw bytes (application/offset+octet-stream), read from
request.stream in chunks by the service; the protocol lives in headers, so the
views build their responses themselves. Every response of this blueprint
carries ``Tus-Resumable: 1.0.0`` and ``Cache-Control: no-store``; every request
but OPTIONS must carry ``Tus-Resumable: 1.0.0`` (else 412).

A PATCH commits the request transaction once before streaming the body (so no
database lock is held while bytes arrive over a slow network) and again after
recording the chunk; a refused file (422) commits the clean-up before answering.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, request, url_for
from flask.views import MethodView
from .common import Blueprint
from werkzeug.http import http_date

from ..extensions import db
from ..schemas.common import ApiErrorSchema
from ..services.evidence import uploads as upload_service
from ..services.evidence.photos import UploadLimits
from ..storage import get_storage
from .security import auth_required, current_actor

blp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads",
                description="tus 1.0.0 resumable photo uploads (creation, creation-with-upload, checksum, "
                            "termination, expiration, concatenation)")

TUS_HEADERS = {"Tus-Resumable": upload_service.TUS_VERSION}
_UPLOAD_DOC = {"parameters": [
    {"in": "header", "name": "Tus-Resumable", "required": True,
     "schema": {"type": "string", "enum": ["1.0.0"]}},
]}


@blp.before_request
def _check_version():
    if request.method == "OPTIONS":
        return None
    if request.headers.get("Tus-Resumable") != upload_service.TUS_VERSION:
        raise upload_service.UnsupportedVersion(headers={"Tus-Version": upload_service.TUS_VERSION})
    return None


@blp.after_request
def _tus_headers(response):
    response.headers["Tus-Resumable"] = upload_service.TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    if response.status_code == 412:
        response.headers["Tus-Version"] = upload_service.TUS_VERSION
    return response


def _limits() -> UploadLimits:
    return UploadLimits.from_config(current_app.config)


def _location(upload_id: str) -> str:
    return url_for("uploads.UploadById", upload_id=upload_id, _external=True)


def _empty(status: int) -> Response:
    resp = Response(status=status)
    del resp.headers["Content-Type"]
    return resp


def _options_response() -> Response:
    resp = _empty(204)
    resp.headers["Tus-Version"] = upload_service.TUS_VERSION
    resp.headers["Tus-Extension"] = upload_service.TUS_EXTENSIONS
    resp.headers["Tus-Max-Size"] = str(current_app.config["UPLOAD_MAX_SIZE"])
    resp.headers["Tus-Checksum-Algorithm"] = ",".join(upload_service.CHECKSUM_ALGORITHMS)
    return resp


def _state_headers(upload, resp: Response) -> Response:
    resp.headers["Upload-Offset"] = str(upload.offset)
    if upload.length is not None:
        resp.headers["Upload-Length"] = str(upload.length)
    if upload.state == "open":
        resp.headers["Upload-Expires"] = http_date(upload.expires_at)
    if upload.is_partial:
        resp.headers["Upload-Concat"] = "partial"
    elif upload.concat_parts is not None:
        resp.headers["Upload-Concat"] = "final;" + " ".join(_location(p) for p in upload.concat_parts)
    return resp


def _upload_id_from_url(url: str) -> str | None:
    path = urlsplit(url.strip()).path.rstrip("/")
    prefix = blp.url_prefix.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    return rest if rest and "/" not in rest else None


def _parse_concat(header: str | None):
    if not header:
        return None, None
    header = header.strip()
    if header == "partial":
        return "partial", None
    if header.startswith("final;"):
        ids = [_upload_id_from_url(u) for u in header[len("final;"):].split()]
        if not ids or any(i is None for i in ids):
            raise upload_service.TusError("Upload-Concat 无效 (invalid Upload-Concat)", code="invalid_concat")
        return "final", ids
    raise upload_service.TusError("Upload-Concat 无效 (invalid Upload-Concat)", code="invalid_concat")


def _write_body(actor, upload_id: str, offset: int, length: int):
    """Stream the request body as the chunk at ``offset``; returns the upload after recording it."""
    storage = get_storage()
    checksum = upload_service.parse_checksum(request.headers.get("Upload-Checksum"))
    db.session.commit()  # release the database while the body streams in
    key, size, _interrupted = upload_service.store_chunk(storage, upload_id, offset, length, request.stream,
                                                         checksum)
    try:
        upload = upload_service.commit_chunk(db.session, storage, actor, upload_id, offset, key, size,
                                             _limits())
    except upload_service.UploadRejected:
        db.session.commit()  # keep the clean-up (parts, row, rejected record)
        raise
    return upload


@blp.route("", methods=["OPTIONS", "POST"])
class Uploads(MethodView):
    @blp.doc(security=[], summary="tus discovery")
    @blp.response(204, headers={"Tus-Version": {"schema": {"type": "string"}},
                                "Tus-Extension": {"schema": {"type": "string"}},
                                "Tus-Max-Size": {"schema": {"type": "integer"}},
                                "Tus-Checksum-Algorithm": {"schema": {"type": "string"}}})
    def options(self):
        """Server capabilities: version, extensions, size limit, checksum algorithms."""
        return _options_response()

    @auth_required
    @blp.doc(**_UPLOAD_DOC)
    @blp.response(201, description="Created; Location is the upload URL",
                  headers={"Location": {"schema": {"type": "string"}},
                           "Upload-Offset": {"schema": {"type": "integer"}},
                           "Upload-Expires": {"schema": {"type": "string"}}})
    @blp.alt_response(400, schema=ApiErrorSchema,
                      description="missing_photo_id, length_required, invalid_metadata")
    @blp.alt_response(404, schema=ApiErrorSchema, description="the photos record belongs to another scope")
    @blp.alt_response(412, schema=ApiErrorSchema, description="Tus-Resumable is not 1.0.0")
    @blp.alt_response(413, schema=ApiErrorSchema, description="Upload-Length over Tus-Max-Size")
    @blp.alt_response(422, schema=ApiErrorSchema, description="final upload refused (invalid_image, …)")
    def post(self):
        """Create an upload (``Upload-Length``, ``Upload-Metadata`` with photo_id, filename, filetype,
        sha256); with a body, the first chunk too (creation-with-upload); with ``Upload-Concat:
        partial`` / ``final;<urls>``, concatenation."""
        actor = current_actor()
        concat, final_ids = _parse_concat(request.headers.get("Upload-Concat"))
        metadata = upload_service.parse_metadata(request.headers.get("Upload-Metadata"))
        length = upload_service.parse_length(request.headers.get("Upload-Length"), "Upload-Length")
        body_length = request.content_length or 0
        has_body = body_length > 0 and concat != "final"
        if has_body:
            if (request.content_type or "").split(";")[0].strip().lower() != upload_service.OCTET_STREAM:
                raise upload_service.WrongContentType()
            if length is not None and body_length > length:
                raise upload_service.UploadTooLarge("超过 Upload-Length (the body goes past Upload-Length)")
        try:
            upload = upload_service.create_upload(db.session, actor, length=length, metadata=metadata,
                                                  concat=concat, final_ids=final_ids, limits=_limits(),
                                                  storage=get_storage())
        except upload_service.UploadRejected:
            db.session.commit()
            raise
        upload_id = upload.id
        if has_body:
            upload = _write_body(actor, upload_id, 0, upload.length)
        resp = _empty(201)
        resp.headers["Location"] = _location(upload_id)
        return _state_headers(upload, resp)


@blp.route("/<upload_id>", methods=["OPTIONS", "HEAD", "PATCH", "DELETE"])
class UploadById(MethodView):
    @blp.doc(security=[], summary="tus discovery")
    @blp.response(204)
    def options(self, upload_id):
        """Server capabilities (same as on the collection)."""
        return _options_response()

    @auth_required
    @blp.doc(**_UPLOAD_DOC)
    @blp.response(200, description="Upload-Offset, Upload-Length, Upload-Expires; Cache-Control: no-store",
                  headers={"Upload-Offset": {"schema": {"type": "integer"}},
                           "Upload-Length": {"schema": {"type": "integer"}}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(410, schema=ApiErrorSchema, description="upload_expired")
    def head(self, upload_id):
        """The upload's offset (where to resume)."""
        upload = upload_service.get_upload(db.session, current_actor(), upload_id)
        return _state_headers(upload, _empty(200))

    @auth_required
    @blp.doc(**_UPLOAD_DOC)
    @blp.response(204, headers={"Upload-Offset": {"schema": {"type": "integer"}}})
    @blp.alt_response(409, schema=ApiErrorSchema, description="offset_mismatch")
    @blp.alt_response(410, schema=ApiErrorSchema, description="upload_expired")
    @blp.alt_response(413, schema=ApiErrorSchema, description="past Upload-Length")
    @blp.alt_response(415, schema=ApiErrorSchema, description="not application/offset+octet-stream")
    @blp.alt_response(422, schema=ApiErrorSchema, description="the finished file was refused")
    @blp.alt_response(460, schema=ApiErrorSchema, description="checksum_mismatch: the chunk was discarded")
    def patch(self, upload_id):
        """Append a chunk at ``Upload-Offset`` (optionally with ``Upload-Checksum: sha1|sha256 <base64>``).
        On the last byte the file is validated and stored; the photo becomes ready."""
        actor = current_actor()
        upload = upload_service.get_upload(db.session, actor, upload_id)
        offset = upload_service.parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
        try:
            upload_service.check_patch(upload, offset, request.content_type, request.content_length)
        except upload_service.OffsetMismatch as exc:
            exc.headers = {**exc.headers, "Upload-Offset": str(upload.offset)}
            raise
        upload = _write_body(actor, upload.id, offset, upload.length)
        return _state_headers(upload, _empty(204))

    @auth_required
    @blp.doc(**_UPLOAD_DOC)
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def delete(self, upload_id):
        """Terminate an upload: its stored parts are deleted."""
        upload_service.terminate_upload(db.session, get_storage(), current_actor(), upload_id)
        return _empty(204)

