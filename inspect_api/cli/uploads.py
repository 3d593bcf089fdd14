"""``flask --app wsgi uploads purge-expired``: remove expired tus uploads (cron-safe)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..services.evidence import uploads as upload_service
from ..storage import get_storage


def register(app) -> None:
    group = AppGroup("uploads", help="tus photo uploads")

    @group.command("purge-expired")
    def purge_expired():
        """Delete unfinished uploads past Upload-Expires (their stored parts too).

        Safe to run from cron, repeatedly and concurrently: rows are locked
        (SKIP LOCKED on PostgreSQL) and deleting a missing part is not an error.
        """
        counts = upload_service.purge_expired(db.session, get_storage(),
                                              orphan_seconds=current_app.config["UPLOAD_ORPHAN_SECONDS"])
        db.session.commit()
        click.echo(f"purged {counts['open']} unfinished and {counts['done']} finished uploads "
                   f"({counts['parts']} stored parts), {counts['orphans']} of them orphans whose photo record "
                   f"never arrived; kept {counts['kept']} finished uploads awaiting their photo record")

    app.cli.add_command(group)
