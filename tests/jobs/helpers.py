"""Helpers for the jobs tests: bulk hazards, a live database with the world, a done job with a stored file."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from inspect_api import create_app
from inspect_api.extensions import db as _db
from inspect_api.models import Hazard, Job, new_id

from .. import factories
from ..conftest import TEST_CONFIG, make_fresh_database

START = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)


def bulk_hazards(session, world, n: int, start: datetime = START, prefix: str = "BH") -> list[str]:
    """``n`` open hazards of 桃城区 (ent1), one a minute from ``start``; returns their ids."""
    rows = []
    for i in range(n):
        found = start + timedelta(minutes=i)
        rows.append({"id": f"{prefix}{i:08d}", "enterprise_id": world.ent1.id, "region_code": "131102",
                     "description": f"储罐区防火堤裂缝 {i}", "grade": "general", "status": "ordered",
                     "found_at": found, "deadline_at": found + timedelta(days=10), "rectified_on_spot": False,
                     "version": 1, "sync_seq": 0, "created_at": found, "updated_at": found})
    for k in range(0, n, 2000):
        session.execute(insert(Hazard), rows[k:k + 2000])
    return [r["id"] for r in rows]


def live_app(overrides: dict | None = None, seed=None):
    """An app on a fresh database of its own (committed data, several connections); returns (app, ids, stop)."""
    url, drop = make_fresh_database()
    uploads = tempfile.mkdtemp(prefix="inspect_jobs_uploads_")
    config = {**TEST_CONFIG, "DATABASE_URL": url, "UPLOAD_ROOT": uploads, **(overrides or {})}
    app = create_app(config)
    with app.app_context():
        _db.create_all()
        _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        world = factories.build_world(_db.session)
        _db.session.flush()
        extra = seed(_db.session, world) if seed is not None else None
        _db.session.commit()
        ids = {name: u.id for name, u in world.users.items()}
        ids.update(ent1=world.ent1.id, extra=extra)

    def stop():
        import shutil

        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()
        shutil.rmtree(uploads, ignore_errors=True)

    app.test_config = config
    return app, ids, stop


def done_job(session, storage, owner_id: str, data: bytes, *, expires_in: int = 3600, name="隐患台账.csv") -> Job:
    """A finished job whose file is stored (as the runner leaves it)."""
    job_id = new_id().lower()
    key = f"jobs/{job_id}/t0/ledger.csv"
    stored = storage.save(key, io.BytesIO(data), "text/csv")
    now = datetime.now(timezone.utc)
    job = Job(id=job_id, owner_id=owner_id, kind="ledger_export", params={}, state="done", progress_done=1,
              progress_total=1, attempts=1, max_attempts=3, result_key=key, result_name=name,
              result_type="text/csv; charset=utf-8", result_size=stored.size, result_sha256=stored.sha256,
              created_at=now, finished_at=now, expires_at=now + timedelta(seconds=expires_in))
    session.add(job)
    session.flush()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    return job


def env_for(config: dict) -> dict:
    """Environment for a `flask jobs worker` subprocess with this app configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    for key, value in config.items():
        if key in ("TESTING",):
            continue
        env[f"INSPECT_{key}"] = value if isinstance(value, str) else __import__("json").dumps(value)
    env["INSPECT_ENV_NAME"] = "testing"
    return env
