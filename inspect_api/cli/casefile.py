"""``flask --app wsgi casefile …``: the bureau log's checkpoints and re-check, keys, offline verification,
filing profiles.

    flask casefile keygen [--name ORIGIN] [--out FILE]   a new Ed25519 signing key (prints the verifier key)
    flask casefile checkpoint                            log new audit events, sign a checkpoint, print it
    flask casefile recheck                               re-check the log; exit 1 and alarms when it changed
    flask casefile verify FILE [--key VKEY]              the shipped verifier's checks (exit code per check)
    flask casefile archive KIND SUBJECT_ID --as USER     archive outside a web request (large files)
    flask casefile profile-show [BUREAU] / profile-set BUREAU FILE
"""
from __future__ import annotations

import json
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..errors import AppError
from ..extensions import db
from ..services.casefile import archive as casefile_service
from ..services.casefile import keys as key_service
from ..services.casefile import log as log_service
from ..services.casefile import profiles as profile_service
from ..services.casefile import recheck as recheck_service
from ..services.casefile import verifier


def _settings():
    return casefile_service.settings_from(current_app.config, current_app.instance_path,
                                          current_app.extensions["inspect_storage"])


def run_checkpoint(session, settings) -> object:
    """For the background job: log new audit events and sign a checkpoint; the caller commits."""
    return log_service.make_checkpoint(session, settings.signer_loader())


def run_recheck(session, settings) -> recheck_service.RecheckResult:
    """For the background job: re-check the log and raise alarms; the caller commits."""
    return recheck_service.recheck_log(session, settings.signer_loader().vkey)


def register(app) -> None:
    group = AppGroup("casefile", help="Case files (卷宗) and the bureau's verifiable log.")

    @group.command("keygen")
    @click.option("--name", default=None, help="the log origin / key name (default from the configuration)")
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="write the private key here (0600)")
    def keygen(name, out):
        """Generate an Ed25519 checkpoint signing key."""
        name = name or current_app.config.get("CASEFILE_LOG_ORIGIN") or \
            f"inspect-api.local/{current_app.config['BUREAU_CODE']}/casefile-log"
        line, vkey = key_service.generate_key(name)
        if out:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(line + "\n")
            click.echo(f"private key written to {out}; set INSPECT_CASEFILE_SIGNING_KEY={out}")
        else:
            click.echo(line)
        click.echo(f"verifier key (print it, keep it outside the system): {vkey}")

    @group.command("checkpoint")
    def checkpoint():
        """Log every new audit event, sign a checkpoint and print it (for the legal office's binder)."""
        settings = _settings()
        cp = run_checkpoint(db.session, settings)
        db.session.commit()
        click.echo(cp.text, nl=False)
        click.echo(f"verifier key: {settings.signer_loader().vkey}")

    @group.command("recheck")
    def recheck():
        """Re-check the log against the audit table and the signed checkpoints (exit 1 on any alarm)."""
        result = run_recheck(db.session, _settings())
        db.session.commit()
        click.echo(f"entries {result.entries}, checkpoints {result.checkpoints}, alarms {len(result.alarms)}")
        for alarm in result.alarms:
            click.echo(json.dumps(alarm, ensure_ascii=False, default=str))
        sys.exit(0 if result.ok else 1)

    @group.command("verify")
    @click.argument("package", type=click.Path(exists=True, dir_okay=False))
    @click.option("--key", "vkey", default=None, help="the pinned verifier key (default: this server's key)")
    def verify(package, vkey):
        """Verify a package offline, as the shipped verify.py does."""
        vkey = vkey or _settings().signer_loader().vkey
        sys.exit(verifier.main([package, "--key", vkey]))

    @group.command("archive")
    @click.argument("kind", type=click.Choice(["enforcement", "inspection"]))
    @click.argument("subject_id")
    @click.option("--as", "username", required=True, help="the legal officer who archives")
    @click.option("--reason", default=None, help="required when the review has blocking findings")
    def archive(kind, subject_id, username, reason):
        """Archive a file outside a web request (large files; later the background job does this)."""
        from sqlalchemy import select

        from ..models import User
        from ..services.access.actor import Actor

        user = db.session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user {username}")
        try:
            cf = casefile_service.archive_file(db.session, _settings(), Actor(user, ip="cli"), kind, subject_id,
                                               reason)
        except AppError as exc:
            db.session.rollback()
            findings = (exc.details or {}).get("findings") or []
            raise click.ClickException(exc.message + "".join(f"\n  {f['code']}: {f['message']}" for f in findings))
        db.session.commit()
        click.echo(f"{cf.archive_no} {cf.id} root SM3 {cf.root_sm3} ({cf.entry_count} documents, {cf.page_count} pages)")

    @group.command("profile-show")
    @click.argument("bureau", required=False)
    def profile_show(bureau):
        """Print the filing profile in force for a bureau (default: the configured one)."""
        data = profile_service.bureau_profile(db.session, bureau or current_app.config["BUREAU_CODE"])
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))

    @group.command("profile-set")
    @click.argument("bureau")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def profile_set(bureau, path):
        """Set a bureau's filing profile from a JSON file (order, required documents, deadlines, retention)."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            profile_service.set_profile(db.session, bureau, data, "cli")
        except (ValueError, AppError) as exc:
            db.session.rollback()
            raise click.ClickException(f"{getattr(exc, 'message', exc)} {getattr(exc, 'details', '')}") from None
        db.session.commit()
        click.echo(f"profile of {bureau} saved")

    app.cli.add_command(group)
