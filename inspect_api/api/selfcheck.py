"""Self-inspection (企业自查): major hazard sources and duty holders, due checks and checks, the enterprise's
own hazards, daily commitments, the bureau's re-check samples and statistics (docs/selfcheck.md)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy import select

from ..extensions import db
from ..models import Hazard, RecheckTask
from ..schemas.common import ApiErrorSchema
from ..schemas.hazards import HazardSchema
from ..schemas.selfcheck import (
    BoardQuerySchema, CheckCreateSchema, CheckSchema, CommitmentCreateSchema, CommitmentSchema, DueQuerySchema,
    DueSchema, DutySchema, DutySetSchema, HolderCreateSchema, HolderSchema, PeriodQuerySchema,
    RecheckResultSchema, SampleCreateSchema, SampleSchema, SelfCloseSchema, SelfHazardSchema, SourceCreateSchema,
    SourceSchema, SourceUpdateSchema, TaskSchema, VerifySchema,
)
from ..services.access.scope import get_scoped
from ..services.selfcheck import checks, commitments, duties, recheck, sources, stats
from ..services.selfcheck.common import local_today
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("selfcheck_api", __name__, url_prefix="/api/v1/selfcheck",
                description="Self-inspection (企业自查, 双重预防): sources, duty holders, checks, commitments, 地方复核")

ERR = {"schema": ApiErrorSchema}


@blp.route("/sources")
class Sources(MethodView):
    @auth_required
    @blp.response(200, SourceSchema(many=True))
    def get(self):
        """Major hazard sources in the caller's scope (an enterprise: its own), with their duty holders."""
        return sources.sources_of(db.session, current_actor().user)

    @auth_required("enterprise")
    @blp.arguments(SourceCreateSchema)
    @blp.response(201, SourceSchema)
    @blp.alt_response(422, **ERR)
    def post(self, data):
        """The enterprise registers a major hazard source (重大危险源)."""
        return sources.create_source(db.session, current_actor(), data)


@blp.route("/sources/<source_id>")
class SourceById(MethodView):
    @auth_required
    @blp.response(200, SourceSchema)
    @blp.alt_response(404, **ERR)
    def get(self, source_id):
        """One source."""
        return sources.get_source(db.session, current_actor().user, source_id)

    @auth_required("enterprise")
    @blp.arguments(SourceUpdateSchema)
    @blp.response(200, SourceSchema)
    @blp.alt_response(404, **ERR)
    def patch(self, data, source_id):
        """Change a source's grade, units or substances (audited)."""
        actor = current_actor()
        return sources.update_source(db.session, actor, sources.get_source(db.session, actor.user, source_id), data)


@blp.route("/sources/<source_id>/holders")
class SourceHolders(MethodView):
    @auth_required("enterprise")
    @blp.arguments(HolderCreateSchema)
    @blp.response(201, HolderSchema)
    @blp.alt_response(404, **ERR)
    @blp.alt_response(422, **ERR)
    def post(self, data, source_id):
        """Appoint the holder of a duty role (主要/技术/操作负责人); the previous holder of the role ends."""
        actor = current_actor()
        return sources.appoint_holder(db.session, actor, sources.get_source(db.session, actor.user, source_id), data)


@blp.route("/duties")
class Duties(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.response(200, DutySchema(many=True))
    def get(self):
        """The check duties that apply in the caller's jurisdiction."""
        return duties.duties_for(db.session, current_actor().user)

    @auth_required("supervisor", "admin")
    @blp.arguments(DutySetSchema)
    @blp.response(200, DutySchema)
    @blp.alt_response(422, **ERR)
    def put(self, data):
        """Set how often a duty role checks the sources of a region (one row per region, role and grade)."""
        return duties.set_duty(db.session, current_actor(), data)


@blp.route("/dues")
class Dues(MethodView):
    @auth_required
    @blp.arguments(DueQuerySchema, location="query")
    @blp.response(200, DueSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Due, done and missed self-checks in scope; ``mine=true``: the caller's own duties."""
        return paginate(duties.dues_stmt(current_actor().user, **args), pagination_parameters)


@blp.route("/checks")
class Checks(MethodView):
    @auth_required("enterprise")
    @blp.arguments(CheckCreateSchema)
    @blp.response(201, CheckSchema)
    @blp.alt_response(403, **ERR)
    @blp.alt_response(404, **ERR)
    @blp.alt_response(409, **ERR)
    @blp.alt_response(422, **ERR)
    def post(self, data):
        """A duty holder records a check, with the hazards it found (they become self-found hazards)."""
        check = checks.record_check(db.session, current_actor(), data)
        check.hazard_ids = list(db.session.scalars(select(Hazard.id).where(Hazard.self_check_id == check.id)))
        return check


@blp.route("/hazards")
class SelfHazards(MethodView):
    @auth_required("enterprise")
    @blp.arguments(SelfHazardSchema)
    @blp.response(201, HazardSchema)
    @blp.alt_response(422, **ERR)
    def post(self, data):
        """The enterprise records a hazard it found itself outside a scheduled check."""
        return checks.report_hazard(db.session, current_actor(), data)


@blp.route("/hazards/<hazard_id>/self-close")
class SelfClose(MethodView):
    @auth_required("enterprise")
    @blp.arguments(SelfCloseSchema)
    @blp.response(200, HazardSchema)
    @blp.alt_response(404, **ERR)
    @blp.alt_response(409, **ERR, description="invalid_transition: not self-found, major, or not open")
    def post(self, data, hazard_id):
        """自查自改: record the fix and close a self-found general hazard (a major one goes to the bureau)."""
        actor = current_actor()
        return checks.self_close(db.session, actor, checks.get_self_hazard(db.session, actor.user, hazard_id), data)


@blp.route("/commitments")
class Commitments(MethodView):
    @auth_required("enterprise")
    @blp.arguments(CommitmentCreateSchema)
    @blp.response(201, CommitmentSchema)
    @blp.alt_response(409, **ERR, description="commitment_exists / no_major_hazard_source")
    @blp.alt_response(422, **ERR)
    def post(self, data):
        """Submit today's safety commitment (安全承诺)."""
        return commitments.submit_commitment(db.session, current_actor(), data)


@blp.route("/commitments/board")
class CommitmentBoard(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.arguments(BoardQuerySchema, location="query")
    @blp.response(200)
    def get(self, args):
        """Who must commit on a day, who did (on time / late) and who has not (default: today)."""
        board = commitments.commitment_board(db.session, current_actor().user, args["day"] or local_today(),
                                             current_app.config["COMMITMENT_HOUR"])
        return {"day": board["day"].isoformat(), "deadline": board["deadline"].isoformat(),
                "missing": board["missing"],
                "rows": [{"enterprise_id": r["enterprise"].id, "enterprise": r["enterprise"].name,
                          "state": r["state"],
                          "submitted_at": r["commitment"].submitted_at.isoformat() if r["commitment"] else None}
                         for r in board["rows"]]}


@blp.route("/recheck-samples")
class Samples(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.response(200, SampleSchema(many=True))
    def get(self):
        """Re-check samples of the caller's jurisdiction, newest first."""
        return list(db.session.scalars(recheck.samples_stmt(current_actor().user)))

    @auth_required("supervisor")
    @blp.arguments(SampleCreateSchema)
    @blp.response(201, SampleSchema)
    @blp.alt_response(409, **ERR, description="sample_exists: a re-draw needs a reason and replaces_id")
    @blp.alt_response(422, **ERR)
    def post(self, data):
        """Draw a reproducible random sample of self-closed hazards for re-check (地方复核)."""
        return recheck.draw_sample(db.session, current_actor(), data)


@blp.route("/recheck-samples/<sample_id>")
class SampleById(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.response(200, SampleSchema)
    @blp.alt_response(404, **ERR)
    def get(self, sample_id):
        """One sample with its record (seed, candidates, algorithm) and tasks."""
        return recheck.get_sample(db.session, current_actor().user, sample_id)


@blp.route("/recheck-samples/<sample_id>/verify")
class SampleVerify(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.response(200, VerifySchema)
    @blp.alt_response(404, **ERR)
    def post(self, sample_id):
        """Re-compute the sample from its published record; ``ok`` when the result is the same."""
        return recheck.verify_sample(recheck.get_sample(db.session, current_actor().user, sample_id))


@blp.route("/recheck-tasks/<task_id>/result")
class TaskResult(MethodView):
    @auth_required("inspector")
    @blp.arguments(RecheckResultSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, **ERR)
    @blp.alt_response(409, **ERR)
    @blp.alt_response(422, **ERR)
    def post(self, data, task_id):
        """The inspector's re-check: confirmed, or not fixed (reopened and ordered again with a notice)."""
        actor = current_actor()
        task = get_scoped(db.session, RecheckTask, task_id, actor.user)
        return recheck.record_result(db.session, actor, task,
                                     {**data, "default_bureau": current_app.config["BUREAU_CODE"]})


@blp.route("/stats")
class SelfcheckStats(MethodView):
    @auth_required("supervisor", "inspector", "admin")
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200)
    def get(self, args):
        """Self-found vs inspector-found, self-check completion, commitment punctuality, re-check
        disagreement, per enterprise and region (ratios null when there is nothing to judge)."""
        out = stats.selfcheck_statistics(db.session, current_actor().user, args["date_from"], args["date_to"],
                                         current_app.config["COMMITMENT_HOUR"])
        return {**out, "period": {k: v.isoformat() for k, v in out["period"].items()},
                "generated_at": out["generated_at"].isoformat()}
