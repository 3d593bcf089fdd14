"""``flask audit purge``: remove audit records past the retention period (refused inside it)."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from ..errors import AppError
from ..extensions import db
from ..services.access.actor import Actor
from ..services.security.audit_log import purge_before


def register(app) -> None:
    @app.cli.group("audit")
    def group():
        """The audit log."""

    @group.command("purge")
    @click.option("--before", required=True, help="ISO date: records older than this go")
    def purge(before):
        """Delete audit records older than --before (at least AUDIT_RETENTION_DAYS old; run as the owner)."""
        try:
            when = datetime.fromisoformat(before)
        except ValueError:
            click.echo("error: --before must be an ISO date", err=True)
            sys.exit(2)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        try:
            count = purge_before(db.session, Actor.system("audit-purge"), when, app.config["AUDIT_RETENTION_DAYS"])
        except AppError as exc:
            db.session.rollback()
            click.echo(f"refused: {exc.message}", err=True)
            sys.exit(3)
        db.session.commit()
        click.echo(f"purged {count} audit record(s) older than {when.isoformat()}")
