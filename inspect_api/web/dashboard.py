"""The supervisors' dashboard (统计看板): charts drawn in the browser with Apache ECharts.

The page holds the filters (period, county, industry), the chart containers and
the export buttons; web/static/dashboard.js fetches ``/dashboard/data.json``
(session-authenticated, same filters) and draws everything. The figures come
from services/stats.py, the same functions the API and the exports use.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context, url_for
from marshmallow import EXCLUDE
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy import select

from ..errors import ValidationError
from ..extensions import db
from ..models import Region, region_prefix
from ..schemas.stats import ExportQuerySchema, StatsQuerySchema
from ..services.reporting import exports as export_service
from ..services.reporting import stats as stats_service
from ..services.planning import stats as planning_stats
from .session_auth import current_portal_actor, login_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

READERS = ("supervisor", "admin", "inspector")
FILTER_KEYS = ("from", "to", "region", "industry")


def _parse(schema_cls, args) -> dict:
    data = {k: v for k, v in args.items() if v not in ("", None) and k in (*FILTER_KEYS, "format", "group_by")}
    try:
        return schema_cls(unknown=EXCLUDE).load(data)
    except MarshmallowValidationError as exc:
        raise ValidationError(details={"location": "query", "fields": exc.messages}) from exc


def _filter(args: dict, group_by: str = "county", allowed=stats_service.GROUPS):
    return stats_service.make_filter(db.session, current_portal_actor(), date_from=args.get("from_"),
                                     date_to=args.get("to"), region=args.get("region"), group_by=group_by,
                                     industry=args.get("industry"), allowed_groups=allowed)


def _counties(actor) -> list[tuple[str, str]]:
    stmt = select(Region.id, Region.name).where(Region.level == 3)
    user = actor.user
    if user.role != "admin" and user.region_id:
        stmt = stmt.where(Region.id.like(region_prefix(user.region_id) + "%"))
    return [(r.id, r.name) for r in db.session.execute(stmt.order_by(Region.id))]


@bp.route("")
@login_required(*READERS)
def index():
    actor = current_portal_actor()
    error = None
    try:
        args = _parse(StatsQuerySchema, request.args)
        f = _filter(args)
    except ValidationError as exc:  # bad filters: say so, show the defaults
        error = exc.message
        args = {}
        f = _filter(args)
    query = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat()}
    if f.region:
        query["region"] = f.region
    if f.industry:
        query["industry"] = f.industry
    exports = [
        ("隐患统计表", "hazards"), ("执法统计表", "enforcement"), ("隐患台账", "ledger"),
    ]
    return render_template(
        "dashboard/index.html", f=f, query=query, error=error, counties=_counties(actor),
        data_url=url_for("dashboard.data", **query), exports=exports,
        region_label=stats_service.region_label(db.session, actor, f),
        planning=planning_stats.dashboard_figures(db.session, actor.user, f.date_to.year),
    )


@bp.route("/data.json")
@login_required(*READERS)
def data():
    """Everything the charts need, in one answer."""
    actor = current_portal_actor()
    args = _parse(StatsQuerySchema, request.args)
    by_county = _filter(args, "county")
    by_month = _filter(args, "month")
    hazards_county = stats_service.hazard_statistics(db.session, actor, by_county)
    hazards_month = stats_service.hazard_statistics(db.session, actor, by_month)
    enforcement = stats_service.enforcement_statistics(db.session, actor, by_county)
    resp = jsonify({
        "hazards_by_county": hazards_county.as_dict(),
        "hazards_by_month": hazards_month.as_dict(),
        "enforcement_by_county": enforcement.as_dict(),
        "overdue": stats_service.overdue_hazards(db.session, actor, by_county),
        "listed": stats_service.listed_major_hazards(db.session, actor, by_county),
        "planning": planning_stats.dashboard_figures(db.session, actor.user, by_county.date_to.year),
    })
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/export/<kind>")
@login_required(*READERS)
def export(kind: str):
    """The export buttons: the same files as /api/v1/stats/.../export, for the signed-in portal user."""
    if kind not in ("hazards", "enforcement", "ledger"):
        raise ValidationError("未知的导出类型", details={"kind": kind})
    actor = current_portal_actor()
    args = _parse(ExportQuerySchema, request.args)
    fmt = args["format"]
    if kind == "enforcement":
        f = _filter(args, "county", stats_service.ENFORCEMENT_GROUPS)
        chunks = export_service.stats_table_export(stats_service.enforcement_statistics(db.session, actor, f), fmt)
        zh, asc = "执法工作统计", "enforcement-statistics"
    elif kind == "hazards":
        f = _filter(args, args.get("group_by", "county"))
        chunks = export_service.stats_table_export(stats_service.hazard_statistics(db.session, actor, f), fmt)
        zh, asc = "隐患排查治理统计", "hazard-statistics"
    else:
        f = _filter(args)
        chunks = export_service.ledger_export(db.session, actor, f, fmt)
        zh, asc = "隐患台账", "hazard-ledger"
    period = f"{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}"
    mime = export_service.XLSX_MIME if fmt == "xlsx" else export_service.CSV_MIME
    resp = Response(stream_with_context(chunks), content_type=mime)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{asc}-{f.region or "all"}-{period}.{fmt}"; '
        f"filename*=UTF-8''{quote(zh)}_{f.region or 'all'}_{period}.{fmt}")
    resp.headers["Cache-Control"] = "no-store"
    return resp


__all__ = ["bp", "date"]
