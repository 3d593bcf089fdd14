"""The append-only audit log: staff read their jurisdiction's object histories; the audit administrator
searches and exports the whole log (等保三级 8.1.4.3; services/security/audit_log.py)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from .common import Blueprint
from marshmallow import fields

from ..extensions import db
from ..schemas.audit import AuditEventSchema
from ..schemas.common import ApiErrorSchema, StrictSchema
from ..services.security import audit_log
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The append-only audit log")


class AuditQuerySchema(StrictSchema):
    object_table = fields.String()
    object_id = fields.String()
    actor_id = fields.String()
    actor_username = fields.String()
    action = fields.String()
    action_prefix = fields.String(metadata={"description": "e.g. auth. or hazard."})
    ip = fields.String()
    at_from = fields.AwareDateTime(data_key="from", metadata={"description": "ISO 8601 with offset"})
    at_to = fields.AwareDateTime(data_key="to")


@blp.route("")
class AuditEvents(MethodView):
    @auth_required("audit_admin", "supervisor", "inspector")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Audit events the caller may read (the audit administrator: all; staff: their jurisdiction's),
        newest first, filtered."""
        return paginate(audit_log.search_stmt(current_actor().user, args), pagination_parameters)


@blp.route("/export")
class AuditExport(MethodView):
    @auth_required("audit_admin")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, description="CSV, UTF-8 with BOM")
    @blp.alt_response(422, schema=ApiErrorSchema, description="export_too_large")
    def get(self, args):
        """Export the matching records as CSV (the export is an audit event itself)."""
        body = audit_log.export_csv(db.session, current_actor(), args)
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=audit-events.csv"})
