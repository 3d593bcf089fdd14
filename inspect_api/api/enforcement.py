"""Enforcement cases (立案) and penalty decisions (行政处罚)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditEvent, EnforcementCase, PenaltyDecision
from ..schemas.audit import AuditEventSchema
from ..schemas.common import ApiErrorSchema
from ..schemas.hazards import history_view
from ..schemas.enforcement import (
    CaseCloseSchema, CaseCreateSchema, CaseQuerySchema, CaseSchema, PaymentSchema, PenaltyCreateSchema,
    PenaltyQuerySchema, PenaltySchema,
)
from ..services.lifecycle import enforcement as enforcement_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("enforcement", __name__, url_prefix="/api/v1",
                description="Enforcement cases (立案) and penalty decisions (行政处罚)")

STAFF = ("inspector", "supervisor")


@blp.route("/cases")
class Cases(MethodView):
    @auth_required
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Cases in the caller's scope (an enterprise: its own), newest first."""
        stmt = enforcement_service.cases_stmt(current_actor().user, **args).options(
            selectinload(EnforcementCase.decisions), selectinload(EnforcementCase.hazards),
            selectinload(EnforcementCase.enterprise))
        return paginate(stmt, pagination_parameters)

    @auth_required(*STAFF)
    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="enterprise, inspection or hazard outside your scope")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data):
        """立案: open a case from an inspection and/or hazards of one enterprise; numbered per bureau and year."""
        return enforcement_service.open_case(db.session, current_actor(), data, current_app.config["BUREAU_CODE"])


@blp.route("/cases/<case_id>")
class CaseById(MethodView):
    @auth_required
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id):
        """One case with its penalty decisions."""
        return enforcement_service.get_case(db.session, current_actor().user, case_id)


@blp.route("/cases/<case_id>/penalties")
class CasePenalties(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(PenaltyCreateSchema)
    @blp.response(201, PenaltySchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: the case is closed")
    @blp.alt_response(422, schema=ApiErrorSchema, description="fine without amount, amount on a non-fine …")
    def post(self, data, case_id):
        """行政处罚决定: warning, fine (amount in yuan), suspend_production, licence_suspension, closure."""
        actor = current_actor()
        case = enforcement_service.get_case(db.session, actor.user, case_id)
        return enforcement_service.record_penalty(db.session, actor, case, data, current_app.config["BUREAU_CODE"])


@blp.route("/cases/<case_id>/close")
class CaseClose(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(CaseCloseSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: not decided, or fines unpaid")
    def post(self, data, case_id):
        """结案: close a decided case whose fines are paid."""
        actor = current_actor()
        case = enforcement_service.get_case(db.session, actor.user, case_id)
        return enforcement_service.close_case(db.session, actor, case, reason=data.get("reason"))


@blp.route("/cases/<case_id>/history")
class CaseHistory(MethodView):
    @auth_required
    @blp.response(200, AuditEventSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id):
        """The case's audit trail with its penalty decisions and payments, oldest first."""
        user = current_actor().user
        case = enforcement_service.get_case(db.session, user, case_id)
        penalty_ids = select(PenaltyDecision.id).where(PenaltyDecision.case_id == case.id)
        return history_view(db.session.scalars(select(AuditEvent).where(
            ((AuditEvent.object_table == "enforcement_cases") & (AuditEvent.object_id == case.id))
            | ((AuditEvent.object_table == "penalty_decisions") & AuditEvent.object_id.in_(penalty_ids))
        ).order_by(AuditEvent.id)), user.role)


@blp.route("/penalties")
class Penalties(MethodView):
    @auth_required
    @blp.arguments(PenaltyQuerySchema, location="query")
    @blp.response(200, PenaltySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Penalty decisions in the caller's scope, newest first."""
        return paginate(enforcement_service.penalties_stmt(current_actor().user, **args), pagination_parameters)


@blp.route("/penalties/<penalty_id>")
class PenaltyById(MethodView):
    @auth_required
    @blp.response(200, PenaltySchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, penalty_id):
        """One penalty decision."""
        return enforcement_service.get_penalty(db.session, current_actor().user, penalty_id)


@blp.route("/penalties/<penalty_id>/payment")
class PenaltyPayment(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(PaymentSchema)
    @blp.response(200, PenaltySchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="invalid_transition: not an unpaid fine")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data, penalty_id):
        """Record the payment of a fine (paid amount and date)."""
        actor = current_actor()
        decision = enforcement_service.get_penalty(db.session, actor.user, penalty_id)
        return enforcement_service.record_payment(db.session, actor, decision, data)
