from __future__ import annotations

import json
import os
import sys

import click

from ..errors import AppError
from ..extensions import db
from ..services.access.actor import Actor
from ..services.registry.checklists import import_checklist_file
from ..services.registry.imports import import_enterprises_file


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def register(app) -> None:
    @app.cli.command("import-enterprises")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="check and report, save nothing")
    @click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
    def import_enterprises_command(path, dry_run, as_json):
        """Import enterprises from an XLSX or CSV file; exit status 1 when rows failed."""
        try:
            report = import_enterprises_file(db.session, Actor.system("import-enterprises"), _read(path),
                                             os.path.basename(path), dry_run=dry_run)
        except AppError as exc:
            db.session.rollback()
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        else:
            where = f"sheet {report.sheet}" if report.sheet else f"encoding {report.encoding}"
            click.echo(f"{path}: {report.format}, {where}, header on row {report.header_row}, "
                       f"{report.total_rows} data rows" + (" (dry run: nothing saved)" if dry_run else ""))
            click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                       f"failed {report.failed}")
            if report.ignored_columns:
                click.echo("ignored columns: " + ", ".join(report.ignored_columns))
            for err in report.errors:
                click.echo(f"  第 {err['row']} 行  {err['uscc'] or '-'}  {err['name'] or '-'}：{err['reason']}")
        if report.failed:
            sys.exit(1)

    @app.cli.command("import-checklist")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--code", help="template code (required for XLSX; overrides the JSON's)")
    @click.option("--title", help="template title (XLSX default: the sheet name)")
    @click.option("--publish", is_flag=True, help="publish the imported version")
    def import_checklist_command(path, code, title, publish):
        """Import a checklist template from JSON or XLSX; exit 1 when rows failed (then nothing is saved)."""
        try:
            report = import_checklist_file(db.session, Actor.system("import-checklist"), _read(path),
                                           os.path.basename(path), code=code, title=title, publish=publish)
        except AppError as exc:
            db.session.rollback()
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        if report.failed:
            db.session.rollback()
            click.echo(f"{path}: {report.failed} error(s), nothing imported")
            for err in report.errors:
                where = f"第 {err['row']} 行" if err.get("row") else "文件"
                click.echo(f"  {where}：{err['reason']}")
            sys.exit(1)
        db.session.commit()
        click.echo(f"{path}: {report.code} v{report.version} {report.status} — {report.action}, "
                   f"{report.items} items")
