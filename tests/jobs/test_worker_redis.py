"""A real worker process (`flask jobs worker`) against the real Redis: SIGKILLed mid-job, the job is taken
back by the next worker and ends done, with the dead attempt's file never offered; with Redis unreachable
the API still answers and the job waits in the database until a worker with a queue picks it up."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from sqlalchemy import select

from inspect_api.extensions import db as _db
from inspect_api.models import Job
from inspect_api.services.jobs.queue import build_huey, workers_alive

from .. import factories
from .helpers import bulk_hazards, env_for, live_app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REDIS_URL = os.environ.get("INSPECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROWS = 6000


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but Redis at {REDIS_URL} does not answer: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


@pytest.fixture()
def queue_name():
    client = _redis()
    name = f"inspecttest{uuid.uuid4().hex[:12]}"
    yield name
    for key in client.scan_iter(match=f"huey*{name}*"):
        client.delete(key)


def _seed(session, world):
    bulk_hazards(session, world, ROWS)


def _start_worker(config: dict, **extra) -> subprocess.Popen:
    env = env_for({**config, **extra})
    log = tempfile.NamedTemporaryFile(prefix="inspect-worker-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    proc.log_path = log.name
    return proc


def _stop(proc: subprocess.Popen) -> str:
    """Stop the worker (SIGINT, as an operator would); return its log."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    with open(proc.log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    os.unlink(proc.log_path)
    return text


def _wait(app, job_id, predicate, timeout=60.0) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            job = _db.session.get(Job, job_id)
            _db.session.expunge(job)
            _db.session.remove()
        if predicate(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stayed {job.state} ({job.progress_done}/{job.progress_total}, "
                                 f"{job.error})")
        time.sleep(0.2)


def _token(client, username="supervisor"):
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": factories.PASSWORD})
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def _config(queue_name, **over):
    return {"JOBS_QUEUE": REDIS_URL, "JOBS_QUEUE_NAME": queue_name, "JOBS_LEASE_SECONDS": 3,
            "JOBS_HEARTBEAT_SECONDS": 0.5, "JOBS_SWEEP_SECONDS": 1, **over}


@pytest.mark.timeout(240)
def test_worker_sigkilled_mid_export_leaves_the_job_retried_and_done_never_half(queue_name):
    app, ids, stop = live_app(_config(queue_name), seed=_seed)
    workers = []
    try:
        client = app.test_client()
        h = _token(client)
        resp = client.post("/api/v1/jobs", json={"kind": "ledger_export", "params": {
            "from": "2026-01-01", "to": "2026-06-30", "format": "xlsx"}}, headers=h)
        assert resp.status_code == 202
        job_id = resp.get_json()["id"]
        assert _wait(app, job_id, lambda j: j.enqueued_at is not None, 5)  # handed to Redis at once
        # worker 1 pauses after every block it writes: slow enough to be killed mid-job
        first = _start_worker(app.test_config, JOBS_CHUNK_PAUSE_SECONDS=1.5)
        workers.append(first)
        running = _wait(app, job_id, lambda j: j.state == "running" and j.heartbeat_at is not None, 60)
        assert running.attempts == 1
        assert workers_alive(build_huey(app.test_config, app.instance_path)) is True
        time.sleep(1.0)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = _wait(app, job_id, lambda j: True)
        assert killed.state == "running" and killed.result_key is None  # mid-job, nothing offered
        assert client.get(f"/api/v1/jobs/{job_id}/download", headers=h).status_code == 409
        # worker 2: its sweep finds the lease run out, hands the job back to the queue, and runs it
        second = _start_worker(app.test_config)
        workers.append(second)
        done = _wait(app, job_id, lambda j: j.state in ("done", "failed"), 120)
        assert done.state == "done", (done.error_code, done.error)
        assert done.attempts == 2 and done.error is None and done.progress_done == done.progress_total == ROWS
        with app.app_context():
            from inspect_api.models import AuditEvent

            actions = _db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == job_id)
                                          .order_by(AuditEvent.id)).all()
            _db.session.remove()
        assert actions == ["job.submitted", "job.retry", "job.done"]
        storage = app.extensions["inspect_storage"]
        assert storage.list(f"jobs/{job_id}/") == [done.result_key]  # the dead attempt left nothing behind
        got = client.get(f"/api/v1/jobs/{job_id}/download", headers=h)
        assert got.status_code == 200
        from openpyxl import load_workbook

        rows = list(load_workbook(io.BytesIO(got.data), read_only=True).active.iter_rows(values_only=True))
        ids_written = [r[0] for r in rows if r[0] and str(r[0]).startswith("BH")]
        assert len(ids_written) == len(set(ids_written)) == ROWS and rows[-1][0] == "合计"
    finally:
        for proc in workers:
            print(_stop(proc)[-3000:])
        stop()


@pytest.mark.timeout(180)
def test_redis_down_the_api_answers_and_the_job_runs_when_a_queue_returns(queue_name):
    down = _config(queue_name, JOBS_QUEUE="redis://127.0.0.1:1/0")
    app, ids, stop = live_app(down, seed=_seed)
    worker = None
    try:
        client = app.test_client()
        h = _token(client)
        t0 = time.monotonic()
        resp = client.post("/api/v1/jobs", json={"kind": "overdue_reminders", "params": {}}, headers=h)
        assert resp.status_code == 202 and time.monotonic() - t0 < 10
        job_id = resp.get_json()["id"]
        listed = client.get("/api/v1/jobs", headers=h)
        assert listed.status_code == 200 and listed.get_json()["workers_alive"] is False
        with app.app_context():
            job = _db.session.get(Job, job_id)
            assert job.state == "queued" and job.enqueued_at is None  # kept in the outbox
            _db.session.remove()
        # Redis "returns": a worker on the real queue (same database) sweeps the outbox and runs it
        worker = _start_worker({**app.test_config, "JOBS_QUEUE": REDIS_URL})
        done = _wait(app, job_id, lambda j: j.state in ("done", "failed"), 90)
        assert done.state == "done" and done.attempts == 1 and done.enqueued_at is not None
        got = client.get(f"/api/v1/jobs/{job_id}/download", headers=h)
        rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
        assert len(rows) - 1 == done.summary["overdue"] == ROWS  # all 6,000 are past their deadline
    finally:
        if worker is not None:
            print(_stop(worker)[-3000:])
        stop()


@pytest.mark.timeout(120)
def test_embedded_sqlite_queue_needs_no_server(tmp_path):
    """The demo's mode (`bash .ci/demo`): a SQLite queue file, one worker process, no Redis."""
    config = {"JOBS_QUEUE": "sqlite", "JOBS_QUEUE_FILE": str(tmp_path / "queue.sqlite3"),
              "JOBS_QUEUE_NAME": "demo", "JOBS_SWEEP_SECONDS": 1}
    app, ids, stop = live_app(config)
    worker = _start_worker(app.test_config)
    try:
        client = app.test_client()
        h = _token(client)
        resp = client.post("/api/v1/jobs", json={"kind": "overdue_reminders", "params": {}}, headers=h)
        assert resp.status_code == 202
        done = _wait(app, resp.get_json()["id"], lambda j: j.state in ("done", "failed"), 60)
        assert done.state == "done" and done.enqueued_at is not None
        assert client.get("/api/v1/jobs", headers=h).get_json()["workers_alive"] is True
    finally:
        print(_stop(worker)[-3000:])
        stop()
