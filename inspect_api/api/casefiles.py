"""Case files (卷宗): review, archive, download, supplements; proof of service; the bureau log."""
from __future__ import annotations

import io
import zipfile

from flask import Response, current_app
from flask.views import MethodView
from .common import Blueprint  # the strict parser (api/common.py)
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import CaseFile
from ..schemas.casefile import (
    AlarmSchema, ArchiveSchema, CaseFileSchema, CheckpointSchema, ConsistencyQuerySchema, InclusionQuerySchema,
    PreviewSchema, ProofSchema, ServiceCreateSchema, ServiceRecordSchema, SupplementCreateSchema, SupplementSchema,
)
from ..schemas.common import ApiErrorSchema
from ..services.casefile import archive as casefile_service
from ..services.casefile import log as log_service
from ..services.casefile import recheck as recheck_service
from ..services.casefile.service import record_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("casefiles_api", __name__, url_prefix="/api/v1",
                description="Case files (卷宗): 评查, archiving, packages; 送达; the bureau's verifiable log")

READERS = ("legal", "supervisor", "admin")


def settings():
    return casefile_service.settings_from(current_app.config, current_app.instance_path,
                                          current_app.extensions["inspect_storage"])


def package_bytes(casefile: CaseFile) -> bytes:
    return current_app.extensions["inspect_storage"].read_bytes(casefile_service.package_key(casefile))


def _download(data: bytes, mime: str, name: str) -> Response:
    resp = Response(data, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@blp.route("/casefiles")
class CaseFiles(MethodView):
    @auth_required(*READERS)
    @blp.response(200, CaseFileSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Archived files in the caller's jurisdiction, newest first."""
        stmt = casefile_service.casefiles_stmt(current_actor().user).options(selectinload(CaseFile.supplements))
        return paginate(stmt, pagination_parameters)

    @auth_required("legal")
    @blp.arguments(ArchiveSchema)
    @blp.response(201, CaseFileSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="case or inspection outside your scope")
    @blp.alt_response(409, schema=ApiErrorSchema,
                      description="casefile_not_closed, casefile_exists, casefile_review_failed (details.findings)")
    def post(self, data):
        """归档: archive a closed case or inspection; blocking review findings need override_reason."""
        return casefile_service.archive_file(db.session, settings(), current_actor(), data["kind"],
                                             data["subject_id"], data.get("override_reason"))


@blp.route("/casefiles/preview/<kind>/<subject_id>")
class CaseFilePreview(MethodView):
    @auth_required(*READERS)
    @blp.response(200, PreviewSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, kind, subject_id):
        """评查: the file as it would be archived now, with the review's findings."""
        subject, built, findings = casefile_service.preview(db.session, settings(), current_actor(), kind,
                                                            subject_id)
        existing = casefile_service.existing_file(db.session, kind, subject_id)
        return {"kind": kind, "subject_id": subject_id, "cover": built.manifest["cover"],
                "entries": built.manifest["entries"], "root": built.roots, "findings": findings,
                "archived_id": existing.id if existing else None}


@blp.route("/casefiles/<casefile_id>")
class CaseFileById(MethodView):
    @auth_required(*READERS)
    @blp.response(200, CaseFileSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, casefile_id):
        """One archived file."""
        return casefile_service.get_casefile(db.session, current_actor().user, casefile_id)


@blp.route("/casefiles/<casefile_id>/package")
class CaseFilePackage(MethodView):
    @auth_required(*READERS)
    @blp.response(200, description="the package ZIP (application/zip)")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, casefile_id):
        """The package: manifest, documents with their data, originals, audit events, proofs, verify.py."""
        cf = casefile_service.get_casefile(db.session, current_actor().user, casefile_id)
        return _download(package_bytes(cf), "application/zip", f"casefile-{cf.id}.zip")


@blp.route("/casefiles/<casefile_id>/pdf")
class CaseFilePdf(MethodView):
    @auth_required(*READERS)
    @blp.response(200, description="the bound PDF with bookmarks (application/pdf)")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, casefile_id):
        """The bound file as one PDF (cover, 卷内目录, documents, 备考表), from the package."""
        cf = casefile_service.get_casefile(db.session, current_actor().user, casefile_id)
        with zipfile.ZipFile(io.BytesIO(package_bytes(cf))) as zf:
            pdf = zf.read("front/casefile.pdf")
        return _download(pdf, "application/pdf", f"casefile-{cf.id}.pdf")


@blp.route("/casefiles/<casefile_id>/supplements")
class CaseFileSupplements(MethodView):
    @auth_required("legal")
    @blp.arguments(SupplementCreateSchema)
    @blp.response(201, SupplementSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data, casefile_id):
        """更正补充: append an audited correction to an archived file (the file itself never changes)."""
        actor = current_actor()
        cf = casefile_service.get_casefile(db.session, actor.user, casefile_id)
        return casefile_service.add_supplement(db.session, settings(), actor, cf, data["reason"], data["content"])


@blp.route("/service-records")
class ServiceRecords(MethodView):
    @auth_required("inspector", "supervisor")
    @blp.arguments(ServiceCreateSchema)
    @blp.response(201, ServiceRecordSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="casefile_archived")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data):
        """送达: record that a decision, notice or review was served (送达回执)."""
        return record_service(db.session, current_actor(), data)


@blp.route("/casefile-log/checkpoint")
class LogCheckpoint(MethodView):
    @auth_required(*READERS)
    @blp.response(200, CheckpointSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no checkpoint yet")
    def get(self):
        """The latest signed checkpoint of the bureau log, and the key to verify it with."""
        cp = log_service.latest_checkpoint(db.session)
        if cp is None:
            raise NotFound("尚无检查点 (no checkpoint yet)")
        return {"tree_size": cp.tree_size, "root_sha256": cp.root_sha256, "root_sm3": cp.root_sm3, "text": cp.text,
                "created_at": cp.created_at, "verifier_key": settings().signer_loader().vkey}


@blp.route("/casefile-log/inclusion")
class LogInclusion(MethodView):
    @auth_required(*READERS)
    @blp.arguments(InclusionQuerySchema, location="query")
    @blp.response(200, ProofSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def get(self, args):
        """Inclusion proof (RFC 9162) of leaf ``index`` in the tree of ``tree_size``."""
        return _proof(lambda: log_service.inclusion_proof(db.session, args["index"], args["tree_size"]))


@blp.route("/casefile-log/consistency")
class LogConsistency(MethodView):
    @auth_required(*READERS)
    @blp.arguments(ConsistencyQuerySchema, location="query")
    @blp.response(200, ProofSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def get(self, args):
        """Consistency proof (RFC 9162) between the trees of size1 and size2."""
        return _proof(lambda: log_service.consistency_proof(db.session, args["size1"], args["size2"]))


def _proof(fn):
    from ..errors import ValidationError

    try:
        return fn()
    except ValueError as exc:
        raise ValidationError("超出日志范围 (outside the log)", details={"reason": str(exc)}) from None


@blp.route("/casefile-log/alarms")
class LogAlarms(MethodView):
    @auth_required(*READERS)
    @blp.response(200, AlarmSchema(many=True))
    def get(self):
        """Open alarms of the re-check: audit rows changed or vanished, the log inconsistent."""
        return recheck_service.open_alarms(db.session)
