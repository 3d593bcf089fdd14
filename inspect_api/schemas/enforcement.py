"""Enforcement cases (立案) and penalty decisions (行政处罚)."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models.enforcement import CASE_STATUSES, PAYMENT_STATUSES, PENALTY_KINDS
from .common import Day, Schema, StrictSchema, Year


class PenaltySchema(Schema):
    id = fields.String()
    case_id = fields.String()
    enterprise_id = fields.String()
    region_code = fields.String()
    number = fields.String(metadata={"description": "文号 of the 行政处罚决定书"})
    kind = fields.String(metadata={"enum": list(PENALTY_KINDS)})
    target = fields.String()
    amount = fields.Decimal(places=2, as_string=True, allow_none=True, metadata={"description": "罚款 (元)"})
    decided_on = Day()
    payment_status = fields.String(metadata={"enum": list(PAYMENT_STATUSES)})
    paid_amount = fields.Decimal(places=2, as_string=True, allow_none=True)
    paid_on = Day(allow_none=True)
    basis = fields.String(allow_none=True)
    decided_by_id = fields.String(allow_none=True)


class CaseSchema(Schema):
    id = fields.String()
    number = fields.String(metadata={"description": "案号"})
    enterprise_id = fields.String()
    enterprise_name = fields.Function(lambda c: c.enterprise.name if c.enterprise else None)
    region_code = fields.String()
    inspection_id = fields.String(allow_none=True)
    cause = fields.String()
    source = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime()
    opened_by_id = fields.String()
    status = fields.String(metadata={"enum": list(CASE_STATUSES)})
    closed_at = fields.AwareDateTime(allow_none=True)
    hazard_ids = fields.Function(lambda c: [h.id for h in c.hazards])
    decisions = fields.List(fields.Nested(PenaltySchema))


class CaseCreateSchema(StrictSchema):
    cause = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={"description": "案由"})
    enterprise_id = fields.String()
    inspection_id = fields.String()
    hazard_ids = fields.List(fields.String(), validate=validate.Length(max=200))
    source = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"description": "案件来源"})
    summary = fields.String(allow_none=True, validate=validate.Length(max=10000))
    reason = fields.String(validate=validate.Length(max=2000))


class CaseQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    enterprise_id = fields.String()
    year = Year()


class PenaltyCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(PENALTY_KINDS))
    amount = fields.Decimal(places=2, allow_none=True, validate=validate.Range(min=0, min_inclusive=False),
                            metadata={"description": "罚款 (元), fines only"})
    decided_on = Day(metadata={"description": "defaults to today (Asia/Shanghai)"})
    target = fields.String(load_default="unit", validate=validate.OneOf(["unit", "person"]))
    basis = fields.String(allow_none=True, validate=validate.Length(max=2000))
    reason = fields.String(validate=validate.Length(max=2000))


class PenaltyQuerySchema(StrictSchema):
    case_id = fields.String()
    kind = fields.String(validate=validate.OneOf(PENALTY_KINDS))
    payment_status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))


class PaymentSchema(StrictSchema):
    paid_amount = fields.Decimal(places=2, required=True, validate=validate.Range(min=0, min_inclusive=False))
    paid_on = Day(metadata={"description": "defaults to today (Asia/Shanghai)"})
    reason = fields.String(validate=validate.Length(max=2000))


class CaseCloseSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=2000))
