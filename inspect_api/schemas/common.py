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
