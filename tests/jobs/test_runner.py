"""Jobs run end to end on a database of their own (committed rows, several connections): every kind's
file, progress, retries and failures with a reason, the lease sweep, expiry, and the outbox."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from inspect_api.extensions import db as _db
from inspect_api.models import AuditEvent, Job, User
from inspect_api.services import jobs as job_service
from inspect_api.services.access.actor import Actor
from inspect_api.services.jobs.runner import JobSettings, claim_job, run_job
from inspect_api.services.reporting import exports, stats

from .. import factories
from ..stats import dataset
from .helpers import live_app

SETTINGS = JobSettings(lease_seconds=30, heartbeat_seconds=0.2)  # for claims made by hand


def _seed(session, world):
    d = dataset.build(session, world)
    return sorted(d.hazards) if isinstance(d.hazards, dict) else None


@pytest.fixture(scope="module")
def live():
    app, ids, stop = live_app(seed=_seed)
    yield app, ids
    stop()


def _submit(app, username, kind, params, max_attempts=3):
    with app.app_context():
        user = _db.session.scalars(select(User).where(User.username == username)).one()
        job = job_service.submit_job(_db.session, Actor(user=user), kind, params, max_attempts=max_attempts)
        _db.session.commit()
        return job.id


def _job(app, job_id) -> Job:
    with app.app_context():
        job = _db.session.get(Job, job_id)
        _db.session.expunge(job)
        _db.session.remove()
        return job


def _run(app, job_id, storage=None):
    settings = replace(JobSettings.from_config(app.config), lease_seconds=30, heartbeat_seconds=0.2)
    with app.app_context():
        return run_job(_db.engine, storage or app.extensions["inspect_storage"], job_id, settings)


def _file(app, job) -> bytes:
    return app.extensions["inspect_storage"].read_bytes(job.result_key)


def test_ledger_csv_job_holds_exactly_the_ledgers_rows(live):
    app, ids = live
    job_id = _submit(app, "supervisor", "ledger_export", {"from": "2026-01-01", "to": "2026-06-30", "format": "csv"})
    assert _run(app, job_id) == "done"
    job = _job(app, job_id)
    body = _file(app, job)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    with app.app_context():
        user = _db.session.get(User, ids["supervisor"])
        f = stats.make_filter(_db.session, Actor(user=user), date_from=dataset.PERIOD[0], date_to=dataset.PERIOD[1])
        expected = b"".join(exports.ledger_export(_db.session, Actor(user=user), f, "csv"))
        _db.session.remove()
    assert rows[0][0] == "隐患编号" and len(rows) - 1 == job.progress_total == job.progress_done > 0
    assert [r[0] for r in rows[1:]] == [r[0] for r in csv.reader(io.StringIO(expected.decode("utf-8-sig")))][1:]
    assert job.state == "done" and job.attempts == 1 and job.result_size == len(body)
    assert job.result_name.startswith("隐患台账_all_20260101-20260630") and job.partial_key is None
    assert job.expires_at - job.finished_at == timedelta(seconds=SETTINGS.result_ttl_seconds)
    with app.app_context():
        assert _db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == job_id)).all() == [
            "job.submitted", "job.done"]
        _db.session.remove()


def test_ledger_xlsx_and_statistics_jobs_write_real_spreadsheets(live):
    app, _ = live
    from openpyxl import load_workbook

    for kind, params, title in [
        ("ledger_export", {"from": "2026-01-01", "to": "2026-06-30"}, "隐患排查治理台账"),
        ("hazard_stats_export", {"from": "2026-01-01", "to": "2026-06-30", "group_by": "grade"}, None),
        ("enforcement_stats_export", {"from": "2026-01-01", "to": "2026-06-30"}, None),
    ]:
        job_id = _submit(app, "supervisor", kind, params)
        assert _run(app, job_id) == "done"
        job = _job(app, job_id)
        sheet = load_workbook(io.BytesIO(_file(app, job)), read_only=True).active
        first = [c.value for c in next(sheet.iter_rows(max_row=1))]
        assert first[0] and (title is None or first[0] == title)
        last = list(sheet.iter_rows(values_only=True))[-1]
        assert last[0] == "合计"


def test_overdue_reminders_and_notice_pdfs(live):
    app, _ = live
    job_id = _submit(app, "supervisor", "overdue_reminders", {"region": "131102"})
    assert _run(app, job_id) == "done"
    job = _job(app, job_id)
    rows = list(csv.reader(io.StringIO(_file(app, job).decode("utf-8-sig"))))
    assert rows[0][-1] == "逾期天数" and len(rows) - 1 == job.summary["overdue"] > 0
    assert all(int(r[-1]) >= 0 for r in rows[1:])

    job_id = _submit(app, "supervisor", "notice_pdfs", {"from": "2026-01-01", "to": "2026-06-30"})
    assert _run(app, job_id) == "done"
    job = _job(app, job_id)
    archive = zipfile.ZipFile(io.BytesIO(_file(app, job)))
    names = archive.namelist()
    assert len(names) == job.summary["notices"] == job.progress_total > 0
    assert all(archive.read(n).startswith(b"%PDF") for n in names)


def test_a_failing_attempt_is_retried_then_failed_with_its_reason(live):
    app, _ = live

    class BrokenStore:
        def __getattr__(self, name):
            return getattr(app.extensions["inspect_storage"], name)

        def save(self, key, fileobj, content_type=None):
            raise OSError("disk full")

    job_id = _submit(app, "supervisor", "ledger_export", {"from": "2026-01-01", "to": "2026-06-30"},
                     max_attempts=2)
    assert _run(app, job_id, storage=BrokenStore()) == "queued"
    job = _job(app, job_id)
    assert job.state == "queued" and job.attempts == 1 and job.enqueued_at is None
    assert job.error_code == "job_error" and "disk full" in job.error
    assert job.partial_key is not None  # the attempt's key, never offered: result_key stays empty
    assert job.result_key is None
    assert _run(app, job_id, storage=BrokenStore()) == "failed"
    job = _job(app, job_id)
    assert job.state == "failed" and job.attempts == 2 and "disk full" in job.error
    assert _run(app, job_id) == "skipped"  # no attempts left: nobody runs it again


def test_a_job_refused_at_run_time_fails_at_once_with_the_reason(live):
    app, ids = live
    job_id = _submit(app, "supervisor", "ledger_export", {"from": "2026-01-01", "to": "2026-06-30"})
    with app.app_context():
        _db.session.execute(update(User).where(User.id == ids["supervisor"]).values(role="enterprise"))
        _db.session.commit()
    try:
        assert _run(app, job_id) == "failed"
    finally:
        with app.app_context():
            _db.session.execute(update(User).where(User.id == ids["supervisor"]).values(role="supervisor"))
            _db.session.commit()
    job = _job(app, job_id)
    assert job.attempts == 1 and job.error_code == "forbidden"


def test_sweep_takes_back_a_dead_workers_job_and_deletes_its_partial_file(live):
    app, _ = live
    storage = app.extensions["inspect_storage"]
    job_id = _submit(app, "supervisor", "overdue_reminders", {}, max_attempts=2)
    with app.app_context():
        token = claim_job(_db.engine, job_id, "dead-worker", SETTINGS)
        partial = f"jobs/{job_id}/{token}/overdue.csv"
        storage.save(partial, io.BytesIO(b"half a fi"), "text/csv")
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        _db.session.execute(update(Job).where(Job.id == job_id).values(lease_until=past, partial_key=partial))
        _db.session.commit()
        counts = job_service.sweep(_db.session, storage)
        _db.session.remove()
    assert counts["lost"] == 1
    job = _job(app, job_id)
    assert job.state == "queued" and job.error_code == "worker_lost" and "租约" in job.error
    assert not storage.exists(partial) and job.partial_key is None and job.result_key is None
    assert _run(app, job_id) == "done"
    assert _job(app, job_id).attempts == 2
    # the last attempt dying leaves the job failed with the reason, never "running"
    job_id = _submit(app, "supervisor", "overdue_reminders", {}, max_attempts=1)
    with app.app_context():
        claim_job(_db.engine, job_id, "dead-worker", SETTINGS)
        _db.session.execute(update(Job).where(Job.id == job_id)
                            .values(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
        _db.session.commit()
        job_service.sweep(_db.session, storage)
        _db.session.remove()
    job = _job(app, job_id)
    assert job.state == "failed" and job.error_code == "worker_lost"


def test_sweep_expires_old_results_and_requeues_lost_messages(live):
    app, _ = live
    storage = app.extensions["inspect_storage"]
    job_id = _submit(app, "supervisor", "overdue_reminders", {})
    assert _run(app, job_id) == "done"
    key = _job(app, job_id).result_key
    stuck = _submit(app, "supervisor", "overdue_reminders", {})
    with app.app_context():
        now = datetime.now(timezone.utc)
        _db.session.execute(update(Job).where(Job.id == job_id).values(expires_at=now - timedelta(seconds=1)))
        _db.session.execute(update(Job).where(Job.id == stuck).values(enqueued_at=now - timedelta(hours=1)))
        _db.session.commit()
        counts = job_service.sweep(_db.session, storage, requeue_after=300)
        pending = job_service.pending_job_ids(_db.session)
        _db.session.remove()
    assert counts["expired"] == 1 and counts["requeued"] == 1 and stuck in pending
    assert _job(app, job_id).state == "expired" and not storage.exists(key)


def test_immediate_queue_runs_the_job_when_dispatched():
    app, ids, stop = live_app({"JOBS_QUEUE": "immediate"})
    try:
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"username": "supervisor", "password": factories.PASSWORD})
        h = {"Authorization": "Bearer " + token.get_json()["access_token"]}
        resp = client.post("/api/v1/jobs", json={"kind": "overdue_reminders"}, headers=h)
        assert resp.status_code == 202
        job = client.get(resp.headers["Location"], headers=h).get_json()
        assert job["state"] == "done" and job["download_url"]
        got = client.get(job["download_url"], headers=h)
        assert got.status_code == 200 and got.data.startswith(b"\xef\xbb\xbf")
        assert job_service.workers_alive() is None  # immediate mode needs no worker
    finally:
        stop()


def test_photo_derivative_backfill_regenerates_what_is_missing(live, tmp_path):
    from inspect_api.models import Photo
    from inspect_api.services.evidence.photos import UploadLimits, derived_key, store_photo_file

    from ..photos.imagegen import jpeg_bytes

    app, ids = live
    storage = app.extensions["inspect_storage"]
    shas = []
    with app.app_context():
        for n in range(3):
            path = tmp_path / f"p{n}.jpg"
            path.write_bytes(jpeg_bytes(640, 480, seed=n))
            result = store_photo_file(storage, str(path), UploadLimits())
            _db.session.add(Photo(id=f"BACKFILL{n}", owner_table="hazards", owner_id="none", status="ready",
                                  sha256=result["sha256"], storage_key=result["storage_key"]))
            shas.append(result["sha256"])
        _db.session.commit()
        _db.session.remove()
    storage.delete(derived_key(shas[0], "preview"))
    storage.delete(derived_key(shas[1], "thumb"))
    storage.delete(derived_key(shas[1], "preview"))
    job_id = _submit(app, "admin", "photo_derivatives", {})
    assert _run(app, job_id) == "done"
    job = _job(app, job_id)
    rows = {r[0]: r[2] for r in csv.reader(io.StringIO(_file(app, job).decode("utf-8-sig")))}
    assert rows["BACKFILL0"] == rows["BACKFILL1"] == "regenerated" and rows["BACKFILL2"] == "present"
    assert job.summary == {"present": 1, "regenerated": 2, "failed": 0}
    for sha in shas:
        for variant in ("preview", "thumb"):
            assert storage.read_bytes(derived_key(sha, variant))[:2] == b"\xff\xd8"


def test_flask_jobs_list_shows_jobs_with_state_and_progress(live):
    app, _ = live
    _submit(app, "supervisor", "overdue_reminders", {})
    out = app.test_cli_runner().invoke(args=["jobs", "list", "--state", "queued"])
    assert out.exit_code == 0, out.output
    assert "workers alive: -" in out.output and "overdue_reminders" in out.output and "supervisor" in out.output
