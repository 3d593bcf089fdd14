"""Inspector and supervisor desk pages: review fixes, deadlines, notices, supervised listing."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import AppError
from ..extensions import db
from ..models import Enterprise, Hazard, Rectification, User, region_prefix, utcnow
from ..services.lifecycle import hazards as hazards_service
from ..services.lifecycle import notices as notices_service
from ..services.lifecycle import rectifications as rect_service
from ..services.access.scope import get_scoped, scope_clause
from . import files as portal_files
from .common import (
    deadline_from_date, field_errors, form_str, local_date, paginate, parse_date, service_message,
)
from .session_auth import current_portal_actor, login_required

bp = Blueprint("desk", __name__, url_prefix="/desk")

STAFF = ("inspector", "supervisor")


def _colleagues(user: User, region_code: str) -> list[User]:
    """Other active inspectors with a certificate whose jurisdiction covers the region (second officer)."""
    candidates = db.session.scalars(
        select(User).where(User.role == "inspector", User.is_active.is_(True), User.id != user.id,
                           User.certificate_no.is_not(None))
        .order_by(User.region_id, User.display_name, User.username))
    return [u for u in candidates if u.region_id and region_code.startswith(region_prefix(u.region_id))]


@bp.route("/")
@login_required(*STAFF)
def home():
    actor = current_portal_actor()
    now = utcnow()
    pending = paginate(rect_service.pending_reviews_stmt(actor.user))
    base = select(func.count()).select_from(Hazard).where(scope_clause(Hazard, actor.user),
                                                          Hazard.deleted_at.is_(None))
    counts = {
        "open": db.session.scalar(base.where(Hazard.status != "closed")) or 0,
        "overdue": db.session.scalar(base.where(hazards_service.overdue_clause(now))) or 0,
        "major_open": db.session.scalar(base.where(Hazard.grade == "major", Hazard.status != "closed")) or 0,
        "verified": db.session.scalar(base.where(Hazard.status == "verified")) or 0,
    }
    return render_template("desk/home.html", pending=pending, counts=counts, now=now)


@bp.route("/rectifications/<rect_id>", methods=["GET", "POST"])
@login_required(*STAFF)
def review(rect_id):
    actor = current_portal_actor()
    rect = get_scoped(db.session, Rectification, rect_id, actor.user)
    hazard = rect.hazard
    ctx = {
        "rect": rect, "hazard": hazard,
        "before": portal_files.photos_by_owner(actor.user, "hazards", [hazard.id]).get(hazard.id, []),
        "after": portal_files.photos_by_owner(actor.user, "rectifications", [rect.id]).get(rect.id, []),
        "colleagues": _colleagues(actor.user, rect.region_code) if actor.role == "inspector" else [],
        "history": [r for r in hazard.rectifications if r.id != rect.id and r.deleted_at is None],
        "rect_photos": portal_files.photos_by_owner(actor.user, "rectifications",
                                                    [r.id for r in hazard.rectifications]),
        "can_review": actor.role == "inspector" and rect.status == "pending",
        "has_documents": portal_files.documents_available(),
    }
    if request.method == "GET":
        return render_template("desk/review.html", data={}, errors={}, **ctx)
    if not ctx["can_review"]:
        flash(_("该整改已复查，或您无权复查"), "error")
        return redirect(url_for(".review", rect_id=rect.id))
    fields = ("result", "opinion", "onsite_check", "new_deadline", "co_reviewer_id")
    shown = {k: request.form.get(k, "") for k in fields}
    errors = {}
    result = request.form.get("result")
    if result not in ("accepted", "rejected"):
        errors["result"] = _("请选择复查结论")
    data = {"result": result, "opinion": form_str("opinion"),
            "onsite_check": form_str("onsite_check"),
            "co_reviewer_id": form_str("co_reviewer_id")}
    try:
        new_day = parse_date(request.form.get("new_deadline"))
    except ValueError:
        errors["new_deadline"] = _("日期格式不正确")
        new_day = None
    if new_day is not None:
        if result != "rejected":
            errors["new_deadline"] = _("只有复查不合格时才能重新限期")
        else:
            data["new_deadline_at"] = deadline_from_date(new_day)
    if result == "rejected" and not data["opinion"]:
        errors["opinion"] = _("复查不合格须写明复查意见")
    if not data["co_reviewer_id"]:
        errors["co_reviewer_id"] = _("请选择第二名执法人员")
    if not errors:
        try:
            rect_service.review_rectification(db.session, actor, rect, data,
                                              current_app.config["BUREAU_CODE"])
        except AppError as exc:
            db.session.rollback()  # nothing half-done is committed
            if exc.status == 404:
                raise
            errors = field_errors(exc)
            if "new_deadline_at" in errors:
                errors["new_deadline"] = errors.pop("new_deadline_at")
            if not errors:
                errors["_"] = service_message(exc.message)
    if errors:
        return render_template("desk/review.html", data=shown, errors=errors, **ctx), 422
    flash(_("复查结论已保存：%(result)s", result=_("合格") if result == "accepted" else _("不合格")), "success")
    return redirect(url_for(".home"))


@bp.route("/hazards")
@login_required(*STAFF)
def hazards():
    actor = current_portal_actor()
    status = request.args.get("status") or None
    if status not in hazards_service.ALL_STATUSES:
        status = None
    overdue = request.args.get("overdue") == "1"
    major = request.args.get("grade") == "major"
    stmt = hazards_service.hazards_stmt(actor.user, status=status, overdue=True if overdue else None,
                                        grade="major" if major else None)
    return render_template("desk/hazards.html", page=paginate(stmt), status=status, overdue=overdue,
                           major=major, statuses=hazards_service.ALL_STATUSES, now=utcnow(),
                           is_overdue=hazards_service.is_overdue)


def _hazard_ctx(actor, hazard):
    siblings = []
    if hazard.status == "found" and hazard.notice_id is None:
        siblings = list(db.session.scalars(
            select(Hazard).where(scope_clause(Hazard, actor.user), Hazard.deleted_at.is_(None),
                                 Hazard.status == "found", Hazard.notice_id.is_(None),
                                 Hazard.enterprise_id == hazard.enterprise_id,
                                 (Hazard.inspection_id == hazard.inspection_id) if hazard.inspection_id
                                 else Hazard.inspection_id.is_(None))
            .order_by(Hazard.found_at)))
    rects = [r for r in hazard.rectifications if r.deleted_at is None]
    return {
        "hazard": hazard, "siblings": siblings, "rects": rects,
        "before": portal_files.photos_by_owner(actor.user, "hazards", [hazard.id]).get(hazard.id, []),
        "rect_photos": portal_files.photos_by_owner(actor.user, "rectifications", [r.id for r in rects]),
        "colleagues": _colleagues(actor.user, hazard.region_code) if actor.role == "inspector" else [],
        "allowed": hazards_service.allowed_actions(hazard, actor.role),
        "level": hazards_service.supervisor_level(actor.user) if actor.role == "supervisor" else None,
        "now": utcnow(), "is_overdue": hazards_service.is_overdue,
        "deadline_day": local_date(hazard.deadline_at),
        "has_documents": portal_files.documents_available(),
    }


@bp.route("/hazards/<hazard_id>")
@login_required(*STAFF)
def hazard(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    return render_template("desk/hazard.html", errors={}, **_hazard_ctx(actor, h))


def _hazard_error(actor, h, exc, field="_"):
    if exc.status == 404:
        raise exc
    errors = field_errors(exc)
    if "deadline_at" in errors:
        errors["deadline"] = errors.pop("deadline_at")
    if "hazard_ids" in errors:
        errors[field] = errors.pop("hazard_ids")
    if not errors:
        errors = {field: service_message(exc.message)}
    errors.setdefault(field, next(iter(errors.values())))
    return render_template("desk/hazard.html", errors=errors, **_hazard_ctx(actor, h)), 422


def _hazard_step(actor, h, field, step, message):
    """Run one lifecycle step from the hazard page: on a refusal roll back and show the page with the
    error beside ``field``; on success flash ``message`` (a text, or a function of the step's result)."""
    try:
        result = step()
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        return _hazard_error(actor, h, exc, field)
    flash(message(result) if callable(message) else message, "success")
    return redirect(url_for(".hazard", hazard_id=h.id))


@bp.route("/hazards/<hazard_id>/deadline", methods=["POST"])
@login_required("inspector")
def deadline(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    try:
        day = parse_date(request.form.get("deadline"))
    except ValueError:
        day = None
    if day is None:
        return render_template("desk/hazard.html", errors={"deadline": _("请选择新的整改期限")},
                               **_hazard_ctx(actor, h)), 422
    when = deadline_from_date(day)
    if when <= utcnow():
        return render_template("desk/hazard.html", errors={"deadline": _("整改期限须晚于今天")},
                               **_hazard_ctx(actor, h)), 422
    return _hazard_step(
        actor, h, "deadline",
        lambda: hazards_service.set_deadline(db.session, actor, h, when, reason=form_str("reason")),
        _("整改期限已改为 %(day)s", day=day.isoformat()))


@bp.route("/hazards/<hazard_id>/notice", methods=["POST"])
@login_required("inspector")
def issue_notice(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    errors = {}
    try:
        day = parse_date(request.form.get("deadline"))
    except ValueError:
        day = None
    if day is None:
        errors["deadline"] = _("请选择整改期限")
    ids = request.form.getlist("hazard_ids") or [h.id]
    if not form_str("officer2_id"):
        errors["officer2_id"] = _("请选择第二名执法人员")
    if errors:
        return render_template("desk/hazard.html", errors=errors, **_hazard_ctx(actor, h)), 422
    data = {"hazard_ids": ids, "deadline_at": deadline_from_date(day),
            "officer2_id": form_str("officer2_id"),
            "safety_measures": form_str("safety_measures"), "reason": form_str("reason")}
    return _hazard_step(
        actor, h, "notice",
        lambda: notices_service.issue_notice(db.session, actor, data, current_app.config["BUREAU_CODE"]),
        lambda notice: _("已签发整改指令书 %(number)s", number=notice.number or ""))


@bp.route("/hazards/<hazard_id>/list", methods=["POST"])
@login_required("supervisor")
def list_hazard(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    return _hazard_step(
        actor, h, "listing",
        lambda: hazards_service.list_hazard(db.session, actor, h, reason=form_str("reason")),
        _("已挂牌督办"))


@bp.route("/hazards/<hazard_id>/close", methods=["POST"])
@login_required("supervisor")
def close_hazard(hazard_id):
    actor = current_portal_actor()
    h = get_scoped(db.session, Hazard, hazard_id, actor.user)
    return _hazard_step(
        actor, h, "close",
        lambda: hazards_service.close_hazard(db.session, actor, h, reason=form_str("reason")),
        _("重大隐患已销号"))


@bp.route("/enterprises")
@login_required(*STAFF)
def enterprises():
    actor = current_portal_actor()
    q = (request.args.get("q") or "").strip()
    stmt = select(Enterprise).where(scope_clause(Enterprise, actor.user), Enterprise.deleted_at.is_(None))
    if q:
        stmt = stmt.where(Enterprise.name.contains(q) | Enterprise.uscc.contains(q))
    return render_template("desk/enterprises.html", page=paginate(stmt.order_by(Enterprise.region_id, Enterprise.name)), q=q)


def _enterprise_page(actor, ent, data=None, errors=None, status=200):
    stmt = hazards_service.hazards_stmt(actor.user, enterprise_id=ent.id)
    html = render_template("desk/enterprise.html", ent=ent, page=paginate(stmt), now=utcnow(),
                           is_overdue=hazards_service.is_overdue, data=data or {}, errors=errors or {})
    return html, status


@bp.route("/enterprises/<enterprise_id>", methods=["GET", "POST"])
@login_required(*STAFF)
def enterprise(enterprise_id):
    actor = current_portal_actor()
    ent = get_scoped(db.session, Enterprise, enterprise_id, actor.user)
    if request.method == "GET":
        return _enterprise_page(actor, ent)
    if actor.role != "inspector":
        return _enterprise_page(actor, ent, errors={"_": _("只有执法人员可以登记隐患")}, status=403)
    shown = {k: request.form.get(k, "") for k in ("description", "location", "grade", "basis")}
    errors = {}
    data = {"enterprise_id": ent.id, "description": form_str("description"),
            "location": form_str("location"), "basis": form_str("basis"),
            "grade": "major" if request.form.get("grade") == "major" else "general"}
    if not data["description"]:
        errors["description"] = _("请填写隐患描述")
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if errors:
        return _enterprise_page(actor, ent, shown, errors, 422)
    try:
        h = hazards_service.create_hazard(db.session, actor, data)
        for f in files:
            portal_files.ingest_upload(actor, f, "hazards", h.id)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        if exc.status == 404:
            raise
        errors = field_errors(exc)
        if portal_files.is_photo_error(exc):
            errors["photos"] = service_message(exc.message)
        errors = errors or {"_": service_message(exc.message)}
        return _enterprise_page(actor, ent, shown, errors, 422)
    flash(_("隐患已登记，可下达整改指令书"), "success")
    return redirect(url_for(".hazard", hazard_id=h.id))
