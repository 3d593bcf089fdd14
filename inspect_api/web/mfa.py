"""The portal's second factor: the code step of a sign-in, enrolment by QR code (with one-time recovery codes
shown once), and the security administrator's reset of someone's second factor.

A sign-in whose password was right and whose account has (or must have) a second factor is not signed in
yet: the session holds only the pending user id; five wrong codes end it (sign in again), and each wrong
code is a failed sign-in for the audit log."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..extensions import db
from ..models import User
from ..services.access.actor import Actor
from ..services.access.audit import record_event
from ..services.accounts import mfa
from .session_auth import current_portal_actor, load_portal_user, login_required, sign_in

bp = Blueprint("mfa", __name__)

PENDING, NEXT, SECRET, TRIES = "mfa_uid", "mfa_next", "mfa_secret", "mfa_tries"
MAX_TRIES = 5


def _required_roles() -> tuple[str, ...]:
    return mfa.parse_roles(current_app.config.get("MFA_REQUIRED_ROLES"))


@bp.app_context_processor
def _mfa_context():
    return {"mfa_required_roles": _required_roles()}


def second_step(user: User, next_url: str | None):
    """Called by the sign-in view once the password was right: a redirect to the code step or the
    enrolment, or None when this account signs in with the password alone."""
    enrolled, required = mfa.is_enrolled(user), mfa.is_required(user, _required_roles())
    if not enrolled and not required:
        return None
    session.clear()
    session[PENDING], session[NEXT], session[TRIES] = user.id, next_url or "", 0
    return redirect(url_for("mfa.code" if enrolled else "mfa.enrol"))


def _pending() -> User | None:
    uid = session.get(PENDING)
    return db.session.get(User, uid) if uid else None


def _finish(user: User):
    next_url = session.get(NEXT) or None
    sign_in(user)
    record_event(db.session, Actor(user, None, request.remote_addr), "auth.portal_login", user,
                 data={"second_factor": True})
    from .views import home_url_for

    if user.must_change_password:
        return redirect(url_for("portal.change_password"))
    return redirect(next_url or home_url_for(user))


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    user = _pending()
    if user is None or not user.is_active:
        session.clear()
        return redirect(url_for("portal.login"))
    if request.method == "GET":
        return render_template("mfa_code.html", error=None)
    try:
        mfa.verify(db.session, Actor(user, None, request.remote_addr), user, request.form.get("code", ""))
    except AppError as exc:
        session[TRIES] = session.get(TRIES, 0) + 1
        record_event(db.session, Actor(user, None, request.remote_addr), "auth.portal_login_failed", user,
                     reason=exc.code)
        db.session.commit()  # a failed attempt is recorded although the request fails
        if session[TRIES] >= MAX_TRIES:
            session.clear()
            flash(_("动态验证码错误次数过多，请重新登录"), "error")
            return redirect(url_for("portal.login"))
        left = MAX_TRIES - session[TRIES]
        return render_template("mfa_code.html", error=_("动态验证码错误或已使用，还可尝试 %(n)s 次", n=left)), 401
    return _finish(user)


@bp.route("/account/second-factor", methods=["GET", "POST"])
def enrol():
    """Enrolment: by a signed-in user (optional), or in the middle of a sign-in that requires it."""
    user = _pending() or load_portal_user()
    if user is None:
        return redirect(url_for("portal.login"))
    if mfa.is_enrolled(user):
        flash(_("已启用动态验证码"), "info")
        return redirect(url_for("portal.account"))
    if request.method == "GET" or SECRET not in session:
        session[SECRET] = mfa.new_secret()
    shown = mfa.provisioning(user, session[SECRET])
    if request.method == "GET":
        return render_template("mfa_enrol.html", p=shown, error=None, pending=bool(session.get(PENDING)))
    try:
        codes = mfa.confirm_enrolment(db.session, Actor(user, None, request.remote_addr), user, session[SECRET],
                                      request.form.get("code", ""))
    except AppError as exc:
        return render_template("mfa_enrol.html", p=shown, error=_("验证码不正确，请用手机验证器中当前的 6 位数字"),
                               pending=bool(session.get(PENDING))), 422 if exc.status != 409 else 409
    session.pop(SECRET, None)
    pending = bool(session.get(PENDING))
    next_page = url_for("mfa.code") if pending else url_for("portal.account")
    if pending:
        session[TRIES] = 0
    return render_template("mfa_codes.html", codes=codes, next_page=next_page)


@bp.route("/admin/users/<user_id>/second-factor/reset", methods=["POST"])
@login_required("security_admin")
def reset(user_id):
    actor = current_portal_actor()
    target = db.session.get(User, user_id)
    if target is None:
        return redirect(url_for("admin_portal.users"))
    mfa.reset(db.session, actor, target, reason=(request.form.get("reason") or "").strip() or None)
    flash(_("已重置该用户的动态验证码，其下次登录时须重新绑定"), "success")
    return redirect(url_for("admin_portal.user_edit", user_id=user_id))
