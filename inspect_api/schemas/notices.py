"""Rectification notices (责令限期整改指令书)."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models.notices import NOTICE_STATUSES
from .common import Schema, StrictSchema
from .hazards import HazardSchema


class OfficerSchema(Schema):
    id = fields.String()
    display_name = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)


class NoticeSchema(Schema):
    id = fields.String()
    number = fields.String(allow_none=True, metadata={"description": "文号"})
    inspection_id = fields.String(allow_none=True)
    enterprise_id = fields.String()
    enterprise_name = fields.Function(lambda n: n.enterprise.name if n.enterprise else None)
    region_code = fields.String()
    deadline_at = fields.AwareDateTime(allow_none=True)
    issued_at = fields.AwareDateTime(allow_none=True)
    officer1 = fields.Nested(OfficerSchema, allow_none=True)
    officer2 = fields.Nested(OfficerSchema, allow_none=True)
    safety_measures = fields.String(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(NOTICE_STATUSES)})
    hazards = fields.List(fields.Nested(HazardSchema))


class NoticeCreateSchema(StrictSchema):
    hazard_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "hazards (status found) of one inspection"})
    deadline_at = fields.AwareDateTime(required=True, metadata={"description": "整改期限"})
    officer2_id = fields.String(required=True, metadata={"description": "the second officer (执法人员)"})
    safety_measures = fields.String(allow_none=True, validate=validate.Length(max=5000),
                                    metadata={"description": "整改期间安全措施要求"})
    reason = fields.String(validate=validate.Length(max=2000))


class NoticeQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(NOTICE_STATUSES))
    enterprise_id = fields.String()
    inspection_id = fields.String()
    overdue = fields.Boolean(metadata={"description": "holds a hazard past its deadline and not closed"})


class AcknowledgeSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=2000))
