"""Sign-in, sign-out, forced password change, and the role home page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import ValidationError
from ..extensions import db
from ..models import utcnow
from ..services.accounts import auth as auth_service
from ..services.accounts.auth import InvalidCredentials
from ..services.accounts.throttle import SignInThrottled
from . import mfa as mfa_views
from .common import service_message
from .session_auth import current_portal_actor, load_portal_user, login_required, sign_in, sign_out

bp = Blueprint("portal", __name__, template_folder="templates", static_folder="static",
               static_url_path="/portal/static")

HOME_BY_ROLE = {
    "enterprise": "ent.home",
    "inspector": "desk.home",
    "supervisor": "desk.home",
    "admin": "admin_portal.users",
    "security_admin": "admin_portal.users",
    "legal": "casefiles.index",
}


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if target.startswith("/api"):
        return None
    return target


def home_url_for(user) -> str:
    endpoint = HOME_BY_ROLE.get(user.role)
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint)
    return url_for("portal.account")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        user = load_portal_user()
        if user is not None:
            return redirect(home_url_for(user))
        return render_template("login.html", username="", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    try:
        user = auth_service.authenticate_throttled(db.session, current_app.extensions["inspect_login_throttle"],
                                                   username, password, request.remote_addr)
    except SignInThrottled as exc:
        return render_template("login.html", username=username, next=next_url or "",
                               error=_("登录失败次数过多，请 %(n)s 分钟后再试", n=max(1, -(-exc.retry_after // 60)))
                               ), 429, {"Retry-After": str(exc.retry_after)}
    except InvalidCredentials as exc:
        remaining, retry_after = exc.details["remaining_attempts"], exc.details["retry_after"]
        if retry_after:
            warning = _("登录失败次数过多，请 %(n)s 分钟后再试", n=max(1, -(-retry_after // 60)))
        else:
            warning = _("还可尝试 %(n)s 次", n=remaining)
        return render_template("login.html", username=username, next=next_url or "",
                               error=_("用户名或密码错误"), warning=warning), 401
    user.last_login_at = utcnow()
    second = mfa_views.second_step(user, next_url)
    if second is not None:  # the password was right; the one-time code comes next
        return second
    sign_in(user)
    from ..services.access.audit import record_event
    from ..services.access.actor import Actor

    record_event(db.session, Actor(user, None, request.remote_addr), "auth.portal_login", user)
    if user.must_change_password:
        return redirect(url_for("portal.change_password"))
    return redirect(next_url or home_url_for(user))


@bp.route("/logout", methods=["POST"])
def logout():
    user = load_portal_user()
    if user is not None:
        from ..services.access.actor import Actor
        from ..services.access.audit import record_event

        record_event(db.session, Actor(user, None, request.remote_addr), "auth.portal_logout", user)
    sign_out()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("portal.login"))


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("portal.static", filename="favicon.svg"), code=301)


@bp.route("/")
@login_required
def index():
    return redirect(home_url_for(load_portal_user()))


@bp.route("/account")
@login_required
def account():
    return render_template("account.html")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = load_portal_user()
    forced = user.must_change_password
    if request.method == "GET":
        return render_template("password.html", forced=forced, errors={})
    new = request.form.get("new_password", "")
    confirm = request.form.get("confirm_password", "")
    errors = {}
    if not forced and not auth_service.passwords.verify_password(user.password_hash,
                                                                 request.form.get("current_password", "")):
        errors["current_password"] = _("原密码错误")
    if new != confirm:
        errors["confirm_password"] = _("两次输入的新密码不一致")
    if not errors:
        try:
            auth_service.set_password(db.session, user, new, current_portal_actor(), forced_change=False)
        except ValidationError as exc:
            errors["new_password"] = service_message(exc.message)  # names the rule of the policy that failed
    if errors:
        return render_template("password.html", forced=forced, errors=errors), 422
    sign_in(user)  # new password stamp: other sessions of this user end
    flash(_("密码已修改"), "success")
    return redirect(home_url_for(user))
