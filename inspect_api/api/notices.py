"""Rectification notices (责令限期整改指令书): issue, acknowledge (签收), PDF, history."""
from __future__ import annotations

from flask import current_app, make_response
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Hazard, Notice
from ..schemas.audit import AuditEventSchema
from ..schemas.common import ApiErrorSchema
from ..schemas.hazards import history_view
from ..schemas.notices import AcknowledgeSchema, NoticeCreateSchema, NoticeQuerySchema, NoticeSchema
from ..services.lifecycle import documents
from ..services.lifecycle import notices as notice_service
from ..services.access.audit import history_of
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("notices", __name__, url_prefix="/api/v1/notices",
                description="Rectification notices (责令限期整改指令书)")


def pdf_response(data: bytes, filename: str, ascii_name: str):
    from urllib.parse import quote

    resp = make_response(data)
    resp.headers["Content-Type"] = "application/pdf"
    resp.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                           f"filename*=UTF-8''{quote(filename)}")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@blp.route("")
class Notices(MethodView):
    @auth_required
    @blp.arguments(NoticeQuerySchema, location="query")
    @blp.response(200, NoticeSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Notices in the caller's scope (an enterprise: its own), newest first, with their hazards."""
        stmt = notice_service.notices_stmt(current_actor().user, **args).options(
            selectinload(Notice.hazards).selectinload(Hazard.enterprise),
            selectinload(Notice.hazards).selectinload(Hazard.plan), selectinload(Notice.enterprise),
            selectinload(Notice.officer1), selectinload(Notice.officer2))
        return paginate(stmt, pagination_parameters)

    @auth_required("inspector")
    @blp.arguments(NoticeCreateSchema)
    @blp.response(201, NoticeSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="a hazard outside your scope")
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: a hazard is not in status found")
    @blp.alt_response(422, schema=ApiErrorSchema, description="missing second officer, bad deadline, mixed hazards")
    def post(self, data):
        """Issue a notice for hazards (status found) of one inspection: the server numbers it (文号), the
        caller is officer 1, officer2_id the second officer; the hazards become ordered."""
        return notice_service.issue_notice(db.session, current_actor(), data, current_app.config["BUREAU_CODE"])


@blp.route("/<notice_id>")
class NoticeById(MethodView):
    @auth_required
    @blp.response(200, NoticeSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, notice_id):
        """One notice with its hazards."""
        return notice_service.get_notice(db.session, current_actor().user, notice_id)


@blp.route("/<notice_id>/acknowledge")
class NoticeAcknowledge(MethodView):
    @auth_required
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, NoticeSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: already acknowledged, or not "
                                                              "the enterprise")
    def post(self, data, notice_id):
        """签收: the enterprise acknowledges the notice; its ordered hazards become acknowledged."""
        actor = current_actor()
        notice = notice_service.get_notice(db.session, actor.user, notice_id)
        return notice_service.acknowledge_notice(db.session, actor, notice, reason=data.get("reason"))


@blp.route("/<notice_id>/pdf")
class NoticePdf(MethodView):
    @auth_required
    @blp.response(200, content_type="application/pdf", description="the 责令限期整改指令书 as PDF")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, notice_id):
        """The notice as a PDF (责令限期整改指令书)."""
        notice = notice_service.get_notice(db.session, current_actor().user, notice_id)
        data = documents.render_notice_pdf(db.session, notice,
                                           documents.DocumentConfig.from_mapping(current_app.config))
        return pdf_response(data, f"责令限期整改指令书-{notice.number or notice.id}.pdf", f"notice-{notice.id}.pdf")


@blp.route("/<notice_id>/history")
class NoticeHistory(MethodView):
    @auth_required
    @blp.response(200, AuditEventSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, notice_id):
        """The notice's audit trail (issue, acknowledge, close), oldest first."""
        user = current_actor().user
        notice = notice_service.get_notice(db.session, user, notice_id)
        return history_view(history_of(db.session, "notices", notice.id), user.role)
