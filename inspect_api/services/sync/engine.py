"""Offline sync for field tablets: the WatermelonDB protocol of CONTRACT §2.

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

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import (
    BigInteger, String, and_, bindparam, case, exists, insert, literal, or_, select, true, union_all, update,
)
from sqlalchemy.orm import Session

from ...errors import AppError, Forbidden, ValidationError
from ...models import (
    AuditEvent, ChecklistItem, ChecklistTemplate, Device, Enterprise, Finding, Hazard, Inspection,
    Notice, Photo, Rectification, Region, SyncTombstone, User, allocate_seq, current_seq, utcnow,
)
from ...models.hazards import hazard_items_of_findings
from ..access.actor import Actor
from ..access.scope import Viewer, region_in_scope, scope_clause

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SYNC_ROLES = ("supervisor", "inspector")
MAX_LIMIT = 50_000
CHUNK = 500  # ids per IN (...) list

# ------------------------------------------------------------------ errors


class SyncConflict(AppError):
    status = 409
    code = "sync_conflict"
    message = "服务器上的记录已在上次同步后被修改，请先拉取再推送 (records changed on the server since last_pulled_at)"


class UnknownTable(AppError):
    status = 422
    code = "unknown_table"
    message = "未知的数据表 (unknown table)"


class UnsupportedSchema(AppError):
    status = 422
    code = "unsupported_schema_version"
    message = "不支持的数据结构版本 (unsupported schema_version)"


# ------------------------------------------------------------------ the wire schema (version 1)


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # id, str, text, time, float, int, bool, enum
    attr: str | None = None  # model attribute when it differs from the wire name
    choices: tuple = ()
    max_len: int | None = None
    required: bool = False
    default: Any = None
    writable: bool = True

    @property
    def column(self) -> str:
        return self.attr or self.name


@dataclass(frozen=True)
class TableSpec:
    name: str
    model: type
    cols: tuple[Col, ...]
    writable: bool = False

    @cached_property
    def push_cols(self) -> tuple[Col, ...]:
        return tuple(c for c in self.cols if c.writable)


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("regions", Region, (
        Col("name", "str"), Col("parent_id", "id"), Col("level", "int"))),
    TableSpec("enterprises", Enterprise, (
        Col("name", "str"), Col("uscc", "str"), Col("region_id", "id"), Col("address", "str"),
        Col("industry", "str"), Col("major_hazard_level", "int"), Col("risk_color", "str"),
        Col("latitude", "float"), Col("longitude", "float"))),
    TableSpec("checklist_templates", ChecklistTemplate, (
        Col("code", "str"), Col("title", "str"), Col("version", "int"), Col("status", "str"))),
    TableSpec("checklist_items", ChecklistItem, (
        Col("template_id", "id"), Col("code", "str"), Col("category", "str"), Col("content", "text"),
        Col("basis", "text"), Col("major_criterion_code", "str"), Col("position", "int"))),
    TableSpec("inspections", Inspection, (
        Col("enterprise_id", "id", required=True), Col("template_id", "id"),
        Col("lead_inspector_id", "id"), Col("co_inspector_id", "id"),
        Col("started_at", "time"), Col("finished_at", "time"),
        Col("latitude", "float"), Col("longitude", "float"),
        Col("status", "enum", choices=("draft", "submitted"), default="draft"),
        Col("note", "text")), writable=True),
    TableSpec("findings", Finding, (
        Col("inspection_id", "id", required=True), Col("item_id", "id"),
        Col("result", "enum", choices=("pass", "fail", "na"), default="na"),
        Col("note", "text")), writable=True),
    TableSpec("hazards", Hazard, (
        Col("inspection_id", "id"), Col("finding_id", "id"), Col("enterprise_id", "id"),
        Col("notice_id", "id"), Col("description", "text", default=""),
        Col("location", "str", max_len=300),
        Col("grade", "enum", choices=("general", "major"), default="general"),
        Col("major_criterion_code", "str", max_len=40), Col("deadline_at", "time"),
        Col("rectified_on_spot", "bool", default=False),
        Col("status", "str", writable=False)), writable=True),
    TableSpec("notices", Notice, (
        Col("inspection_id", "id"), Col("enterprise_id", "id"), Col("deadline_at", "time"),
        Col("issued_at", "time"), Col("number", "str", writable=False),
        Col("status", "str", writable=False)), writable=True),
    TableSpec("photos", Photo, (
        Col("owner_table", "enum", choices=("inspections", "findings", "hazards", "rectifications"),
            required=True),
        Col("owner_id", "id", required=True), Col("sha256", "str", max_len=64),
        Col("taken_at", "time"), Col("latitude", "float"), Col("longitude", "float"),
        Col("status", "str", writable=False)), writable=True),
)}
PULL_ORDER = tuple(TABLES)
PUSH_ORDER = ("inspections", "findings", "notices", "hazards", "photos")
READ_ONLY = tuple(t for t in TABLES if not TABLES[t].writable)
TEMPLATE_PULL_STATUSES = ("published", "retired")


# ------------------------------------------------------------------ small helpers


def to_millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int(value.astimezone(timezone.utc).timestamp() * 1000)


def from_millis(value) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def origin_key(actor: Actor) -> str | None:
    if actor.device_id:
        return f"d:{actor.device_id}"
    if actor.id:
        return f"u:{actor.id}"
    return None


def parse_cursor(value) -> int:
    """``last_pulled_at``: null, "null", "", 0 or absent mean everything."""
    if value is None or value == "" or value == "null" or value == "undefined":
        return 0
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        raise ValidationError("last_pulled_at 须为整数或 null (last_pulled_at must be an integer or null)",
                              details={"fields": {"last_pulled_at": ["Not an integer."]}}) from None
    if cursor < 0:
        raise ValidationError("last_pulled_at 不得为负数 (last_pulled_at must not be negative)",
                              details={"fields": {"last_pulled_at": ["Must be >= 0."]}})
    return cursor


def parse_migration(value, schema_version: int) -> set[str]:
    """WatermelonDB's migration sync parameter → the tables to send in full.

    ``{"from": n, "tables": [...], "columns": [{"table", "columns": [...]}]}``: the
    client's local database was migrated from schema ``n``; it needs every record of
    the tables it added, and of the tables it added columns to, whatever
    ``last_pulled_at`` says (watermelondb.dev, Sync/Backend, "migration").
    """
    if value is None or value in ("", "null", "undefined"):
        return set()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError("migration 须为 JSON 或 null (migration must be JSON or null)",
                                  details={"fields": {"migration": ["Not valid JSON."]}}) from None
    if value is None:
        return set()
    if not isinstance(value, dict) or not isinstance(value.get("from"), int) \
            or not isinstance(value.get("tables", []), list) or not isinstance(value.get("columns", []), list):
        raise ValidationError("migration 须为 {from, tables, columns} (migration must be {from, tables, columns})",
                              details={"fields": {"migration": ["Invalid shape."]}})
    if value["from"] >= schema_version:
        raise ValidationError("migration.from 须小于 schema_version (migration.from must be lower than schema_version)",
                              details={"fields": {"migration": ["from >= schema_version"]}})
    tables = {t for t in value.get("tables", []) if isinstance(t, str)}
    for entry in value.get("columns", []):
        if isinstance(entry, dict) and isinstance(entry.get("table"), str):
            tables.add(entry["table"])
    return tables & set(TABLES)


def check_schema_version(value) -> int:
    if value is None:
        return SCHEMA_VERSION
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UnsupportedSchema(details={"supported": [SCHEMA_VERSION]})
    # A newer tablet gets schema 1's tables and columns; WatermelonDB ignores what it lacks.
    return value


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


DEVICE_TOUCH_INTERVAL = timedelta(seconds=60)


def touch_device(session: Session, actor: Actor) -> None:
    """Record the device's last sync (to the minute: a tablet pulling in a loop writes nothing). The device
    was loaded with the bearer token, so deciding costs no query."""
    if not actor.device_id:
        return
    now = utcnow()
    device = session.get(Device, actor.device_id)
    if device is not None and (device.last_sync_at is None or device.last_sync_at < now - DEVICE_TOUCH_INTERVAL):
        device.last_sync_at = now


# ================================================================== PULL


@dataclass
class PullPlan:
    since: int
    upto: int  # the returned timestamp: rows with since < sync_seq <= upto
    has_more: bool
    viewer: Viewer
    full_tables: set[str] = field(default_factory=set)
    origin: str | None = None
    active: set[str] | None = None  # tables with any change in the range (None: all)
    exited: set[str] | None = None  # tables with scope-exit tombstones in the range (None: unknown)


def _pull_filter(spec: TableSpec, user: User):
    model = spec.model
    if spec.name == "checklist_templates":
        return ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES)
    if spec.name == "checklist_items":
        return ChecklistItem.template_id.in_(
            select(ChecklistTemplate.id).where(ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES)))
    return scope_clause(model, user)


def _range(model, lo: int, hi: int):
    return and_(model.sync_seq > lo, model.sync_seq <= hi)


def plan_pull(session: Session, actor: Actor, last_pulled_at, *, schema_version=None, migration=None,
              limit: int | None = None) -> PullPlan:
    """Read the committed cursor and decide the page; the rows are streamed by ``iter_pull``."""
    user = actor.user
    if user is None or user.role not in SYNC_ROLES:
        raise Forbidden("同步仅对执法人员和监管人员开放 (sync is for inspectors and supervisors)")
    since = parse_cursor(last_pulled_at)
    version = check_schema_version(schema_version)
    full = parse_migration(migration, version) if since else set()
    if limit is not None and (limit < 1 or limit > MAX_LIMIT):
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}",
                              details={"fields": {"limit": ["Out of range."]}})
    # Every transaction holding a cursor <= hi has committed (commits are serialised in cursor order).
    hi = current_seq(session)
    upto, has_more = hi, False
    if limit is not None and hi > since:
        seqs: list[int] = []
        for spec in TABLES.values():
            model = spec.model
            lo = 0 if spec.name in full else since
            stmt = select(model.sync_seq).where(_pull_filter(spec, user), _range(model, lo, hi))
            if lo == 0:
                stmt = stmt.where(model.deleted_at.is_(None))
            seqs.extend(session.scalars(stmt.order_by(model.sync_seq).limit(limit + 1)))
        if since:
            seqs.extend(session.scalars(
                select(SyncTombstone.seq).where(SyncTombstone.seq > since, SyncTombstone.seq <= hi)
                .order_by(SyncTombstone.seq).limit(limit + 1)))
        if len(seqs) > limit:
            seqs.sort()
            upto, has_more = seqs[limit - 1], True
    touch_device(session, actor)
    active, exited = _active_tables(session, since, upto) if since else (None, None)
    if active is not None:
        active |= full
    return PullPlan(since=since, upto=upto, has_more=has_more, viewer=Viewer.of(user), full_tables=full,
                    origin=origin_key(actor), active=active, exited=exited)


def _active_tables(session: Session, since: int, hi: int) -> tuple[set[str], set[str]]:
    """Which tables changed at all in (since, hi], and which have scope-exit tombstones there:
    one round trip of index probes, so an incremental pull queries only those."""
    if hi <= since:
        return set(), set()
    found = set(session.connection().execute(_active_probe(), {"since": since, "hi": hi}).scalars())
    exited = {t[1:] for t in found if t.startswith("~")}
    active = {t for t in found if not t.startswith("~")} | exited
    if "checklist_templates" in active:
        active.add("checklist_items")
    return active, exited


@lru_cache(maxsize=1)
def _active_probe():
    """The probe of ``_active_tables``, built once (bind params ``since``, ``hi``)."""
    since, hi = bindparam("since", type_=BigInteger), bindparam("hi", type_=BigInteger)
    probes = [select(literal(spec.name).label("t")).where(
        exists().where(spec.model.sync_seq > since, spec.model.sync_seq <= hi)) for spec in TABLES.values()]
    probes.append(select(("~" + SyncTombstone.table_name).label("t")).where(
        SyncTombstone.seq > since, SyncTombstone.seq <= hi).distinct())
    return union_all(*probes)


def _raw_maker(spec: TableSpec):
    """A fast row -> raw record function for one table (rows come as tuples: id, then spec.cols)."""
    names = ["id"] + [c.name for c in spec.cols]
    times = [i + 1 for i, c in enumerate(spec.cols) if c.kind == "time"]
    floats = [i + 1 for i, c in enumerate(spec.cols) if c.kind == "float"]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)

    def make(row) -> dict:
        values = list(row)
        for i in times:
            v = values[i]
            if v is not None:
                values[i] = (v - epoch) // _MS
        for i in floats:
            v = values[i]
            if v is not None:
                values[i] = float(v)
        return dict(zip(names, values))

    return make


_MS = timedelta(milliseconds=1)


def _select_rows(spec: TableSpec):
    model = spec.model
    cols = [model.id] + [getattr(model, c.column) for c in spec.cols]
    return select(*cols)


# An incremental range of more cursors than this is read through a server-side cursor (bounded memory);
# a shorter one in one round trip.
STREAM_OVER = 5_000


@lru_cache(maxsize=512)
def _table_statement(table: str, viewer: Viewer, first: bool, has_origin: bool):
    """The pull statement of one table for one scope, built once (values come as bind params ``since``,
    ``hi``, ``origin``). A first sync selects the live rows in cursor order; an incremental one selects
    every row in the range with a last column telling its list (0 created, 1 updated, 2 deleted), ordered
    by that list, so one statement fills all three."""
    spec = TABLES[table]
    model = spec.model
    since, hi = bindparam("since", type_=BigInteger), bindparam("hi", type_=BigInteger)
    scope = _pull_filter(spec, viewer)
    if table == "checklist_items":
        # publishing a template re-issues its items, which kept their draft-time cursors
        tmpl = select(ChecklistTemplate.id).where(ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES),
                                                 ChecklistTemplate.sync_seq > since, ChecklistTemplate.sync_seq <= hi)
        in_range = or_(and_(model.sync_seq > since, model.sync_seq <= hi), ChecklistItem.template_id.in_(tmpl))
    else:
        in_range = and_(model.sync_seq > since, model.sync_seq <= hi)
    if first:
        return _select_rows(spec).where(scope, in_range, model.deleted_at.is_(None)).order_by(model.sync_seq)
    origin = bindparam("origin", type_=String)
    # created: inserted after last_pulled_at by someone else than the puller's device; else updated
    is_new = and_(model.created_seq > since,
                  or_(model.sync_origin.is_(None), model.sync_origin != origin) if has_origin else true())
    kind = case((model.deleted_at.is_not(None), 2), (is_new, 0), else_=1)
    return _select_rows(spec).add_columns(kind.label("_list")).where(scope, in_range).order_by(kind, model.sync_seq)


def iter_pull(session: Session, plan: PullPlan, *, batch: int = 1000) -> Iterator[str]:
    """The pull response as JSON text chunks, table by table, row by row (bounded memory)."""
    user = plan.viewer
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    conn = session.connection()
    yield '{"changes":{'
    for index, spec in enumerate(TABLES.values()):
        since = 0 if spec.name in plan.full_tables else plan.since
        hi = plan.upto
        yield ("," if index else "") + dumps(spec.name) + ":{"
        if plan.active is not None and spec.name not in plan.active:
            yield '"created":[],"updated":[],"deleted":[]}'
            continue
        first_sync = since == 0
        stmt = _table_statement(spec.name, user, first_sync, bool(plan.origin))
        params = {"since": since, "hi": hi}
        if plan.origin and since:
            params["origin"] = plan.origin
        options = {"yield_per": batch} if first_sync or hi - since > STREAM_OVER else {}
        make_raw = _raw_maker(spec)  # reads id + spec.cols: a trailing list column is ignored
        exits = _exit_candidates(session, user, spec, since, hi) \
            if since and (plan.exited is None or spec.name in plan.exited) else set()
        deleted: list[str] = []
        current, first, buf = 0, True, []
        yield '"created":['
        for row in conn.execute(stmt, params, execution_options=options):
            kind = 0 if first_sync else row[-1]
            if kind == 2:
                deleted.append(row[0])
                continue
            if kind != current:  # the created rows are done: the updated ones follow
                if buf:
                    yield ("" if first else ",") + dumps(buf)[1:-1]
                yield '],"updated":['
                current, first, buf = kind, True, []
            buf.append(make_raw(row))
            if exits:
                exits.discard(row[0])
            if len(buf) >= batch:
                yield ("" if first else ",") + dumps(buf)[1:-1]
                first, buf = False, []
        if buf:
            yield ("" if first else ",") + dumps(buf)[1:-1]
        yield '],"updated":[' if current == 0 else ""
        yield "]"
        if first_sync:
            yield ',"deleted":[]}'
            continue
        deleted += _still_out(session, user, spec, exits - set(deleted))
        yield ',"deleted":' + dumps(deleted) + "}"
    yield '},"timestamp":' + str(plan.upto)
    if plan.has_more:
        yield ',"has_more":true'
    yield "}"


def _exit_candidates(session: Session, user: User, spec: TableSpec, since: int, hi: int) -> set[str]:
    """Ids of rows that left a scope between ``since`` and ``hi`` whose old scope was the puller's."""
    tombs = session.execute(
        select(SyncTombstone.record_id, SyncTombstone.region_code)
        .where(SyncTombstone.table_name == spec.name, SyncTombstone.seq > since, SyncTombstone.seq <= hi))
    return {rec_id for rec_id, region in tombs if region_in_scope(user, region)}


def _still_out(session: Session, user: User, spec: TableSpec, candidates: set[str]) -> list[str]:
    """The candidates the puller cannot see now: they come down as deleted."""
    if not candidates:
        return []
    model = spec.model
    ordered = sorted(candidates)
    visible: set[str] = set()
    for part in _chunks(ordered):
        visible.update(session.scalars(select(model.id).where(
            model.id.in_(part), _pull_filter(spec, user), model.deleted_at.is_(None))))
    return [c for c in ordered if c not in visible]


# ================================================================== PUSH


@dataclass
class PushResult:
    rejected: dict[str, dict[str, str]] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    notices_numbered: list[str] = field(default_factory=list)

    def reject(self, table: str, rec_id: str, reason: str) -> None:
        self.rejected.setdefault(table, {})[rec_id] = reason

    def body(self) -> dict:
        return {
            "ok": True,
            "experimentalRejectedIds": {t: list(ids) for t, ids in self.rejected.items()},
            "rejected": self.rejected,
        }


class _Reject(Exception):
    pass


def check_changes_shape(changes) -> dict[str, dict[str, list]]:
    """Normalise the pushed ``changes``; 403 for read-only tables, 422 for unknown ones."""
    if not isinstance(changes, dict):
        raise ValidationError("请求体须为 changes 对象 (the body must be a changes object)", details={"fields": {"changes": ["Not an object."]}})
    out: dict[str, dict[str, list]] = {}
    forbidden, unknown, bad = [], [], {}
    for table, entry in changes.items():
        if not isinstance(entry, dict):
            bad[table] = ["Must be {created, updated, deleted}."]
            continue
        parts = {}
        for key in ("created", "updated", "deleted"):
            value = entry.get(key, [])
            if value is None:
                value = []
            if not isinstance(value, list):
                bad[f"{table}.{key}"] = ["Must be a list."]
                value = []
            parts[key] = value
        nonempty = any(parts.values())
        if table not in TABLES:
            if nonempty:
                unknown.append(table)
            continue
        if not TABLES[table].writable:
            if nonempty:
                forbidden.append(table)
            continue
        for key in ("created", "updated"):
            for i, raw in enumerate(parts[key]):
                if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"] \
                        or len(raw["id"]) > 64:
                    bad[f"{table}.{key}.{i}"] = ["A raw record with a string id is required."]
        for i, rec_id in enumerate(parts["deleted"]):
            if not isinstance(rec_id, str) or not rec_id or len(rec_id) > 64:
                bad[f"{table}.deleted.{i}"] = ["Ids are non-empty strings."]
        out[table] = parts
    if unknown:
        raise UnknownTable(details={"tables": sorted(unknown)})
    if forbidden:
        raise Forbidden("平板不能修改这些数据表 (tablets may not write these tables)", details={"tables": sorted(forbidden)})
    if bad:
        raise ValidationError(details={"fields": bad})
    return out


def _convert(col: Col, value):
    """A wire value → the database value; raises _Reject with a reason."""
    if value is None:
        return col.default
    kind = col.kind
    if kind == "id":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _Reject(f"{col.name}: not an id")
        value = str(value)
        return value or None
    if kind in ("str", "text", "enum"):
        if not isinstance(value, str):
            raise _Reject(f"{col.name}: not a string")
        if kind == "enum":
            if value == "" and col.default is None:
                return None
            if value not in col.choices:
                raise _Reject(f"{col.name}: must be one of {', '.join(col.choices)}")
        if col.max_len and len(value) > col.max_len:
            raise _Reject(f"{col.name}: longer than {col.max_len}")
        return value
    if kind == "time":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Reject(f"{col.name}: not a time in milliseconds")
        if value == 0:
            return None  # WatermelonDB's number columns default to 0
        if not (0 < value < 32503680000000):
            raise _Reject(f"{col.name}: time out of range")
        return from_millis(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Reject(f"{col.name}: not a number")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Reject(f"{col.name}: not an integer")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Reject(f"{col.name}: not a boolean")
        return value
    raise _Reject(f"{col.name}: unsupported")  # pragma: no cover


def _values(spec: TableSpec, raw: dict) -> dict:
    """Client-writable columns present in the raw (unknown and server-owned ones ignored)."""
    out = {}
    for col in spec.push_cols:
        if col.name in raw:
            out[col.column] = _convert(col, raw[col.name])
    if spec.name == "photos" and out.get("sha256"):
        sha = out["sha256"].lower()
        if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise _Reject("sha256: not 64 hex digits")
        out["sha256"] = sha
    return out


# Columns the server fills when the tablet leaves them empty (issue date, the deadline an order
# gave): a pushed null keeps the server's value, so a replayed push is not a conflict.
NULL_KEEPS = {"notices": ("issued_at",), "hazards": ("deadline_at",)}


def _keep_server_values(table: str, values: dict, row) -> dict:
    if row is None:
        return values
    for key in NULL_KEEPS.get(table, ()):
        if key in values and values[key] is None and getattr(row, key) is not None:
            del values[key]
    return values


def _same(spec: TableSpec, values: dict, row) -> bool:
    """Do the pushed values equal the server row's (times to the millisecond)?"""
    for key, value in values.items():
        current = getattr(row, key)
        if isinstance(value, datetime) or isinstance(current, datetime):
            same = to_millis(value) == to_millis(current)
        elif isinstance(value, float) or isinstance(current, float):
            same = value is not None and current is not None and abs(float(current) - float(value)) < 1e-9
        elif isinstance(value, str) or isinstance(current, str):
            same = (value or None) == (current or None)
        else:
            same = value == current
        if not same:
            return False
    return True


@dataclass
class _Ctx:
    session: Session
    actor: Actor
    since: int
    default_bureau: str
    result: PushResult
    # the server's rows, by table: id -> row (only rows the caller can see)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    hidden: dict[str, set] = field(default_factory=dict)  # ids that exist but are out of scope
    # parents available to later tables: the server's visible rows + records accepted in this push
    inspections: dict[str, dict] = field(default_factory=dict)
    findings: dict[str, dict] = field(default_factory=dict)
    notices: dict[str, dict] = field(default_factory=dict)
    hazards: dict[str, dict] = field(default_factory=dict)
    enterprises: dict[str, dict] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)  # item id -> template id
    templates: set = field(default_factory=set)
    officers: dict[str, dict] = field(default_factory=dict)
    rectifications: dict[str, dict] = field(default_factory=dict)
    # writes
    inserts: dict[str, list[dict]] = field(default_factory=dict)
    updates: dict[str, list[dict]] = field(default_factory=dict)
    deletes: dict[str, list[dict]] = field(default_factory=dict)
    new_notice_ids: list[str] = field(default_factory=list)
    hazards_with_notice: list[str] = field(default_factory=list)
    photo_ids: list[str] = field(default_factory=list)
    on_spot_ids: list[str] = field(default_factory=list)  # hazards rectified on the spot (当场整改)
    findings_reitemed: list[str] = field(default_factory=list)  # findings whose checklist item changed


def _load_existing(ctx: _Ctx, table: str, ids: list[str]) -> None:
    spec = TABLES[table]
    model = spec.model
    user = ctx.actor.user
    found: dict[str, Any] = {}
    hidden: set = set()
    for part in _chunks(ids):
        rows = ctx.session.execute(
            select(model.__table__, scope_clause(model, user).label("_visible")).where(model.id.in_(part)))
        for row in rows:
            if row._visible:
                found[row.id] = row
            else:
                hidden.add(row.id)
    ctx.existing[table] = found
    ctx.hidden[table] = hidden


def _load_parents(ctx: _Ctx, changes: dict) -> None:
    """Rows the pushed records refer to, loaded in batches, restricted to the caller's scope."""
    s, user = ctx.session, ctx.actor.user

    def refs(table, column):
        out = set()
        for key in ("created", "updated"):
            for raw in changes.get(table, {}).get(key, []):
                v = raw.get(column)
                if isinstance(v, (str, int)) and not isinstance(v, bool) and v != "":
                    out.add(str(v))
        return out

    def load(model, ids, cols, store, key=lambda r: r.id, shape=lambda r: dict(r._mapping)):
        for part in _chunks(sorted(ids)):
            stmt = select(*cols).where(model.id.in_(part), scope_clause(model, user))
            if hasattr(model, "deleted_at"):
                stmt = stmt.where(model.deleted_at.is_(None))
            for r in s.execute(stmt):
                store[key(r)] = shape(r)

    ent_ids = refs("inspections", "enterprise_id") | refs("hazards", "enterprise_id") | refs("notices", "enterprise_id")
    insp_ids = refs("findings", "inspection_id") | refs("hazards", "inspection_id") | refs("notices", "inspection_id")
    insp_ids |= {i for t, ids in ((r.get("owner_table"), r.get("owner_id")) for r in _raws(changes, "photos"))
                 if t == "inspections" for i in [ids] if isinstance(ids, str)}
    insp_ids |= set(ctx.existing.get("inspections", {}))  # findings of existing inspections
    icols = (Inspection.id, Inspection.enterprise_id, Inspection.region_code, Inspection.template_id,
             Inspection.status, Inspection.lead_inspector_id, Inspection.co_inspector_id)
    load(Inspection, insp_ids, icols, ctx.inspections)
    ent_ids |= {i["enterprise_id"] for i in ctx.inspections.values()}
    load(Enterprise, ent_ids, (Enterprise.id, Enterprise.region_id), ctx.enterprises)

    find_ids = refs("hazards", "finding_id") | {r.get("owner_id") for r in _raws(changes, "photos")
                                               if r.get("owner_table") == "findings" and isinstance(r.get("owner_id"), str)}
    load(Finding, find_ids, (Finding.id, Finding.inspection_id, Finding.enterprise_id, Finding.region_code,
                             Finding.item_id), ctx.findings)
    notice_ids = refs("hazards", "notice_id")
    load(Notice, notice_ids, (Notice.id, Notice.enterprise_id, Notice.region_code, Notice.inspection_id,
                              Notice.deadline_at), ctx.notices)
    haz_ids = {r.get("owner_id") for r in _raws(changes, "photos")
               if r.get("owner_table") == "hazards" and isinstance(r.get("owner_id"), str)}
    load(Hazard, haz_ids, (Hazard.id, Hazard.enterprise_id, Hazard.region_code, Hazard.inspection_id),
         ctx.hazards)
    rect_ids = {r.get("owner_id") for r in _raws(changes, "photos")
                if r.get("owner_table") == "rectifications" and isinstance(r.get("owner_id"), str)}
    load(Rectification, rect_ids, (Rectification.id, Rectification.enterprise_id, Rectification.region_code),
         ctx.rectifications)

    item_ids = refs("findings", "item_id")
    for part in _chunks(sorted(item_ids)):
        for r in s.execute(select(ChecklistItem.id, ChecklistItem.template_id).where(ChecklistItem.id.in_(part))):
            ctx.items[r.id] = r.template_id
    tmpl_ids = refs("inspections", "template_id")
    for part in _chunks(sorted(tmpl_ids)):
        ctx.templates.update(s.scalars(select(ChecklistTemplate.id).where(
            ChecklistTemplate.id.in_(part), ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES),
            ChecklistTemplate.deleted_at.is_(None))))
    officer_ids = refs("inspections", "lead_inspector_id") | refs("inspections", "co_inspector_id")
    officer_ids |= {v for i in ctx.inspections.values() for v in (i["lead_inspector_id"], i["co_inspector_id"]) if v}
    for part in _chunks(sorted(officer_ids)):
        for r in s.execute(select(User.id, User.role, User.certificate_no, User.is_active)
                           .where(User.id.in_(part))):
            ctx.officers[r.id] = dict(r._mapping)


def _raws(changes, table):
    entry = changes.get(table, {})
    return [r for key in ("created", "updated") for r in entry.get(key, [])]


# ---- per-table rules: fill derived columns, check domain rules; raise _Reject(reason)

def _rule_inspections(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    if row is not None and row.status == "submitted":
        raise _Reject("检查已提交，不能再修改 (the inspection was submitted and is locked)")
    ent_id = merged.get("enterprise_id")
    if not ent_id:
        raise _Reject("enterprise_id: required")
    ent = ctx.enterprises.get(ent_id)
    if ent is None:
        raise _Reject("enterprise_id: unknown enterprise")
    if row is not None and "enterprise_id" in values and values["enterprise_id"] != row.enterprise_id:
        raise _Reject("enterprise_id: an inspection cannot move to another enterprise")
    tmpl = merged.get("template_id")
    if tmpl and tmpl not in ctx.templates and (row is None or tmpl != row.template_id):
        raise _Reject("template_id: unknown or unpublished checklist")
    status = merged.get("status") or "draft"
    lead, co = merged.get("lead_inspector_id"), merged.get("co_inspector_id")
    for name, uid in (("lead_inspector_id", lead), ("co_inspector_id", co)):
        if uid and uid not in ctx.officers:
            raise _Reject(f"{name}: unknown user")
    if status == "submitted":
        if not lead or not co or lead == co:
            raise _Reject("提交检查需两名不同的执法人员 (two distinct officers are required to submit)")
        for uid in (lead, co):
            officer = ctx.officers[uid]
            if not officer["is_active"] or officer["role"] not in SYNC_ROLES \
                    or not (officer["certificate_no"] or "").strip():
                raise _Reject("执法人员须持有执法证 (both officers need an enforcement certificate number)")
    values["region_code"] = ent["region_id"]
    if row is None:
        values.setdefault("status", "draft")
        values["created_by_id"] = ctx.actor.id
        values["device_id"] = ctx.actor.device_id
    ctx.inspections[rec_id] = {
        "id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"], "template_id": tmpl,
        "status": status, "lead_inspector_id": lead, "co_inspector_id": co,
    }
    return values


def _rule_findings(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp = ctx.inspections.get(merged.get("inspection_id") or "")
    if insp is None:
        raise _Reject("inspection_id: unknown inspection")
    if row is not None and values.get("inspection_id", row.inspection_id) != row.inspection_id:
        raise _Reject("inspection_id: a finding cannot move to another inspection")
    item = merged.get("item_id")
    if item:
        if item not in ctx.items:
            raise _Reject("item_id: unknown checklist item")
        if ctx.items[item] != insp["template_id"]:
            raise _Reject("item_id: the item is not in the inspection's checklist")
    values["enterprise_id"] = insp["enterprise_id"]
    values["region_code"] = insp["region_code"]
    ctx.findings[rec_id] = {"id": rec_id, "inspection_id": insp["id"], "enterprise_id": insp["enterprise_id"],
                            "region_code": insp["region_code"], "item_id": item}
    if row is not None and "item_id" in values and values["item_id"] != row.item_id:
        ctx.findings_reitemed.append(rec_id)
    return values


def _inspection_and_enterprise(ctx: _Ctx, merged: dict, row, *, not_inspections: str, cannot_move: str):
    """A notice's or hazard's inspection (optional) and enterprise, checked against each other."""
    insp_id = merged.get("inspection_id")
    insp = ctx.inspections.get(insp_id) if insp_id else None
    if insp_id and insp is None:
        raise _Reject("inspection_id: unknown inspection")
    ent_id = merged.get("enterprise_id") or (insp["enterprise_id"] if insp else None)
    if insp is not None and ent_id != insp["enterprise_id"]:
        raise _Reject(f"enterprise_id: {not_inspections}")
    ent = ctx.enterprises.get(ent_id or "")
    if ent is None:
        raise _Reject("enterprise_id: unknown enterprise")
    if row is not None and ent_id != row.enterprise_id:
        raise _Reject(f"enterprise_id: {cannot_move}")
    return insp_id, insp, ent_id, ent


def _rule_notices(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp_id, insp, ent_id, ent = _inspection_and_enterprise(
        ctx, merged, row, not_inspections="the notice must be for the inspection's enterprise",
        cannot_move="a notice cannot move to another enterprise")
    values["enterprise_id"] = ent_id
    values["region_code"] = ent["region_id"]
    if row is None:
        values.setdefault("issued_at", None)
        if values["issued_at"] is None:
            values["issued_at"] = utcnow()
        values["issued_by_id"] = ctx.actor.id
        values["status"] = "issued"
        if insp is not None:
            values["officer1_id"] = insp["lead_inspector_id"]
            values["officer2_id"] = insp["co_inspector_id"]
    ctx.notices[rec_id] = {"id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"],
                           "inspection_id": insp_id, "deadline_at": merged.get("deadline_at")}
    return values


def _rule_hazards(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp_id, insp, ent_id, ent = _inspection_and_enterprise(
        ctx, merged, row, not_inspections="a hazard's enterprise must be its inspection's",
        cannot_move="a hazard cannot move to another enterprise")
    finding_id = merged.get("finding_id")
    if finding_id:
        finding = ctx.findings.get(finding_id)
        if finding is None or (insp_id and finding["inspection_id"] != insp_id):
            raise _Reject("finding_id: unknown finding, or a finding of another inspection")
    if "finding_id" in values or row is None:
        # the finding's checklist item, kept on the hazard for the ledger (models/hazards.py)
        values["item_id"] = ctx.findings[finding_id].get("item_id") if finding_id else None
    notice_id = merged.get("notice_id")
    if notice_id:
        notice = ctx.notices.get(notice_id)
        if notice is None or notice["enterprise_id"] != ent_id:
            raise _Reject("notice_id: unknown notice, or a notice for another enterprise")
        if row is not None and row.notice_id and row.notice_id != notice_id:
            raise _Reject("notice_id: the hazard is already on another notice")
    if row is not None and "notice_id" in values and values["notice_id"] is None and row.notice_id:
        values.pop("notice_id")  # an order is not taken back from a tablet
    if row is not None and row.status not in ("found",):
        # past 登记 the lifecycle owns the hazard: only the description fields may still change
        for key in ("grade", "major_criterion_code", "deadline_at", "rectified_on_spot", "notice_id"):
            if key in values and not _same(TABLES["hazards"], {key: values[key]}, row):
                raise _Reject(f"隐患已进入整改流程，{key} 不能由平板修改 ({key} is managed by the hazard lifecycle now)")
            values.pop(key, None)
    values["enterprise_id"] = ent_id
    values["region_code"] = ent["region_id"]
    if row is None:
        values["status"] = "found"
        values["found_by_id"] = ctx.actor.id
    if values.get("notice_id") or (row is not None and row.notice_id and row.status == "found"):
        ctx.hazards_with_notice.append(rec_id)
    ctx.hazards[rec_id] = {"id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"],
                           "inspection_id": insp_id}
    if values.get("rectified_on_spot", row.rectified_on_spot if row is not None else False):
        ctx.on_spot_ids.append(rec_id)
    return values


def _rule_photos(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    owners = {"inspections": ctx.inspections, "findings": ctx.findings, "hazards": ctx.hazards,
              "rectifications": ctx.rectifications}
    table, owner_id = merged.get("owner_table"), merged.get("owner_id")
    if table not in owners or not owner_id:
        raise _Reject("owner_table / owner_id: required")
    owner = owners[table].get(owner_id)
    if owner is None:
        raise _Reject("owner_id: unknown record")
    if row is not None and (table, owner_id) != (row.owner_table, row.owner_id):
        raise _Reject("owner_id: a photo cannot move to another record")
    values["enterprise_id"] = owner["enterprise_id"]
    values["region_code"] = owner["region_code"]
    if row is None:
        values["status"] = "pending"
        values["created_by_id"] = ctx.actor.id
    ctx.photo_ids.append(rec_id)
    return values


RULES = {"inspections": _rule_inspections, "findings": _rule_findings, "notices": _rule_notices,
         "hazards": _rule_hazards, "photos": _rule_photos}


def _delete_allowed(table: str, row) -> str | None:
    if table == "inspections" and row.status == "submitted":
        return "检查已提交，不能删除 (a submitted inspection cannot be deleted)"
    if table == "hazards" and (row.status != "found" or row.notice_id):
        return "隐患已进入整改流程，不能删除 (the hazard is in the rectification process)"
    if table == "notices":
        return "指令书已编号下达，不能删除 (an issued notice cannot be deleted)"
    return None


def apply_push(session: Session, actor: Actor, changes, last_pulled_at, *, default_bureau: str) -> PushResult:
    """Apply a WatermelonDB push atomically (see the module docstring). Adds and flushes; never commits."""
    user = actor.user
    if user is None or user.role not in SYNC_ROLES:
        raise Forbidden("同步仅对执法人员和监管人员开放 (sync is for inspectors and supervisors)")
    changes = check_changes_shape(changes)
    since = parse_cursor(last_pulled_at)
    # Cursor lock first: pushes queue here, and no synced row can change under the conflict check.
    allocate_seq(session, 0)
    session.flush()
    if since > current_seq(session):
        raise ValidationError("last_pulled_at 不是本服务器发出的游标 (last_pulled_at is not a cursor this server gave out)",
                              details={"fields": {"last_pulled_at": ["From the future."]}})
    ctx = _Ctx(session=session, actor=actor, since=since, default_bureau=default_bureau, result=PushResult())

    # 1. dedupe per table: the last raw for an id wins; a deleted id drops its upsert
    plan: dict[str, tuple[dict[str, dict], list[str]]] = {}
    for table in PUSH_ORDER:
        entry = changes.get(table)
        if not entry:
            continue
        deleted = list(dict.fromkeys(entry["deleted"]))
        dset = set(deleted)
        upserts: dict[str, dict] = {}
        for raw in entry["created"] + entry["updated"]:
            if raw["id"] not in dset:
                upserts[raw["id"]] = raw
        plan[table] = (upserts, deleted)
        _load_existing(ctx, table, list(upserts) + deleted)

    # 2. conflicts: changed on the server after last_pulled_at (a replay of equal values is not one)
    conflicts, converted = [], {}
    for table, (upserts, deleted) in plan.items():
        spec = TABLES[table]
        existing = ctx.existing[table]
        for rec_id, raw in upserts.items():
            try:
                converted[(table, rec_id)] = values = _values(spec, raw)
            except _Reject as exc:
                converted[(table, rec_id)] = exc
                continue
            row = existing.get(rec_id)
            if row is None:
                continue
            _keep_server_values(table, values, row)
            if row.deleted_at is not None:
                conflicts.append({"table": table, "id": rec_id})
            elif row.sync_seq > since and not _same(spec, values, row):
                conflicts.append({"table": table, "id": rec_id})
        for rec_id in deleted:
            row = existing.get(rec_id)
            if row is not None and row.deleted_at is None and row.sync_seq > since:
                conflicts.append({"table": table, "id": rec_id})
    if conflicts:
        raise SyncConflict(details={"conflicts": conflicts})

    # 3. validate in dependency order
    _load_parents(ctx, changes)
    now = utcnow()
    origin = origin_key(actor)
    for table in PUSH_ORDER:
        if table not in plan:
            continue
        upserts, deleted = plan[table]
        spec = TABLES[table]
        existing, hidden = ctx.existing[table], ctx.hidden[table]
        rule = RULES[table]
        for rec_id, raw in upserts.items():
            values = converted[(table, rec_id)]
            try:
                if isinstance(values, _Reject):
                    raise values
                if rec_id in hidden:
                    raise _Reject("not found")
                row = existing.get(rec_id)
                if row is not None and _same(spec, values, row):
                    # nothing to change (a replayed push): the row stays as it is, and stays
                    # available to later tables as a parent (loaded from the server)
                    continue
                if row is None:
                    for col in spec.push_cols:
                        if col.required and values.get(col.column) in (None, ""):
                            raise _Reject(f"{col.name}: required")
                values = rule(ctx, rec_id, values, row)
            except _Reject as exc:
                ctx.result.reject(table, rec_id, str(exc))
                continue
            if row is None:
                full = {c.column: c.default for c in spec.push_cols}
                full.update(values)
                full.update(id=rec_id, created_at=now, updated_at=now, deleted_at=None, sync_origin=origin)
                ctx.inserts.setdefault(table, []).append(full)
                if table == "notices":
                    ctx.new_notice_ids.append(rec_id)
            else:
                changed = {k: v for k, v in values.items() if not _same(spec, {k: v}, row)}
                if changed:
                    changed.update(b_id=rec_id, updated_at=now)
                    ctx.updates.setdefault(table, []).append(changed)
        for rec_id in deleted:
            row = existing.get(rec_id)
            if rec_id in hidden:
                ctx.result.reject(table, rec_id, "not found")
                continue
            if row is None or row.deleted_at is not None:
                continue  # deleting what does not exist is ignored
            reason = _delete_allowed(table, row)
            if reason:
                ctx.result.reject(table, rec_id, reason)
                continue
            ctx.deletes.setdefault(table, []).append({"b_id": rec_id, "deleted_at": now, "updated_at": now,
                                                      "_region": row.region_code, "_enterprise": row.enterprise_id})

    _number_notices(ctx)
    _write(ctx)
    for part in _chunks(sorted(ctx.findings_reitemed)):
        session.connection().execute(hazard_items_of_findings(part))
    _after_write(ctx)
    touch_device(session, actor)
    session.flush()
    return ctx.result


def _number_notices(ctx: _Ctx) -> None:
    if not ctx.new_notice_ids:
        return
    from ..lifecycle.numbering import assign_number

    rows = {r["id"]: r for r in ctx.inserts.get("notices", [])}
    for notice_id in ctx.new_notice_ids:
        row = rows[notice_id]
        bureau, year, seq_no, number = assign_number(ctx.session, "notice", row["region_code"], row["issued_at"],
                                                     ctx.default_bureau)
        row.update(bureau_code=bureau, year=year, seq_no=seq_no, number=number)
        ctx.result.notices_numbered.append(number)


def _write(ctx: _Ctx) -> None:
    s = ctx.session
    total = sum(len(v) for v in ctx.inserts.values()) + sum(len(v) for v in ctx.updates.values()) \
        + sum(len(v) for v in ctx.deletes.values())
    if not total:
        return
    last = allocate_seq(s, total)
    seq = last - total
    audit_rows = []
    user = ctx.actor.user
    base_audit = dict(actor_id=user.id, actor_username=user.username, actor_role=user.role,
                      device_id=ctx.actor.device_id, ip=ctx.actor.ip, from_state=None, to_state=None,
                      reason=None, at=utcnow())
    for table in PUSH_ORDER:
        model = TABLES[table].model
        t = model.__table__
        rows = ctx.inserts.get(table, [])
        if rows:
            for r in rows:
                seq += 1
                r["sync_seq"] = seq
                r["created_seq"] = seq
                audit_rows.append({**base_audit, "action": f"sync.{table}.created", "object_table": table,
                                   "object_id": r["id"], "region_code": r.get("region_code"),
                                   "enterprise_id": r.get("enterprise_id"), "data": {}})
            _insert_rows(s, t, rows)
        rows = ctx.updates.get(table, [])
        if rows:
            for r in rows:
                seq += 1
                r["sync_seq"] = seq
                audit_rows.append({**base_audit, "action": f"sync.{table}.updated", "object_table": table,
                                   "object_id": r["b_id"], "region_code": r.get("region_code"),
                                   "enterprise_id": r.get("enterprise_id"),
                                   "data": {"columns": sorted(k for k in r if k not in ("b_id", "sync_seq",
                                                                                      "updated_at"))}})
            _update_rows(s, t, rows, bump_version=(table == "hazards"))
        rows = ctx.deletes.get(table, [])
        if rows:
            for r in rows:
                seq += 1
                r["sync_seq"] = seq
                audit_rows.append({**base_audit, "action": f"sync.{table}.deleted", "object_table": table,
                                   "object_id": r["b_id"], "region_code": r.pop("_region"),
                                   "enterprise_id": r.pop("_enterprise"), "data": {}})
            _update_rows(s, t, rows, bump_version=(table == "hazards"))
        for kind, store in (("created", ctx.inserts), ("updated", ctx.updates), ("deleted", ctx.deletes)):
            if store.get(table):
                getattr(ctx.result, kind)[table] = len(store[table])
    if audit_rows:
        from ..access.audit import _jsonable

        for r in audit_rows:
            if r["data"]:
                r["data"] = _jsonable(r["data"])
        _insert_rows(s, AuditEvent.__table__, audit_rows)


COPY_THRESHOLD = 200  # rows; below it executemany is as quick


def _insert_rows(session: Session, table, rows: list[dict]) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_rows(conn, table, rows)
        return
    # uniform keys per executemany batch
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    for group in groups.values():
        session.execute(insert(table), group)


def _copy_rows(conn, table, rows: list[dict]) -> None:
    """PostgreSQL: COPY … FROM STDIN on the transaction's own connection (an executemany of
    INSERTs costs a round trip per row). Python-side column defaults are applied here."""
    keys = set()
    for r in rows:
        keys.update(r)
    defaults = {}
    for col in table.columns:
        if col.name not in keys and col.default is not None and not col.default.is_sequence:
            arg = col.default.arg
            defaults[col.name] = arg(None) if col.default.is_callable else arg
    names = sorted(keys) + sorted(defaults)
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    nkeys = len(keys)
    ordered = names[:nkeys]
    tail = [defaults[n] for n in names[nkeys:]]
    dbapi = conn.connection.driver_connection
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        for r in rows:
            copy.write_row([_copy_value(r.get(n)) for n in ordered] + tail)


def _copy_value(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _update_rows(session: Session, table, rows: list[dict], *, bump_version: bool) -> None:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    for keys, group in groups.items():
        # bind names must differ from column names in an UPDATE … SET
        values = {k: bindparam(f"p_{k}") for k in keys if k != "b_id"}
        if bump_version:
            values["version"] = table.c.version + 1
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(values)
        params = [{("b_id" if k == "b_id" else f"p_{k}"): v for k, v in r.items()} for r in group]
        session.connection().execute(stmt, params)


def _after_write(ctx: _Ctx) -> None:
    """Lifecycle effects: notices order their hazards; photos meet their uploads."""
    s, actor = ctx.session, ctx.actor
    if ctx.new_notice_ids or ctx.hazards_with_notice:
        from ..lifecycle.hazards import transition

        conds = []
        if ctx.new_notice_ids:
            conds.append(Hazard.notice_id.in_(ctx.new_notice_ids))
        if ctx.hazards_with_notice:
            conds.append(Hazard.id.in_(ctx.hazards_with_notice))
        hazards = list(s.scalars(
            select(Hazard).where(or_(*conds), Hazard.status == "found", Hazard.notice_id.is_not(None),
                                 Hazard.deleted_at.is_(None), Hazard.rectified_on_spot.is_(False))
            .order_by(Hazard.id).execution_options(populate_existing=True)))
        for hazard in hazards:
            notice = s.get(Notice, hazard.notice_id, populate_existing=True)
            deadline = hazard.deadline_at or (notice.deadline_at if notice else None)
            if notice is None or deadline is None:
                continue
            try:
                with s.begin_nested():
                    transition(s, actor, hazard, "order", deadline_at=deadline, notice=notice)
            except AppError as exc:  # e.g. a supervisor pushing: the hazard stays "found"
                log.info("sync: hazard %s not ordered: %s", hazard.id, exc)
    if ctx.photo_ids:
        try:
            from ..evidence.photos import attach_synced_photo
        except ImportError:  # photos service not installed: the upload side links them
            attach_synced_photo = None
        if attach_synced_photo is not None:
            for photo_id in ctx.photo_ids:
                photo = s.get(Photo, photo_id, populate_existing=True)
                if photo is not None and photo.deleted_at is None:
                    attach_synced_photo(s, photo)
    if ctx.on_spot_ids:
        # closes once the two officers and a ready photo are there (else it waits for the photo)
        from ..lifecycle.hazards import close_on_spot_if_ready

        on_spot = s.scalars(select(Hazard).where(Hazard.id.in_(ctx.on_spot_ids), Hazard.status == "found")
                            .order_by(Hazard.id).execution_options(populate_existing=True))
        for hazard in list(on_spot):
            close_on_spot_if_ready(s, hazard, actor if actor.role == "inspector" else None)
