from marshmallow import fields

from .common import Schema


class RegionSchema(Schema):
    id = fields.String()
    code = fields.Function(lambda r: r.id)
    name = fields.String()
    parent_id = fields.String(allow_none=True)
    level = fields.Integer()
    kind = fields.String(allow_none=True)
