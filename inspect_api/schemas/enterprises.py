from marshmallow import fields, validate
from webargs.fields import DelimitedList

from flask_smorest.fields import Upload

from .common import MaskedPhone, Schema, StrictSchema

RISK_COLORS = ("red", "orange", "yellow", "blue")
SCALES = ("large", "medium", "small", "micro")


class EnterpriseSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String()
    uscc = fields.String()
    region_code = fields.String(attribute="region_id")
    region_name = fields.Function(lambda e: e.region.name if e.region is not None else None)
    address = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    industry_name = fields.Method("_industry_name")
    scale = fields.String(allow_none=True)
    major_hazard_level = fields.Integer()
    risk_color = fields.String(allow_none=True)
    hazardous_processes = fields.List(fields.String())
    legal_representative = fields.String(allow_none=True)
    safety_contact = fields.String(allow_none=True)
    contact_phone = MaskedPhone(allow_none=True, metadata={"description": "masked (138****1234); whole: "
                                                                         "GET /enterprises/<id>/contact"})
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _industry_name(self, obj):
        from ..services.registry.enterprises import industry_name

        return industry_name(obj.industry)


class _EnterpriseFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    # The GB 32100 check is done by the service (422 naming `uscc`)
    uscc = fields.String(validate=validate.Length(max=40))
    region_code = fields.String(validate=validate.Length(min=1, max=12))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    industry = fields.String(allow_none=True, validate=validate.Length(max=100))
    scale = fields.String(allow_none=True, validate=validate.OneOf(SCALES))
    major_hazard_level = fields.Integer(validate=validate.Range(0, 4))
    risk_color = fields.String(allow_none=True, validate=validate.OneOf(RISK_COLORS))
    hazardous_processes = fields.List(fields.String(validate=validate.Length(max=40)),
                                      validate=validate.Length(max=18))
    legal_representative = fields.String(allow_none=True, validate=validate.Length(max=100))
    safety_contact = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class EnterpriseCreateSchema(_EnterpriseFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    uscc = fields.String(required=True, validate=validate.Length(max=40))
    region_code = fields.String(required=True, validate=validate.Length(min=1, max=12))


class EnterpriseUpdateSchema(_EnterpriseFields):
    pass


class EnterpriseQuerySchema(StrictSchema):
    region = fields.String(metadata={"description": "GB/T 2260 code: the region's whole subtree"})
    industry = fields.String(metadata={"description": "industry code prefix, e.g. C26"})
    risk_color = DelimitedList(fields.String(validate=validate.OneOf(RISK_COLORS)),
                               metadata={"description": "comma-separated: red,orange"})
    major_hazard_level = DelimitedList(fields.Integer(validate=validate.Range(0, 4)),
                                       metadata={"description": "comma-separated levels 0-4"})
    is_major_hazard = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "text in name, credit code or address"})
    phone = fields.String(validate=validate.Length(max=40),
                          metadata={"description": "the contact phone, exactly (through its keyed index)"})


class ImportFileSchema(StrictSchema):
    file = Upload(required=True,
                  metadata={"description": "XLSX or CSV (UTF-8 with or without BOM, or GB18030)"})


class ImportQuerySchema(StrictSchema):
    dry_run = fields.Boolean(load_default=False,
                             metadata={"description": "check and report without saving anything"})


class ImportRowErrorSchema(Schema):
    row = fields.Integer()
    uscc = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    reason = fields.String()
    field_reasons = fields.Dict(keys=fields.String(), values=fields.String(), attribute="fields",
                                data_key="fields")


class ImportReportSchema(Schema):
    format = fields.String()
    encoding = fields.String(allow_none=True)
    sheet = fields.String(allow_none=True)
    header_row = fields.Integer()
    total_rows = fields.Integer()
    skipped_examples = fields.Integer(metadata={"description": "rows marked as the template's example (备注 "
                                                               "starting with 【示例行】): never imported"})
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    failed = fields.Integer()
    dry_run = fields.Boolean()
    ignored_columns = fields.List(fields.String())
    errors = fields.List(fields.Nested(ImportRowErrorSchema))
