"""Session (cookie) authentication for the portal.

The portal keeps only the user id and a password stamp in Flask's signed
session cookie; every request reloads the user, so disabling an account or
changing its password ends existing portal sessions at once.
"""
from __future__ import annotations

import functools
import hashlib
import time

from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext

from ..errors import Forbidden
from ..extensions import db
from ..models import User
from ..services.access.actor import Actor

SESSION_USER_KEY = "uid"
SESSION_STAMP_KEY = "pws"


def password_stamp(user: User) -> str:
    """Changes whenever the password hash changes (ends other sessions)."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


SESSION_STARTED_KEY = "t0"
SESSION_SEEN_KEY = "ts"


def sign_in(user: User) -> None:
    session.clear()
    session[SESSION_USER_KEY] = user.id
    session[SESSION_STAMP_KEY] = password_stamp(user)
    now = int(time.time())
    session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = now
    session.permanent = False


def _session_expired(now: int) -> bool:
    """Idle longer than SESSION_IDLE_MINUTES, or older than SESSION_MAX_HOURS (等保三级 8.1.4.1)."""
    started, seen = session.get(SESSION_STARTED_KEY), session.get(SESSION_SEEN_KEY)
    if not isinstance(started, int) or not isinstance(seen, int):
        return True
    config = current_app.config
    return (now - seen > int(config.get("SESSION_IDLE_MINUTES", 30)) * 60
            or now - started > int(config.get("SESSION_MAX_HOURS", 12)) * 3600)


def sign_out() -> None:
    session.clear()


def load_portal_user() -> User | None:
    if "portal_user" in g:
        return g.portal_user
    user = None
    uid = session.get(SESSION_USER_KEY)
    if uid:
        now = int(time.time())
        candidate = None if _session_expired(now) else db.session.get(User, uid)
        if candidate is not None and candidate.is_active \
                and session.get(SESSION_STAMP_KEY) == password_stamp(candidate):
            user = candidate
            if now - session[SESSION_SEEN_KEY] >= 60:  # the idle clock, to the minute (no cookie per request)
                session[SESSION_SEEN_KEY] = now
        else:
            session.clear()
    g.portal_user = user
    return user


def current_portal_actor() -> Actor:
    """The signed-in portal user as an Actor (call inside a login_required view)."""
    user = load_portal_user()
    return Actor(user=user, device_id=None, ip=request.remote_addr)


def login_required(*roles: str):
    """Require a signed-in portal user; with roles, one of those (else 403 page).

    A user who must change the password is sent to the change-password page first.
    """

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            user = load_portal_user()
            if user is None:
                return redirect(url_for("portal.login", next=request.full_path.rstrip("?")))
            if user.must_change_password and request.endpoint not in (
                    "portal.change_password", "portal.logout"):
                return redirect(url_for("portal.change_password"))
            if roles and user.role not in roles:
                raise Forbidden(gettext("您无权访问此页面"))
            return fn(*args, **kwargs)

        wrapper._portal_roles = roles  # noqa: SLF001
        return wrapper

    if len(roles) == 1 and callable(roles[0]):
        fn, roles = roles[0], ()
        return decorator(fn)
    return decorator
