from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import fields, validate
from .common import Blueprint
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Enterprise
from ..schemas.common import ApiErrorSchema, ContactSchema, StrictSchema
from ..schemas.enterprises import (
    EnterpriseCreateSchema, EnterpriseQuerySchema, EnterpriseSchema, EnterpriseUpdateSchema, ImportFileSchema,
    ImportQuerySchema, ImportReportSchema,
)
from ..services.access.audit import record_event
from ..services.registry import enterprises as enterprise_service
from ..services.registry import imports as import_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1/enterprises",
                description="The enterprise registry (企业名录): scoped reads, admin/supervisor writes, "
                            "bulk import")


@blp.route("")
class Enterprises(MethodView):
    @auth_required
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.response(200, EnterpriseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Enterprises in the caller's scope.

        Supervisors and inspectors: their region subtree; enterprise users: their own enterprise.
        """
        stmt = enterprise_service.list_enterprises_stmt(current_actor().user, args)
        return paginate(stmt.options(selectinload(Enterprise.region)), pagination_parameters)

    @auth_required("admin", "supervisor")
    @blp.arguments(EnterpriseCreateSchema)
    @blp.response(201, EnterpriseSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="region outside the supervisor's jurisdiction")
    @blp.alt_response(409, schema=ApiErrorSchema, description="uscc_taken")
    def post(self, data):
        """Register an enterprise (统一社会信用代码 checked against its GB 32100 check character)."""
        return enterprise_service.create_enterprise(db.session, current_actor(), data)


@blp.route("/import")
class EnterpriseImport(MethodView):
    @auth_required("admin", "supervisor")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="unreadable file or missing header columns")
    def post(self, files, args):
        """Bulk import from XLSX or CSV (multipart field `file`): every good row is imported, every bad row
        reported with its spreadsheet row number and reason. Idempotent on the credit code."""
        upload = files["file"]
        report = import_service.import_enterprises_file(
            db.session, current_actor(), upload.read(), upload.filename, dry_run=args["dry_run"])
        return report.as_dict()


class TemplateQuerySchema(StrictSchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


def content_disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "enterprise-import-template." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(filename)}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/import/template")
class EnterpriseImportTemplate(MethodView):
    @auth_required("admin", "supervisor")
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, description="import template: XLSX (default) or CSV with ?format=csv", content_type=XLSX)
    def get(self, args):
        """A blank import spreadsheet: Chinese headers, an example row (never imported), a sheet of allowed
        values (XLSX); ``?format=csv`` gives the same header and example row as CSV (UTF-8 with BOM)."""
        data, mimetype, filename = import_service.enterprise_template(args.get("format", "xlsx"))
        return Response(data, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})


@blp.route("/<enterprise_id>/contact")
class EnterpriseContact(MethodView):
    @auth_required("admin", "supervisor", "inspector")
    @blp.response(200, ContactSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, enterprise_id):
        """The contact person and the WHOLE phone number, for the staff who call the enterprise; each view is
        an audit event (lists, exports and pages show the number masked)."""
        actor = current_actor()
        ent = enterprise_service.get_enterprise(db.session, actor.user, enterprise_id)
        record_event(db.session, actor, "pii.view", ent, data={"fields": ["contact_phone"]})
        return {"safety_contact": ent.safety_contact, "contact_phone": ent.contact_phone}


@blp.route("/<enterprise_id>")
class EnterpriseById(MethodView):
    @auth_required
    @blp.etag
    @blp.response(200, EnterpriseSchema)
    def get(self, enterprise_id):
        """One enterprise (another scope's answers 404); send its ETag back as If-Match on PATCH."""
        return enterprise_service.get_enterprise(db.session, current_actor().user, enterprise_id)

    @auth_required("admin", "supervisor")
    @blp.etag
    @blp.arguments(EnterpriseUpdateSchema)
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="region outside the supervisor's jurisdiction")
    @blp.alt_response(409, schema=ApiErrorSchema, description="uscc_taken")
    def patch(self, data, enterprise_id):
        """Change an enterprise; needs If-Match (stale: 412). A region move tells the old region's tablets."""
        actor = current_actor()
        ent = enterprise_service.get_enterprise(db.session, actor.user, enterprise_id, for_update=True)
        blp.check_etag(ent, EnterpriseSchema)
        return enterprise_service.update_enterprise(db.session, actor, ent, data)
