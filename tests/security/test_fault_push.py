"""Fault tests (issue #19 items 10 and "what the suite must gain"): a gunicorn worker SIGKILLed mid-push and a
database connection terminated mid-push leave the push all-or-nothing, answer no 500, and a retry of the same
push creates no duplicates."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text

from ..conftest import PG_URL
from ..sync.helpers import changes, inspection_raw
from .gunicorn_server import GunicornServer

RECORDS = 1500


@pytest.fixture()
def server():
    s = GunicornServer(workers=1, threads=2).start()
    yield s
    s.stop()


def _engine(server):
    url = server.db_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url)


def _count(server, note: str) -> int:
    engine = _engine(server)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM inspections WHERE note = :n"), {"n": note})
    finally:
        engine.dispose()


def _push(server, token, body, result: dict):
    try:
        resp = requests.post(server.url + "/api/v1/sync", params={"last_pulled_at": 0}, json=body,
                             headers={"Authorization": f"Bearer {token}"}, timeout=120)
        result["status"] = resp.status_code
        result["headers"] = dict(resp.headers)
        result["body"] = resp.text[:500]
    except requests.RequestException as exc:  # the worker died: the connection drops, no answer
        result["error"] = type(exc).__name__


def _big_push(server, note):
    return changes(inspections={"created": [inspection_raw(server.ids["ent1"], note=note)
                                            for _ in range(RECORDS)]})


def _assert_retry_completes(server, token, body, note):
    for _ in range(30):  # the master restarts a killed worker; the database may be recovering
        result = {}
        _push(server, token, body, result)
        if result.get("status") == 200:
            break
        assert result.get("status") in (None, 503), result
        time.sleep(1)
    assert result.get("status") == 200, result
    assert _count(server, note) == RECORDS  # every record exactly once
    result = {}
    _push(server, token, body, result)  # and a replay changes nothing
    assert result.get("status") == 200 and _count(server, note) == RECORDS


def test_a_worker_killed_mid_push_leaves_all_or_nothing_and_a_retry_no_duplicates(server):
    token = server.token("inspector1")
    killed = None
    # a push of RECORDS rows takes from well under a second (PostgreSQL, COPY) to seconds (SQLite): try
    # earlier kills until one lands while the push is being applied
    for attempt, delay in enumerate((0.8, 0.4, 0.2, 0.1, 0.05)):
        note = f"killed-mid-push-{attempt}"
        body = _big_push(server, note)
        result = {}
        thread = threading.Thread(target=_push, args=(server, token, body, result))
        thread.start()
        time.sleep(delay)
        for pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        thread.join(150)
        assert result.get("status") != 500, result
        assert _count(server, note) in (0, RECORDS)  # all or nothing, whenever the kill came
        if "error" in result:
            killed = (note, body)
            break
        _wait_for_workers(server)
    assert killed, "every push finished before its worker was killed"
    note, body = killed
    _assert_retry_completes(server, token, body, note)


def _wait_for_workers(server):
    for _ in range(100):
        try:
            if requests.get(server.url + "/api/v1/openapi.json", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)


@pytest.mark.skipif(not PG_URL, reason="pg_terminate_backend needs PostgreSQL (CI runs the suite on it too)")
def test_a_database_connection_terminated_mid_push_answers_503_and_a_retry_no_duplicates(server):
    token = server.token("inspector1")
    note = "terminated-mid-push"
    body = _big_push(server, note)
    dbname = server.db_url.rsplit("/", 1)[1]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    result, terminated = {}, 0
    thread = threading.Thread(target=_push, args=(server, token, body, result))
    thread.start()
    try:
        with admin.connect() as conn:
            deadline = time.monotonic() + 60
            while thread.is_alive() and not terminated and time.monotonic() < deadline:
                terminated = conn.scalar(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d "
                    "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"), {"d": dbname})
                time.sleep(0.05)
    finally:
        thread.join(150)
        admin.dispose()
    assert terminated, "the push finished before a connection could be terminated"
    assert result.get("status") in (200, 503), result
    if result["status"] == 503:
        assert result["headers"].get("Retry-After")
        assert '"database_unavailable"' in result["body"]
    assert _count(server, note) in (0, RECORDS)
    _assert_retry_completes(server, token, body, note)
