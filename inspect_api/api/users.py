from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint

from ..extensions import db
from ..schemas.common import ApiErrorSchema
from ..schemas.users import (
    PasswordChangeSchema, PasswordResetSchema, UserCreateSchema, UserQuerySchema, UserSchema, UserUpdateSchema,
)
from ..services.accounts import auth as auth_service
from ..services.accounts import users as user_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users, roles, jurisdictions (admin)")


@blp.route("")
class Users(MethodView):
    @auth_required("admin", "security_admin")
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List users."""
        return paginate(user_service.list_users_stmt(args.get("q"), args.get("role")), pagination_parameters)

    @auth_required("security_admin")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="grant_forbidden: only the security administrator")
    @blp.alt_response(409, schema=ApiErrorSchema, description="username_taken / separation_of_duties")
    @blp.alt_response(422, schema=ApiErrorSchema, description="weak_password: names the rule that failed")
    def post(self, data):
        """Create a user with a role (a role grant: the security administrator's). The initial password
        must be changed at the first sign-in."""
        return user_service.create_user(db.session, current_actor(), data)


@blp.route("/me")
class Me(MethodView):
    @auth_required
    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user."""
        return current_actor().user


@blp.route("/me/password")
class MyPassword(MethodView):
    @auth_required
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change my password."""
        actor = current_actor()
        auth_service.change_password(db.session, actor.user, data["current_password"], data["new_password"], actor)


@blp.route("/<user_id>")
class UserById(MethodView):
    @auth_required("admin", "security_admin")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user."""
        return user_service.get_user(db.session, user_id)

    @auth_required("admin", "security_admin")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="grant_forbidden: a role change by another than "
                                                              "the security administrator")
    @blp.alt_response(409, schema=ApiErrorSchema, description="separation_of_duties")
    def patch(self, data, user_id):
        """Change jurisdiction, certificate number; disable (revokes the user's tokens at once); change the
        role (the security administrator only: no account holds two administrator roles)."""
        user = user_service.get_user(db.session, user_id)
        return user_service.update_user(db.session, current_actor(), user, data)


@blp.route("/<user_id>/password")
class UserPassword(MethodView):
    @auth_required("admin", "security_admin")
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    def post(self, data, user_id):
        """Reset a password; the user must change it at next sign-in."""
        user = user_service.get_user(db.session, user_id)
        user_service.reset_password(db.session, current_actor(), user, data["password"])
