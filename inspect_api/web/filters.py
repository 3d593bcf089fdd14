"""Jinja filters and globals: dates in Asia/Shanghai, labels for states and roles."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from flask import Flask
from flask_babel import format_date, get_locale, format_datetime, lazy_gettext as _l

from .session_auth import load_portal_user

ROLE_LABELS = {
    "admin": _l("系统管理员"),
    "supervisor": _l("监管人员"),
    "inspector": _l("执法检查人员"),
    "enterprise": _l("企业安全管理人员"),
}


def fmt_datetime(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    if isinstance(value, date):
        return format_date(value, "yyyy-MM-dd")
    return str(value)


def fmt_date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_datetime(value, "yyyy-MM-dd")
    if isinstance(value, date):
        return format_date(value, "yyyy-MM-dd")
    return str(value)


def fmt_money(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = fmt_datetime
    app.jinja_env.filters["d"] = fmt_date
    app.jinja_env.filters["money"] = fmt_money
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions

    @app.context_processor
    def _portal_context():
        try:
            user = load_portal_user()
        except Exception:  # noqa: BLE001  (an error page must render even if the DB is down)
            user = None
        return {"portal_user": user, "role_labels": ROLE_LABELS}
