from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from .common import Blueprint

from ..extensions import db
from ..schemas.auth import TokenRequestSchema, TokenResponseSchema
from ..schemas.common import ApiErrorSchema
from ..services.accounts import auth as auth_service
from ..services.accounts import mfa
from .security import auth_required, current_actor

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens for tablets and API clients")


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenResponseSchema)
    @blp.alt_response(401, schema=ApiErrorSchema, description="invalid_credentials; mfa_required / invalid_otp: "
                                                              "the account needs its one-time code (otp)")
    @blp.alt_response(429, schema=ApiErrorSchema, description="too many failed sign-ins (docs/security.md)")
    @blp.doc(security=[])
    def post(self, data):
        """Sign in: exchange username and password for a bearer token."""
        issued = auth_service.issue_token(
            db.session, data["username"], data["password"], device_id=data.get("device_id"),
            device_name=data.get("device_name"), ip=request.remote_addr,
            ttl_seconds=current_app.config["TOKEN_TTL_SECONDS"], otp=data.get("otp"),
            mfa_roles=mfa.parse_roles(current_app.config.get("MFA_REQUIRED_ROLES")),
            throttle=current_app.extensions["inspect_login_throttle"],
        )
        user = issued.user
        return {
            "access_token": issued.raw,
            "token_type": "Bearer",
            "expires_at": issued.token.expires_at,
            "device_id": issued.token.device_id,
            "user": user,
        }

    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @auth_required
    def delete(self):
        """Revoke the token presented."""
        auth_service.revoke_token(db.session, g.token, current_actor())
        return None
