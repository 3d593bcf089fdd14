"""Small helpers shared by the portal views: form parsing, messages, paging."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import get_locale
from sqlalchemy import func, select

from ..extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_SIZE = 30

_BILINGUAL = re.compile(r"^(?P<zh>.*?)\s*\((?P<en>[^()]*)\)\s*$", re.S)


def service_message(message: str) -> str:
    """Services write messages as "中文 (english)": show the part for the page's language."""
    m = _BILINGUAL.match(message or "")
    if not m or not re.search(r"[\u4e00-\u9fff]", m.group("zh")):
        return message
    return m.group("en") if str(get_locale()) == "en" else m.group("zh")


def field_errors(exc) -> dict:
    """{field: message} from an AppError's details, in the page's language."""
    fields = (getattr(exc, "details", None) or {}).get("fields") or {}
    out = {}
    for name, msgs in fields.items():
        if isinstance(msgs, (list, tuple)) and msgs:
            out[name] = service_message(str(msgs[0]))
        elif isinstance(msgs, str):
            out[name] = service_message(msgs)
    return out


def form_str(name: str) -> str | None:
    """A form field, stripped, or None. Never shortened: the services refuse what is too long
    (models/limits.py), naming the field, and the form is shown again with everything typed."""
    value = (request.form.get(name) or "").strip()
    return value or None


def parse_decimal(value: str | None) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite() or d < 0:
        raise ValueError("not a non-negative number")
    return d.quantize(Decimal("0.01"))


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value.strip())


def deadline_from_date(value: date) -> datetime:
    """A deadline given as a calendar day ends at 23:59:59 Beijing time that day (stored UTC)."""
    return datetime.combine(value, time(23, 59, 59), tzinfo=SHANGHAI).astimezone(timezone.utc)


def local_date(value: datetime | None) -> date | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(SHANGHAI).date()


@dataclass
class Page:
    items: list
    page: int
    pages: int
    total: int

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(stmt, page: int | None = None, per_page: int = PAGE_SIZE) -> Page:
    if page is None:
        try:
            page = max(1, int(request.args.get("page", 1)))
        except ValueError:
            page = 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, pages, total)
