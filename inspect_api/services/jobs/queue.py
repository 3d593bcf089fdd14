"""The queue: Huey, carrying job ids only (the database row is the truth).

``INSPECT_JOBS_QUEUE`` chooses the backend:

- ``redis://host:6379/0`` — RedisHuey: production; separate worker processes
  (``flask jobs worker``) on any number of machines.
- ``sqlite`` — SqliteHuey on a file in the instance folder: the embedded mode
  of ``bash .ci/demo`` (the demo starts one worker process beside gunicorn;
  nothing else to install or run).
- ``immediate`` — Huey's immediate mode: the job runs inside the call that
  enqueues it (tests, one-off scripts; a request then waits for its job).
- ``none`` — no queue: jobs are recorded and stay queued (``workers_alive``
  answers None). The default under TESTING; otherwise the default is ``sqlite``.

Enqueueing is an outbox: the job row is committed first with
``enqueued_at = NULL``; ``dispatch`` hands ids to the queue and stamps
``enqueued_at``. If the queue is down the row simply stays un-stamped and the
sweep (``services/jobs/sweep.py``, run by every worker and by
``flask jobs sweep``) hands it over again when the queue answers. A duplicate
message is harmless: a worker runs a job only after claiming its row.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timezone

from sqlalchemy import update

from ...models import Job

log = logging.getLogger(__name__)

TASK_NAME = "inspect.run_job"
HEARTBEAT_KEY = "inspect-workers-heartbeat"
ALIVE_AFTER_MIN = 60  # seconds: a worker busy with a big job on a loaded machine still counts as alive

# the queue of this process (set by init_jobs); workers_alive() reads it
_current: dict = {"huey": None, "task": None, "alive_after": 45}


def queue_kind(config) -> str:
    value = config.get("JOBS_QUEUE")
    if not value:
        return "none" if config.get("TESTING") else "sqlite"
    value = str(value)
    if value.startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    if value in ("sqlite", "immediate", "none"):
        return value
    raise ValueError(f"INSPECT_JOBS_QUEUE must be redis://…, sqlite, immediate or none (got {value!r})")


def build_huey(config, instance_path: str):
    """The Huey instance for the configuration, or None (no queue). Opens no connection."""
    kind = queue_kind(config)
    name = config.get("JOBS_QUEUE_NAME") or "inspect-jobs"
    if kind == "none":
        return None
    if kind == "redis":
        from huey import RedisHuey
        from redis import ConnectionPool

        # results are not used (the job row is the result); blocking pop with a short read timeout; a Redis
        # that does not answer fails a call within seconds (the API keeps answering, the outbox keeps the job)
        pool = ConnectionPool.from_url(config["JOBS_QUEUE"], socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(name, connection_pool=pool, results=False, blocking=True, read_timeout=2)
    if kind == "immediate":
        from huey import MemoryHuey

        return MemoryHuey(name, results=False, immediate=True)
    from huey import SqliteHuey

    path = config.get("JOBS_QUEUE_FILE") or os.path.join(instance_path, "jobs-queue.sqlite3")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey(name, filename=path, results=False)


def init_jobs(app) -> None:
    """Called by create_app: build the queue and register the one task (run a job by id)."""
    huey = build_huey(app.config, app.instance_path)
    task = None
    if huey is not None:
        def run_job_task(job_id: str) -> None:
            from .runner import run_job_in_app

            run_job_in_app(app, job_id)

        task = huey.task(name=TASK_NAME)(run_job_task)
    app.extensions["inspect_jobs"] = {"huey": huey, "task": task}
    _current.update(huey=huey, task=task,
                    alive_after=max(ALIVE_AFTER_MIN, 3 * int(app.config.get("JOBS_SWEEP_SECONDS", 15))))


def dispatch(session, task, job_ids) -> int:
    """Hand ``job_ids`` (committed rows) to the queue; stamp ``enqueued_at`` on each one handed over.

    Returns how many were handed over. A queue that does not answer is logged, not raised: the job stays
    queued in the database and the sweep hands it over later. The caller commits.
    """
    if task is None:
        return 0
    sent = 0
    for job_id in job_ids:
        try:
            task(job_id)
        except Exception as exc:  # redis down, network: the outbox keeps the job
            log.warning("job %s not enqueued (queue unavailable: %s); it stays queued", job_id, exc)
            break
        session.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                        .values(enqueued_at=datetime.now(timezone.utc)))
        sent += 1
    return sent


def beat(huey) -> None:
    """A worker is alive: store the time under one key of the queue's own storage."""
    huey.storage.put_data(HEARTBEAT_KEY, f"{time.time():.3f} {socket.gethostname()}:{os.getpid()}".encode())


def last_beat(huey) -> float | None:
    raw = huey.storage.peek_data(HEARTBEAT_KEY)
    from huey.constants import EmptyData

    if raw is EmptyData or raw is None:
        return None
    try:
        return float(raw.decode().split()[0])
    except (ValueError, AttributeError):
        return None


def workers_alive(huey=None) -> bool | None:
    """True when a worker beat within 3 sweep intervals (60 s at least), False when none did (or the queue is down),
    None when no queue is configured (or immediate mode, which needs no worker)."""
    huey = huey if huey is not None else _current["huey"]
    if huey is None or huey.immediate:
        return None
    try:
        at = last_beat(huey)
    except Exception:
        return False
    return at is not None and time.time() - at < _current["alive_after"]
