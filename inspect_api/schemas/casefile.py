"""Case files (卷宗), proof of service (送达), the bureau log."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models.casefile import CASEFILE_KINDS, SERVICE_METHODS
from .common import Schema, StrictSchema


class FindingSchema(Schema):
    code = fields.String(metadata={"enum": ["not_closed", "missing_document", "too_few_officers", "decision_late",
                                            "review_before_notice", "page_gap"]})
    severity = fields.String(metadata={"enum": ["error", "warning"]})
    message = fields.String()
    details = fields.Dict()


class EntrySchema(Schema):
    seq = fields.Integer()
    kind = fields.String()
    title = fields.String()
    number = fields.String(allow_none=True)
    responsible = fields.String()
    date = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    pages = fields.List(fields.Integer())


class PreviewSchema(Schema):
    kind = fields.String()
    subject_id = fields.String()
    cover = fields.Dict()
    entries = fields.List(fields.Nested(EntrySchema))
    root = fields.Dict(metadata={"description": "Merkle roots (hex) {sm3, sha256} of the file as it would be archived"})
    findings = fields.List(fields.Nested(FindingSchema))
    archived_id = fields.String(allow_none=True)


class SupplementSchema(Schema):
    seq = fields.Integer()
    reason = fields.String()
    content = fields.String()
    created_at = fields.AwareDateTime()
    created_by_id = fields.String()
    log_index = fields.Integer()


class CaseFileSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": list(CASEFILE_KINDS)})
    subject_id = fields.String()
    enterprise_id = fields.String()
    region_code = fields.String()
    archive_no = fields.String(metadata={"description": "归档号"})
    retention = fields.String(metadata={"description": "保存期限"})
    archived_at = fields.AwareDateTime()
    archived_by_id = fields.String()
    root_sm3 = fields.String()
    root_sha256 = fields.String()
    entry_count = fields.Integer()
    page_count = fields.Integer()
    log_index = fields.Integer()
    checkpoint_size = fields.Integer()
    findings = fields.List(fields.Nested(FindingSchema))
    override_reason = fields.String(allow_none=True)
    supplements = fields.List(fields.Nested(SupplementSchema))


class ArchiveSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CASEFILE_KINDS))
    subject_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    override_reason = fields.String(load_default=None, validate=validate.Length(max=2000),
                                    metadata={"description": "required when the review has blocking findings"})


class SupplementCreateSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    content = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class ServiceCreateSchema(StrictSchema):
    document_table = fields.String(required=True, validate=validate.OneOf(("penalty_decisions", "notices", "reviews")))
    document_id = fields.String(required=True)
    served_at = fields.AwareDateTime(required=True)
    method = fields.String(required=True, validate=validate.OneOf(SERVICE_METHODS))
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=100))
    place = fields.String(load_default=None, validate=validate.Length(max=200))
    officer2_id = fields.String(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ServiceRecordSchema(Schema):
    id = fields.String()
    document_table = fields.String()
    document_id = fields.String()
    document_title = fields.String()
    document_number = fields.String(allow_none=True)
    served_at = fields.AwareDateTime()
    method = fields.String()
    place = fields.String(allow_none=True)
    recipient = fields.String()
    officer1_id = fields.String()
    officer2_id = fields.String(allow_none=True)


class CheckpointSchema(Schema):
    tree_size = fields.Integer()
    root_sha256 = fields.String()
    root_sm3 = fields.String()
    text = fields.String(metadata={"description": "the signed note (C2SP tlog-checkpoint)"})
    created_at = fields.AwareDateTime()
    verifier_key = fields.String(metadata={"description": "the bureau's public key: name+keyid+base64"})


class InclusionQuerySchema(StrictSchema):
    index = fields.Integer(required=True, validate=validate.Range(min=0))
    tree_size = fields.Integer(required=True, validate=validate.Range(min=1))


class ConsistencyQuerySchema(StrictSchema):
    size1 = fields.Integer(required=True, validate=validate.Range(min=1))
    size2 = fields.Integer(required=True, validate=validate.Range(min=1))


class ProofSchema(Schema):
    index = fields.Integer()
    tree_size = fields.Integer()
    size1 = fields.Integer()
    size2 = fields.Integer()
    sha256 = fields.List(fields.String())
    sm3 = fields.List(fields.String())


class AlarmSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    log_index = fields.Integer(allow_none=True)
    audit_event_id = fields.Integer(allow_none=True)
    detail = fields.Dict()
    detected_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
