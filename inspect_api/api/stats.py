"""Supervisor statistics and exports (/api/v1/stats).

Supervisors see their subtree, admins everything, inspectors their subtree
(read-only); enterprise users get 403. JSON and exports come from the same
service functions (services/stats.py, services/exports.py).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from .common import Blueprint
from marshmallow import RAISE

from ..extensions import db
from ..schemas.common import ApiErrorSchema
from ..schemas.criteria import CriteriaStatsSchema
from ..schemas.stats import ExportQuerySchema, StatsQuerySchema, StatsTableSchema
from ..services.reporting import exports as export_service
from ..services.reporting import stats as stats_service
from ..services import jobs as job_service
from .jobs import job_accepted, submit_and_dispatch
from .security import auth_required, current_actor

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats",
                description="Statistics for supervisors, and XLSX / CSV exports (统计与导出)")

READERS = ("admin", "supervisor", "inspector")
_FILE_RESPONSE = {
    "200": {
        "description": "The file: XLSX (title, period and region, frozen header, totals row) or CSV (UTF-8 with BOM)",
        "content": {export_service.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}},
                    "text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _filter(args, allowed=stats_service.GROUPS):
    return stats_service.make_filter(
        db.session, current_actor(), date_from=args.get("from_"), date_to=args.get("to"), region=args.get("region"),
        group_by=args.get("group_by", "county"), industry=args.get("industry"), allowed_groups=allowed)


def download(chunks, fmt: str, basename_zh: str, basename_ascii: str) -> Response:
    """A streamed attachment; the generator runs after the request transaction has committed."""
    mime = export_service.XLSX_MIME if fmt == "xlsx" else export_service.CSV_MIME
    resp = Response(stream_with_context(chunks), mimetype=mime if fmt == "xlsx" else None,
                    content_type=None if fmt == "xlsx" else mime)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{basename_ascii}.{fmt}"; filename*=UTF-8\'\'{quote(basename_zh)}.{fmt}')
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _as_job(kind: str, f, args) -> Response | None:
    """A big export runs as a background job (202 + the job) instead of holding the request open: when the
    period holds more hazards than JOBS_SYNC_EXPORT_MAX_ROWS, or when the client sends
    ``Prefer: respond-async``."""
    wants = "respond-async" in request.headers.get("Prefer", "")
    if not wants and not job_service.export_is_large(db.session, current_actor(), f,
                                                     int(current_app.config["JOBS_SYNC_EXPORT_MAX_ROWS"])):
        return None
    params = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "region": f.region,
              "industry": f.industry, "format": args["format"]}
    if kind != "ledger_export":
        params["group_by"] = f.group_by
    return job_accepted(submit_and_dispatch(kind, params))


_JOB_RESPONSE = {"description": "too big to stream in one request: the export runs as a background job "
                                "(the body is the job; follow /api/v1/jobs/<id>, then download)"}


def _names(f, zh: str, ascii_name: str):
    period = f"{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}"
    region = f.region or "all"
    return f"{zh}_{region}_{period}", f"{ascii_name}-{region}-{period}"


@blp.route("/hazards")
class HazardStats(MethodView):
    @auth_required(*READERS)
    @blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, StatsTableSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args):
        """Hazard investigation figures (national form columns, overdue, closure time) per group and in total."""
        f = _filter(args)
        return stats_service.hazard_statistics(db.session, current_actor(), f).as_dict()


@blp.route("/enforcement")
class EnforcementStats(MethodView):
    @auth_required(*READERS)
    @blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, StatsTableSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def get(self, args):
        """Enforcement figures: inspections, notices, reviews, cases, penalties by kind, fines (万元), suspensions."""
        f = _filter(args, stats_service.ENFORCEMENT_GROUPS)
        return stats_service.enforcement_statistics(db.session, current_actor(), f).as_dict()


@blp.route("/hazards/export")
class HazardStatsExport(MethodView):
    @auth_required(*READERS)
    @blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={**_FILE_RESPONSE, "202": _JOB_RESPONSE})
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self, args):
        """The hazard statistics table as XLSX or CSV (?format=xlsx|csv)."""
        f = _filter(args)
        job = _as_job("hazard_stats_export", f, args)
        if job is not None:
            return job
        table = stats_service.hazard_statistics(db.session, current_actor(), f)
        zh, asc = _names(f, "隐患排查治理统计", "hazard-statistics")
        return download(export_service.stats_table_export(table, args["format"]), args["format"], zh, asc)


@blp.route("/enforcement/export")
class EnforcementStatsExport(MethodView):
    @auth_required(*READERS)
    @blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={**_FILE_RESPONSE, "202": _JOB_RESPONSE})
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self, args):
        """The enforcement statistics table as XLSX or CSV (?format=xlsx|csv)."""
        f = _filter(args, stats_service.ENFORCEMENT_GROUPS)
        job = _as_job("enforcement_stats_export", f, args)
        if job is not None:
            return job
        table = stats_service.enforcement_statistics(db.session, current_actor(), f)
        zh, asc = _names(f, "执法工作统计", "enforcement-statistics")
        return download(export_service.stats_table_export(table, args["format"]), args["format"], zh, asc)


@blp.route("/ledger/export")
class HazardLedgerExport(MethodView):
    @auth_required(*READERS)
    @blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={**_FILE_RESPONSE, "202": _JOB_RESPONSE})
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self, args):
        """The hazard ledger (隐患台账): one row per hazard found in the period, streamed (XLSX or CSV)."""
        f = _filter(args)
        job = _as_job("ledger_export", f, args)
        if job is not None:
            return job
        chunks = export_service.ledger_export(db.session, current_actor(), f, args["format"])
        zh, asc = _names(f, "隐患台账", "hazard-ledger")
        return download(chunks, args["format"], zh, asc)


@blp.route("/criteria")
class CriteriaStats(MethodView):
    @auth_required(*READERS)
    @blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CriteriaStatsSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args):
        """按判定标准条款分布: major hazards found in the period by the catalogue and clause they were judged by
        (a period spanning two standards counts each under its own; services/criteria/stats.py)."""
        from ..services.criteria.stats import criteria_statistics

        return criteria_statistics(db.session, current_actor(), _filter(args))
