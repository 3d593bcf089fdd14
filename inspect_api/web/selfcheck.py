"""Self-inspection pages (企业自查). Enterprise, phone first: its major hazard sources and duty holders, the
checks due to the signed-in duty holder, recording a check (with a hazard and its photo), closing its own
general hazards, the day's safety commitment. Bureau: the commitment board, missed checks, re-check samples
(draw, verify, results) and the statistics."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import ChecklistItem, CheckDuty, Hazard, RecheckTask, SelfCheckDue, User, region_prefix
from ..schemas.selfcheck import mask_phone
from ..services.access.scope import get_scoped, scope_clause
from ..services.selfcheck import checks, commitments, duties, recheck, sources, stats
from ..services.selfcheck.commitments import SPECIAL_OPERATIONS
from ..services.selfcheck.common import local_today
from ..services.selfcheck.sources import ROLE_NAMES
from . import files as portal_files
from .common import deadline_from_date, field_errors, parse_date, parse_decimal, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("selfcheck", __name__, url_prefix="/selfcheck")


def _ctx(**kw):
    return {"role_names": ROLE_NAMES, "mask_phone": mask_phone, "ops": SPECIAL_OPERATIONS, **kw}


def _form(name: str) -> str | None:
    """A form field as typed (never cut: the service refuses what is too long, naming the field)."""
    value = (request.form.get(name) or "").strip()
    return value or None


def _refused(exc: AppError) -> dict:
    db.session.rollback()  # nothing half-done is committed
    if exc.status == 404:
        raise exc
    errors = field_errors(exc)
    if portal_files.is_photo_error(exc):
        errors["photos"] = _("照片无法使用：%(reason)s", reason=service_message(exc.message))
    return errors or {"_": service_message(exc.message)}


@bp.route("/")
@login_required("enterprise")
def home():
    actor = current_portal_actor()
    user = actor.user
    duties.generate_dues(db.session, region_code=user.enterprise.region_id)
    my_sources = sources.sources_of(db.session, user)
    mine = list(db.session.scalars(duties.dues_stmt(user, status="due", mine=True)))
    all_due = list(db.session.scalars(duties.dues_stmt(user, status="due")))
    missed = list(db.session.scalars(duties.dues_stmt(user, status="missed").limit(20)))
    today = local_today()
    board = commitments.commitment_board(db.session, user, today, current_app.config["COMMITMENT_HOUR"])
    committed = next((r for r in board["rows"] if r["enterprise"].id == user.enterprise_id), None)
    open_self = list(db.session.scalars(select(Hazard).where(
        scope_clause(Hazard, user), Hazard.origin == "self", Hazard.status != "closed",
        Hazard.deleted_at.is_(None)).order_by(Hazard.found_at.desc())))
    return render_template("selfcheck/home.html", **_ctx(
        sources=my_sources, mine=mine, all_due=all_due, missed=missed, committed=committed, board=board,
        open_self=open_self, today=today))


def _due_items(due: SelfCheckDue) -> list[ChecklistItem]:
    duty = db.session.get(CheckDuty, due.duty_id)
    if duty is None or not duty.template_id:
        return []
    return list(db.session.scalars(select(ChecklistItem).where(ChecklistItem.template_id == duty.template_id)
                                   .order_by(ChecklistItem.position)))


@bp.route("/dues/<due_id>/check", methods=["GET", "POST"])
@login_required("enterprise")
def record_check(due_id):
    actor = current_portal_actor()
    due = get_scoped(db.session, SelfCheckDue, due_id, actor.user)
    items = _due_items(due)
    ctx = _ctx(due=due, items=items, source=due.source)
    if request.method == "GET":
        return render_template("selfcheck/check.html", data={}, errors={}, **ctx)
    shown = dict(request.form)
    data = {"due_id": due.id, "note": _form("note"), "hazards": []}
    if items:
        data["template_id"] = items[0].template_id
        data["results"] = [{"item_id": i.id, "result": request.form.get(f"r_{i.id}") or "na",
                            "note": _form(f"n_{i.id}")} for i in items]
    if _form("hazard_description"):
        data["hazards"].append({"description": _form("hazard_description"), "location": _form("hazard_location"),
                                "grade": request.form.get("hazard_grade") or "general",
                                "major_criterion_code": _form("hazard_criterion")})
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if files and not data["hazards"]:
        return render_template("selfcheck/check.html", data=shown, errors={
            "photos": _("照片须随发现的隐患一起上传")}, **ctx), 422
    try:
        check = checks.record_check(db.session, actor, data)
        found = list(db.session.scalars(select(Hazard).where(Hazard.self_check_id == check.id)))
        for f in files:
            portal_files.ingest_upload(actor, f, "hazards", found[0].id)
    except AppError as exc:
        return render_template("selfcheck/check.html", data=shown, errors=_refused(exc), **ctx), 422
    flash(_("自查记录已保存") + (_("，发现隐患 %(n)s 项", n=len(found)) if found else ""), "success")
    return redirect(url_for(".home"))


@bp.route("/hazards/<hazard_id>/close", methods=["GET", "POST"])
@login_required("enterprise")
def close_hazard(hazard_id):
    actor = current_portal_actor()
    hazard = checks.get_self_hazard(db.session, actor.user, hazard_id)
    before = portal_files.photos_by_owner(actor.user, "hazards", [hazard.id]).get(hazard.id, [])
    ctx = _ctx(hazard=hazard, before=before)
    if request.method == "GET":
        return render_template("selfcheck/close.html", data={}, errors={}, **ctx)
    shown = dict(request.form)
    errors = {}
    data = {k: _form(k) for k in ("description", "measures", "responsible_person")}
    try:
        data["funds"] = parse_decimal(request.form.get("funds"))
    except ValueError:
        errors["funds"] = _("请填写不小于 0 的金额（元）")
    try:
        data["completed_on"] = parse_date(request.form.get("completed_on"))
    except ValueError:
        errors["completed_on"] = _("日期格式不正确")
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        errors["photos"] = _("请至少上传一张整改后的照片")
    if errors:
        return render_template("selfcheck/close.html", data=shown, errors=errors, **ctx), 422
    try:
        checks.self_close(db.session, actor, hazard, data)
        rect = hazard.rectifications[-1]
        for f in files:
            portal_files.ingest_upload(actor, f, "rectifications", rect.id)
    except AppError as exc:
        return render_template("selfcheck/close.html", data=shown, errors=_refused(exc), **ctx), 422
    flash(_("隐患已整改并销号"), "success")
    return redirect(url_for(".home"))


@bp.route("/commitment", methods=["GET", "POST"])
@login_required("enterprise")
def commitment():
    actor = current_portal_actor()
    my_sources = sources.sources_of(db.session, actor.user)
    ctx = _ctx(sources=my_sources, today=local_today(), hour=current_app.config["COMMITMENT_HOUR"])
    if request.method == "GET":
        return render_template("selfcheck/commitment.html", data={}, errors={}, **ctx)
    shown = dict(request.form)
    ops, errors = {}, {}
    for key in SPECIAL_OPERATIONS:
        raw = (request.form.get(f"op_{key}") or "").strip()
        if raw:
            if not raw.isdigit():
                errors["special_operations"] = _("作业数量须为整数")
            else:
                ops[key] = int(raw)
    data = {"sources": [{"source_id": s.id, "status": request.form.get(f"s_{s.id}"),
                         "note": _form(f"sn_{s.id}")} for s in my_sources],
            "special_operations": ops, "responsible_person": _form("responsible_person"), "note": _form("note")}
    if not errors:
        try:
            commitments.submit_commitment(db.session, actor, data)
        except AppError as exc:
            errors = _refused(exc)
    if errors:
        return render_template("selfcheck/commitment.html", data=shown, errors=errors, **ctx), 422
    flash(_("今日安全承诺已提交"), "success")
    return redirect(url_for(".home"))


# ------------------------------------------------------------------ the bureau


def _period() -> tuple[date, date]:
    today = local_today()
    try:
        start = parse_date(request.args.get("from")) or date(today.year, 1, 1)
        end = parse_date(request.args.get("to")) or today
    except ValueError:
        start, end = date(today.year, 1, 1), today
    return (start, end) if start <= end else (end, start)


@bp.route("/bureau")
@login_required("supervisor", "inspector")
def bureau():
    user = current_portal_actor().user
    duties.generate_dues(db.session, region_code=user.region_id)
    start, end = _period()
    hour = current_app.config["COMMITMENT_HOUR"]
    return render_template("selfcheck/bureau.html", **_ctx(
        board=commitments.commitment_board(db.session, user, local_today(), hour), hour=hour,
        missed=list(db.session.scalars(duties.dues_stmt(user, status="missed").limit(50))),
        samples=list(db.session.scalars(recheck.samples_stmt(user).limit(20))),
        stats=stats.selfcheck_statistics(db.session, user, start, end, hour), start=start, end=end,
        today=local_today(), can_draw=user.role == "supervisor"))


STATS_COLUMNS = (("name", "企业"), ("region_code", "区划代码"), ("self_found", "自查发现隐患"),
                 ("inspector_found", "执法检查发现隐患"), ("self_share", "自查发现占比"),
                 ("checks_done", "完成自查"), ("checks_missed", "逾期未查"), ("check_completion", "自查完成率"),
                 ("commit_on_time", "按时承诺天数"), ("commit_late", "迟交承诺天数"), ("commit_days", "应承诺天数"),
                 ("commitment_punctuality", "承诺按时率"), ("rechecks", "复核数"), ("not_fixed", "复核未整改到位"),
                 ("disagreement_rate", "复核不一致率"))


@bp.route("/bureau/stats.csv")
@login_required("supervisor", "inspector")
def stats_csv():
    """The figures of the bureau page as CSV (UTF-8 with BOM, opens in Excel), with the region totals."""
    user = current_portal_actor().user
    start, end = _period()
    out = stats.selfcheck_statistics(db.session, user, start, end, current_app.config["COMMITMENT_HOUR"])
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in STATS_COLUMNS])
    for row in out["enterprises"] + out["regions"]:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in STATS_COLUMNS])
    body = "\ufeff" + buf.getvalue()
    name = f"selfcheck-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={name}"})


def _csv_cell(value):
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula injection


@bp.route("/samples", methods=["POST"])
@login_required("supervisor")
def draw():
    actor = current_portal_actor()
    try:
        data = {"period_from": parse_date(request.form.get("period_from")),
                "period_to": parse_date(request.form.get("period_to")),
                "size": int(request.form.get("size") or 0), "reason": _form("reason"),
                "replaces_id": _form("replaces_id")}
        sample = recheck.draw_sample(db.session, actor, data)
    except ValueError:
        flash(_("抽样期间或数量格式不正确"), "error")
        return redirect(url_for(".bureau")), 303
    except AppError as exc:
        errors = _refused(exc)
        flash(next(iter(errors.values())), "error")
        return redirect(url_for(".bureau")), 303
    flash(_("已抽取 %(n)s 项复核任务", n=len(sample.drawn)), "success")
    return redirect(url_for(".sample", sample_id=sample.id))


@bp.route("/samples/<sample_id>")
@login_required("supervisor", "inspector")
def sample(sample_id):
    user = current_portal_actor().user
    s = recheck.get_sample(db.session, user, sample_id)
    officers = list(db.session.scalars(select(User).where(
        User.role == "inspector", User.is_active.is_(True), User.id != user.id,
        User.region_id.like(region_prefix(s.region_code)[:4] + "%")).order_by(User.display_name)))
    return render_template("selfcheck/sample.html", **_ctx(
        sample=s, verified=recheck.verify_sample(s), officers=officers, user=user,
        default_deadline=local_today() + timedelta(days=15)))


@bp.route("/tasks/<task_id>/result", methods=["POST"])
@login_required("inspector")
def task_result(task_id):
    actor = current_portal_actor()
    task = get_scoped(db.session, RecheckTask, task_id, actor.user)
    data = {"result": request.form.get("result"), "note": _form("note"), "officer2_id": _form("officer2_id"),
            "default_bureau": current_app.config["BUREAU_CODE"]}
    try:
        day = parse_date(request.form.get("deadline"))
        data["deadline_at"] = deadline_from_date(day) if day else None
        recheck.record_result(db.session, actor, task, data)
    except ValueError:
        flash(_("日期格式不正确"), "error")
        return redirect(url_for(".sample", sample_id=task.sample_id)), 303
    except AppError as exc:
        errors = _refused(exc)
        flash(next(iter(errors.values())), "error")
        return redirect(url_for(".sample", sample_id=task.sample_id)), 303
    flash(_("复核结果已记录") if data["result"] == "confirmed" else _("已重新打开隐患并下达整改指令书"), "success")
    return redirect(url_for(".sample", sample_id=task.sample_id))
