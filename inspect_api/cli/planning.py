"""``flask --app wsgi planning …``: re-verify a published draw from its record; mark overdue tasks (cron)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import PlanDraw
from ..services.access.actor import Actor
from ..services.planning import draw as draw_service
from ..services.planning import tasks as task_service


def register(app) -> None:
    group = AppGroup("planning", help="Enforcement planning: draws and tasks.")

    @group.command("verify-draw")
    @click.argument("draw_id")
    def verify_draw(draw_id):
        """Re-run draw DRAW_ID from its published record; exit 1 when it does not match."""
        draw = db.session.get(PlanDraw, draw_id)
        if draw is None:
            raise click.ClickException(f"抽取记录不存在 (no draw {draw_id})")
        outcome = draw_service.verify_draw(db.session, draw)
        click.echo(json.dumps(outcome, ensure_ascii=False, indent=2))
        if not outcome["verified"]:
            raise SystemExit(1)

    @group.command("mark-overdue")
    def mark_overdue():
        """Tasks past their window and not done become overdue (run daily from cron)."""
        n = task_service.mark_overdue(db.session, Actor.system("cli"))
        db.session.commit()
        click.echo(f"{n} task(s) marked overdue")

    app.cli.add_command(group)
