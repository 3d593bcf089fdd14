from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from .common import Blueprint

from ..extensions import db, limiter
from ..schemas.auth import TokenRequestSchema, TokenResponseSchema
from ..schemas.common import ApiErrorSchema
from ..services.accounts import auth as auth_service
from .security import auth_required, current_actor

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens for tablets and API clients")


def _account_key() -> str:
    data = request.get_json(silent=True) or {}
    username = data.get("username") if isinstance(data, dict) else None
    return f"login-account:{str(username or '').strip().lower()[:80]}"


def _ip_key() -> str:
    return f"login-ip:{request.remote_addr}"


def _failed(response) -> bool:
    # Only failed sign-ins count, so a legitimate sign-in is never slowed.
    return response.status_code == 401


@blp.route("/token")
class Token(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_PER_ACCOUNT"], key_func=_account_key,
                      deduct_when=_failed, methods=["POST"], scope="login-account"),
        limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_PER_IP"], key_func=_ip_key,
                      deduct_when=_failed, methods=["POST"], scope="login-ip"),
    ]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenResponseSchema)
    @blp.alt_response(401, schema=ApiErrorSchema, description="invalid_credentials")
    @blp.alt_response(429, schema=ApiErrorSchema, description="too many failed attempts")
    @blp.doc(security=[])
    def post(self, data):
        """Sign in: exchange username and password for a bearer token."""
        issued = auth_service.issue_token(
            db.session, data["username"], data["password"], device_id=data.get("device_id"),
            device_name=data.get("device_name"), ip=request.remote_addr,
            ttl_seconds=current_app.config["TOKEN_TTL_SECONDS"],
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
