"""Query parameters and documented bodies of the WatermelonDB sync endpoint (CONTRACT §2)."""
from __future__ import annotations

from marshmallow import Schema, fields

from .common import StrictSchema


class PullQuerySchema(StrictSchema):
    last_pulled_at = fields.String(load_default=None, allow_none=True,
                                   metadata={"description": "cursor of the last pull; null / 'null' / 0 = everything"})
    schema_version = fields.Integer(load_default=1, metadata={
        "description": "the tablet's schema version (1, or a later one of CONTRACT §4): the tables and columns it gets"})
    migration = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "URL-encoded JSON {from, tables, columns} or null"})
    limit = fields.Integer(load_default=None, allow_none=True,
                           metadata={"description": "page size for large first syncs; the answer adds has_more"})


class PushQuerySchema(StrictSchema):
    last_pulled_at = fields.String(load_default=None, allow_none=True,
                                   metadata={"description": "the timestamp of the pull this push follows"})
    schema_version = fields.Integer(load_default=1, metadata={
        "description": "the tablet's schema version: columns of a newer version are ignored like unknown ones"})


class TableChangesSchema(Schema):
    created = fields.List(fields.Dict())
    updated = fields.List(fields.Dict())
    deleted = fields.List(fields.String())


class PullResponseSchema(Schema):
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(TableChangesSchema))
    timestamp = fields.Integer()
    has_more = fields.Boolean()


class PushResponseSchema(Schema):
    ok = fields.Boolean()
    experimentalRejectedIds = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    rejected = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()))


class HistoryQuerySchema(StrictSchema):
    table = fields.String(load_default="hazards", metadata={"description": "hazards | inspections | notices"})
    after = fields.String(load_default=None, allow_none=True,
                          metadata={"description": "the `next` of the previous page"})
    limit = fields.Integer(load_default=100, metadata={"description": "1..500"})
    schema_version = fields.Integer(load_default=4, metadata={"description": "the columns of this schema version"})


class HistoryPageSchema(Schema):
    enterprise_id = fields.String()
    table = fields.String()
    records = fields.List(fields.Dict())
    next = fields.String(allow_none=True, metadata={"description": "cursor of the next page; null at the end"})
