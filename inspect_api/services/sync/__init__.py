"""Sync: offline sync for field tablets, the WatermelonDB protocol of CONTRACT §2 and the schema
versions after it (§4). wire (format, errors), tables (what each schema version carries), pull,
push (+ push_rules, push_write).

Change tracking
---------------
Every insert or update of a synced row takes the next value of the global cursor
``sync_state.seq`` (models/sync.py). The cursor is taken with ``UPDATE … RETURNING``
and its row lock is held until commit, so transactions that write synced rows commit
in cursor order. A pull first reads the committed cursor ``H``: every transaction that
took a cursor ≤ H has committed by then, and none that commits later can take one ≤ H.
The pull then returns rows with ``last_pulled_at < sync_seq ≤ H`` (or a lower cut-off
when paging) and answers ``timestamp = H``. A row that changes again while the pull
runs gets a cursor > H and comes with the next pull. Nothing is skipped, nothing is
listed twice — on PostgreSQL (READ COMMITTED is enough: every query is bounded by H)
and on SQLite (every transaction is BEGIN IMMEDIATE). Because correctness does not
depend on one snapshot, the response is streamed row by row after the request
transaction has ended (memory stays bounded on a 1M-row first sync).

Deletes are tombstones (``deleted_at`` with a new cursor). A row that leaves a scope
(region / enterprise changed) leaves a ``sync_tombstones`` row with its old scope;
pullers who could see the old scope and cannot see the row now get it under
``deleted``.

Created or updated: a row is listed under ``created`` when it was inserted after
``last_pulled_at`` by someone other than the puller's own device (``created_seq``,
``sync_origin``); the echo of the device's own push and everything older come under
``updated``, so WatermelonDB never logs "already exists" / "doesn't exist".

Push
----
One transaction. The cursor lock is taken first (then document counters and hazard
rows), so concurrent pushes queue and the conflict check sees the latest committed
state. Records are validated in dependency order (inspections, findings, notices,
hazards, photos) against the server's rows and the records accepted earlier in the
same push; invalid ones are rejected (``experimentalRejectedIds`` / ``rejected``),
the rest is written with batched Core inserts/updates under cursors allocated in
one step. A record whose server row changed after ``last_pulled_at`` is a conflict
(409, nothing applied) unless the pushed values equal the server's already (a
replayed push).
"""
from __future__ import annotations
from . import versions  # noqa: F401  (registers the schema versions after 1)
from .pull import PullPlan, iter_pull, plan_pull
from .push import apply_push
from .push_rules import PushResult, check_changes_shape
from .tables import (
    PUSH_ORDER, SCHEMA_VERSION, TABLES, check_schema_version, latest_version, register_columns, register_table,
    tables_for,
)
from .wire import (
    SYNC_ROLES, Col, SyncConflict, TableSpec, UnknownTable, UnsupportedSchema, from_millis, to_millis,
)

__all__ = [
    "Col", "PUSH_ORDER", "PullPlan", "PushResult", "SCHEMA_VERSION", "SYNC_ROLES", "SyncConflict", "TABLES",
    "TableSpec", "UnknownTable", "UnsupportedSchema", "apply_push", "check_changes_shape", "check_schema_version",
    "from_millis", "iter_pull", "latest_version", "plan_pull", "register_columns", "register_table", "tables_for",
    "to_millis",
]
