from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint
from sqlalchemy import select

from ..extensions import db
from ..models import Device
from ..schemas.users import DeviceRevokeSchema, DeviceSchema
from ..services.accounts import auth as auth_service
from ..services.access.scope import get_scoped, scoped
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("devices", __name__, url_prefix="/api/v1/devices", description="Tablets; revoke a lost one at once")


@blp.route("")
class Devices(MethodView):
    @auth_required
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Devices (admins: all; others: their own)."""
        actor = current_actor()
        stmt = scoped(select(Device).order_by(Device.last_seen_at.desc()), Device, actor.user)
        return paginate(stmt, pagination_parameters)


@blp.route("/<device_id>/revoke")
class DeviceRevoke(MethodView):
    @auth_required("admin")
    @blp.arguments(DeviceRevokeSchema)
    @blp.response(200, DeviceSchema)
    def post(self, data, device_id):
        """Revoke a device: every token issued to it stops working at once."""
        actor = current_actor()
        get_scoped(db.session, Device, device_id, actor.user)
        return auth_service.revoke_device(db.session, device_id, actor, data.get("reason"))


@blp.route("/<device_id>/restore")
class DeviceRestore(MethodView):
    @auth_required("admin")
    @blp.response(200, DeviceSchema)
    def post(self, device_id):
        """Allow a revoked device to sign in again (its old tokens stay revoked)."""
        actor = current_actor()
        get_scoped(db.session, Device, device_id, actor.user)
        return auth_service.restore_device(db.session, device_id, actor)
