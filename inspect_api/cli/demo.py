from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..services.actor import Actor
from ..services.demo import seed_demo

ROLE_ZH = {"admin": "管理员", "supervisor": "监管人员", "inspector": "执法人员", "enterprise": "企业用户"}


def register(app) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data (regions, enterprises, checklists, users). Safe to run again."""
        password = current_app.config["DEMO_PASSWORD"]
        report = seed_demo(db.session, Actor.system("seed-demo"), password=password)
        db.session.commit()
        for name in ("regions", "enterprises", "users"):
            t = getattr(report, name)
            click.echo(f"{name:12s} created {t.created:3d}  updated {t.updated:3d}  unchanged {t.unchanged:3d}")
        for code, action in report.checklists.items():
            click.echo(f"checklist    {code}: {action}")
        click.echo("")
        click.echo(f"{'username':22s} {'role':12s} {'region':8s} {'certificate':13s} enterprise")
        for row in report.user_table:
            role = f"{row['role']} {ROLE_ZH.get(row['role'], '')}"
            click.echo(f"{row['username']:22s} {role:12s} {row['region_code'] or '-':8s} "
                       f"{row['certificate_no'] or '-':13s} {row['enterprise'] or '-'}"
                       + ("" if row["state"] == "created" else "   (already existed: password unchanged)"))
        click.echo("")
        click.echo(f"demo password for new users: {password}   (set INSPECT_DEMO_PASSWORD to change it)")
        if not report.changed:
            click.echo("nothing changed: the demo data was already loaded")
