"""Major-hazard criteria catalogues (判定标准): list, import, publish, clauses in force, checklist
generation, and the supervisors' re-grading (/api/v1/criteria). Statistics by clause: /api/v1/stats/criteria."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from .common import Blueprint

from ..errors import NotFound
from ..extensions import db
from ..models import Enterprise
from ..schemas.checklists import ChecklistTemplateDetailSchema
from ..schemas.common import ApiErrorSchema
from ..schemas.criteria import (
    CatalogueCreateSchema, CatalogueDetailSchema, CatalogueImportFileSchema, CatalogueImportQuerySchema,
    CatalogueImportReportSchema, CatalogueQuerySchema, CatalogueSchema, CatalogueUpdateSchema, ClauseSchema,
    GenerateChecklistSchema, InForceQuerySchema, RegradeCandidateSchema, RegradeQuerySchema, RegradeRowSchema,
    RegradeSchema,
)
from ..services.access.scope import get_scoped
from ..services.criteria import catalogues as catalogue_service
from ..services.criteria import regrade as regrade_service
from ..services.criteria.checklists import generate_checklist
from ..services.criteria.imports import catalogue_template_xlsx, import_catalogue
from .security import auth_required, current_actor

blp = Blueprint("criteria", __name__, url_prefix="/api/v1/criteria",
                description="Major-hazard judgement standards (重大事故隐患判定标准) as versioned catalogues")

STAFF = ("admin", "supervisor", "inspector")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/catalogues")
class Catalogues(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(CatalogueQuerySchema, location="query")
    @blp.response(200, CatalogueSchema(many=True))
    def get(self, args):
        """Every catalogue version (drafts too for admins), oldest standard first."""
        user = current_actor().user
        status = args.get("status") if user.role == "admin" else "published"
        return catalogue_service.list_catalogues(db.session, status=status)

    @auth_required("admin")
    @blp.arguments(CatalogueCreateSchema)
    @blp.response(201, CatalogueDetailSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="criteria_import_invalid (details.report)")
    def post(self, data):
        """Create a draft catalogue from JSON (same checks and report as the import)."""
        import json

        meta = {k: v for k, v in data.items() if k != "clauses"}
        body = json.dumps({"catalogue": {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                         for k, v in meta.items()}, "clauses": data["clauses"]}, ensure_ascii=False)
        report = import_catalogue(db.session, current_actor(), body.encode("utf-8"), "catalogue.json")
        return catalogue_service.get_catalogue(db.session, report.catalogue_id)


@blp.route("/catalogues/<catalogue_id>")
class CatalogueById(MethodView):
    @auth_required(*STAFF)
    @blp.etag
    @blp.response(200, CatalogueDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, catalogue_id):
        """One catalogue version with its clauses in order."""
        catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
        if catalogue.status != "published" and current_actor().user.role != "admin":
            raise NotFound("判定标准不存在 (catalogue not found)")  # drafts are the admins' only
        return catalogue

    @auth_required("admin")
    @blp.etag
    @blp.arguments(CatalogueUpdateSchema)
    @blp.response(200, CatalogueDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="catalogue_immutable (published)")
    def patch(self, data, catalogue_id):
        """Change a draft's metadata. A published catalogue answers 409 catalogue_immutable."""
        catalogue = catalogue_service.get_catalogue(db.session, catalogue_id, for_update=True)
        blp.check_etag(catalogue, CatalogueDetailSchema)
        return catalogue_service.update_catalogue(db.session, current_actor(), catalogue, data)

    @auth_required("admin")
    @blp.response(204)
    @blp.alt_response(409, schema=ApiErrorSchema, description="catalogue_immutable (published)")
    def delete(self, catalogue_id):
        """Discard a draft."""
        catalogue = catalogue_service.get_catalogue(db.session, catalogue_id, for_update=True)
        catalogue_service.delete_draft(db.session, current_actor(), catalogue)


@blp.route("/catalogues/<catalogue_id>/publish")
class CataloguePublish(MethodView):
    @auth_required("admin")
    @blp.response(200, CatalogueDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="catalogue_immutable (already published)")
    def post(self, catalogue_id):
        """Publish a draft: immutable from now on; ends the catalogue it replaces the day before it takes effect."""
        catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
        return catalogue_service.publish_catalogue(db.session, current_actor(), catalogue)


@blp.route("/catalogues/<catalogue_id>/checklist")
class CatalogueChecklist(MethodView):
    @auth_required("admin")
    @blp.arguments(GenerateChecklistSchema)
    @blp.response(201, ChecklistTemplateDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_code_taken")
    def post(self, data, catalogue_id):
        """Generate a checklist from a published catalogue: one item per clause, linked to it."""
        catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
        return generate_checklist(db.session, current_actor(), catalogue, **data)


@blp.route("/import")
class CatalogueImport(MethodView):
    @auth_required("admin")
    @blp.arguments(CatalogueImportFileSchema, location="files")
    @blp.arguments(CatalogueImportQuerySchema, location="query")
    @blp.response(200, CatalogueImportReportSchema)
    @blp.alt_response(422, schema=ApiErrorSchema,
                      description="criteria_import_invalid: rows with errors (details.report); nothing imported")
    def post(self, files, args):
        """Import a catalogue as a draft from XLSX / CSV (metadata in the query) or JSON; row-by-row report.
        All or nothing; `dry_run=true` only checks."""
        upload = files["file"]
        dry_run = args.pop("dry_run", False)
        report = import_catalogue(db.session, current_actor(), upload.read(), upload.filename, metadata=args,
                                  dry_run=dry_run)
        return report.as_dict()


@blp.route("/import/template")
class CatalogueImportTemplate(MethodView):
    @auth_required("admin")
    @blp.doc(responses={"200": {"description": "the XLSX template",
                                "content": {XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self):
        """The blank import spreadsheet (条款号, 分组, 条款内容, 释义) with instructions."""
        resp = Response(catalogue_template_xlsx(), mimetype=XLSX_MIME)
        resp.headers["Content-Disposition"] = (
            "attachment; filename=\"criteria-template.xlsx\"; filename*=UTF-8''%E5%88%A4%E5%AE%9A%E6%A0%87%E5%87%86"
            "%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx")
        return resp


@blp.route("/in-force")
class ClausesInForce(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(InForceQuerySchema, location="query")
    @blp.response(200, ClauseSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args):
        """The clauses a major hazard of this enterprise found on `day` may be graded by."""
        from ..models import utcnow

        ent = get_scoped(db.session, Enterprise, args["enterprise_id"], current_actor().user)
        day = args.get("day") or catalogue_service.local_day(utcnow())
        return catalogue_service.clauses_in_force(db.session, day, ent.industry, ent.region_id)


@blp.route("/regrade")
class Regrade(MethodView):
    @auth_required("supervisor")
    @blp.arguments(RegradeQuerySchema, location="query")
    @blp.response(200, RegradeCandidateSchema(many=True))
    def get(self, args):
        """Open major hazards of the jurisdiction not judged by the target catalogue yet."""
        return regrade_service.regrade_candidates(db.session, current_actor(), args["catalogue_id"])

    @auth_required("supervisor")
    @blp.arguments(RegradeSchema)
    @blp.response(200, RegradeRowSchema(many=True))
    @blp.alt_response(422, schema=ApiErrorSchema, description="regrade_invalid (details.preview); nothing changed")
    def post(self, data):
        """Re-grade hazards under the target catalogue: all changes or none, one audit event per hazard."""
        rows = regrade_service.apply_regrade(db.session, current_actor(), data["catalogue_id"], data["changes"],
                                             data.get("reason"))
        return [regrade_service.public_row(r) for r in rows]


@blp.route("/regrade/preview")
class RegradePreview(MethodView):
    @auth_required("supervisor")
    @blp.arguments(RegradeSchema)
    @blp.response(200, RegradeRowSchema(many=True))
    def post(self, data):
        """What a re-grading would change (before → after, and any problem); changes nothing."""
        rows = regrade_service.preview_regrade(db.session, current_actor(), data["catalogue_id"], data["changes"])
        return [regrade_service.public_row(r) for r in rows]
