from marshmallow import fields, validate

from ..models.photos import PHOTO_OWNER_TABLES
from .common import Millis, Schema, StrictSchema


class PhotoVariantsSchema(Schema):
    original = fields.String(allow_none=True)
    preview = fields.String(allow_none=True)
    thumb = fields.String(allow_none=True)


class PhotoSchema(Schema):
    id = fields.String()
    owner_table = fields.String()
    owner_id = fields.String()
    sha256 = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    taken_at = Millis(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    exif_taken_at = Millis(allow_none=True)
    exif_latitude = fields.Float(allow_none=True)
    exif_longitude = fields.Float(allow_none=True)
    status = fields.String()
    rejected_reason = fields.String(allow_none=True)
    created_at = Millis()
    variants = fields.Nested(PhotoVariantsSchema)


class PhotoCreateSchema(StrictSchema):
    id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    owner_table = fields.String(required=True, validate=validate.OneOf(PHOTO_OWNER_TABLES))
    owner_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    sha256 = fields.String(allow_none=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))
    taken_at = Millis(allow_none=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class PhotoFormSchema(StrictSchema):
    photo_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    owner_table = fields.String(required=True, validate=validate.OneOf(PHOTO_OWNER_TABLES))
    owner_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))


class PhotoFileSchema(PhotoFormSchema):
    """POST /photos/files: the multipart body (text fields and the file)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class PhotoContentQuerySchema(StrictSchema):
    variant = fields.String(load_default="original",
                            validate=validate.OneOf(("original", "preview", "thumb")))
