"""Hazards, remediation plans, rectifications and reviews."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models.hazards import HAZARD_GRADES, HAZARD_STATUSES, LISTING_LEVELS
from .common import Day, Schema, StrictSchema

CRITERIA = tuple(f"HC2017-{n:02d}" for n in range(1, 21))


def _reason():
    return fields.String(validate=validate.Length(max=2000),
                         metadata={"description": "why (kept in the audit log)"})


def _version():
    return fields.Integer(metadata={"description": "compare-and-set: the hazard version last read; "
                                                   "a stale one answers 412"})


class PlanSchema(Schema):
    id = fields.String()
    hazard_id = fields.String()
    responsibility = fields.String(allow_none=True, metadata={"description": "责任: 负责治理的机构和人员"})
    measures = fields.String(allow_none=True, metadata={"description": "措施"})
    funds = fields.Decimal(places=2, as_string=True, allow_none=True, metadata={"description": "资金 (元)"})
    time_limit = Day(allow_none=True, metadata={"description": "时限"})
    contingency = fields.String(allow_none=True, metadata={"description": "预案: 安全措施和应急预案"})
    goal = fields.String(allow_none=True, metadata={"description": "治理的目标和任务"})
    is_complete = fields.Boolean(metadata={"description": "all five points (五落实) present"})
    submitted_by_id = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime()


class PlanWriteSchema(StrictSchema):
    responsibility = fields.String(allow_none=True, validate=validate.Length(max=5000))
    measures = fields.String(allow_none=True, validate=validate.Length(max=10000))
    funds = fields.Decimal(places=2, allow_none=True, validate=validate.Range(min=0))
    time_limit = Day(allow_none=True)
    contingency = fields.String(allow_none=True, validate=validate.Length(max=10000))
    goal = fields.String(allow_none=True, validate=validate.Length(max=5000))
    reason = _reason()


def _clause_id():
    return fields.String(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "a clause of a catalogue in force on the day the hazard was found (重大隐患判定条款)"})


class HazardSchema(Schema):
    id = fields.String()
    inspection_id = fields.String(allow_none=True)
    finding_id = fields.String(allow_none=True)
    enterprise_id = fields.String()
    enterprise_name = fields.Function(lambda h: h.enterprise.name if h.enterprise else None)
    region_code = fields.String()
    notice_id = fields.String(allow_none=True)
    description = fields.String()
    location = fields.String(allow_none=True)
    grade = fields.String()
    major_criterion_code = fields.String(allow_none=True)
    criterion_clause_id = fields.String(allow_none=True, metadata={
        "description": "the judgement clause (of one catalogue version) of a major hazard: /api/v1/criteria"})
    basis = fields.String(allow_none=True)
    deadline_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Method("_overdue", metadata={"description": "past deadline_at and not closed (now)"})
    rectified_on_spot = fields.Boolean()
    status = fields.String(metadata={"enum": list(HAZARD_STATUSES)})
    found_at = fields.AwareDateTime()
    found_by_id = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by_id = fields.String(allow_none=True)
    listing_level = fields.String(allow_none=True, metadata={"enum": list(LISTING_LEVELS)})
    listed_at = fields.AwareDateTime(allow_none=True)
    listed_by_id = fields.String(allow_none=True)
    plan = fields.Nested(PlanSchema, allow_none=True)
    version = fields.Integer()
    updated_at = fields.AwareDateTime()

    def _overdue(self, hazard):
        from ..models import utcnow

        return bool(hazard.deadline_at is not None and hazard.deadline_at < utcnow() and hazard.status != "closed")


class HazardCreateSchema(StrictSchema):
    enterprise_id = fields.String()
    inspection_id = fields.String()
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    location = fields.String(allow_none=True, validate=validate.Length(max=300))
    grade = fields.String(load_default="general", validate=validate.OneOf(HAZARD_GRADES))
    major_criterion_code = fields.String(allow_none=True, validate=validate.OneOf(CRITERIA))
    criterion_clause_id = _clause_id()
    basis = fields.String(allow_none=True, validate=validate.Length(max=2000))
    found_at = fields.AwareDateTime()


class HazardQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(HAZARD_STATUSES))
    enterprise_id = fields.String()
    notice_id = fields.String()
    inspection_id = fields.String()
    grade = fields.String(validate=validate.OneOf(HAZARD_GRADES))
    region_code = fields.String(validate=validate.Length(max=12))
    overdue = fields.Boolean(metadata={"description": "true: past deadline and not closed; false: the others"})
    listed = fields.Boolean(metadata={"description": "under supervised listing (挂牌督办)"})
    open = fields.Boolean(metadata={"description": "true: not closed yet; false: closed"})


class ActionsSchema(Schema):
    hazard_id = fields.String()
    status = fields.String()
    version = fields.Integer()
    actions = fields.List(fields.String(), metadata={
        "description": "lifecycle actions the caller's role may take from this status (guards are checked "
                       "when the step is taken)"})


class GradeSchema(StrictSchema):
    grade = fields.String(required=True, validate=validate.OneOf(HAZARD_GRADES))
    major_criterion_code = fields.String(allow_none=True, validate=validate.OneOf(CRITERIA))
    criterion_clause_id = _clause_id()
    reason = _reason()
    version = _version()


class DeadlineSchema(StrictSchema):
    deadline_at = fields.AwareDateTime(required=True)
    reason = _reason()
    version = _version()


class OnSpotSchema(StrictSchema):
    co_inspector_id = fields.String(required=True, metadata={"description": "the second officer (执法人员)"})
    reason = _reason()
    version = _version()


class ListingSchema(StrictSchema):
    level = fields.String(validate=validate.OneOf(LISTING_LEVELS),
                          metadata={"description": "defaults to the supervisor's jurisdiction level"})
    reason = _reason()
    version = _version()


class CloseSchema(StrictSchema):
    reason = _reason()
    version = _version()


class RectificationSchema(Schema):
    id = fields.String()
    hazard_id = fields.String()
    enterprise_id = fields.String()
    region_code = fields.String()
    description = fields.String()
    measures = fields.String(allow_none=True)
    funds = fields.Decimal(places=2, as_string=True, allow_none=True, metadata={"description": "元"})
    responsible_person = fields.String(allow_none=True)
    completed_on = Day(allow_none=True)
    reported_by_id = fields.String(allow_none=True)
    reported_at = fields.AwareDateTime()
    status = fields.String(metadata={"enum": ["pending", "accepted", "rejected"]})
    photo_count = fields.Method("_photos", metadata={"description": "ready photos (owner_table rectifications)"})
    review_id = fields.Function(lambda r: r.review.id if r.review else None)
    review = fields.Nested(lambda: ReviewSchema(), allow_none=True,
                           metadata={"description": "the review (复查) result and opinion, once reviewed"})

    def _photos(self, rect):
        prefetched = getattr(rect, "ready_photo_count", None)  # services.rectifications.with_photo_counts
        if prefetched is not None:
            return prefetched
        from sqlalchemy import func, select

        from ..extensions import db
        from ..models import Photo

        return int(db.session.scalar(select(func.count()).select_from(Photo).where(
            Photo.owner_table == "rectifications", Photo.owner_id == rect.id, Photo.status == "ready",
            Photo.deleted_at.is_(None))) or 0)


class RectificationCreateSchema(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=10000),
                                metadata={"description": "整改情况"})
    measures = fields.String(allow_none=True, validate=validate.Length(max=10000), metadata={"description": "措施"})
    funds = fields.Decimal(places=2, allow_none=True, validate=validate.Range(min=0),
                           metadata={"description": "整改资金 (元), a JSON number or string"})
    responsible_person = fields.String(allow_none=True, validate=validate.Length(max=100))
    completed_on = Day(allow_none=True)
    reason = _reason()


class RectificationQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(["pending", "accepted", "rejected"]))
    hazard_id = fields.String()
    enterprise_id = fields.String()


class ReviewSchema(Schema):
    id = fields.String()
    rectification_id = fields.String()
    hazard_id = fields.String()
    enterprise_id = fields.String()
    region_code = fields.String()
    reviewer_id = fields.String()
    co_reviewer_id = fields.String(allow_none=True)
    result = fields.String()
    opinion = fields.String()
    onsite_check = fields.String(allow_none=True)
    new_deadline_at = fields.AwareDateTime(allow_none=True)
    reviewed_at = fields.AwareDateTime()
    number = fields.String(allow_none=True, metadata={"description": "文号 of the 整改复查意见书"})


class ReviewCreateSchema(StrictSchema):
    result = fields.String(required=True, validate=validate.OneOf(["accepted", "rejected"]))
    opinion = fields.String(validate=validate.Length(max=10000), metadata={"description": "复查意见"})
    onsite_check = fields.String(allow_none=True, validate=validate.Length(max=10000),
                                 metadata={"description": "现场核查记录 (needed when no ready photo)"})
    new_deadline_at = fields.AwareDateTime(allow_none=True, metadata={"description": "rejected only"})
    co_reviewer_id = fields.String(required=True, metadata={"description": "the second officer"})
    reason = _reason()


HISTORY_FIELDS = ("id", "at", "actor_id", "actor_username", "actor_role", "device_id", "ip", "action",
                  "object_table", "object_id", "from_state", "to_state", "reason", "data")


def history_view(events, role: str | None) -> list[dict]:
    """Audit events for a history view. Enterprise users do not see the staff's IPs and devices."""
    hidden = ("ip", "device_id") if role == "enterprise" else ()
    return [{f: (None if f in hidden else getattr(e, f)) for f in HISTORY_FIELDS} for e in events]
