from __future__ import annotations

from flask import Response
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Enterprise
from ..schemas.common import ApiErrorSchema
from ..schemas.enterprises import (
    EnterpriseCreateSchema, EnterpriseQuerySchema, EnterpriseSchema, EnterpriseUpdateSchema, ImportFileSchema,
    ImportQuerySchema, ImportReportSchema,
)
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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/import/template")
class EnterpriseImportTemplate(MethodView):
    @auth_required("admin", "supervisor")
    @blp.response(200, description="XLSX import template", content_type=XLSX)
    def get(self):
        """A blank import spreadsheet: Chinese headers, an example row, a sheet of allowed values."""
        from ..services.registry.uscc import make_uscc

        data = import_service.enterprise_template_xlsx(make_uscc("131102", 1))
        return Response(data, mimetype=XLSX, headers={
            "Content-Disposition": "attachment; filename=enterprise-import-template.xlsx; filename*=UTF-8''"
                                   "%E4%BC%81%E4%B8%9A%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"})


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
