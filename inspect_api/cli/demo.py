from __future__ import annotations

import unicodedata

import click
from flask import current_app

from ..extensions import db
from ..services.access.actor import Actor
from ..cli.demo_data import seed_demo

ROLE_ZH = {"admin": "管理员", "supervisor": "监管人员", "inspector": "执法人员", "enterprise": "企业用户"}


def _pad(text: str, width: int) -> str:
    """ljust by display width (CJK characters take two columns)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - shown)


def register(app) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo data (regions, enterprises, checklists, users). Safe to run again.
        Refused in production: the demo users have a known password."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException(
                "seed-demo 在生产环境中被拒绝：演示账号的密码是公开的 (refused in production: the demo users have a "
                "known password; set INSPECT_ENV_NAME=development on a demo machine)")
        password = current_app.config["DEMO_PASSWORD"]
        report = seed_demo(db.session, Actor.system("seed-demo"), password=password,
                           bureau_code=current_app.config["BUREAU_CODE"])
        db.session.commit()
        for name in ("regions", "enterprises", "users", "activity"):
            t = getattr(report, name)
            click.echo(f"{name:12s} created {t.created:3d}  updated {t.updated:3d}  "
                       f"unchanged {t.unchanged:3d}")
        for code, action in report.checklists.items():
            click.echo(f"checklist    {code}: {action}")
        click.echo("")
        click.echo(_pad("username", 22) + _pad("role", 22) + _pad("region", 9) + _pad("certificate", 14)
                   + "enterprise")
        for row in report.user_table:
            role = f"{row['role']} {ROLE_ZH.get(row['role'], '')}"
            click.echo(_pad(row["username"], 22) + _pad(role, 22) + _pad(row["region_code"] or "-", 9)
                       + _pad(row["certificate_no"] or "-", 14) + (row["enterprise"] or "-")
                       + ("" if row["state"] == "created" else "   (already existed: password unchanged)"))
        click.echo("")
        if report.users.created:
            click.echo(f"demo password: {password}   (set INSPECT_DEMO_PASSWORD to change it)")
        else:
            click.echo("no new users: existing users keep their passwords")
        if not report.changed:
            click.echo("nothing changed: the demo data was already loaded")
