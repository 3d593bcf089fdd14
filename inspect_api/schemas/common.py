from __future__ import annotations

import math
from datetime import date, timezone

from marshmallow import Schema, fields, validate

# The days and times the service accepts anywhere (a date range every path shares: statistics, cases,
# penalties, deadlines). Outside them Python's datetime or the database overflows.
MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(2999, 12, 31)
MAX_MILLIS = 32503680000000  # 3000-01-01T00:00:00Z, the bound the sync push uses too


class StrictSchema(Schema):
    """Request bodies: unknown fields are an error (marshmallow default RAISE)."""


class ApiErrorSchema(Schema):
    status = fields.Integer()
    code = fields.String()
    message = fields.String()
    details = fields.Dict()


class Millis(fields.Field):
    """Aware datetime <-> integer milliseconds since the epoch (UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return int(value.astimezone(timezone.utc).timestamp() * 1000)

    def _deserialize(self, value, attr, data, **kwargs):
        from datetime import datetime

        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if not math.isfinite(value) or not (0 <= value < MAX_MILLIS):
            raise self.make_error("range")
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)

    default_error_messages = {"invalid": "Not a time in integer milliseconds.",
                              "range": "Must be between 0 and 3000-01-01 in milliseconds."}


class Day(fields.Date):
    """A calendar day within MIN_DAY..MAX_DAY (every date the API takes)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(MIN_DAY, MAX_DAY))
        super().__init__(**kwargs)


class Year(fields.Integer):
    """A year within MIN_DAY.year..MAX_DAY.year."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(MIN_DAY.year, MAX_DAY.year))
        super().__init__(**kwargs)


def mask_phone(phone: str | None) -> str | None:
    """138****1234: a phone number as lists, exports and pages show it (等保三级 8.1.4.11); whole only
    through the audited contact endpoints, to the roles that need it."""
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


class MaskedPhone(fields.String):
    """A phone number serialized masked."""

    def _serialize(self, value, attr, obj, **kwargs):
        return mask_phone(value)


class ContactSchema(Schema):
    """A contact with the whole phone number (audited views only)."""

    safety_contact = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
