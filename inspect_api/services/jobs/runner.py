"""Running one job: claim, heartbeat, execute, publish — the worker's transaction boundaries.

Like a CLI command, the runner commits for itself, in short transactions of its own:

1. claim: ``UPDATE jobs SET state='running', attempts=attempts+1, lease_token=…`` where the job is
   queued and has attempts left — one worker wins, a duplicate queue message does nothing;
2. a heartbeat thread renews ``lease_until`` (and writes the progress) every
   JOBS_HEARTBEAT_SECONDS on a connection of its own; a worker that dies (SIGKILL,
   out of memory, machine lost) stops renewing, and the sweep takes the job back
   once the lease has run out (JOBS_LEASE_SECONDS);
3. the job kind writes its file to a local temporary file (reading on its own
   session: PostgreSQL streams, SQLite reads without taking the write lock);
4. publish: the attempt's key is recorded as ``partial_key`` *before* anything
   is stored, the file is stored under it (the storage contract: the object
   appears whole or not at all), and only then, in one transaction that still
   holds the lease, the row becomes ``done`` with ``result_key``. A dead attempt
   leaves at most a ``partial_key`` that the sweep deletes; a download only ever
   reads ``result_key`` of a ``done`` job.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.orm import Session

from ...errors import AppError
from ...models import Job, User
from ..access.actor import Actor
from ..access.audit import record_event
from ..evidence.photos import UploadLimits
from ..lifecycle.documents import DocumentConfig

log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """Another worker took the job over (this attempt's lease ran out)."""


@dataclass(frozen=True)
class JobSettings:
    lease_seconds: int = 60
    heartbeat_seconds: float = 5.0
    result_ttl_seconds: int = 7 * 86400
    chunk_pause_seconds: float = 0.0
    max_notices: int = 5000
    tmp_dir: str | None = None
    document: DocumentConfig | None = None
    limits: UploadLimits = field(default_factory=UploadLimits)

    @classmethod
    def from_config(cls, config) -> "JobSettings":
        return cls(lease_seconds=int(config["JOBS_LEASE_SECONDS"]),
                   heartbeat_seconds=float(config["JOBS_HEARTBEAT_SECONDS"]),
                   result_ttl_seconds=int(config["JOBS_RESULT_TTL_SECONDS"]),
                   chunk_pause_seconds=float(config["JOBS_CHUNK_PAUSE_SECONDS"]),
                   max_notices=int(config["JOBS_MAX_NOTICES"]), tmp_dir=config.get("JOBS_TMP_DIR"),
                   document=DocumentConfig.from_mapping(config), limits=UploadLimits.from_config(config))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class JobContext:
    """What a job kind gets: its read session, the acting owner, storage, settings and a progress meter."""

    def __init__(self, session: Session, actor: Actor, storage, settings: JobSettings, job: Job):
        self.session = session
        self.actor = actor
        self.storage = storage
        self.settings = settings
        self.job_id = job.id
        self.params = dict(job.params or {})
        self.done = 0
        self.total: int | None = None
        self.lost = threading.Event()

    def progress(self, done: int | None = None, total: int | None = None, add: int = 0) -> None:
        if total is not None:
            self.total = total
        if done is not None:
            self.done = done
        self.done += add
        if self.total is not None and self.done > self.total:
            self.done = self.total
        if self.lost.is_set():
            raise LeaseLost(self.job_id)
        if self.settings.chunk_pause_seconds:
            time.sleep(self.settings.chunk_pause_seconds)


class _Heartbeat(threading.Thread):
    def __init__(self, engine, job_id: str, token: str, ctx: JobContext, settings: JobSettings):
        super().__init__(name=f"job-heartbeat-{job_id}", daemon=True)
        self.engine, self.job_id, self.token, self.ctx, self.settings = engine, job_id, token, ctx, settings
        self.stop = threading.Event()

    def beat(self) -> None:
        now = _now()
        with self.engine.begin() as conn:
            n = conn.execute(update(Job).where(Job.id == self.job_id, Job.lease_token == self.token,
                                               Job.state == "running")
                             .values(lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                                     heartbeat_at=now, progress_done=self.ctx.done,
                                     progress_total=self.ctx.total)).rowcount
        if n != 1:
            self.ctx.lost.set()

    def run(self) -> None:
        while not self.stop.wait(self.settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception as exc:  # the database is briefly unreachable: the lease covers it
                log.warning("job %s heartbeat failed: %s", self.job_id, exc)


_readers: dict = {}


def reader_engine(engine):
    """PostgreSQL: the engine itself. SQLite: an engine whose reads take no lock (the app's engine begins
    every transaction IMMEDIATE, which would hold the write lock for the whole export)."""
    if engine.dialect.name != "sqlite":
        return engine
    url = engine.url.render_as_string(hide_password=False)
    if url not in _readers:
        reader = create_engine(url)

        @event.listens_for(reader, "connect")
        def _pragmas(dbapi_conn, record):
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        _readers[url] = reader
    return _readers[url]


def claim_job(engine, job_id: str, worker: str, settings: JobSettings) -> str | None:
    """Take the job if it is queued and has attempts left; return the attempt's lease token."""
    token = secrets.token_hex(16)
    now = _now()
    with engine.begin() as conn:
        n = conn.execute(
            update(Job).where(Job.id == job_id, Job.state == "queued", Job.attempts < Job.max_attempts)
            .values(state="running", attempts=Job.attempts + 1, lease_token=token, worker=worker,
                    lease_until=now + timedelta(seconds=settings.lease_seconds), heartbeat_at=now,
                    started_at=now, progress_done=0)).rowcount
    return token if n == 1 else None


def run_job(engine, storage, job_id: str, settings: JobSettings, worker: str | None = None) -> str:
    """Run one job to its end; returns the state it ended in ('done', 'failed', 'queued' for a retry,
    'skipped' when it was not ours to run)."""
    from .kinds import KINDS

    worker = worker or worker_name()
    token = claim_job(engine, job_id, worker, settings)
    if token is None:
        return "skipped"
    fd, tmp_path = tempfile.mkstemp(prefix=f"inspect-job-{job_id}-", dir=settings.tmp_dir)
    heartbeat = None
    try:
        with Session(bind=reader_engine(engine), expire_on_commit=False) as session:
            job = session.get(Job, job_id)
            owner = session.get(User, job.owner_id)
            ctx = JobContext(session, Actor(user=owner, ip="job"), storage, settings, job)
            heartbeat = _Heartbeat(engine, job_id, token, ctx, settings)
            heartbeat.start()
            with os.fdopen(fd, "wb") as out:
                output = KINDS[job.kind].run(ctx, out)
            session.rollback()
        heartbeat.stop.set()
        heartbeat.join()
        return _publish(engine, storage, job_id, token, tmp_path, output, ctx, settings)
    except LeaseLost:
        log.warning("job %s: lease lost, another attempt owns it now", job_id)
        return "skipped"
    except AppError as exc:  # refused at run time (scope changed, bad parameters): no retry
        return finish_failed(engine, job_id, token, exc.code, exc.message, retry=False)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        return finish_failed(engine, job_id, token, "job_error", f"{type(exc).__name__}: {exc}"[:1000],
                             retry=True)
    finally:
        if heartbeat is not None:
            heartbeat.stop.set()
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)


def _publish(engine, storage, job_id, token, tmp_path, output, ctx, settings) -> str:
    key = f"jobs/{job_id}/{token}/{output.ascii_name}"
    with engine.begin() as conn:
        n = conn.execute(update(Job).where(Job.id == job_id, Job.lease_token == token, Job.state == "running")
                         .values(partial_key=key)).rowcount
    if n != 1:
        return "skipped"
    with open(tmp_path, "rb") as f:
        stored = storage.save(key, f, output.content_type)
    now = _now()
    total = ctx.total if ctx.total is not None else ctx.done
    with Session(bind=engine) as session, session.begin():
        n = session.execute(
            update(Job).where(Job.id == job_id, Job.lease_token == token, Job.state == "running")
            .values(state="done", result_key=key, partial_key=None, result_name=output.name,
                    result_type=output.content_type, result_size=stored.size, result_sha256=stored.sha256,
                    summary=output.summary, progress_done=total, progress_total=total, finished_at=now,
                    expires_at=now + timedelta(seconds=settings.result_ttl_seconds), lease_token=None,
                    lease_until=None, error=None, error_code=None)).rowcount
        if n == 1:
            record_event(session, Actor.system("worker"), "job.done", table="jobs", object_id=job_id,
                         to_state="done", data={"size": stored.size, "rows": total})
    if n != 1:  # the lease was lost while storing: this attempt's object is nobody's result
        storage.delete(key)
        return "skipped"
    return "done"


def finish_failed(engine, job_id: str, token: str | None, code: str, reason: str, retry: bool) -> str:
    """End an attempt that failed: back to the queue while attempts are left (and ``retry``), else failed."""
    now = _now()
    with Session(bind=engine) as session, session.begin():
        where = [Job.id == job_id, Job.state == "running"]
        if token is not None:
            where.append(Job.lease_token == token)
        job = session.scalars(select(Job).where(*where).with_for_update()).first()
        if job is None:
            return "skipped"
        again = retry and job.attempts < job.max_attempts
        job.state = "queued" if again else "failed"
        job.error_code = code
        job.error = reason
        job.lease_token = None
        job.lease_until = None
        job.enqueued_at = None  # the outbox hands it to the queue again
        if not again:
            job.finished_at = now
        record_event(session, Actor.system("worker"), "job.retry" if again else "job.failed", table="jobs",
                     object_id=job_id, from_state="running", to_state=job.state, reason=reason[:500],
                     data={"attempt": job.attempts, "code": code})
        return job.state


def run_job_in_app(app, job_id: str) -> str:
    """The queue task's body: run the job with the app's engine, storage and settings."""
    from ...extensions import db

    with app.app_context():
        engine = db.engine
        storage = app.extensions["inspect_storage"]
        settings = JobSettings.from_config(app.config)
    return run_job(engine, storage, job_id, settings)
