"""Self-inspection (企业自查) request and response bodies."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models.selfcheck import CHECK_RESULTS, DUTY_ROLES, RECHECK_RESULTS
from .common import Millis, StrictSchema

_grade = validate.Range(min=1, max=4)
_roles = validate.OneOf(DUTY_ROLES)


class SourceCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    grade = fields.Integer(required=True, validate=_grade)
    units = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    substances = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class SourceUpdateSchema(StrictSchema):
    grade = fields.Integer(validate=_grade)
    units = fields.String(allow_none=True, validate=validate.Length(max=1000))
    substances = fields.String(allow_none=True, validate=validate.Length(max=1000))


class HolderCreateSchema(StrictSchema):
    role = fields.String(required=True, validate=_roles)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    post = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    user_id = fields.String(load_default=None, allow_none=True)
    appointed_on = fields.Date(load_default=None)


class HolderSchema(Schema):
    id = fields.String()
    source_id = fields.String()
    role = fields.String()
    name = fields.String()
    post = fields.String(allow_none=True)
    phone = fields.Function(lambda h: mask_phone(h.phone), metadata={"description": "masked: 138****1234"})
    user_id = fields.String(allow_none=True)
    appointed_on = fields.Date()
    ended_on = fields.Date(allow_none=True)


def mask_phone(phone: str | None) -> str | None:
    """138****1234: a phone number is shown masked wherever others may read it."""
    if not phone:
        return phone
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


class SourceSchema(Schema):
    id = fields.String()
    enterprise_id = fields.String()
    region_code = fields.String()
    name = fields.String()
    grade = fields.Integer()
    units = fields.String(allow_none=True)
    substances = fields.String(allow_none=True)
    duty_holders = fields.List(fields.Nested(HolderSchema))


class DutySetSchema(StrictSchema):
    region_code = fields.String(load_default=None, allow_none=True)
    role = fields.String(required=True, validate=_roles)
    source_grade = fields.Integer(load_default=None, allow_none=True, validate=_grade)
    every_days = fields.Integer(required=True, validate=validate.Range(min=1, max=366))
    template_id = fields.String(load_default=None, allow_none=True)
    basis = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DutySchema(Schema):
    id = fields.String()
    region_code = fields.String()
    role = fields.String()
    source_grade = fields.Integer(allow_none=True)
    every_days = fields.Integer()
    template_id = fields.String(allow_none=True)
    basis = fields.String(allow_none=True)


class DueQuerySchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(("due", "done", "missed")))
    mine = fields.Boolean(load_default=False)


class DueSchema(Schema):
    id = fields.String()
    source_id = fields.String()
    enterprise_id = fields.String()
    role = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.String()
    check_id = fields.String(allow_none=True)


class ResultSchema(StrictSchema):
    item_id = fields.String(required=True)
    result = fields.String(required=True, validate=validate.OneOf(CHECK_RESULTS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class SelfHazardSchema(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    location = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    grade = fields.String(load_default="general", validate=validate.OneOf(("general", "major")))
    major_criterion_code = fields.String(load_default=None, allow_none=True)
    criterion_clause_id = fields.String(load_default=None, allow_none=True,
                                        metadata={"description": "a clause in force (GET /criteria/in-force)"})
    source_id = fields.String(load_default=None, allow_none=True)


class CheckCreateSchema(StrictSchema):
    due_id = fields.String(load_default=None, allow_none=True)
    source_id = fields.String(load_default=None, allow_none=True)
    role = fields.String(load_default=None, allow_none=True, validate=_roles)
    template_id = fields.String(load_default=None, allow_none=True)
    results = fields.List(fields.Nested(ResultSchema), load_default=list)
    hazards = fields.List(fields.Nested(SelfHazardSchema), load_default=list)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class CheckSchema(Schema):
    id = fields.String()
    due_id = fields.String(allow_none=True)
    source_id = fields.String()
    role = fields.String()
    template_id = fields.String(allow_none=True)
    checked_at = Millis()
    results = fields.List(fields.Dict())
    note = fields.String(allow_none=True)
    hazard_ids = fields.Method("_hazards")

    def _hazards(self, check):
        return list(getattr(check, "hazard_ids", []))


class SelfCloseSchema(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    measures = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    responsible_person = fields.String(required=True, validate=validate.Length(min=1, max=100))
    funds = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True)
    completed_on = fields.Date(load_default=None)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    expected_version = fields.Integer(load_default=None, allow_none=True)


class SourceStateSchema(StrictSchema):
    source_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("normal", "abnormal")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CommitmentCreateSchema(StrictSchema):
    day = fields.Date(load_default=None)
    sources = fields.List(fields.Nested(SourceStateSchema), required=True)
    special_operations = fields.Dict(keys=fields.String(), values=fields.Integer(), load_default=dict)
    responsible_person = fields.String(required=True, validate=validate.Length(min=1, max=100))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class CommitmentSchema(Schema):
    id = fields.String()
    enterprise_id = fields.String()
    day = fields.Date()
    sources = fields.List(fields.Dict())
    special_operations = fields.Dict()
    responsible_person = fields.String()
    note = fields.String(allow_none=True)
    submitted_at = Millis()


class BoardQuerySchema(StrictSchema):
    day = fields.Date(load_default=None)


class PeriodQuerySchema(StrictSchema):
    date_from = fields.Date(data_key="from", required=True)
    date_to = fields.Date(data_key="to", required=True)


class SampleCreateSchema(StrictSchema):
    region_code = fields.String(load_default=None, allow_none=True)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    size = fields.Integer(required=True, validate=validate.Range(min=1, max=500))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    replaces_id = fields.String(load_default=None, allow_none=True)


class TaskSchema(Schema):
    id = fields.String()
    position = fields.Integer()
    hazard_id = fields.String()
    enterprise_id = fields.String()
    status = fields.String()
    result = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    notice_id = fields.String(allow_none=True)
    inspector_id = fields.String(allow_none=True)
    done_at = Millis(allow_none=True)


class SampleSchema(Schema):
    id = fields.String()
    region_code = fields.String()
    period_from = fields.Date()
    period_to = fields.Date()
    size = fields.Integer()
    seed = fields.String()
    algorithm = fields.String()
    candidates = fields.List(fields.String())
    drawn = fields.List(fields.String())
    reason = fields.String(allow_none=True)
    replaces_id = fields.String(allow_none=True)
    drawn_by_id = fields.String()
    drawn_at = Millis()
    tasks = fields.List(fields.Nested(TaskSchema))


class VerifySchema(Schema):
    ok = fields.Boolean()
    drawn = fields.List(fields.String())
    algorithm = fields.String()
    candidates = fields.Integer()


class RecheckResultSchema(StrictSchema):
    result = fields.String(required=True, validate=validate.OneOf(RECHECK_RESULTS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    deadline_at = Millis(load_default=None, allow_none=True)
    officer2_id = fields.String(load_default=None, allow_none=True)
