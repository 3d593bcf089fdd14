from marshmallow import fields

from .common import Schema


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_id = fields.String(allow_none=True)
    actor_username = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    action = fields.String()
    object_table = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    data = fields.Dict()
