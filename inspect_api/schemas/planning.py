"""Enforcement planning: plans, draws, tasks, 检查码 verification."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models.planning import PLAN_STATUSES, TASK_STATUSES
from .common import Schema, StrictSchema

KINDS = ("key", "random", "special", "complaint", "accident", "follow_up")


def _person(user):
    if user is None:
        return None
    return {"id": user.id, "name": user.display_name or user.username, "certificate_no": user.certificate_no}


class InspectionPlanSchema(Schema):
    id = fields.String()
    region_code = fields.String()
    year = fields.Integer()
    version = fields.Integer()
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    title = fields.String()
    staff_count = fields.Integer()
    working_days = fields.Integer()
    booked_days = fields.Integer()
    days_per_class = fields.Dict(keys=fields.String(), values=fields.Float())
    annual_cap = fields.Integer(allow_none=True)
    marked_enterprise_ids = fields.List(fields.String())
    key_enterprise_ids = fields.List(fields.String())
    capacity_days = fields.Integer(metadata={"description": "staff × working days − booked days"})
    key_days = fields.Integer()
    ordinary_count = fields.Integer(metadata={"description": "一般检查 the remaining capacity allows"})
    note = fields.String(allow_none=True)
    supersedes_id = fields.String(allow_none=True)
    amendment_reason = fields.String(allow_none=True)
    approved_by_id = fields.String(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)


class _PlanFields(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    staff_count = fields.Integer(validate=validate.Range(min=0, max=10000))
    working_days = fields.Integer(validate=validate.Range(min=0, max=366))
    booked_days = fields.Integer(validate=validate.Range(min=0))
    days_per_class = fields.Dict(keys=fields.String(), values=fields.Float(),
                                 metadata={"description": "days per inspection: major_hazard, large, medium, small, micro, default"})
    annual_cap = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=365),
                                metadata={"description": "inspections per enterprise per year, as the bureau's rules set it"})
    marked_enterprise_ids = fields.List(fields.String(), validate=validate.Length(max=5000))
    note = fields.String(allow_none=True, validate=validate.Length(max=5000))


class PlanCreateSchema(_PlanFields):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    region_code = fields.String(validate=validate.Length(max=12))
    staff_count = fields.Integer(required=True, validate=validate.Range(min=0, max=10000))
    working_days = fields.Integer(required=True, validate=validate.Range(min=0, max=366))
    days_per_class = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    annual_cap = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=365))


class PlanUpdateSchema(_PlanFields):
    pass


class PlanAmendSchema(_PlanFields):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class PlanQuerySchema(StrictSchema):
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


class ConflictSchema(StrictSchema):
    enterprise_id = fields.String(required=True)
    inspector_id = fields.String(required=True)


class DrawCreateSchema(StrictSchema):
    period_label = fields.String(required=True, validate=validate.Length(min=1, max=40))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    sample_size = fields.Integer(validate=validate.Range(min=1, max=100000))
    regions = fields.List(fields.String(validate=validate.Length(max=12)))
    industries = fields.List(fields.String(validate=validate.Length(max=100)))
    risk_colors = fields.List(fields.String(validate=validate.OneOf(("red", "orange", "yellow", "blue"))))
    exclude_key = fields.Boolean(load_default=True)
    conflicts = fields.List(fields.Nested(ConflictSchema), metadata={"description": "declared conflicts (回避)"})
    reason = fields.String(validate=validate.Length(max=2000))


class RedrawSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    sample_size = fields.Integer(validate=validate.Range(min=1, max=100000))


class DrawSchema(Schema):
    id = fields.String()
    plan_id = fields.String()
    region_code = fields.String()
    period_label = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    algorithm = fields.String()
    seed = fields.String()
    filters = fields.Dict()
    sample_size = fields.Integer()
    enterprise_ids = fields.List(fields.String())
    inspectors = fields.List(fields.List(fields.String()))
    exclusions = fields.Dict()
    result = fields.List(fields.List(fields.String(allow_none=True)))
    input_digest = fields.String()
    result_digest = fields.String()
    status = fields.String()
    supersedes_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    drawn_by_id = fields.String(allow_none=True)
    drawn_at = fields.AwareDateTime()


class DrawVerifySchema(StrictSchema):
    """Optional inputs to check against the record (any that differ: 409 draw_inputs_mismatch)."""
    seed = fields.String()
    enterprise_ids = fields.List(fields.String())
    inspectors = fields.List(fields.List(fields.String()))
    exclusions = fields.Dict()
    sample_size = fields.Integer()
    algorithm = fields.String()


class DrawVerifyResultSchema(Schema):
    draw_id = fields.String()
    algorithm = fields.String()
    verified = fields.Boolean()
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())
    input_digest = fields.String()
    result_digest = fields.String()
    drawn = fields.Integer()


class InspectionTaskSchema(Schema):
    id = fields.String()
    plan_id = fields.String(allow_none=True)
    draw_id = fields.String(allow_none=True)
    enterprise_id = fields.String()
    enterprise_name = fields.Function(lambda t: t.enterprise.name if t.enterprise else None)
    region_code = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    status = fields.String(metadata={"enum": list(TASK_STATUSES)})
    title = fields.String()
    lead_inspector = fields.Function(lambda t: _person(t.lead_inspector))
    co_inspector = fields.Function(lambda t: _person(t.co_inspector))
    window_start_at = fields.AwareDateTime()
    window_end_at = fields.AwareDateTime()
    template_ids = fields.List(fields.String())
    item_ids = fields.List(fields.String())
    is_joint = fields.Boolean()
    code = fields.String(metadata={"description": "检查码 (shown to the enterprise on entry)"})
    in_plan = fields.Boolean()
    over_cap_reason = fields.String(allow_none=True)
    approval_reason = fields.String(allow_none=True)
    approved_by_id = fields.String(allow_none=True)
    inspection_id = fields.String(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class InspectionTaskCreateSchema(StrictSchema):
    enterprise_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    plan_id = fields.String()
    lead_inspector_id = fields.String(required=True)
    co_inspector_id = fields.String(required=True)
    window_start_at = fields.AwareDateTime(required=True)
    window_end_at = fields.AwareDateTime(required=True)
    template_ids = fields.List(fields.String(), validate=validate.Length(max=20))
    item_ids = fields.List(fields.String(), validate=validate.Length(max=2000))
    is_joint = fields.Boolean(metadata={"description": "综合查一次: several items in one visit"})
    title = fields.String(validate=validate.Length(max=200))
    note = fields.String(validate=validate.Length(max=5000))
    reason = fields.String(validate=validate.Length(max=2000), metadata={"description": "why outside the plan (审批)"})
    over_cap_reason = fields.String(validate=validate.Length(max=2000))


class DrawTasksSchema(StrictSchema):
    window_start_at = fields.AwareDateTime(required=True)
    window_end_at = fields.AwareDateTime(required=True)
    template_ids = fields.List(fields.String(), validate=validate.Length(max=20))
    item_ids = fields.List(fields.String(), validate=validate.Length(max=2000))


class InspectionTaskQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    plan_id = fields.String()
    enterprise_id = fields.String()
    mine = fields.Boolean()


class ReasonSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=2000))


class CodeSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))


class CodeResultSchema(Schema):
    """What an enterprise sees for its own valid code."""
    code = fields.String()
    title = fields.String()
    kind = fields.String()
    status = fields.String()
    enterprise_name = fields.Function(lambda t: t.enterprise.name)
    window_start_at = fields.AwareDateTime()
    window_end_at = fields.AwareDateTime()
    inspectors = fields.Function(lambda t: [_person(t.lead_inspector), _person(t.co_inspector)])
