"""Pushes and pulls in parallel threads against a real server: nothing skipped, nothing doubled.

The classic trap: a puller sees cursor 101 committed while 100 is still in flight, moves its
cursor past 100 and never sees it. The server sleeps a random few milliseconds right before
every COMMIT, which keeps transactions in flight while others run, so a cursor scheme with that
flaw loses records here. Runs on SQLite by default and on PostgreSQL with INSPECT_TEST_DATABASE_URL.
"""
from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import event, select

from inspect_api.extensions import db as _db
from inspect_api.models import Notice

from ..conftest import start_live_server
from ..factories import PASSWORD
from .helpers import changes, hazard_raw, inspection_raw, notice_raw


def _request(url, method="GET", body=None, token=None, timeout=60):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _token(live, username, device):
    status, body = _request(live.url + "/api/v1/auth/token", "POST",
                            {"username": username, "password": PASSWORD, "device_id": device})
    assert status == 201, body
    return body["access_token"]


@pytest.fixture(scope="module")
def slow_commit_server():
    live, stop = start_live_server()
    with live.app.app_context():
        engine = _db.engine

    def _mark(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(("INSERT INTO inspections", "INSERT INTO hazards", "INSERT INTO notices")):
            conn.info["wrote_synced_rows"] = True

    def _delay(conn):
        # keep a writer's transaction in flight after its rows got their cursors
        if conn.info.pop("wrote_synced_rows", False):
            time.sleep(random.uniform(0.05, 0.25))

    event.listen(engine, "before_cursor_execute", _mark)
    event.listen(engine, "commit", _delay)
    yield live
    event.remove(engine, "commit", _delay)
    event.remove(engine, "before_cursor_execute", _mark)
    stop()


def _pull(live, token, last):
    q = "null" if last is None else last
    status, body = _request(f"{live.url}/api/v1/sync?last_pulled_at={q}&schema_version=1&migration=null", token=token)
    assert status == 200, body
    return body


def test_every_acknowledged_record_reaches_every_puller_exactly_once(slow_commit_server):
    live = slow_commit_server
    ent = live.ids["ent1"]
    pushers, pushes_each, pullers = 4, 10, 3
    push_tokens = [_token(live, "inspector1" if i % 2 else "inspector2", f"pusher-{i}") for i in range(pushers)]
    pull_tokens = [_token(live, "supervisor_taocheng" if i % 2 else "inspector2", f"puller-{i}")
                   for i in range(pullers)]
    acked: set[str] = set()
    failed: list = []
    lock = threading.Lock()
    done = threading.Event()
    seen = [Counter() for _ in range(pullers)]
    cursors = [None] * pullers
    errors: list = []

    def pusher(i):
        try:
            last = _pull(live, push_tokens[i], None)["timestamp"]
            for _ in range(pushes_each):
                insp = inspection_raw(ent)
                hazards = [hazard_raw(insp["id"], ent) for _ in range(random.randint(1, 6))]
                status, body = _request(f"{live.url}/api/v1/sync?last_pulled_at={last}", "POST",
                                        changes(inspections={"created": [insp]}, hazards={"created": hazards}),
                                        token=push_tokens[i])
                with lock:
                    if status == 200 and not body["rejected"]:
                        acked.update([insp["id"]] + [h["id"] for h in hazards])
                    else:
                        failed.append((status, body))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def puller(i):
        try:
            while True:
                finished = done.is_set()
                body = _pull(live, pull_tokens[i], cursors[i])
                for table in ("inspections", "hazards"):
                    part = body["changes"][table]
                    for raw in part["created"] + part["updated"]:
                        seen[i][raw["id"]] += 1
                    assert part["deleted"] == []
                cursors[i] = body["timestamp"]
                if finished:
                    return
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=puller, args=(i,)) for i in range(pullers)]
    threads += [threading.Thread(target=pusher, args=(i,)) for i in range(pushers)]
    for t in threads:
        t.start()
    for t in threads[pullers:]:
        t.join(240)
    done.set()
    for t in threads[:pullers]:
        t.join(240)
    assert not errors, errors
    assert not failed, failed[:3]
    assert len(acked) >= pushers * pushes_each * 2
    for i in range(pullers):
        missing = acked - set(seen[i])
        doubled = {k: v for k, v in seen[i].items() if v != 1}
        unknown = set(seen[i]) - acked
        assert not missing, f"puller {i} never saw {len(missing)} acknowledged records"
        assert not doubled, f"puller {i} saw records more than once: {list(doubled.items())[:5]}"
        assert not unknown, f"puller {i} saw records no push acknowledged: {list(unknown)[:5]}"


def test_parallel_pushes_number_notices_without_gaps_or_duplicates(slow_commit_server):
    live = slow_commit_server
    ent = live.ids["ent2"]
    workers, each = 4, 5
    tokens = [_token(live, "inspector1", f"numbering-{i}") for i in range(workers)]
    pushed: list[str] = []
    lock = threading.Lock()
    errors: list = []

    def worker(i):
        try:
            last = _pull(live, tokens[i], None)["timestamp"]
            for _ in range(each):
                insp = inspection_raw(ent)
                notes = [notice_raw(insp["id"], ent) for _ in range(random.randint(1, 2))]
                status, body = _request(f"{live.url}/api/v1/sync?last_pulled_at={last}", "POST",
                                        changes(inspections={"created": [insp]}, notices={"created": notes}),
                                        token=tokens[i])
                assert status == 200 and not body["rejected"], body
                with lock:
                    pushed.extend(n["id"] for n in notes)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert not errors, errors
    with live.app.app_context():
        rows = _db.session.execute(select(Notice.id, Notice.bureau_code, Notice.year, Notice.seq_no, Notice.number)
                                   .where(Notice.id.in_(pushed))).all()
        _db.session.rollback()
    assert len(rows) == len(pushed)
    by_series: dict = {}
    for r in rows:
        by_series.setdefault((r.bureau_code, r.year), []).append(r.seq_no)
    for series, numbers in by_series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (series, sorted(numbers))
    assert len({r.number for r in rows}) == len(rows)
