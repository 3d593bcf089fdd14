from marshmallow import fields, validate

from .common import Millis, Schema, StrictSchema


class TokenRequestSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=128))
    device_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    otp = fields.String(allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "the one-time code (TOTP, or a recovery code) of an account with a second factor"})


class TokenUserSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    region_code = fields.String(allow_none=True)
    enterprise_id = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    must_change_password = fields.Boolean()


class TokenResponseSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_at = Millis()
    user = fields.Nested(TokenUserSchema)
    device_id = fields.String(allow_none=True)
