"""The legal officer's case-file pages (卷宗): files ready to review, the 评查 page with its findings and
the archive button, an archived file with its downloads and supplements, the bureau log and its alarms."""
from __future__ import annotations

import io
import zipfile

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import CaseFile, EnforcementCase, Inspection, User
from ..services.access.scope import scope_clause
from ..services.casefile import archive as casefile_service
from ..services.casefile import log as log_service
from ..services.casefile import recheck as recheck_service
from .common import form_str, paginate, service_message
from .session_auth import current_portal_actor, login_required

bp = Blueprint("casefiles", __name__, url_prefix="/casefiles")

READERS = ("legal", "supervisor", "admin")
KIND_LABELS = {"enforcement": "行政执法案卷", "inspection": "监督检查案卷"}


def _settings():
    return casefile_service.settings_from(current_app.config, current_app.instance_path,
                                          current_app.extensions["inspect_storage"])


@bp.route("")
@login_required(*READERS)
def index():
    """Closed cases not yet archived, submitted inspections, and the archived files."""
    user = current_portal_actor().user
    archived = {(f.kind, f.subject_id) for f in db.session.scalars(
        select(CaseFile).where(scope_clause(CaseFile, user)))}
    cases = [c for c in db.session.scalars(
        select(EnforcementCase).where(scope_clause(EnforcementCase, user), EnforcementCase.status == "closed")
        .order_by(EnforcementCase.closed_at.desc()).limit(100)) if ("enforcement", c.id) not in archived]
    inspections = [i for i in db.session.scalars(
        select(Inspection).where(scope_clause(Inspection, user), Inspection.status == "submitted",
                                 Inspection.deleted_at.is_(None))
        .order_by(Inspection.started_at.desc()).limit(50)) if ("inspection", i.id) not in archived]
    files = paginate(casefile_service.casefiles_stmt(user))
    alarms = recheck_service.open_alarms(db.session) if user.role in ("supervisor", "admin", "legal") else []
    return render_template("casefiles/index.html", cases=cases, inspections=inspections, files=files,
                           alarms=alarms, kind_labels=KIND_LABELS)


@bp.route("/review/<kind>/<subject_id>")
@login_required(*READERS)
def review(kind: str, subject_id: str):
    """评查: the file as it would be archived, with the findings; a legal officer archives from here."""
    actor = current_portal_actor()
    casefile_service.load_subject(db.session, actor.user, kind, subject_id)  # 404 outside the scope
    existing = casefile_service.existing_file(db.session, kind, subject_id)
    if existing is not None:
        return redirect(url_for("casefiles.show", casefile_id=existing.id))
    subject, built, findings = casefile_service.preview(db.session, _settings(), actor, kind, subject_id)
    return render_template("casefiles/review.html", kind=kind, subject_id=subject_id, cover=built.manifest["cover"],
                           entries=built.manifest["entries"], findings=findings, roots=built.roots,
                           kind_label=KIND_LABELS[kind], can_archive=actor.user.role == "legal",
                           blocking=[f for f in findings if f["severity"] == "error"])


@bp.route("/review/<kind>/<subject_id>/archive", methods=["POST"])
@login_required("legal")
def archive(kind: str, subject_id: str):
    actor = current_portal_actor()
    try:
        casefile = casefile_service.archive_file(db.session, _settings(), actor, kind, subject_id,
                                                 form_str("override_reason"))
    except AppError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        flash(service_message(exc.message), "error")
        return redirect(url_for("casefiles.review", kind=kind, subject_id=subject_id))
    flash(_("已归档：%(no)s", no=casefile.archive_no), "success")
    return redirect(url_for("casefiles.show", casefile_id=casefile.id))


@bp.route("/<casefile_id>")
@login_required(*READERS)
def show(casefile_id: str):
    actor = current_portal_actor()
    casefile = casefile_service.get_casefile(db.session, actor.user, casefile_id)
    archiver = db.session.get(User, casefile.archived_by_id)
    checkpoint = log_service.checkpoint_at(db.session, casefile.checkpoint_size)
    return render_template("casefiles/file.html", f=casefile, archiver=archiver, checkpoint=checkpoint,
                           kind_label=KIND_LABELS[casefile.kind], can_supplement=actor.user.role == "legal",
                           vkey=_settings().signer_loader().vkey,
                           people={u.id: u for u in db.session.scalars(select(User).where(
                               User.id.in_([s.created_by_id for s in casefile.supplements])))})


def _package(casefile: CaseFile) -> bytes:
    return current_app.extensions["inspect_storage"].read_bytes(casefile_service.package_key(casefile))


@bp.route("/<casefile_id>/package.zip")
@login_required(*READERS)
def package(casefile_id: str):
    casefile = casefile_service.get_casefile(db.session, current_portal_actor().user, casefile_id)
    resp = Response(_package(casefile), mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="casefile-{casefile.id}.zip"'
    return resp


@bp.route("/<casefile_id>/casefile.pdf")
@login_required(*READERS)
def bound_pdf(casefile_id: str):
    casefile = casefile_service.get_casefile(db.session, current_portal_actor().user, casefile_id)
    with zipfile.ZipFile(io.BytesIO(_package(casefile))) as zf:
        pdf = zf.read("front/casefile.pdf")
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="casefile-{casefile.id}.pdf"'
    return resp


@bp.route("/<casefile_id>/supplements", methods=["POST"])
@login_required("legal")
def supplement(casefile_id: str):
    actor = current_portal_actor()
    casefile = casefile_service.get_casefile(db.session, actor.user, casefile_id)
    try:
        casefile_service.add_supplement(db.session, _settings(), actor, casefile, request.form.get("reason", ""),
                                        request.form.get("content", ""))
    except AppError as exc:
        db.session.rollback()
        flash(service_message(exc.message), "error")
    else:
        flash(_("补充材料已追加并登记"), "success")
    return redirect(url_for("casefiles.show", casefile_id=casefile_id))


@bp.route("/log")
@login_required(*READERS)
def log():
    """The latest signed checkpoint (to print and keep outside the system) and the open alarms."""
    checkpoint = log_service.latest_checkpoint(db.session)
    return render_template("casefiles/log.html", checkpoint=checkpoint, vkey=_settings().signer_loader().vkey,
                           alarms=recheck_service.open_alarms(db.session))
