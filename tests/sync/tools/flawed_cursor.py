"""A pytest plugin that breaks the sync cursor on purpose, to show the concurrency test can fail.

It takes cursors like a database sequence (``nextval``): in an autocommit connection of its
own, outside the writer's transaction, so the cursor lock is not held until commit. A reader
can then see cursor 101 committed while 100 is still in flight — the classic trap.

    PYTHONPATH=tests/sync/tools INSPECT_TEST_DATABASE_URL=postgresql://… \\
        python -m pytest -p flawed_cursor tests/sync/test_concurrency.py -k exactly_once

must FAIL ("puller N never saw K acknowledged records"). PostgreSQL only (on SQLite the
separate connection would wait for the writer's BEGIN IMMEDIATE lock).
"""
import threading

from sqlalchemy import create_engine, text

import inspect_api.models.sync as _models_sync
import inspect_api.services.sync.push as _sync_push
import inspect_api.services.sync.push_write as _sync_push_write

_original = _models_sync.allocate_seq
_engines: dict = {}
_lock = threading.Lock()


def flawed_allocate(session, count=1):
    bind = session.get_bind()
    key = str(bind.url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_engine(bind.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        value = conn.execute(text("UPDATE sync_state SET seq = seq + :n WHERE id = 1 RETURNING seq"),
                             {"n": count}).scalar()
    return _original(session, count) if value is None else int(value)


_models_sync.allocate_seq = flawed_allocate
_sync_push.allocate_seq = flawed_allocate
_sync_push_write.allocate_seq = flawed_allocate
