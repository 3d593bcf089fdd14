"""Criteria catalogues (判定标准), clauses, imports, re-grading and the statistics by clause."""
from marshmallow import fields, validate

from flask_smorest.fields import Upload

from ..models.criteria import CATALOGUE_KINDS, CATALOGUE_STATUSES
from .common import Schema, StrictSchema


class ClauseSchema(Schema):
    id = fields.String()
    catalogue_id = fields.String()
    number = fields.String()
    code = fields.String(metadata={"description": "the code hazards carry as major_criterion_code"})
    position = fields.Integer()
    group_title = fields.String(allow_none=True)
    text = fields.String()
    guidance = fields.String(allow_none=True)


class CatalogueSchema(Schema):
    id = fields.String()
    code = fields.String()
    version = fields.Integer()
    title = fields.String()
    doc_no = fields.String()
    kind = fields.String(metadata={"enum": list(CATALOGUE_KINDS)})
    industries = fields.Function(lambda c: c.industry_list, metadata={
        "description": "GB/T 4754 industry code prefixes it applies to; empty: every enterprise"})
    region_code = fields.String(allow_none=True)
    scope_note = fields.String(allow_none=True)
    effective_from = fields.Date(allow_none=True)
    effective_to = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(CATALOGUE_STATUSES)})
    replaces_id = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)
    clause_count = fields.Function(lambda c: len([x for x in c.clauses if x.deleted_at is None]))


class CatalogueDetailSchema(CatalogueSchema):
    clauses = fields.Method("_clauses")

    def _clauses(self, catalogue):
        return ClauseSchema(many=True).dump([c for c in catalogue.clauses if c.deleted_at is None])


class CatalogueQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(CATALOGUE_STATUSES))


class _CatalogueFields(StrictSchema):
    code = fields.String(validate=validate.Length(min=1, max=40))
    title = fields.String(validate=validate.Length(min=1, max=200))
    doc_no = fields.String(validate=validate.Length(min=1, max=100))
    kind = fields.String(validate=validate.OneOf(CATALOGUE_KINDS))
    industries = fields.List(fields.String(validate=validate.Length(max=6)), allow_none=True)
    region_code = fields.String(allow_none=True, validate=validate.Length(max=12))
    scope_note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True)
    replaces_id = fields.String(allow_none=True, validate=validate.Length(max=64))
    source = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ClauseInputSchema(StrictSchema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    group = fields.String(allow_none=True, validate=validate.Length(max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    guidance = fields.String(allow_none=True, validate=validate.Length(max=10000))


class CatalogueCreateSchema(_CatalogueFields):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    doc_no = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(CATALOGUE_KINDS))
    effective_from = fields.Date(required=True)
    clauses = fields.List(fields.Nested(ClauseInputSchema), required=True, validate=validate.Length(min=1))


class CatalogueUpdateSchema(_CatalogueFields):
    pass


class CatalogueImportFileSchema(StrictSchema):
    file = Upload(required=True, metadata={"description": "XLSX / CSV (one clause per row) or JSON"})


class CatalogueImportQuerySchema(_CatalogueFields):
    industries = fields.String(validate=validate.Length(max=400), metadata={
        "description": "comma-separated GB/T 4754 prefixes, e.g. C25,C26"})
    dry_run = fields.Boolean(load_default=False)


class ImportErrorSchema(Schema):
    row = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    reason = fields.String()


class CatalogueImportReportSchema(Schema):
    format = fields.String()
    total_rows = fields.Integer()
    clauses = fields.Integer()
    failed = fields.Integer()
    dry_run = fields.Boolean()
    catalogue_id = fields.String(allow_none=True)
    ignored_columns = fields.List(fields.String())
    errors = fields.List(fields.Nested(ImportErrorSchema))


class GenerateChecklistSchema(StrictSchema):
    code = fields.String(validate=validate.Length(min=1, max=60))
    title = fields.String(validate=validate.Length(min=1, max=200))
    publish = fields.Boolean(load_default=False)


class InForceQuerySchema(StrictSchema):
    enterprise_id = fields.String(required=True)
    day = fields.Date(metadata={"description": "the day the hazard was found (Asia/Shanghai); default today"})


class RegradeQuerySchema(StrictSchema):
    catalogue_id = fields.String(required=True)


class RegradeChangeSchema(StrictSchema):
    hazard_id = fields.String(required=True)
    clause_id = fields.String(allow_none=True, metadata={
        "description": "a clause of the target catalogue; null: no longer major (grade general)"})


class RegradeSchema(StrictSchema):
    catalogue_id = fields.String(required=True)
    changes = fields.List(fields.Nested(RegradeChangeSchema), required=True, validate=validate.Length(min=1, max=2000))
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class RegradeCandidateSchema(Schema):
    id = fields.String()
    enterprise_id = fields.String()
    enterprise_name = fields.Function(lambda h: h.enterprise.name if h.enterprise else None)
    description = fields.String()
    status = fields.String()
    found_at = fields.AwareDateTime()
    major_criterion_code = fields.String(allow_none=True)
    criterion_clause_id = fields.String(allow_none=True)
    listing_level = fields.String(allow_none=True)


class RegradeRowSchema(Schema):
    hazard_id = fields.String()
    enterprise_name = fields.String()
    description = fields.String()
    found_day = fields.String()
    before = fields.String()
    before_clause_id = fields.String(allow_none=True)
    after = fields.String()
    after_clause_id = fields.String(allow_none=True)
    after_grade = fields.String()
    problem = fields.String(allow_none=True)


class CriteriaStatsRowSchema(Schema):
    catalogue_id = fields.String(allow_none=True)
    catalogue_code = fields.String(allow_none=True)
    catalogue_version = fields.Integer(allow_none=True)
    doc_no = fields.String(allow_none=True)
    clause_id = fields.String(allow_none=True)
    clause_number = fields.String(allow_none=True)
    clause_code = fields.String(allow_none=True)
    clause_text = fields.String()
    major = fields.Integer(metadata={"description": "重大隐患 found in the period judged by this clause"})
    closed = fields.Integer(metadata={"description": "of which closed (销号)"})


class CriteriaStatsSchema(Schema):
    filter = fields.Dict()
    rows = fields.List(fields.Nested(CriteriaStatsRowSchema))
    total = fields.Dict()
