from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..services.access.actor import Actor
from ..services.accounts import users as user_service


def register(app) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["admin", "supervisor", "inspector", "enterprise"]), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--region", "region_code", help="jurisdiction (GB/T 2260 code) for supervisors and inspectors")
    @click.option("--enterprise", "enterprise_id", help="enterprise id (or USCC) for enterprise users")
    @click.option("--certificate", "certificate_no", help="执法证号, required for inspectors")
    @click.option("--name", "display_name")
    @click.option("--must-change/--no-must-change", default=False)
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
