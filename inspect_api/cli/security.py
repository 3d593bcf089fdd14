"""``flask security rotate-data-key``: re-seal every sealed personal-data value under the current master key."""
from __future__ import annotations

import click
from sqlalchemy import text

from ..extensions import db
from ..services.security import crypto

SEALED_COLUMNS = (("users", "phone"), ("enterprises", "contact_phone"), ("duty_holders", "phone"))


def register(app) -> None:
    @app.cli.group("security")
    def group():
        """Security operations (等保三级)."""

    @group.command("rotate-data-key")
    def rotate():
        """After adding a new key to INSPECT_DATA_KEYS and making it INSPECT_DATA_KEY_ID: re-seal the data keys
        of every value under it (values stay readable throughout; keep the old key until this has run)."""
        ring = crypto.ring()
        total = changed = 0
        for table, column in SEALED_COLUMNS:
            rows = db.session.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
            for row_id, stored in rows:
                total += 1
                new = ring.rewrap(stored)
                if new != stored:
                    db.session.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
                                       {"v": new, "id": row_id})
                    changed += 1
        db.session.commit()
        click.echo(f"{total} sealed value(s); {changed} re-sealed under key {ring.current} ({ring.cipher})")
