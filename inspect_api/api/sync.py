"""WatermelonDB sync for field tablets (CONTRACT §2): GET pulls, POST pushes."""
from __future__ import annotations

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from .common import Blueprint
from sqlalchemy.orm import Session

from ..extensions import db
from ..jsonsafe import loads_lenient
from ..schemas.common import ApiErrorSchema
from ..schemas.sync import PullQuerySchema, PullResponseSchema, PushQuerySchema, PushResponseSchema
from ..services import sync as sync_service
from .security import auth_required, current_actor

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync",
                description="WatermelonDB sync protocol for field tablets (pull and push)")

_PUSH_BODY = {
    "required": True,
    "description": "The WatermelonDB `changes` object: {table: {created: [raw], updated: [raw], deleted: [id]}}. "
                   "application/json or text/plain.",
    "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": {"schema": {"type": "string"}}},
}


@blp.route("")
class Sync(MethodView):
    @auth_required("inspector", "supervisor")
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullResponseSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="forbidden: enterprise users and admins do not sync")
    @blp.alt_response(422, schema=ApiErrorSchema, description="validation_error / unsupported_schema_version")
    def get(self, args):
        """Pull every change in the caller's scope after last_pulled_at (streamed; optional limit / has_more)."""
        actor = current_actor()
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
