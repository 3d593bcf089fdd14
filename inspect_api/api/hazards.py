"""Hazards (隐患): listing, recording, and the lifecycle steps that act on one hazard.

Notices (ordering, acknowledging) are under /notices, the enterprise's fix and
the review under /hazards/<id>/rectifications and /rectifications.
"""
from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Hazard
from ..schemas.audit import AuditEventSchema
from ..schemas.common import ApiErrorSchema
from ..schemas.hazards import (
    ActionsSchema, CloseSchema, DeadlineSchema, GradeSchema, HazardCreateSchema, HazardQuerySchema, HazardSchema,
    ListingSchema, OnSpotSchema, PlanSchema, PlanWriteSchema, history_view,
)
from ..services.lifecycle import hazards as hazard_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("hazards", __name__, url_prefix="/api/v1/hazards",
                description="Hazards (隐患) and their lifecycle to closure (销号)")

REFUSALS = {
    404: "not_found: outside your scope",
    409: "invalid_transition: wrong state, role or failed guard (details.action/status/reason)",
    412: "precondition_failed: stale version (body `version` or If-Match)",
}


def _refusals(fn):
    for status, text in REFUSALS.items():
        fn = blp.alt_response(status, schema=ApiErrorSchema, description=text)(fn)
    return fn


def etag(hazard) -> dict:
    return {"ETag": f'"{hazard.version}"'}


def _if_match_version() -> int | None:
    """The version named by an If-Match header ("3" or W/"3"), if any."""
    from flask import request

    from ..errors import PreconditionFailed

    raw = request.headers.get("If-Match")
    if not raw or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match 须为隐患版本号 (If-Match must be the hazard's ETag)")
    return int(value)


def _step(hazard_id, action, data, **params):
    actor = current_actor()
    hazard = hazard_service.get_hazard(db.session, actor.user, hazard_id)
    version = data.pop("version", None)
    if version is None:
        version = _if_match_version()
    reason = data.pop("reason", None)
    hazard = hazard_service.transition(db.session, actor, hazard, action, reason=reason, expected_version=version,
                                       **{**data, **params})
    return hazard, etag(hazard)


@blp.route("")
class Hazards(MethodView):
    @auth_required
    @blp.arguments(HazardQuerySchema, location="query")
    @blp.response(200, HazardSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Hazards in the caller's scope, newest first; `?overdue=true` lists those past their deadline
        and not closed."""
        stmt = hazard_service.hazards_stmt(current_actor().user, **args)
        return paginate(stmt.options(selectinload(Hazard.enterprise), selectinload(Hazard.plan)),
                        pagination_parameters)

    @auth_required("inspector")
    @blp.arguments(HazardCreateSchema)
    @blp.response(201, HazardSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="enterprise or inspection outside your scope")
    def post(self, data):
        """Record a hazard (status found). Tablets push theirs through /sync."""
        return hazard_service.create_hazard(db.session, current_actor(), data)


@blp.route("/<hazard_id>")
class HazardById(MethodView):
    @auth_required
    @blp.response(200, HazardSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, hazard_id):
        """One hazard; its ETag is its version (send it back as If-Match, or `version`, on a step)."""
        hazard = hazard_service.get_hazard(db.session, current_actor().user, hazard_id)
        return hazard, etag(hazard)


@blp.route("/<hazard_id>/actions")
class HazardActions(MethodView):
    @auth_required
    @blp.response(200, ActionsSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, hazard_id):
        """The lifecycle actions the caller may take on this hazard now (for buttons on a client)."""
        user = current_actor().user
        hazard = hazard_service.get_hazard(db.session, user, hazard_id)
        return {"hazard_id": hazard.id, "status": hazard.status, "version": hazard.version,
                "actions": hazard_service.allowed_actions(hazard, user.role)}


@blp.route("/<hazard_id>/history")
class HazardHistory(MethodView):
    @auth_required
    @blp.response(200, AuditEventSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, hazard_id):
        """The hazard's full audit trail (its transitions, plan, rectifications and reviews), oldest first."""
        user = current_actor().user
        hazard = hazard_service.get_hazard(db.session, user, hazard_id)
        return history_view(hazard_service.hazard_history(db.session, hazard), user.role)


@blp.route("/<hazard_id>/grade")
class HazardGrade(MethodView):
    @auth_required
    @blp.arguments(GradeSchema)
    @blp.response(200, HazardSchema)
    @_refusals
    def post(self, data, hazard_id):
        """Grade a hazard general / major (重大隐患, optionally with its criterion code HC2017-01..20). Inspectors."""
        return _step(hazard_id, "grade", data)


@blp.route("/<hazard_id>/deadline")
class HazardDeadline(MethodView):
    @auth_required
    @blp.arguments(DeadlineSchema)
    @blp.response(200, HazardSchema)
    @_refusals
    def post(self, data, hazard_id):
        """Re-issue the deadline of an ordered, acknowledged or rejected hazard. Inspectors."""
        return _step(hazard_id, "set_deadline", data)


@blp.route("/<hazard_id>/close-on-spot")
class HazardCloseOnSpot(MethodView):
    @auth_required
    @blp.arguments(OnSpotSchema)
    @blp.response(200, HazardSchema)
    @_refusals
    def post(self, data, hazard_id):
        """当场整改: close a general hazard fixed on the spot — two inspectors, at least one ready photo
        of the hazard."""
        return _step(hazard_id, "close_on_spot", data)


@blp.route("/<hazard_id>/listing")
class HazardListing(MethodView):
    @auth_required
    @blp.arguments(ListingSchema)
    @blp.response(200, HazardSchema)
    @_refusals
    def post(self, data, hazard_id):
        """挂牌督办: put a major hazard under supervised listing at the supervisor's level (city / county)."""
        return _step(hazard_id, "list", data)


@blp.route("/<hazard_id>/close")
class HazardClose(MethodView):
    @auth_required
    @blp.arguments(CloseSchema)
    @blp.response(200, HazardSchema)
    @_refusals
    def post(self, data, hazard_id):
        """销号 of a verified major hazard (listed, complete plan). Supervisors only."""
        return _step(hazard_id, "close", data)


@blp.route("/<hazard_id>/plan")
class HazardPlan(MethodView):
    @auth_required
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no plan yet, or hazard outside your scope")
    def get(self, hazard_id):
        """The remediation plan (治理方案) of a major hazard."""
        hazard = hazard_service.get_hazard(db.session, current_actor().user, hazard_id)
        if hazard.plan is None:
            from ..errors import NotFound

            raise NotFound("该隐患尚无治理方案 (no remediation plan yet)")
        return hazard.plan

    @auth_required
    @blp.arguments(PlanWriteSchema)
    @blp.response(200, PlanSchema)
    @_refusals
    def put(self, data, hazard_id):
        """Create or update the remediation plan with the five points (责任、措施、资金、时限、预案).
        The enterprise or an inspector."""
        actor = current_actor()
        hazard = hazard_service.get_hazard(db.session, actor.user, hazard_id)
        return hazard_service.submit_plan(db.session, actor, hazard, data)
