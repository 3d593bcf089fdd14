"""Admin pages: users, devices, enterprise import, checklist templates."""
from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import ROLES, Device, Enterprise, Region, User
from ..services.accounts import auth as auth_service
from ..services.accounts import users as users_service
from ..services.access.scope import get_scoped, select_scoped
from .common import field_errors, form_str, paginate, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("admin_portal", __name__, url_prefix="/admin")

USER_FIELDS = ("username", "display_name", "role", "region_code", "enterprise_id", "certificate_no", "phone")


def _choices():
    regions = list(db.session.scalars(select(Region).where(Region.level <= 3).order_by(Region.id)))
    enterprises = list(db.session.scalars(
        select(Enterprise).where(Enterprise.deleted_at.is_(None)).order_by(Enterprise.name)))
    return {"regions": regions, "enterprises": enterprises, "roles": ROLES}


@bp.route("/")
@login_required("admin")
def index():
    return redirect(url_for(".users"))


@bp.route("/users")
@login_required("admin", "security_admin")
def users():
    actor = current_portal_actor()
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or None
    if role not in ROLES:
        role = None
    stmt = users_service.list_users_stmt(q or None, role)
    stmt = stmt.where(select_scoped(User, actor.user).whereclause)
    return render_template("admin/users.html", page=paginate(stmt), q=q, role=role, roles=ROLES)


def _user_form_data() -> dict:
    data = {name: form_str(name) for name in USER_FIELDS}
    return data


@bp.route("/users/new", methods=["GET", "POST"])
@login_required("admin", "security_admin")
def user_new():
    actor = current_portal_actor()
    if request.method == "GET":
        return render_template("admin/user_form.html", user=None, data={"role": "enterprise"}, errors={},
                               **_choices())
    data = _user_form_data()
    password = request.form.get("password") or ""
    data["password"] = password
    data["must_change_password"] = True
    errors = {}
    if not data.get("username"):
        errors["username"] = _("请填写用户名")
    if data.get("role") not in ROLES:
        errors["role"] = _("请选择角色")
    if not errors:
        try:
            user = users_service.create_user(db.session, actor, data)
        except AppError as exc:
            db.session.rollback()  # nothing half-done is committed
            errors = field_errors(exc) or {"_": service_message(exc.message)}
        else:
            flash(_("已创建用户 %(name)s，首次登录须修改密码", name=user.username), "success")
            return redirect(url_for(".user_edit", user_id=user.id))
    data.pop("password", None)
    return render_template("admin/user_form.html", user=None, data=data, errors=errors, **_choices()), 422


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@login_required("admin", "security_admin")
def user_edit(user_id):
    actor = current_portal_actor()
    user = get_scoped(db.session, User, user_id, actor.user)
    current = {
        "username": user.username, "display_name": user.display_name, "role": user.role,
        "region_code": user.region_id, "enterprise_id": user.enterprise_id,
        "certificate_no": user.certificate_no, "phone": user.phone,
    }
    if request.method == "GET":
        return render_template("admin/user_form.html", user=user, data=current, errors={}, **_choices())
    data = _user_form_data()
    data.pop("username", None)
    if data.get("role") not in ROLES:
        return render_template("admin/user_form.html", user=user, data={**current, **data},
                               errors={"role": _("请选择角色")}, **_choices()), 422
    try:
        users_service.update_user(db.session, actor, user, data)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        errors = field_errors(exc) or {"_": service_message(exc.message)}
        return render_template("admin/user_form.html", user=user, data={**current, **data}, errors=errors,
                               **_choices()), 422
    flash(_("已保存"), "success")
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.route("/users/<user_id>/active", methods=["POST"])
@login_required("admin", "security_admin")
def user_active(user_id):
    actor = current_portal_actor()
    user = get_scoped(db.session, User, user_id, actor.user)
    active = request.form.get("active") == "1"
    if user.id == actor.id and not active:
        flash(_("不能停用自己的账号"), "error")
        return redirect(url_for(".user_edit", user_id=user.id))
    users_service.update_user(db.session, actor, user, {"is_active": active})
    flash(_("账号已启用") if active else _("账号已停用，其登录令牌已全部失效"), "success")
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.route("/users/<user_id>/reset-password", methods=["POST"])
@login_required("admin", "security_admin")
def user_reset_password(user_id):
    actor = current_portal_actor()
    user = get_scoped(db.session, User, user_id, actor.user)
    # A one-time password the admin hands over; the user must change it at next sign-in.
    temporary = "Hs" + secrets.token_urlsafe(9) + "7"
    users_service.reset_password(db.session, actor, user, temporary)
    return render_template("admin/password_reset.html", user=user, temporary=temporary)


@bp.route("/devices")
@login_required("admin")
def devices():
    actor = current_portal_actor()
    stmt = select_scoped(Device, actor.user).order_by(Device.revoked_at.is_not(None),
                                                      Device.last_seen_at.desc())
    return render_template("admin/devices.html", page=paginate(stmt))


@bp.route("/devices/<device_id>/revoke", methods=["POST"])
@login_required("admin")
def device_revoke(device_id):
    actor = current_portal_actor()
    device = get_scoped(db.session, Device, device_id, actor.user)
    auth_service.revoke_device(db.session, device.id, actor, form_str("reason"))
    flash(_("设备已停用，其所有令牌立即失效"), "success")
    return redirect(url_for(".devices"))


@bp.route("/devices/<device_id>/restore", methods=["POST"])
@login_required("admin")
def device_restore(device_id):
    actor = current_portal_actor()
    device = get_scoped(db.session, Device, device_id, actor.user)
    auth_service.restore_device(db.session, device.id, actor)
    flash(_("设备已恢复，可重新登录（旧令牌仍然无效）"), "success")
    return redirect(url_for(".devices"))


# ------------------------------------------------------------------ enterprise import

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _uploaded_file(field: str = "file"):
    f = request.files.get(field)
    if f is None or not f.filename:
        return None, None
    data = f.stream.read(MAX_IMPORT_BYTES + 1)
    return f.filename, data


@bp.route("/enterprises/import/template")
@login_required("admin")
def enterprise_import_template():
    """The import template on the import page: XLSX, or CSV with ?format=csv."""
    from urllib.parse import quote

    from flask import Response

    from ..services.registry import imports as imports_service

    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    data, mimetype, filename = imports_service.enterprise_template(fmt)
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=enterprise-import-template.{fmt}; "
                               f"filename*=UTF-8''{quote(filename)}"})


@bp.route("/enterprises/import", methods=["GET", "POST"])
@login_required("admin")
def enterprise_import():
    from ..services.registry import imports as imports_service

    if request.method == "GET":
        return render_template("admin/enterprise_import.html", report=None, error=None)
    actor = current_portal_actor()
    filename, data = _uploaded_file()
    error = None
    if not data:
        error = _("请选择要导入的 XLSX 或 CSV 文件")
    elif len(data) > MAX_IMPORT_BYTES:
        error = _("文件太大（上限 20 MB）")
    if error:
        return render_template("admin/enterprise_import.html", report=None, error=error), 422
    dry_run = request.form.get("dry_run") == "1"
    try:
        report = imports_service.import_enterprises_file(db.session, actor, data, filename, dry_run=dry_run)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        return render_template("admin/enterprise_import.html", report=None,
                               error=service_message(exc.message)), 422
    return render_template("admin/enterprise_import.html", report=report, error=None, filename=filename)


# ------------------------------------------------------------------ checklist templates

@bp.route("/checklists", methods=["GET", "POST"])
@login_required("admin")
def checklists():
    from ..services.registry import checklists as checklist_service

    actor = current_portal_actor()
    report, error, status = None, None, 200
    if request.method == "POST":
        filename, data = _uploaded_file()
        if not data:
            error, status = _("请选择要导入的 XLSX 或 JSON 文件"), 422
        elif len(data) > MAX_IMPORT_BYTES:
            error, status = _("文件太大（上限 20 MB）"), 422
        else:
            try:
                report = checklist_service.import_checklist_file(
                    db.session, actor, data, filename, code=form_str("code"),
                    title=form_str("title"),
                    publish=request.form.get("publish") == "1")
            except AppError as exc:
                db.session.rollback()  # nothing half-done is committed
                error, status = service_message(exc.message), 422
            else:
                if report.failed:
                    status = 422
    page = paginate(checklist_service.list_templates_stmt(actor.user))
    counts = checklist_service.template_counts(db.session, [t.id for t in page.items])
    html = render_template("admin/checklists.html", page=page, counts=counts, report=report, error=error)
    return html, status


@bp.route("/checklists/<template_id>")
@login_required("admin")
def checklist(template_id):
    from ..services.registry import checklists as checklist_service

    actor = current_portal_actor()
    tpl = checklist_service.get_template(db.session, actor.user, template_id)
    items = list(db.session.scalars(checklist_service.items_stmt(actor.user, tpl)))
    return render_template("admin/checklist.html", tpl=tpl, items=items)


@bp.route("/checklists/<template_id>/publish", methods=["POST"])
@login_required("admin")
def checklist_publish(template_id):
    from ..services.registry import checklists as checklist_service

    actor = current_portal_actor()
    tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
    try:
        checklist_service.publish_template(db.session, actor, tpl)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        if exc.status == 404:
            raise
        flash(service_message(exc.message), "error")
        return redirect(url_for(".checklist", template_id=tpl.id))
    flash(_("已发布 %(code)s 第 %(version)s 版，旧版本已停用", code=tpl.code, version=tpl.version), "success")
    return redirect(url_for(".checklist", template_id=tpl.id))


@bp.route("/checklists/<template_id>/new-version", methods=["POST"])
@login_required("admin")
def checklist_new_version(template_id):
    from ..services.registry import checklists as checklist_service

    actor = current_portal_actor()
    tpl = checklist_service.get_template(db.session, actor.user, template_id)
    try:
        copy = checklist_service.new_version(db.session, actor, tpl)
    except AppError as exc:
        db.session.rollback()  # nothing half-done is committed
        if exc.status == 404:
            raise
        flash(service_message(exc.message), "error")
        return redirect(url_for(".checklist", template_id=tpl.id))
    flash(_("已创建第 %(version)s 版草稿", version=copy.version), "success")
    return redirect(url_for(".checklist", template_id=copy.id))
