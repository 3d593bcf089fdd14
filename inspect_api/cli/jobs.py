"""``flask --app wsgi jobs …``: the worker, the sweep, and a look at the jobs table."""
from __future__ import annotations

import logging
import threading

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Job, User
from ..services import jobs as job_service
from ..services.jobs import queue as job_queue
from ..services.lifecycle.documents import SHANGHAI

log = logging.getLogger(__name__)


def sweep_once(app) -> dict:
    """One sweep, the outbox dispatch, and this worker's heartbeat; never raises (a worker keeps going)."""
    jobs = app.extensions["inspect_jobs"]
    counts = {}
    if jobs["huey"] is not None and not jobs["huey"].immediate:
        try:
            job_queue.beat(jobs["huey"])
        except Exception as exc:  # the queue is down: nothing to beat on; the sweep retries later
            log.warning("jobs heartbeat failed: %s", exc)
    with app.app_context():
        try:
            counts = job_service.sweep(db.session, app.extensions["inspect_storage"],
                                       requeue_after=int(app.config["JOBS_REQUEUE_AFTER_SECONDS"]))
            pending = job_service.pending_job_ids(db.session)
            counts["dispatched"] = job_service.dispatch(db.session, jobs["task"], pending)
            db.session.commit()
        except Exception as exc:
            log.warning("jobs sweep failed: %s", exc)
            db.session.rollback()
        finally:
            db.session.remove()
    return counts


def _sweeper(app, stop: threading.Event) -> None:
    interval = float(app.config["JOBS_SWEEP_SECONDS"])
    while True:
        sweep_once(app)
        if stop.wait(interval):
            return


def register(app) -> None:
    group = AppGroup("jobs", help="Background jobs (后台任务): worker, sweep, list.")

    @group.command("worker")
    @click.option("--workers", type=int, default=None, help="worker threads (default INSPECT_JOBS_WORKERS)")
    def worker(workers):
        """Run a worker: Huey's consumer on the configured queue, plus the sweep every JOBS_SWEEP_SECONDS
        (dead workers' jobs retried or failed, expired files removed, the outbox handed over)."""
        huey = app.extensions["inspect_jobs"]["huey"]
        if huey is None or huey.immediate:
            raise click.ClickException(
                f"no queue to consume (INSPECT_JOBS_QUEUE={app.config.get('JOBS_QUEUE')!r}): set redis://… or sqlite")
        logging.basicConfig(level=logging.INFO)
        stop = threading.Event()
        threading.Thread(target=_sweeper, args=(app, stop), name="jobs-sweeper", daemon=True).start()
        consumer = huey.create_consumer(workers=workers or int(app.config["JOBS_WORKERS"]), worker_type="thread",
                                        periodic=False, max_delay=2.0)
        click.echo(f"jobs worker: queue {job_queue.queue_kind(app.config)} '{huey.name}'")
        try:
            consumer.run()
        finally:
            stop.set()

    @group.command("sweep")
    def sweep_command():
        """One sweep now (cron, or when no worker runs the sweep)."""
        click.echo(sweep_once(app))

    @group.command("run")
    @click.argument("job_id")
    def run_command(job_id):
        """Run one queued job in this process (no queue needed)."""
        settings = job_service.JobSettings.from_config(app.config)
        click.echo(job_service.run_job(db.engine, app.extensions["inspect_storage"], job_id, settings))

    @group.command("list")
    @click.option("--state", type=click.Choice(["queued", "running", "done", "failed", "expired"]))
    @click.option("--limit", type=int, default=50)
    def list_command(state, limit):
        """The latest jobs (every owner), with state, progress and error."""
        stmt = select(Job, User.username).join(User, User.id == Job.owner_id)
        if state:
            stmt = stmt.where(Job.state == state)
        rows = db.session.execute(stmt.order_by(Job.created_at.desc()).limit(limit)).all()
        alive = job_service.workers_alive()
        click.echo(f"workers alive: {'-' if alive is None else alive}")
        for job, username in rows:
            made = job.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            total = "?" if job.progress_total is None else job.progress_total
            click.echo(f"{job.id}  {made}  {username:<16} {job.kind:<24} {job.state:<8} "
                       f"{job.progress_done}/{total}  try {job.attempts}/{job.max_attempts}"
                       + (f"  {job.error_code}: {job.error}" if job.error else ""))

    app.cli.add_command(group)
