"""The server-rendered portal (Chinese first, English via Accept-Language).

``init_portal(app, babel)`` is called by ``create_app``. It configures
Flask-Babel, the session cookie, CSRF on every unsafe portal request,
security headers on every non-API response, and registers the portal
blueprints listed in PORTAL_MODULES.
"""
from __future__ import annotations

import importlib
from datetime import date, datetime

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface

# Modules under inspect_api.web defining a Blueprint named ``bp``, registered in order.
PORTAL_MODULES = ["views", "files", "enterprise", "desk", "admin", "dashboard", "selfcheck", "criteria"]

SUPPORTED_LOCALES = ("zh_CN", "en")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def select_locale() -> str:
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best and best.lower().startswith("en"):
        return "en"
    return "zh_CN"


class PortalSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        try:
            return request.is_secure
        except RuntimeError:  # outside a request
            return False


def is_portal_path(path: str) -> bool:
    return not path.startswith("/api")


def init_portal(app: Flask, babel) -> None:
    from ..extensions import csrf

    babel.init_app(app, locale_selector=select_locale)
    app.session_interface = PortalSessionInterface()

    @app.before_request
    def _portal_csrf():
        # g lives in the app context, which tests may share between requests
        g.pop("portal_user", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and is_portal_path(request.path):
            csrf.protect()

    @app.after_request
    def _security_headers(response):
        if is_portal_path(request.path):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if is_portal_path(request.path) and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
            response.vary.add("Accept-Language")
        return response

    from . import filters

    filters.register(app)

    for name in PORTAL_MODULES:
        app.register_blueprint(importlib.import_module(f"{__name__}.{name}").bp)


__all__ = ["init_portal", "PORTAL_MODULES", "select_locale", "date", "datetime"]
