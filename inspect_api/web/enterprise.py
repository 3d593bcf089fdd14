"""Enterprise pages (phone first): open notices, notice detail, 签收, fix reports, history."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import Hazard, Notice, Rectification, Review, utcnow
from ..services.lifecycle import hazards as hazards_service
from ..services.lifecycle import notices as notices_service
from ..services.lifecycle import rectifications as rect_service
from ..services.access.scope import get_scoped, scope_clause
from . import files as portal_files
from .common import field_errors, form_str, paginate, parse_date, parse_decimal, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("ent", __name__, url_prefix="/enterprise")

REPORTABLE = ("acknowledged", "rejected")


@bp.route("/")
@login_required("enterprise")
def home():
    actor = current_portal_actor()
    now = utcnow()
    notices = notices_service.notices_for_enterprise(db.session, actor.user, open_only=True)
    hazards = hazards_service.hazards_for_enterprise(db.session, actor.user, open_only=True)
    by_notice: dict[str, list[Hazard]] = {}
    for h in hazards:
        if h.notice_id:
            by_notice.setdefault(h.notice_id, []).append(h)
    counts = {
        "open": len(hazards),
        "overdue": sum(1 for h in hazards if hazards_service.is_overdue(h, now)),
        "to_acknowledge": sum(1 for n in notices if n.status == "issued"),
        "to_report": sum(1 for h in hazards if h.status in REPORTABLE),
        "in_review": sum(1 for h in hazards if h.status == "reported"),
    }
    return render_template("enterprise/home.html", notices=notices, by_notice=by_notice, counts=counts,
                           now=now, is_overdue=hazards_service.is_overdue)


def _latest_rect(hazard: Hazard) -> Rectification | None:
    rects = [r for r in hazard.rectifications if r.deleted_at is None]
    return rects[-1] if rects else None


@bp.route("/notices/<notice_id>")
@login_required("enterprise")
def notice(notice_id):
    actor = current_portal_actor()
    n = notices_service.get_notice(db.session, actor.user, notice_id)
    hazards = [h for h in n.hazards if h.deleted_at is None]
    hazard_photos = portal_files.photos_by_owner(actor.user, "hazards", [h.id for h in hazards])
    rect_ids = [r.id for h in hazards for r in h.rectifications]
    rect_photos = portal_files.photos_by_owner(actor.user, "rectifications", rect_ids)
    return render_template("enterprise/notice.html", notice=n, hazards=hazards, hazard_photos=hazard_photos,
                           rect_photos=rect_photos, latest_rect=_latest_rect, now=utcnow(),
                           is_overdue=hazards_service.is_overdue, reportable=REPORTABLE,
                           has_documents=portal_files.documents_available())


@bp.route("/notices/<notice_id>/acknowledge", methods=["POST"])
@login_required("enterprise")
def acknowledge(notice_id):
    actor = current_portal_actor()
    n = notices_service.get_notice(db.session, actor.user, notice_id)
    try:
        notices_service.acknowledge_notice(db.session, actor, n)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        if exc.status == 404:
            raise
        flash(service_message(exc.message), "error")
        return redirect(url_for(".notice", notice_id=notice_id)), 303
    flash(_("已签收整改指令书，请按期完成整改并上报"), "success")
    return redirect(url_for(".notice", notice_id=notice_id))


def _report_context(actor, hazard):
    before = portal_files.photos_by_owner(actor.user, "hazards", [hazard.id]).get(hazard.id, [])
    return {"hazard": hazard, "before": before, "latest": _latest_rect(hazard)}


@bp.route("/hazards/<hazard_id>/report", methods=["GET", "POST"])
@login_required("enterprise")
def report(hazard_id):
    actor = current_portal_actor()
    hazard = get_scoped(db.session, Hazard, hazard_id, actor.user)
    ctx = _report_context(actor, hazard)
    if request.method == "GET":
        if hazard.status not in REPORTABLE:
            flash(_("该隐患当前不能上报整改"), "error")
            return redirect(url_for(".hazard", hazard_id=hazard.id))
        return render_template("enterprise/report.html", data={}, errors={}, **ctx)
    data = {
        "description": form_str("description"),
        "measures": form_str("measures"),
        "responsible_person": form_str("responsible_person"),
    }
    errors = {}
    try:
        data["funds"] = parse_decimal(request.form.get("funds"))
    except ValueError:
        errors["funds"] = _("请填写不小于 0 的金额（元）")
    try:
        data["completed_on"] = parse_date(request.form.get("completed_on"))
    except ValueError:
        errors["completed_on"] = _("日期格式不正确")
    if not data["description"]:
        errors["description"] = _("请填写整改情况")
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        errors["photos"] = _("请至少上传一张整改后的照片")
    fields = ("description", "measures", "responsible_person", "funds", "completed_on")
    shown = {k: request.form.get(k, "") for k in fields}
    if errors:
        return render_template("enterprise/report.html", data=shown, errors=errors, **ctx), 422
    try:
        rect = rect_service.report_rectification(db.session, actor, hazard, data)
        for f in files:
            portal_files.ingest_upload(actor, f, "rectifications", rect.id)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        if exc.status == 404:
            raise
        errors = field_errors(exc)
        if portal_files.is_photo_error(exc):
            errors["photos"] = _("照片无法使用：%(reason)s", reason=service_message(exc.message))
        if not errors:
            errors["_"] = service_message(exc.message)
        return render_template("enterprise/report.html", data=shown, errors=errors, **ctx), 422
    flash(_("整改情况已上报，等待执法人员复查"), "success")
    return redirect(url_for(".hazard", hazard_id=hazard.id))


@bp.route("/hazards/<hazard_id>/plan", methods=["GET", "POST"])
@login_required("enterprise")
def plan(hazard_id):
    actor = current_portal_actor()
    hazard = get_scoped(db.session, Hazard, hazard_id, actor.user)
    if hazard.grade != "major":
        abort(404)
    current = hazard.plan
    if request.method == "GET":
        data = {}
        if current is not None:
            data = {"responsibility": current.responsibility or "", "measures": current.measures or "",
                    "funds": current.funds if current.funds is not None else "",
                    "time_limit": current.time_limit.isoformat() if current.time_limit else "",
                    "contingency": current.contingency or "", "goal": current.goal or ""}
        return render_template("enterprise/plan.html", hazard=hazard, data=data, errors={})
    fields = ("responsibility", "measures", "funds", "time_limit", "contingency", "goal")
    shown = {k: request.form.get(k, "") for k in fields}
    errors = {}
    data = {k: form_str(k) for k in ("responsibility", "measures", "contingency", "goal")}
    try:
        data["funds"] = parse_decimal(request.form.get("funds"))
    except ValueError:
        errors["funds"] = _("请填写不小于 0 的金额（元）")
    try:
        data["time_limit"] = parse_date(request.form.get("time_limit"))
    except ValueError:
        errors["time_limit"] = _("日期格式不正确")
    for key in ("responsibility", "measures", "contingency"):
        if not data[key]:
            errors[key] = _("此项为必填")
    if data.get("funds") is None and "funds" not in errors:
        errors["funds"] = _("此项为必填")
    if data.get("time_limit") is None and "time_limit" not in errors:
        errors["time_limit"] = _("此项为必填")
    if not errors:
        try:
            hazards_service.submit_plan(db.session, actor, hazard, data)
        except AppError as exc:
            db.session.rollback()  # nothing half-done is committed
            if exc.status == 404:
                raise
            errors = field_errors(exc) or {"_": service_message(exc.message)}
    if errors:
        return render_template("enterprise/plan.html", hazard=hazard, data=shown, errors=errors), 422
    flash(_("治理方案已保存"), "success")
    return redirect(url_for(".hazard", hazard_id=hazard.id))


@bp.route("/hazards/<hazard_id>")
@login_required("enterprise")
def hazard(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    before = portal_files.photos_by_owner(actor.user, "hazards", [h.id]).get(h.id, [])
    rects = [r for r in h.rectifications if r.deleted_at is None]
    rect_photos = portal_files.photos_by_owner(actor.user, "rectifications", [r.id for r in rects])
    return render_template("enterprise/hazard.html", hazard=h, before=before, rects=rects,
                           rect_photos=rect_photos,
                           now=utcnow(), is_overdue=hazards_service.is_overdue, reportable=REPORTABLE,
                           has_documents=portal_files.documents_available())


@bp.route("/history")
@login_required("enterprise")
def history():
    actor = current_portal_actor()
    stmt = (select(Hazard).where(scope_clause(Hazard, actor.user), Hazard.deleted_at.is_(None),
                                 Hazard.status == "closed")
            .order_by(Hazard.closed_at.desc(), Hazard.id))
    return render_template("enterprise/history.html", page=paginate(stmt))


@bp.route("/notices/<notice_id>/notice.pdf")
@login_required("enterprise", "inspector", "supervisor")
def notice_pdf(notice_id):
    actor = current_portal_actor()
    n = get_scoped(db.session, Notice, notice_id, actor.user)
    return portal_files.notice_pdf_response(actor, n)


@bp.route("/reviews/<review_id>/review.pdf")
@login_required("enterprise", "inspector", "supervisor")
def review_pdf(review_id):
    actor = current_portal_actor()
    review = get_scoped(db.session, Review, review_id, actor.user)
    return portal_files.review_pdf_response(actor, review)
