from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint
from sqlalchemy import select

from ..extensions import db
from ..models import Region
from ..schemas.regions import RegionSchema
from ..services.access.scope import get_scoped, scoped
from .security import auth_required, current_actor

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="GB/T 2260 region tree")


@blp.route("")
class Regions(MethodView):
    @auth_required
    @blp.response(200, RegionSchema(many=True))
    def get(self):
        """All regions (reference data), ordered by code."""
        stmt = scoped(select(Region).order_by(Region.id), Region, current_actor().user)
        return list(db.session.scalars(stmt))


@blp.route("/<code>")
class RegionById(MethodView):
    @auth_required
    @blp.response(200, RegionSchema)
    def get(self, code):
        """One region."""
        return get_scoped(db.session, Region, code, current_actor().user)
