"""Portal pages for the criteria catalogues (判定标准): admins list, import (template download, row-by-row
report), publish and generate checklists; supervisors re-grade open major hazards with a preview."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError, NotFound
from ..extensions import db
from ..models import utcnow
from ..services.criteria import catalogues as catalogue_service
from ..services.criteria import regrade as regrade_service
from ..services.criteria.checklists import generate_checklist
from ..services.criteria.imports import catalogue_template_xlsx, import_catalogue
from .common import form_str, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("criteria_portal", __name__, url_prefix="/criteria")

MAX_IMPORT_BYTES = 20 * 1024 * 1024
META_FIELDS = (("code", 40), ("title", 200), ("doc_no", 100), ("kind", 20), ("industries", 400),
               ("region_code", 12), ("scope_note", 2000), ("effective_from", 10), ("effective_to", 10),
               ("replaces_id", 64), ("source", 2000))


def _labels():
    return {"kinds": catalogue_service.KIND_LABELS, "statuses": catalogue_service.STATUS_LABELS}


@bp.route("/")
@login_required("admin", "supervisor", "inspector")
def index():
    actor = current_portal_actor()
    status = None if actor.user.role == "admin" else "published"
    catalogues = catalogue_service.list_catalogues(db.session, status=status)
    return render_template("criteria/list.html", catalogues=catalogues, **_labels())


@bp.route("/<catalogue_id>")
@login_required("admin", "supervisor", "inspector")
def detail(catalogue_id):
    actor = current_portal_actor()
    catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
    if catalogue.status != "published" and actor.user.role != "admin":
        raise NotFound(_("判定标准不存在"))
    return render_template("criteria/detail.html", c=catalogue, **_labels())


@bp.route("/<catalogue_id>/publish", methods=["POST"])
@login_required("admin")
def publish(catalogue_id):
    actor = current_portal_actor()
    catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
    try:
        catalogue_service.publish_catalogue(db.session, actor, catalogue)
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
    else:
        db.session.commit()
        flash(_("已发布 %(code)s 第%(v)s版", code=catalogue.code, v=catalogue.version), "success")
    return redirect(url_for(".detail", catalogue_id=catalogue_id))


@bp.route("/<catalogue_id>/checklist", methods=["POST"])
@login_required("admin")
def checklist(catalogue_id):
    actor = current_portal_actor()
    catalogue = catalogue_service.get_catalogue(db.session, catalogue_id)
    try:
        tpl = generate_checklist(db.session, actor, catalogue, publish=request.form.get("publish") == "1")
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
        return redirect(url_for(".detail", catalogue_id=catalogue_id))
    db.session.commit()
    flash(_("已生成检查表 %(code)s", code=tpl.code), "success")
    return redirect(url_for("admin_portal.checklist", template_id=tpl.id))


@bp.route("/import/template")
@login_required("admin")
def template():
    resp = Response(catalogue_template_xlsx(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = "attachment; filename=\"criteria-template.xlsx\""
    return resp


@bp.route("/import", methods=["GET", "POST"])
@login_required("admin")
def import_view():
    actor = current_portal_actor()
    published = catalogue_service.list_catalogues(db.session, status="published")
    context = {"report": None, "error": None, "data": {}, "published": published, **_labels()}
    if request.method == "GET":
        return render_template("criteria/import.html", **context)
    data = {name: form_str(name, size) for name, size in META_FIELDS}
    context["data"] = data
    upload = request.files.get("file")
    content = upload.stream.read(MAX_IMPORT_BYTES + 1) if upload is not None and upload.filename else None
    if not content:
        context["error"] = _("请选择要导入的 XLSX、CSV 或 JSON 文件")
        return render_template("criteria/import.html", **context), 422
    if len(content) > MAX_IMPORT_BYTES:
        context["error"] = _("文件太大（上限 20 MB）")
        return render_template("criteria/import.html", **context), 422
    try:
        report = import_catalogue(db.session, actor, content, upload.filename, metadata=data,
                                  dry_run=request.form.get("dry_run") == "1")
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        context["report"] = (exc.details or {}).get("report")
        context["error"] = service_message(exc.message)
        return render_template("criteria/import.html", **context), 422
    db.session.commit()
    context["report"] = report.as_dict()
    return render_template("criteria/import.html", **context)


def _regrade_changes() -> list[dict]:
    changes = []
    for hazard_id in request.form.getlist("hazard_id"):
        choice = request.form.get(f"clause_{hazard_id}") or ""
        if choice == "":
            continue  # unchanged
        changes.append({"hazard_id": hazard_id, "clause_id": None if choice == "general" else choice})
    return changes


@bp.route("/regrade", methods=["GET", "POST"])
@login_required("supervisor")
def regrade():
    """Pick the new standard, choose a clause (or 一般隐患) per open major hazard, preview, then apply."""
    actor = current_portal_actor()
    today = catalogue_service.local_day(utcnow())
    targets = [c for c in catalogue_service.list_catalogues(db.session, status="published")
               if catalogue_service.in_force(c, today)]
    target_id = request.values.get("catalogue_id") or (targets[-1].id if targets else None)
    target = next((c for c in targets if c.id == target_id), None)
    context = {"targets": targets, "target": target, "candidates": [], "preview": None, "error": None,
               "chosen": {}, "reason": form_str("reason", 2000) or ""}
    if target is None:
        return render_template("criteria/regrade.html", **context)
    context["candidates"] = regrade_service.regrade_candidates(db.session, actor, target.id)
    if request.method == "GET":
        return render_template("criteria/regrade.html", **context)
    changes = _regrade_changes()
    context["chosen"] = {c["hazard_id"]: c["clause_id"] or "general" for c in changes}
    try:
        if request.form.get("action") == "apply":
            rows = regrade_service.apply_regrade(db.session, actor, target.id, changes, context["reason"])
            db.session.commit()
            flash(_("已重新判定 %(n)s 项重大隐患", n=len(rows)), "success")
            return redirect(url_for(".regrade", catalogue_id=target.id))
        context["preview"] = regrade_service.preview_regrade(db.session, actor, target.id, changes)
    except AppError as exc:
        db.session.rollback()
        context["error"] = service_message(exc.message)
        context["preview"] = (exc.details or {}).get("preview")
        return render_template("criteria/regrade.html", **context), 422
    db.session.rollback()  # a preview changes nothing
    return render_template("criteria/regrade.html", **context)
