from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint
from marshmallow import fields
from sqlalchemy import select

from ..models import AuditEvent
from ..schemas.audit import AuditEventSchema
from ..schemas.common import StrictSchema
from ..services.access.scope import scoped
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The append-only audit log")


class AuditQuerySchema(StrictSchema):
    object_table = fields.String()
    object_id = fields.String()
    actor_id = fields.String()
    action = fields.String()


@blp.route("")
class AuditEvents(MethodView):
    @auth_required("admin", "supervisor", "inspector")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Audit events in the caller's jurisdiction, oldest first."""
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        for key in ("object_table", "object_id", "actor_id", "action"):
            if args.get(key):
                stmt = stmt.where(getattr(AuditEvent, key) == args[key])
        return paginate(scoped(stmt, AuditEvent, current_actor().user), pagination_parameters)
