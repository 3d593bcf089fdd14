"""WatermelonDB sync for field tablets (CONTRACT §2): GET pulls, POST pushes."""
from __future__ import annotations

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy.orm import Session

from ..extensions import db
from ..jsonsafe import loads_lenient
from ..schemas.common import ApiErrorSchema
from ..schemas.sync import (
    HistoryPageSchema, HistoryQuerySchema, PullQuerySchema, PullResponseSchema, PushQuerySchema, PushResponseSchema,
)
from ..services import sync as sync_service
from ..services.sync import working_set
from ..services.sync.tables import parse_migration
from ..services.sync.wire import parse_cursor
from .security import auth_required, current_actor

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync",
                description="WatermelonDB sync protocol for field tablets (pull and push)")

_PUSH_BODY = {
    "required": True,
    "description": "The WatermelonDB `changes` object: {table: {created: [raw], updated: [raw], deleted: [id]}}. "
                   "application/json or text/plain.",
    "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": {"schema": {"type": "string"}}},
}


def _working_set_pull(actor, args, version: int) -> Response:
    """Schema version >= 4: the tablet's working set, diffed with what it was sent (not paged)."""
    since = parse_cursor(args.get("last_pulled_at"))
    if since:
        parse_migration(args.get("migration"), version)  # validated; a migrating tablet has no state: full diff
    plan = working_set.plan_working_set(db.session, actor, since, version,
                                        working_set.WorkingSetRules.from_config(current_app.config))
    body = working_set.render_working_set(db.session, plan)
    resp = Response(body, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@blp.route("")
class Sync(MethodView):
    @auth_required("inspector", "supervisor")
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullResponseSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="forbidden: enterprise users and admins do not sync")
    @blp.alt_response(422, schema=ApiErrorSchema, description="validation_error / unsupported_schema_version")
    def get(self, args):
        """Pull every change in the caller's scope after last_pulled_at (streamed; optional limit / has_more).

        Schema version 4 and later: the tablet's working set instead of its whole jurisdiction (docs/scale.md):
        an inspector gets the registry, the checklists and, for the enterprises it works on, their open
        hazards and notices and a recent history; a supervisor gets ``enterprise_summaries``. Records that
        leave the working set come under ``deleted``. Not paged."""
        actor = current_actor()
        version = sync_service.check_schema_version(args.get("schema_version"))
        if version >= working_set.WORKING_SET_VERSION:
            return _working_set_pull(actor, args, version)
        plan = sync_service.plan_pull(
            db.session, actor, args.get("last_pulled_at"), schema_version=args.get("schema_version"),
            migration=args.get("migration"), limit=args.get("limit"))
        bind = db.session.get_bind()

        def generate():
            # Runs after the request transaction committed (and the request session was removed):
            # every query is bounded by the plan's cursor, so a session of its own, in a new
            # transaction, is as good as the request's.
            session = Session(bind=bind)
            try:
                yield from sync_service.iter_pull(session, plan)
            finally:
                session.close()

        resp = Response(stream_with_context(generate()), mimetype="application/json")
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @auth_required("inspector", "supervisor")
    @blp.arguments(PushQuerySchema, location="query")
    @blp.doc(requestBody=_PUSH_BODY)
    @blp.response(200, PushResponseSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="forbidden: records for a read-only table")
    @blp.alt_response(409, schema=ApiErrorSchema, description="sync_conflict: details.conflicts [{table, id}]")
    @blp.alt_response(422, schema=ApiErrorSchema, description="unknown_table / validation_error")
    def post(self, args):
        """Push the tablet's changes: all applied in one transaction, or none."""
        raw = request.get_data(cache=False)
        # lenient: a record carrying NaN/Infinity is rejected by name (push rules), not the whole push
        changes = loads_lenient(raw) if raw else None
        if isinstance(changes, dict) and "changes" in changes and isinstance(changes["changes"], dict) \
                and not (set(changes) - {"changes", "lastPulledAt", "last_pulled_at"}):
            # some clients wrap the object: {"changes": {...}, "lastPulledAt": n}
            changes = changes["changes"]
        result = sync_service.apply_push(
            db.session, current_actor(), changes, args.get("last_pulled_at"),
            default_bureau=current_app.config["BUREAU_CODE"], schema_version=args.get("schema_version"))
        return result.body()


@blp.route("/enterprises/<enterprise_id>/history")
class EnterpriseHistory(MethodView):
    @auth_required("inspector", "supervisor")
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, HistoryPageSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="an enterprise outside your jurisdiction")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def get(self, args, enterprise_id):
        """One enterprise's full history of hazards, inspections or notices, newest first, paged (``next``):
        what a version-4 tablet does not keep, on demand. Raw records in the sync wire format."""
        return working_set.enterprise_history(
            db.session, current_actor(), enterprise_id, args["table"], after=args.get("after"),
            limit=args["limit"], version=sync_service.check_schema_version(args.get("schema_version")))
