from __future__ import annotations

import secrets
import string

import click

from ..extensions import db
from ..services.access.actor import Actor
from ..models import ADMIN_ROLES, ROLES, utcnow
from ..services.accounts import users as user_service


def register(app) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(list(ROLES)), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--region", "region_code", help="jurisdiction (GB/T 2260 code) for supervisors and inspectors")
    @click.option("--enterprise", "enterprise_id", help="enterprise id (or USCC) for enterprise users")
    @click.option("--certificate", "certificate_no", help="执法证号, required for inspectors")
    @click.option("--name", "display_name")
    @click.option("--must-change/--no-must-change", default=True,
                  help="the initial password must be changed at the first sign-in (default)")
    def create_user(username, role, password, region_code, enterprise_id, certificate_no, display_name,
                    must_change):
        """Create a user."""
        user = user_service.create_user(db.session, Actor.system(), {
            "username": username, "role": role, "password": password, "region_code": region_code,
            "enterprise_id": enterprise_id, "certificate_no": certificate_no, "display_name": display_name,
            "must_change_password": must_change,
        })
        db.session.commit()
        click.echo(f"created {user.role} {user.username} ({user.id})")

    @app.cli.command("create-admin")
    @click.argument("username")
    @click.option("--role", type=click.Choice(list(ADMIN_ROLES)), default="admin", show_default=True,
                  help="admin: system administrator; security_admin: policies and role grants; "
                       "audit_admin: the audit log")
    @click.option("--name", "display_name")
    def create_admin(username, role, display_name):
        """Create an administrator with a one-time password (printed once; changed at the first sign-in)."""
        password = _one_time_password()
        user = user_service.create_user(db.session, Actor.system("create-admin"), {
            "username": username, "role": role, "password": password, "display_name": display_name,
            "must_change_password": True})
        db.session.commit()
        click.echo(f"created {user.role} {user.username} ({user.id})")
        click.echo(f"one-time password: {password}   (valid for the first sign-in only; it must be changed)")

    @app.cli.command("disable-unused-accounts")
    @click.option("--days", type=int, default=None, help="default: INSPECT_ACCOUNT_UNUSED_DAYS")
    def disable_unused(days):
        """Disable accounts not used for N days (their tokens die at once); run daily from a timer."""
        days = days or app.config["ACCOUNT_UNUSED_DAYS"]
        users = user_service.disable_unused(db.session, Actor.system("disable-unused"), days, utcnow())
        db.session.commit()
        click.echo(f"disabled {len(users)} account(s) unused for {days} days"
                   + "".join(f"\n  {u.username}" for u in users))


def _one_time_password() -> str:
    """16 characters of 4 classes from the CSPRNG: passes any policy of this service."""
    alphabet = string.ascii_letters + string.digits + "-_.!"
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(16))
        if (any(c.islower() for c in value) and any(c.isupper() for c in value)
                and any(c.isdigit() for c in value) and any(c in "-_.!" for c in value)):
            return value
