from marshmallow import fields, validate

from ..models import ROLES
from .common import MaskedPhone, Schema, StrictSchema


class UserSchema(Schema):
    id = fields.String(dump_only=True)
    username = fields.String()
    display_name = fields.String(allow_none=True)
    role = fields.String()
    region_code = fields.String(allow_none=True)
    enterprise_id = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    phone = MaskedPhone(allow_none=True, metadata={"description": "masked (138****1234)"})
    is_active = fields.Boolean()
    must_change_password = fields.Boolean()
    last_login_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class UserCreateSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=80))
    password = fields.String(required=True, validate=validate.Length(max=200), load_only=True,
                             metadata={"description": "checked by the password policy (docs/security.md)"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    region_code = fields.String(allow_none=True, validate=validate.Length(max=12))
    enterprise_id = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True, validate=validate.Length(max=40))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    must_change_password = fields.Boolean(load_default=True)


class UserUpdateSchema(StrictSchema):
    display_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    role = fields.String(validate=validate.OneOf(ROLES))
    region_code = fields.String(allow_none=True, validate=validate.Length(max=12))
    enterprise_id = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True, validate=validate.Length(max=40))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    is_active = fields.Boolean()


class PasswordResetSchema(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(max=200), load_only=True,
                             metadata={"description": "checked by the password policy (docs/security.md)"})


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(max=200), load_only=True,
                                 metadata={"description": "checked by the password policy (docs/security.md)"})


class UserQuerySchema(StrictSchema):
    q = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))


class DeviceSchema(Schema):
    id = fields.String()
    user_id = fields.String()
    username = fields.Function(lambda d: d.user.username)
    client_device_id = fields.String()
    name = fields.String(allow_none=True)
    last_seen_at = fields.AwareDateTime(allow_none=True)
    last_sync_at = fields.AwareDateTime(allow_none=True)
    last_ip = fields.String(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class DeviceRevokeSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=500))
