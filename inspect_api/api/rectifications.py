"""Enterprise fixes (整改) and their reviews (复查)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from .common import Blueprint

from ..extensions import db
from ..schemas.audit import AuditEventSchema
from ..schemas.common import ApiErrorSchema
from ..schemas.hazards import (
    RectificationCreateSchema, RectificationQuerySchema, RectificationSchema, ReviewCreateSchema, ReviewSchema,
    history_view,
)
from ..services.lifecycle import documents
from ..services.lifecycle import hazards as hazard_service
from ..services.lifecycle import rectifications as rect_service
from ..services.access.audit import history_of
from .common import paginate
from .notices import pdf_response
from .security import auth_required, current_actor

blp = Blueprint("rectifications", __name__, url_prefix="/api/v1",
                description="Rectifications (整改) reported by enterprises and their reviews (复查)")


@blp.route("/hazards/<hazard_id>/rectifications")
class HazardRectifications(MethodView):
    @auth_required
    @blp.response(200, RectificationSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, hazard_id):
        """The rectifications reported for a hazard, newest first."""
        user = current_actor().user
        hazard = hazard_service.get_hazard(db.session, user, hazard_id)
        return rect_service.with_photo_counts(
            db.session, list(db.session.scalars(rect_service.rectifications_stmt(user, hazard_id=hazard.id))))

    @auth_required
    @blp.arguments(RectificationCreateSchema)
    @blp.response(201, RectificationSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: not acknowledged/rejected, not "
                                                              "the enterprise, major hazard without a complete plan")
    def post(self, data, hazard_id):
        """整改完成: the enterprise reports the fix of an acknowledged (or rejected) hazard. Upload photos of the
        fixed state afterwards with owner_table=rectifications, owner_id=<the returned id>."""
        actor = current_actor()
        hazard = hazard_service.get_hazard(db.session, actor.user, hazard_id)
        return rect_service.report_rectification(db.session, actor, hazard, data)


@blp.route("/rectifications")
class Rectifications(MethodView):
    @auth_required
    @blp.arguments(RectificationQuerySchema, location="query")
    @blp.response(200, RectificationSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Rectifications in the caller's scope; `?status=pending` is the review worklist."""
        page = paginate(rect_service.rectifications_stmt(current_actor().user, **args), pagination_parameters)
        return rect_service.with_photo_counts(db.session, page)


@blp.route("/rectifications/<rect_id>")
class RectificationById(MethodView):
    @auth_required
    @blp.response(200, RectificationSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, rect_id):
        """One rectification."""
        return rect_service.get_rectification(db.session, current_actor().user, rect_id)


@blp.route("/rectifications/<rect_id>/history")
class RectificationHistory(MethodView):
    @auth_required
    @blp.response(200, AuditEventSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, rect_id):
        """The rectification's audit trail (report, review), oldest first."""
        user = current_actor().user
        rect = rect_service.get_rectification(db.session, user, rect_id)
        return history_view(history_of(db.session, "rectifications", rect.id), user.role)


@blp.route("/rectifications/<rect_id>/review")
class RectificationReview(MethodView):
    @auth_required
    @blp.arguments(ReviewCreateSchema)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: already reviewed, not an "
                                                              "inspector, or no evidence (photo / on-site check)")
    @blp.alt_response(422, schema=ApiErrorSchema, description="missing opinion or second officer, bad deadline")
    def post(self, data, rect_id):
        """复查: accept (general → closed, major → verified) or reject (→ rejected, optionally with a new
        deadline). Needs a ready photo of the rectification or an on-site check record, and a second officer.
        The review is numbered (整改复查意见书)."""
        actor = current_actor()
        rect = rect_service.get_rectification(db.session, actor.user, rect_id)
        return rect_service.review_rectification(db.session, actor, rect, data, current_app.config["BUREAU_CODE"])


@blp.route("/reviews/<review_id>")
class ReviewById(MethodView):
    @auth_required
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, review_id):
        """One review."""
        return rect_service.get_review(db.session, current_actor().user, review_id)


@blp.route("/reviews/<review_id>/pdf")
class ReviewPdf(MethodView):
    @auth_required
    @blp.response(200, content_type="application/pdf", description="the 整改复查意见书 as PDF")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, review_id):
        """The review opinion document (整改复查意见书) as PDF."""
        review = rect_service.get_review(db.session, current_actor().user, review_id)
        data = documents.render_review_pdf(db.session, review,
                                           documents.DocumentConfig.from_mapping(current_app.config))
        return pdf_response(data, f"整改复查意见书-{review.number or review.id}.pdf", f"review-{review.id}.pdf")
