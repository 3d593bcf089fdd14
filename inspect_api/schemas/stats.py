"""Query and response schemas of the statistics API."""
from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError

from .common import Day, StrictSchema

GROUPS = ("county", "industry", "grade", "month")


class StatsQuerySchema(StrictSchema):
    region = fields.String(validate=validate.Regexp(r"^\d{6}(\d{3}){0,2}$"),
                           metadata={"description": "GB/T 2260 code: the whole subtree (default: your jurisdiction)"})
    from_ = Day(data_key="from", metadata={"description": "first day, Asia/Shanghai (default 1 January)"})
    to = Day(metadata={"description": "last day, inclusive (default today)"})
    group_by = fields.String(load_default="county", validate=validate.OneOf(GROUPS))
    industry = fields.String(validate=validate.Length(min=1, max=20),
                             metadata={"description": "GB/T 4754 code prefix, e.g. C26"})

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise MarshmallowValidationError("起始日期晚于截止日期 (from is after to)", field_name="from")


class ExportQuerySchema(StatsQuerySchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class StatsColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    kind = fields.String()


class StatsRegionSchema(Schema):
    code = fields.String(allow_none=True)
    name = fields.String()


class StatsTableSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    title = fields.String()
    group_by = fields.String()
    group_label = fields.String()
    region = fields.Nested(StatsRegionSchema)
    industry = fields.String(allow_none=True)
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    as_of = fields.String()
    columns = fields.List(fields.Nested(StatsColumnSchema))
    rows = fields.List(fields.Dict(), metadata={"description": "one object per group: key, label and each column"})
    total = fields.Dict(metadata={"description": "the totals row (合计)"})
