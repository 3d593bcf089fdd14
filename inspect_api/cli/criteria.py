"""flask criteria …: the major-hazard criteria catalogues from the command line (admins' work, run as the
system actor): list, import (with the row-by-row report), publish, install the built-in 2017 catalogue."""
from __future__ import annotations

import json
import os
import sys

import click

from ..errors import AppError
from ..extensions import db
from ..models import utcnow
from ..services.access.actor import Actor
from ..services.criteria import catalogues as catalogue_service
from ..services.criteria.builtin import insert_builtin
from ..services.criteria.imports import import_catalogue


def _fail(exc: AppError, code: int = 2):
    db.session.rollback()
    click.echo(f"error: {exc.message}", err=True)
    report = (exc.details or {}).get("report")
    for err in (report or {}).get("errors", []):
        where = f"第 {err['row']} 行" if err.get("row") else "文件"
        click.echo(f"  {where}  {err.get('number') or '-'}：{err['reason']}", err=True)
    sys.exit(1 if report else code)


def register(app) -> None:
    @app.cli.group("criteria")
    def criteria():
        """Major-hazard criteria catalogues (重大事故隐患判定标准)."""

    @criteria.command("list")
    def list_command():
        """Every catalogue version with its dates, scope and status."""
        for c in catalogue_service.list_catalogues(db.session):
            click.echo(f"{c.id}  {c.code} v{c.version}  {c.status:9}  {c.effective_from or '-'} → "
                       f"{c.effective_to or '-'}  [{c.industries or '全部'}]  {len(c.clauses)} 条  {c.doc_no}")

    @criteria.command("install-builtin")
    def install_command():
        """Insert the built-in 2017 catalogue where it is missing (migration 0007 does it on upgrade)."""
        count = insert_builtin(db.session.connection(), utcnow())
        db.session.commit()
        click.echo(f"{count} rows inserted")

    @criteria.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--code")
    @click.option("--title")
    @click.option("--doc-no", "doc_no")
    @click.option("--kind", type=click.Choice(["national_rule", "industry_standard", "provincial_rule"]))
    @click.option("--industries", help="GB/T 4754 prefixes, comma separated (empty: every enterprise)")
    @click.option("--region-code", "region_code")
    @click.option("--effective-from", "effective_from")
    @click.option("--effective-to", "effective_to")
    @click.option("--replaces", "replaces_id", help="id of the published catalogue it replaces")
    @click.option("--source", help="where the clause texts were taken from")
    @click.option("--dry-run", is_flag=True, help="check and report, save nothing")
    @click.option("--publish", is_flag=True, help="publish the imported draft at once")
    @click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
    def import_command(path, dry_run, publish, as_json, **meta):
        """Import a catalogue from XLSX / CSV (metadata as options) or JSON; exit 1 when rows failed
        (then nothing is saved)."""
        with open(path, "rb") as fh:
            data = fh.read()
        actor = Actor.system("criteria-import")
        try:
            report = import_catalogue(db.session, actor, data, os.path.basename(path), metadata=meta,
                                      dry_run=dry_run)
            if publish and report.catalogue_id:
                catalogue_service.publish_catalogue(db.session, actor,
                                                    catalogue_service.get_catalogue(db.session, report.catalogue_id))
        except AppError as exc:
            _fail(exc)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        else:
            click.echo(f"{path}: {report.format}, {report.total_rows} rows, {report.clauses} clauses"
                       + (" (dry run: nothing saved)" if dry_run else f" → {report.catalogue_id}")
                       + (" published" if publish and not dry_run else ""))

    @criteria.command("publish")
    @click.argument("catalogue_id")
    def publish_command(catalogue_id):
        """Publish a draft (immutable afterwards; ends the catalogue it replaces)."""
        try:
            c = catalogue_service.publish_catalogue(db.session, Actor.system("criteria-publish"),
                                                    catalogue_service.get_catalogue(db.session, catalogue_id))
        except AppError as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"{c.code} v{c.version} published, in force from {c.effective_from}")
