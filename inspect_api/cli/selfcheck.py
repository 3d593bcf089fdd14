"""``flask selfcheck …``: the daily run of the due checks, re-verifying a re-check sample, importing sources."""
from __future__ import annotations

import os
import sys

import click

from ..errors import AppError
from ..extensions import db
from ..models import RecheckSample
from ..services.access.actor import Actor
from ..services.selfcheck import duties, imports, recheck


def register(app) -> None:
    @app.cli.group("selfcheck")
    def group():
        """Self-inspection (企业自查)."""

    @group.command("dues")
    def dues_command():
        """Make the current period's due checks and mark the ended ones missed (run daily: a timer or job)."""
        made = duties.generate_dues(db.session)
        missed = duties.mark_missed(db.session)
        db.session.commit()
        click.echo(f"due checks made: {made}; marked missed: {missed}")

    @group.command("verify-sample")
    @click.argument("sample_id")
    def verify_command(sample_id):
        """Re-compute a re-check sample from its record; exit 1 when it differs."""
        sample = db.session.get(RecheckSample, sample_id)
        if sample is None:
            click.echo("error: no such sample", err=True)
            sys.exit(2)
        result = recheck.verify_sample(sample)
        click.echo(f"algorithm {sample.algorithm}, seed {sample.seed}, {len(sample.candidates)} candidates, "
                   f"size {sample.size}: " + ("the same sample" if result["ok"] else "DIFFERENT"))
        for pos, hid in enumerate(result.get("drawn", []), 1):
            click.echo(f"  {pos:3d}  {hid}")
        sys.exit(0 if result["ok"] else 1)

    @group.command("import-sources")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_command(path):
        """Import major hazard sources with their duty holders from XLSX or CSV; exit 1 when rows failed."""
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            report = imports.import_sources(db.session, Actor.system("import-sources"), data, os.path.basename(path))
        except AppError as exc:
            db.session.rollback()
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        db.session.commit()
        click.echo(f"created {report.created}, unchanged {report.unchanged}, failed {report.failed}")
        for err in report.errors:
            click.echo(f"  第 {err['row']} 行  {err['uscc'] or '-'}  {err['name'] or '-'}：{err['reason']}")
        sys.exit(1 if report.failed else 0)
