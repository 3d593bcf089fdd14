"""The portal's job list (我的任务): your background jobs with their progress, and their files.

The page refreshes itself (a meta refresh, no script: the CSP allows none inline) every
5 seconds while a job of yours is queued or running. A form submits the jobs the
user's role may run; the download serves the stored file with HTTP Range, like the API.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from ..errors import AppError
from ..extensions import db
from ..services import jobs as job_service
from ..services.jobs.download import file_body
from ..storage import get_storage
from .session_auth import current_portal_actor, login_required

bp = Blueprint("jobs_portal", __name__, url_prefix="/jobs")

STAFF = ("admin", "supervisor", "inspector")
FORM_KINDS = ("ledger_export", "hazard_stats_export", "enforcement_stats_export", "notice_pdfs",
              "overdue_reminders", "photo_derivatives")


def _kinds_for(role: str) -> list[tuple[str, str]]:
    return [(k, job_service.KIND_LABELS[k]) for k in FORM_KINDS if role in job_service.KINDS[k].roles]


@bp.route("")
@login_required(*STAFF)
def index():
    actor = current_portal_actor()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pending = job_service.pending_job_ids(db.session, actor.id, limit=20)
    if pending:
        db.session.commit()
        job_service.dispatch(db.session, current_app.extensions["inspect_jobs"]["task"], pending)
        db.session.commit()
    items, total = job_service.list_jobs(db.session, actor, page=page, per_page=20)
    active = any(j.state in ("queued", "running") for j in items)
    return render_template("jobs/index.html", jobs=items, total=total, page=page, active=active,
                           kinds=_kinds_for(actor.role), labels=job_service.KIND_LABELS,
                           workers_alive=job_service.workers_alive(), error=None, form={})


@bp.route("", methods=["POST"])
@login_required(*STAFF)
def submit():
    actor = current_portal_actor()
    form = request.form
    kind = form.get("kind", "")
    params = {k: form.get(k) for k in ("from", "to", "region", "format") if form.get(k)}
    if kind in ("overdue_reminders",):
        params = {k: v for k, v in params.items() if k == "region"}
    elif kind == "notice_pdfs":
        params.pop("format", None)
    elif kind == "photo_derivatives":
        params = {}
    try:
        job = job_service.submit_job(db.session, actor, kind, params,
                                     max_attempts=int(current_app.config["JOBS_MAX_ATTEMPTS"]))
    except AppError as exc:
        db.session.rollback()
        items, total = job_service.list_jobs(db.session, actor, page=1, per_page=20)
        return render_template("jobs/index.html", jobs=items, total=total, page=1, active=False,
                               kinds=_kinds_for(actor.role), labels=job_service.KIND_LABELS,
                               workers_alive=job_service.workers_alive(), error=exc.message, form=form), 422
    job_id = job.id
    db.session.commit()
    job_service.dispatch(db.session, current_app.extensions["inspect_jobs"]["task"], [job_id])
    db.session.commit()
    return redirect(url_for("jobs_portal.index"))


@bp.route("/<job_id>/download")
@login_required(*STAFF)
def download(job_id):
    job = job_service.result_of(db.session, current_portal_actor(), job_id)
    body = file_body(get_storage(), job, request.headers.get("Range"), request.headers.get("If-Range"))
    resp = Response(body.chunks, status=body.status, mimetype=job.result_type, direct_passthrough=True)
    for k, v in body.headers.items():
        resp.headers[k] = v
    return resp


__all__ = ["bp", "gettext"]
