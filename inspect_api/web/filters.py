"""Jinja filters and globals: dates in Asia/Shanghai, labels for states and roles."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from flask import Flask
from flask_babel import format_date, get_locale, format_datetime, lazy_gettext as _l

from ..schemas.common import mask_phone
from .session_auth import load_portal_user

ROLE_LABELS = {
    "admin": _l("系统管理员"),
    "supervisor": _l("监管人员"),
    "inspector": _l("执法检查人员"),
    "enterprise": _l("企业安全管理人员"),
    "legal": _l("法制审核人员"),
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


def days_left(deadline) -> int | None:
    """Calendar days (Beijing time) from today to the deadline; negative when past."""
    from ..models import utcnow
    from .common import local_date

    if deadline is None:
        return None
    return (local_date(deadline) - local_date(utcnow())).days


def person(user, with_certificate: bool = True) -> str:
    """A person as the portal shows one: the name, and for an officer the 执法证号 — never the login name
    while a name is on file (the login name is shown only for an account nobody named yet)."""
    if user is None:
        return "—"
    name = (user.display_name or "").strip() or user.username
    if with_certificate and user.certificate_no:
        return f"{name}（执法证号 {user.certificate_no}）"
    return name


def person_by_id(user_id, with_certificate: bool = True) -> str:
    if not user_id:
        return "—"
    from ..extensions import db
    from ..models import User

    return person(db.session.get(User, user_id), with_certificate)


_CRITERIA: dict | None = None


def criterion_text(code: str | None) -> str:
    """"HC2017-12 <the clause>" for a major-hazard criterion code (the 2017 criteria shipped as data)."""
    global _CRITERIA
    if not code:
        return "—"
    if _CRITERIA is None:
        import json
        from importlib import resources

        doc = json.loads(resources.files("inspect_api").joinpath("data", "checklist_major_hazards_2017.json")
                         .read_text(encoding="utf-8"))
        _CRITERIA = {i["code"]: i["content"] for i in doc["items"]}
    text = _CRITERIA.get(code)
    return f"{code} {text}" if text else code


def fmt_money(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = fmt_datetime
    app.jinja_env.filters["d"] = fmt_date
    app.jinja_env.filters["money"] = fmt_money
    app.jinja_env.filters["person"] = person
    app.jinja_env.filters["criterion"] = criterion_text
    app.jinja_env.globals["person_by_id"] = person_by_id
    app.jinja_env.filters["days_left"] = days_left
    from .common import service_message

    app.jinja_env.filters["svc"] = service_message
    app.jinja_env.filters["masked"] = mask_phone
    register_labels(app)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    from ..models.limits import ALL as TEXT_LIMITS

    from ..services.registry.enterprises import INDUSTRIES

    app.jinja_env.globals["industry_choices"] = INDUSTRIES
    app.jinja_env.globals["text_limit"] = lambda group, field: TEXT_LIMITS[group][field][1]

    @app.context_processor
    def _portal_context():
        try:
            user = load_portal_user()
        except Exception:  # noqa: BLE001  (an error page must render even if the DB is down)
            user = None
        return {"portal_user": user, "role_labels": ROLE_LABELS}


HAZARD_STATUS_LABELS = {
    "found": _l("已登记"),
    "ordered": _l("待签收"),
    "acknowledged": _l("整改中"),
    "reported": _l("待复查"),
    "rejected": _l("复查不合格，重新整改"),
    "verified": _l("复查合格，待销号"),
    "closed": _l("已销号"),
}
NOTICE_STATUS_LABELS = {
    "issued": _l("待签收"),
    "acknowledged": _l("已签收，整改中"),
    "closed": _l("已全部销号"),
}
RECT_STATUS_LABELS = {"pending": _l("待复查"), "accepted": _l("复查合格"), "rejected": _l("复查不合格")}
GRADE_LABELS = {"general": _l("一般隐患"), "major": _l("重大隐患")}
LISTING_LABELS = {"province": _l("省级挂牌督办"), "city": _l("市级挂牌督办"), "county": _l("县级挂牌督办")}
RISK_LABELS = {"red": _l("红色（重大风险）"), "orange": _l("橙色（较大风险）"), "yellow": _l("黄色（一般风险）"),
               "blue": _l("蓝色（低风险）")}


def register_labels(app: Flask) -> None:
    app.jinja_env.globals.update(
        hazard_status_labels=HAZARD_STATUS_LABELS, notice_status_labels=NOTICE_STATUS_LABELS,
        rect_status_labels=RECT_STATUS_LABELS, grade_labels=GRADE_LABELS, listing_labels=LISTING_LABELS,
        risk_labels=RISK_LABELS,
    )
