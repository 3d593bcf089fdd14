"""Submitting, listing and reading jobs; the sweep that keeps the queue honest.

A job is visible to its owner only (another user's job answers 404, admins
included: a job's file holds what its owner's scope could read). Submission
validates the kind's parameters with the owner's rights and records the row
``queued``; the caller commits and then dispatches (services/jobs/queue.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...errors import AppError, Forbidden, NotFound, ValidationError
from ...models import Job
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import scope_clause
from .kinds import KINDS
from .runner import finish_failed


class JobKindUnknown(ValidationError):
    code = "unknown_job_kind"
    message = "不支持的任务类型 (unknown job kind)"


class JobNotReady(AppError):
    status = 409
    code = "job_not_ready"
    message = "任务尚未完成，没有可下载的文件 (the job has no file yet)"


class JobExpired(AppError):
    status = 410
    code = "job_expired"
    message = "任务结果已过期并已删除 (the job's file expired and was removed)"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def submit_job(session: Session, actor: Actor, kind: str, params: dict | None, *, max_attempts: int = 3) -> Job:
    """Validate and record a job (state queued, not yet enqueued). The caller commits, then dispatches."""
    user = actor.user
    if user is None or not user.is_active:
        raise Forbidden()
    spec = KINDS.get(kind)
    if spec is None:
        raise JobKindUnknown(details={"kind": kind, "allowed": sorted(KINDS)})
    if user.role not in spec.roles:
        raise Forbidden("无权提交此类任务 (your role may not run this job)", details={"kind": kind})
    if not isinstance(params, dict):
        raise ValidationError(details={"fields": {"params": ["an object"]}})
    clean = spec.validate(session, actor, dict(params))
    job = Job(owner_id=user.id, region_code=user.region_id if user.role != "admin" else None, kind=kind,
              params=clean, state="queued", max_attempts=max_attempts, progress_done=0, attempts=0)
    session.add(job)
    session.flush()
    record_event(session, actor, "job.submitted", table="jobs", object_id=job.id, to_state="queued",
                 data={"kind": kind, "params": clean})
    return job


def list_jobs(session: Session, actor: Actor, *, page: int = 1, per_page: int = 20) -> tuple[list[Job], int]:
    where = scope_clause(Job, actor.user)
    total = session.execute(select(func.count()).select_from(Job).where(where)).scalar()
    rows = session.scalars(select(Job).where(where).order_by(Job.created_at.desc(), Job.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def get_job(session: Session, actor: Actor, job_id: str) -> Job:
    job = session.scalars(select(Job).where(Job.id == job_id, scope_clause(Job, actor.user))).first()
    if job is None:
        raise NotFound("任务不存在 (job not found)", code="not_found")
    return job


def result_of(session: Session, actor: Actor, job_id: str) -> Job:
    """A job whose file may be downloaded now (404 another's, 409 not done, 410 expired)."""
    job = get_job(session, actor, job_id)
    if job.state == "expired" or (job.state == "done" and job.expires_at and job.expires_at <= _now()):
        raise JobExpired()
    if job.state != "done" or not job.result_key:
        raise JobNotReady(details={"state": job.state})
    return job


# --------------------------------------------------------------------------- the sweep


def sweep(session: Session, storage, *, requeue_after: int = 300, now: datetime | None = None) -> dict:
    """Keep the jobs table honest; run by every worker every JOBS_SWEEP_SECONDS and by ``flask jobs sweep``.

    - a running job whose lease ran out (its worker died): retried while attempts are left, else failed
      with the reason; the dead attempt's stored object (``partial_key``) is deleted;
    - a done job past ``expires_at``: its file deleted, the job ``expired``;
    - a queued job handed to the queue more than ``requeue_after`` seconds ago and never started (a
      message lost with a Redis that restarted without persistence): handed over again (``enqueued_at``
      cleared; the dispatch of the outbox follows).
    Returns counts. Commits as it goes (each job in its own short transaction).
    """
    now = now or _now()
    engine = session.get_bind()
    counts = {"lost": 0, "expired": 0, "requeued": 0}
    lost = session.execute(select(Job.id, Job.partial_key, Job.lease_token)
                           .where(Job.state == "running", Job.lease_until < now)).all()
    session.commit()
    for job_id, partial, token in lost:
        state = finish_failed(engine, job_id, token, "worker_lost",
                              "工作进程失联，租约已过期 (the worker stopped renewing its lease: killed or lost)",
                              retry=True)
        if state != "skipped":
            counts["lost"] += 1
            if partial:
                storage.delete(partial)
                session.execute(update(Job).where(Job.id == job_id, Job.partial_key == partial)
                                .values(partial_key=None))
                session.commit()
    stale = session.execute(select(Job.id, Job.result_key).where(Job.state == "done", Job.expires_at <= now)).all()
    for job_id, key in stale:
        if key:
            storage.delete(key)
        n = session.execute(update(Job).where(Job.id == job_id, Job.state == "done")
                            .values(state="expired", result_key=None)).rowcount
        if n:
            record_event(session, Actor.system("sweep"), "job.expired", table="jobs", object_id=job_id,
                         from_state="done", to_state="expired")
        session.commit()
        counts["expired"] += n
    counts["requeued"] = session.execute(
        update(Job).where(Job.state == "queued", Job.enqueued_at < now - timedelta(seconds=requeue_after))
        .values(enqueued_at=None)).rowcount
    session.commit()
    return counts


def pending_job_ids(session: Session, owner_id: str | None = None, limit: int = 500) -> list[str]:
    """Queued jobs not handed to the queue yet (the outbox), oldest first."""
    stmt = select(Job.id).where(Job.state == "queued", Job.enqueued_at.is_(None))
    if owner_id:
        stmt = stmt.where(Job.owner_id == owner_id)
    return list(session.scalars(stmt.order_by(Job.created_at).limit(limit)))


__all__ = ["submit_job", "list_jobs", "get_job", "result_of", "sweep", "pending_job_ids", "JobKindUnknown",
           "JobNotReady", "JobExpired"]


def export_is_large(session: Session, actor: Actor, f, threshold: int) -> bool:
    """More than ``threshold`` hazards found in the filter's period and scope? Counts at most threshold + 1
    rows (an index range scan on found_at), so the question itself stays cheap at any size."""
    from ...models import Enterprise, Hazard
    from ..reporting.stats import _industry_filter, _region_filter

    stmt = (select(Hazard.id).join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(Hazard.deleted_at.is_(None), scope_clause(Hazard, actor.user), _region_filter(Hazard.region_code, f),
                   _industry_filter(f), Hazard.found_at >= f.start, Hazard.found_at < f.end)
            .limit(threshold + 1))
    return session.execute(select(func.count()).select_from(stmt.subquery())).scalar() > threshold
