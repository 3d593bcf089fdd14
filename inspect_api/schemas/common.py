from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, fields


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
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)

    default_error_messages = {"invalid": "Not a time in integer milliseconds."}


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
