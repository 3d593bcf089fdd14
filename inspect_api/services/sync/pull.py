"""Pull: every change in the caller's scope after the cursor, streamed table by table (CONTRACT §2).
How the cursor guarantees that nothing is skipped is told in the package docstring."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator

from sqlalchemy import BigInteger, String, and_, bindparam, case, exists, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...models import ChecklistItem, ChecklistTemplate, SyncTombstone, User, current_seq
from ..access.actor import Actor
from ..access.scope import Viewer, region_in_scope
from .tables import TABLES, TEMPLATE_PULL_STATUSES, check_schema_version, parse_migration, pull_filter, tables_for
from .wire import MAX_LIMIT, SYNC_ROLES, TableSpec, _chunks, origin_key, parse_cursor, touch_device

@dataclass
class PullPlan:
    since: int
    upto: int  # the returned timestamp: rows with since < sync_seq <= upto
    has_more: bool
    viewer: Viewer
    version: int = 1  # the tablet's schema version: the tables and columns it gets
    full_tables: set[str] = field(default_factory=set)
    origin: str | None = None
    active: set[str] | None = None  # tables with any change in the range (None: all)
    exited: set[str] | None = None  # tables with scope-exit tombstones in the range (None: unknown)



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
        for spec in tables_for(version).values():
            model = spec.model
            lo = 0 if spec.name in full else since
            stmt = select(model.sync_seq).where(pull_filter(spec, user), _range(model, lo, hi))
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
                    origin=origin_key(actor), active=active, exited=exited, version=version)


def _active_tables(session: Session, since: int, hi: int) -> tuple[set[str], set[str]]:
    """Which tables changed at all in (since, hi], and which have scope-exit tombstones there:
    one round trip of index probes, so an incremental pull queries only those."""
    if hi <= since:
        return set(), set()
    found = set(session.connection().execute(_active_probe(tuple(TABLES)), {"since": since, "hi": hi}).scalars())
    exited = {t[1:] for t in found if t.startswith("~")}
    active = {t for t in found if not t.startswith("~")} | exited
    if "checklist_templates" in active:
        active.add("checklist_items")
    return active, exited


@lru_cache(maxsize=4)
def _active_probe(names: tuple[str, ...]):
    """The probe of ``_active_tables``, built once (bind params ``since``, ``hi``)."""
    since, hi = bindparam("since", type_=BigInteger), bindparam("hi", type_=BigInteger)
    probes = [select(literal(spec.name).label("t")).where(
        exists().where(spec.model.sync_seq > since, spec.model.sync_seq <= hi)) for spec in (TABLES[n] for n in names)]
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
                v = float(v)
                # a non-finite value (planted in the database by hand) goes out as null: NaN is not JSON, and
                # one such row would make every pull of the jurisdiction unparseable for JSON.parse
                values[i] = v if math.isfinite(v) else None
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
def _table_statement(table: str, version: int, viewer: Viewer, first: bool, has_origin: bool):
    """The pull statement of one table for one scope, built once (values come as bind params ``since``,
    ``hi``, ``origin``). A first sync selects the live rows in cursor order; an incremental one selects
    every row in the range with a last column telling its list (0 created, 1 updated, 2 deleted), ordered
    by that list, so one statement fills all three."""
    spec = tables_for(version)[table]
    model = spec.model
    since, hi = bindparam("since", type_=BigInteger), bindparam("hi", type_=BigInteger)
    scope = pull_filter(spec, viewer)
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
    for index, spec in enumerate(tables_for(plan.version).values()):
        since = 0 if spec.name in plan.full_tables else plan.since
        hi = plan.upto
        yield ("," if index else "") + dumps(spec.name) + ":{"
        if plan.active is not None and spec.name not in plan.active:
            yield '"created":[],"updated":[],"deleted":[]}'
            continue
        first_sync = since == 0
        stmt = _table_statement(spec.name, plan.version, user, first_sync, bool(plan.origin))
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
            model.id.in_(part), pull_filter(spec, user), model.deleted_at.is_(None))))
    return [c for c in ordered if c not in visible]
