from marshmallow import fields, validate

from flask_smorest.fields import Upload

from .common import Schema, StrictSchema

TEMPLATE_STATUSES = ("draft", "published", "retired")


class ChecklistItemSchema(Schema):
    id = fields.String(dump_only=True)
    template_id = fields.String(dump_only=True)
    code = fields.String()
    category = fields.String()
    content = fields.String()
    basis = fields.String(allow_none=True)
    major_criterion_code = fields.String(allow_none=True)
    criterion_clause_id = fields.String(allow_none=True)
    position = fields.Integer()


class ChecklistTemplateSchema(Schema):
    id = fields.String(dump_only=True)
    code = fields.String()
    title = fields.String()
    version = fields.Integer()
    status = fields.String()
    description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    item_count = fields.Function(lambda t: len(t.items))


class ChecklistTemplateDetailSchema(ChecklistTemplateSchema):
    items = fields.List(fields.Nested(ChecklistItemSchema))


class ChecklistItemInputSchema(StrictSchema):
    code = fields.String(allow_none=True, validate=validate.Length(max=60))
    category = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    basis = fields.String(allow_none=True, validate=validate.Length(max=2000))
    major_criterion_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    criterion_clause_id = fields.String(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "the judgement clause the item checks (/api/v1/criteria); sets major_criterion_code"})
    position = fields.Integer(allow_none=True)


class ChecklistItemUpdateSchema(StrictSchema):
    code = fields.String(validate=validate.Length(min=1, max=60))
    category = fields.String(validate=validate.Length(min=1, max=200))
    content = fields.String(validate=validate.Length(min=1, max=4000))
    basis = fields.String(allow_none=True, validate=validate.Length(max=2000))
    major_criterion_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    criterion_clause_id = fields.String(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "the judgement clause the item checks (/api/v1/criteria); sets major_criterion_code"})
    position = fields.Integer()


class ChecklistTemplateCreateSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    source = fields.String(allow_none=True, validate=validate.Length(max=200))
    items = fields.List(fields.Nested(ChecklistItemInputSchema), load_default=list,
                        validate=validate.Length(max=2000))


class ChecklistTemplateUpdateSchema(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    source = fields.String(allow_none=True, validate=validate.Length(max=200))
    items = fields.List(fields.Nested(ChecklistItemInputSchema), validate=validate.Length(max=2000),
                        metadata={"description": "replaces every item (matched by code)"})


class ChecklistQuerySchema(StrictSchema):
    code = fields.String(validate=validate.Length(max=60))
    status = fields.String(validate=validate.OneOf(TEMPLATE_STATUSES))
    q = fields.String(validate=validate.Length(max=100))


class ChecklistItemQuerySchema(StrictSchema):
    category = fields.String(validate=validate.Length(max=200), metadata={"description": "category prefix"})


class ChecklistImportFileSchema(StrictSchema):
    file = Upload(required=True, metadata={"description": "JSON or XLSX checklist"})


class ChecklistImportQuerySchema(StrictSchema):
    code = fields.String(validate=validate.Length(min=1, max=60),
                         metadata={"description": "template code (required for XLSX; overrides JSON's)"})
    title = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "template title (XLSX default: the sheet name)"})
    publish = fields.Boolean(load_default=False, metadata={"description": "publish the imported version"})


class ChecklistImportErrorSchema(Schema):
    row = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    reason = fields.String()


class ChecklistImportReportSchema(Schema):
    code = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    format = fields.String()
    action = fields.String(metadata={"description": "created | updated | new_version | unchanged | failed"})
    template_id = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    published = fields.Boolean()
    items = fields.Integer()
    failed = fields.Integer()
    errors = fields.List(fields.Nested(ChecklistImportErrorSchema))
