"""Planning pages: plans, draws and tasks for supervisors and inspectors (the legal office's view), and the
enterprise's 检查码 check (phone first)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import Enterprise, User
from ..services.lifecycle.documents import DocumentConfig
from ..services.planning import documents as docs_service
from ..services.planning import draw as draw_service
from ..services.planning import plans as plan_service
from ..services.planning import stats as stats_service
from ..services.planning import tasks as task_service
from .common import paginate, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("planning", __name__, url_prefix="/planning")
STAFF = ("inspector", "supervisor")
PLAN_STATUS_NAMES = {"draft": "草稿", "approved": "已批准", "published": "已发布", "superseded": "已被修订"}


def _common():
    return {"kind_names": task_service.KIND_NAMES, "status_names": task_service.STATUS_NAMES,
            "plan_status_names": PLAN_STATUS_NAMES, "format_code": task_service.format_code}


@bp.route("/")
@login_required(*STAFF)
def index():
    actor = current_portal_actor()
    plans = list(db.session.scalars(plan_service.plans_stmt(actor.user).limit(20)))
    status = request.args.get("status") or None
    mine = actor.role == "inspector"
    page = paginate(task_service.tasks_stmt(actor.user, status=status, mine=mine))
    return render_template("planning/index.html", plans=plans, page=page, status=status, **_common())


@bp.route("/plans/<plan_id>")
@login_required(*STAFF)
def plan(plan_id):
    actor = current_portal_actor()
    p = plan_service.get_plan(db.session, actor.user, plan_id)
    draws = list(db.session.scalars(draw_service.draws_stmt(actor.user, p.id)))
    completion = stats_service.plan_completion(db.session, actor.user, p)
    names = dict(db.session.execute(select(Enterprise.id, Enterprise.name)
                                    .where(Enterprise.id.in_(p.key_enterprise_ids or []))).all())
    return render_template("planning/plan.html", plan=p, draws=draws, completion=completion, key_names=names,
                           can_decide=actor.role == "supervisor", **_common())


@bp.route("/plans/<plan_id>/<action>", methods=["POST"])
@login_required("supervisor")
def plan_action(plan_id, action):
    actor = current_portal_actor()
    p = plan_service.get_plan(db.session, actor.user, plan_id)
    if action not in ("approve", "publish"):
        return redirect(url_for(".plan", plan_id=p.id))
    try:
        getattr(plan_service, f"{action}_plan")(db.session, actor, p)
        db.session.commit()
        flash(_("计划已批准") if action == "approve" else _("计划已发布"), "success")
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
    return redirect(url_for(".plan", plan_id=plan_id))


def _attachment(chunks, fmt: str, name_zh: str, name_ascii: str) -> Response:
    """A streamed CSV / XLSX download (the generator runs after the request transaction)."""
    from ..services.reporting.exports import CSV_MIME, XLSX_MIME

    resp = Response(stream_with_context(chunks), content_type=XLSX_MIME if fmt == "xlsx" else CSV_MIME)
    resp.headers["Content-Disposition"] = (f'attachment; filename="{name_ascii}.{fmt}"; '
                                           f"filename*=UTF-8''{quote(name_zh)}.{fmt}")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _pdf(data: bytes, name_zh: str, name_ascii: str) -> Response:
    resp = Response(data, content_type="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name_ascii}"; filename*=UTF-8\'\'{quote(name_zh)}'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _people(ids):
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(ids))))}


@bp.route("/draws/<draw_id>")
@login_required(*STAFF)
def draw(draw_id):
    actor = current_portal_actor()
    d = draw_service.get_draw(db.session, actor.user, draw_id)
    ents = dict(db.session.execute(select(Enterprise.id, Enterprise.name)
                                   .where(Enterprise.id.in_([r[0] for r in d.result]))).all())
    people = _people({x for r in d.result for x in r[1:] if x})
    return render_template("planning/draw.html", draw=d, ents=ents, people=people, verified=None, **_common())


@bp.route("/draws/<draw_id>/verify", methods=["POST"])
@login_required(*STAFF)
def draw_verify(draw_id):
    actor = current_portal_actor()
    d = draw_service.get_draw(db.session, actor.user, draw_id)
    outcome = draw_service.verify_draw(db.session, d)
    if outcome["verified"]:
        flash(_("复核通过：按公开记录重新运行，结果一致"), "success")
    else:
        flash(_("复核不通过：记录与重新运行的结果不一致"), "error")
    return redirect(url_for(".draw", draw_id=d.id))


@bp.route("/draws/<draw_id>/publication.<fmt>")
@login_required(*STAFF)
def draw_publication(draw_id, fmt):
    actor = current_portal_actor()
    d = draw_service.get_draw(db.session, actor.user, draw_id)
    fmt = "xlsx" if fmt == "xlsx" else "csv"
    rows = stats_service.publication_rows(db.session, d)
    return _attachment(stats_service.table_export(f"抽查结果公示 {d.period_label}", stats_service.PUBLICATION_HEADER, rows, fmt), fmt,
                    f"抽查结果公示_{d.period_label}", f"draw-publication-{d.id}")


@bp.route("/tasks/<task_id>")
@login_required(*STAFF)
def task(task_id):
    actor = current_portal_actor()
    t = task_service.get_task(db.session, actor.user, task_id)
    return render_template("planning/task.html", task=t, **_common())


@bp.route("/tasks/<task_id>/<doc>.pdf")
@login_required(*STAFF)
def task_pdf(task_id, doc):
    actor = current_portal_actor()
    t = task_service.get_task(db.session, actor.user, task_id)
    config = DocumentConfig.from_mapping(current_app.config)
    if doc == "notice":
        docs_service.number_notice(db.session, actor, t, current_app.config["BUREAU_CODE"])
        data = docs_service.render_task_notice_pdf(db.session, t, config)
        db.session.commit()
        return _pdf(data, f"检查任务通知书-{t.notice_number}.pdf", f"task-notice-{t.id}.pdf")
    data = docs_service.render_record_pdf(db.session, t, config)
    return _pdf(data, f"现场检查记录-{t.record_number}.pdf", f"inspection-record-{t.id}.pdf")


@bp.route("/check-code", methods=["GET", "POST"])
@login_required("enterprise")
def check_code():
    """扫码入企 / 检查码: the enterprise types (or scans) the code the inspectors show."""
    actor = current_portal_actor()
    if request.method == "GET":
        code = request.args.get("code", "")
        return render_template("planning/check_code.html", code=code, task=None, error=None, **_common())
    code = (request.form.get("code") or "")[:40]
    try:
        t = task_service.verify_code(db.session, actor.user, code)
    except AppError as exc:
        return render_template("planning/check_code.html", code=code, task=None,
                               error=service_message(exc.message), **_common()), exc.status
    return render_template("planning/check_code.html", code=code, task=t, error=None, **_common())


@bp.route("/inspections/<int:year>.<fmt>")
@login_required(*STAFF)
def inspections_export(year, fmt):
    """The year's inspections with 是否随机抽取 filled from the task (the dashboard's export button)."""
    actor = current_portal_actor()
    fmt = "xlsx" if fmt == "xlsx" else "csv"
    rows = stats_service.inspection_rows(db.session, actor.user, year)
    return _attachment(stats_service.table_export(f"{year}年检查情况", stats_service.INSPECTION_LIST_HEADER, rows, fmt), fmt,
                    f"检查情况_{year}", f"inspections-{year}")


# ------------------------------------------------------------------ forms (supervisors)

def _int(name, errors, low=0, high=100000, required=True):
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError
        return value
    except ValueError:
        errors[name] = _("请输入%(low)s至%(high)s之间的整数", low=low, high=high)
        return None


def _day(name, errors):
    from .common import parse_date

    try:
        value = parse_date(request.form.get(name))
    except ValueError:
        value = None
    if value is None:
        errors[name] = _("请选择日期")
    return value


def _service_errors(exc, errors):
    from .common import field_errors

    db.session.rollback()
    errors.update(field_errors(exc) or {"_": service_message(exc.message)})


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required("supervisor")
def plan_new():
    actor = current_portal_actor()
    errors: dict = {}
    if request.method == "POST":
        data = {"year": _int("year", errors, 2000, 2100), "staff_count": _int("staff_count", errors),
                "working_days": _int("working_days", errors, 0, 366), "booked_days": _int("booked_days", errors),
                "annual_cap": _int("annual_cap", errors, 1, 365, required=False),
                "title": (request.form.get("title") or "").strip()[:200] or None}
        try:
            data["days_per_class"] = {"major_hazard": float(request.form.get("days_major") or 0),
                                      "default": float(request.form.get("days_default") or 0)}
        except ValueError:
            errors["days_per_class"] = _("请输入天数")
        if not errors:
            try:
                p = plan_service.create_plan(db.session, actor, {k: v for k, v in data.items() if v is not None
                                                                 or k == "annual_cap"})
                db.session.commit()
                return redirect(url_for(".plan", plan_id=p.id))
            except AppError as exc:
                if exc.status == 404:
                    raise
                _service_errors(exc, errors)
        return render_template("planning/plan_form.html", data=request.form, errors=errors), 422
    return render_template("planning/plan_form.html", data={}, errors=errors)


@bp.route("/plans/<plan_id>/draws/new", methods=["GET", "POST"])
@login_required("supervisor")
def draw_new(plan_id):
    actor = current_portal_actor()
    p = plan_service.get_plan(db.session, actor.user, plan_id)
    errors: dict = {}
    if request.method == "POST":
        data = {"period_label": (request.form.get("period_label") or "").strip()[:40],
                "period_start": _day("period_start", errors), "period_end": _day("period_end", errors),
                "sample_size": _int("sample_size", errors, 1, 100000),
                "risk_colors": [c for c in request.form.getlist("risk_colors") if c in ("red", "orange", "yellow", "blue")]}
        if not data["period_label"]:
            errors["period_label"] = _("请填写批次名称")
        if not errors:
            try:
                d = draw_service.make_draw(db.session, actor, p, data)
                db.session.commit()
                return redirect(url_for(".draw", draw_id=d.id))
            except AppError as exc:
                if exc.status == 404:
                    raise
                _service_errors(exc, errors)
        return render_template("planning/draw_form.html", plan=p, data=request.form, errors=errors), 422
    return render_template("planning/draw_form.html", plan=p, data={}, errors=errors)


@bp.route("/draws/<draw_id>/tasks", methods=["POST"])
@login_required("supervisor")
def draw_tasks(draw_id):
    from .common import deadline_from_date

    actor = current_portal_actor()
    d = draw_service.get_draw(db.session, actor.user, draw_id)
    errors: dict = {}
    start, end = _day("window_start", errors), _day("window_end", errors)
    if errors:
        flash(_("请选择检查时限"), "error")
        return redirect(url_for(".draw", draw_id=d.id))
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    begin = datetime.combine(start, time(0, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    try:
        made = task_service.tasks_from_draw(db.session, actor, d, {"window_start_at": begin,
                                                                 "window_end_at": deadline_from_date(end)})
        db.session.commit()
        flash(_("已下达%(n)s项检查任务", n=len(made)), "success")
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
    return redirect(url_for(".draw", draw_id=d.id))


@bp.route("/tasks/<task_id>/approve", methods=["POST"])
@login_required("supervisor")
def task_approve(task_id):
    actor = current_portal_actor()
    t = task_service.get_task(db.session, actor.user, task_id)
    try:
        task_service.approve_task(db.session, actor, t, (request.form.get("reason") or "").strip()[:2000] or None)
        db.session.commit()
        flash(_("已批准"), "success")
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
    return redirect(url_for(".task", task_id=t.id))
