"""Working-set sync: schema version 4 (CONTRACT §4, issue #17).

A tablet of schema version ≥ 4 no longer holds its whole jurisdiction. It holds:

- everyone: the regions, the registry of its jurisdiction (``enterprises``: the light version-1
  columns) and the checklists a version-1 tablet gets (published and retired templates, their items);
- an inspector, for each enterprise it *works on*, the raw records of that enterprise's open work and
  a bounded recent history (see ``WorkingSetRules``); nothing of the other enterprises;
- a supervisor: ``enterprise_summaries`` — one row of figures per enterprise of its jurisdiction —
  instead of raw inspections, findings, hazards, notices and photos.

Membership changes with time (a hazard closed 31 days ago leaves a 30-day history) and with other
rows (a task assigned), without the record itself changing, so the version-1 cursor cannot tell a
tablet what left. The server therefore keeps, per client (device, else user) and per timestamp it
answered, the *state* it sent: ``{table: {id: fingerprint}}`` (``sync_working_sets``; the fingerprint is
the row's ``sync_seq``, or a hash of a summary's values). A pull compares the current working set with
the state of ``last_pulled_at``: new ids come under ``created``, changed fingerprints under ``updated``,
ids gone under ``deleted`` — and they come back under ``created`` when they re-enter. The timestamp is
still the global cursor (so pushes and conflict checks are unchanged); when the working set changed
with no new cursor (time passed), a cursor is taken so that every answer with other contents has a
timestamp of its own, and a repeated pull (a lost response) finds the state it needs.

A pull whose ``last_pulled_at`` has no state (a tablet migrating from version 1-3, or a state older
than the last ``KEEP_STATES``) gets its whole working set under ``updated`` and, under ``deleted``,
every raw record of its jurisdiction outside the working set (what a version-1 tablet may hold).
A version-4 pull is not paged: the working set is bounded by its rules.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import (
    Enterprise, Finding, Hazard, Inspection, InspectionTask, Notice, Photo, Region, SyncWorkingSet, User,
    allocate_seq, current_seq,
)
from ..access.actor import Actor
from ..access.scope import get_scoped, scope_clause
from .tables import pull_filter, tables_for
from .wire import Col, _chunks, origin_key

WORKING_SET_VERSION = 4
KEEP_STATES = 3
SUMMARY_TABLE = "enterprise_summaries"
RAW_TABLES = ("inspections", "findings", "hazards", "notices", "photos")
OPEN_TASK_EXCLUDED = ("done", "cancelled")  # models/planning.py TASK_STATUSES: the others are open work
SUMMARY_COLUMNS = ("enterprise_id", "region_id", "open_hazards", "open_major_hazards", "overdue_hazards",
                   "listed_hazards", "closed_recent", "last_inspected_at")


@dataclass(frozen=True)
class WorkingSetRules:
    """What an inspector's tablet holds (docs/scale.md). All configurable:

    - ``INSPECT_SYNC_HISTORY_DAYS`` (30): the recent history — hazards and notices closed, and
      inspections started, in the last N days;
    - an enterprise is *worked on* when it has an open inspection task assigned to the inspector, or
      was inspected within ``INSPECT_SYNC_WORKSET_INSPECTED_DAYS`` (90) — by the inspector as lead or
      second officer (``INSPECT_SYNC_WORKSET_INSPECTED_BY=self``, the default) or by anyone
      (``anyone``) —, or has a draft inspection of the inspector's;
    - for each such enterprise: its open hazards and notices (not closed), the history above, its last
      inspection whatever its age, the findings of those inspections, the photos of those hazards,
      inspections and findings.
    """

    history_days: int = 30
    inspected_days: int = 90
    inspected_by: str = "self"

    @classmethod
    def from_config(cls, config) -> "WorkingSetRules":
        by = str(config.get("SYNC_WORKSET_INSPECTED_BY", "self"))
        if by not in ("self", "anyone"):
            raise ValueError("INSPECT_SYNC_WORKSET_INSPECTED_BY must be self or anyone")
        return cls(int(config.get("SYNC_HISTORY_DAYS", 30)), int(config.get("SYNC_WORKSET_INSPECTED_DAYS", 90)), by)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ------------------------------------------------------------------ membership


def worked_enterprises(session: Session, user: User, now: datetime, rules: WorkingSetRules) -> list[str]:
    """The enterprises of the inspector's jurisdiction it works on (``WorkingSetRules``)."""
    in_scope = scope_clause(Enterprise, user)
    tasks = select(InspectionTask.enterprise_id).where(
        or_(InspectionTask.lead_inspector_id == user.id, InspectionTask.co_inspector_id == user.id),
        InspectionTask.status.not_in(OPEN_TASK_EXCLUDED), InspectionTask.deleted_at.is_(None))
    recent = [Inspection.started_at >= now - timedelta(days=rules.inspected_days), Inspection.deleted_at.is_(None)]
    if rules.inspected_by == "self":
        recent.append(or_(Inspection.lead_inspector_id == user.id, Inspection.co_inspector_id == user.id))
    else:
        recent.append(scope_clause(Inspection, user))
    inspected = select(Inspection.enterprise_id).where(*recent)
    drafts = select(Inspection.enterprise_id).where(
        Inspection.status == "draft", Inspection.deleted_at.is_(None),
        or_(Inspection.lead_inspector_id == user.id, Inspection.created_by_id == user.id))
    stmt = select(Enterprise.id).where(in_scope, Enterprise.deleted_at.is_(None), or_(
        Enterprise.id.in_(tasks), Enterprise.id.in_(inspected), Enterprise.id.in_(drafts)))
    return sorted(session.scalars(stmt))


def _ids_seqs(session: Session, model, *where) -> dict[str, int]:
    return dict(session.execute(select(model.id, model.sync_seq).where(*where)).all())


def _by_ids(session: Session, model, column, ids, *where) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in _chunks(sorted(ids)):
        out.update(_ids_seqs(session, model, column.in_(part), *where))
    return out


def _raw_members(session: Session, user: User, enterprises: list[str], now: datetime,
                 rules: WorkingSetRules) -> dict[str, dict[str, int]]:
    since = now - timedelta(days=rules.history_days)
    live = [Hazard.deleted_at.is_(None)]
    hazards = _by_ids(session, Hazard, Hazard.enterprise_id, enterprises, *live,
                      or_(Hazard.status != "closed", Hazard.closed_at >= since))
    hazard_notices = set()
    for part in _chunks(sorted(hazards)):
        hazard_notices.update(n for n in session.scalars(select(Hazard.notice_id).where(Hazard.id.in_(part))) if n)
    notices = _by_ids(session, Notice, Notice.enterprise_id, enterprises, Notice.deleted_at.is_(None),
                      or_(Notice.status != "closed", Notice.updated_at >= since))
    notices.update(_by_ids(session, Notice, Notice.id, hazard_notices, Notice.deleted_at.is_(None)))
    latest = (select(Inspection.id, func.row_number().over(
        partition_by=Inspection.enterprise_id, order_by=(Inspection.started_at.desc(), Inspection.id.desc())
    ).label("n")).where(Inspection.deleted_at.is_(None), Inspection.enterprise_id.in_(enterprises))).subquery()
    last_ids = select(latest.c.id).where(latest.c.n == 1)
    inspections = _by_ids(session, Inspection, Inspection.enterprise_id, enterprises, Inspection.deleted_at.is_(None),
                          or_(Inspection.started_at >= since, Inspection.id.in_(last_ids),
                              and_(Inspection.status == "draft", Inspection.lead_inspector_id == user.id)))
    findings = _by_ids(session, Finding, Finding.inspection_id, inspections, Finding.deleted_at.is_(None))
    photos: dict[str, int] = {}
    for table, owners in (("hazards", hazards), ("inspections", inspections), ("findings", findings)):
        photos.update(_by_ids(session, Photo, Photo.owner_id, owners, Photo.owner_table == table,
                              Photo.deleted_at.is_(None)))
    return {"inspections": inspections, "findings": findings, "hazards": hazards, "notices": notices,
            "photos": photos}


def _shared_members(session: Session, user: User, version: int) -> dict[str, dict[str, int]]:
    specs = tables_for(version)
    out = {}
    # the registry and checklists, and every table of a later version that is not raw history (inspection
    # tasks, criteria catalogues and clauses): by their own pull scope, as a version-1 pull sends them
    for name in [n for n in specs if n not in RAW_TABLES and n != SUMMARY_TABLE]:
        spec = specs[name]
        out[name] = _ids_seqs(session, spec.model, pull_filter(spec, user), spec.model.deleted_at.is_(None))
    return out


def enterprise_summaries(session: Session, user: User, now: datetime, rules: WorkingSetRules) -> dict[str, dict]:
    """One row of figures per enterprise of the supervisor's jurisdiction (the table ``enterprise_summaries``)."""
    since = now - timedelta(days=rules.history_days)
    rows: dict[str, dict] = {}
    for eid, region in session.execute(select(Enterprise.id, Enterprise.region_id).where(
            scope_clause(Enterprise, user), Enterprise.deleted_at.is_(None))):
        rows[eid] = {"id": eid, "enterprise_id": eid, "region_id": region, "open_hazards": 0, "open_major_hazards": 0,
                     "overdue_hazards": 0, "listed_hazards": 0, "closed_recent": 0, "last_inspected_at": None}
    is_open = Hazard.status != "closed"
    stmt = (select(Hazard.enterprise_id, func.count().filter(is_open),
                   func.count().filter(and_(is_open, Hazard.grade == "major")),
                   func.count().filter(and_(is_open, Hazard.deadline_at < now)),
                   func.count().filter(and_(is_open, Hazard.listing_level.is_not(None))),
                   func.count().filter(Hazard.closed_at >= since))
            .where(scope_clause(Hazard, user), Hazard.deleted_at.is_(None), or_(is_open, Hazard.closed_at >= since))
            .group_by(Hazard.enterprise_id))
    for eid, n_open, n_major, n_overdue, n_listed, n_closed in session.execute(stmt):
        if eid in rows:
            rows[eid].update(open_hazards=n_open, open_major_hazards=n_major, overdue_hazards=n_overdue,
                             listed_hazards=n_listed, closed_recent=n_closed)
    last = (select(Inspection.enterprise_id, func.max(Inspection.started_at))
            .where(scope_clause(Inspection, user), Inspection.deleted_at.is_(None)).group_by(Inspection.enterprise_id))
    for eid, at in session.execute(last):
        if eid in rows and at is not None:
            rows[eid]["last_inspected_at"] = int(at.astimezone(timezone.utc).timestamp() * 1000)
    return rows


def _fingerprint(row: dict) -> int:
    digest = hashlib.sha1(json.dumps(row, sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:7], "big")


# ------------------------------------------------------------------ state


def _load_state(session: Session, client: str, cursor: int) -> dict | None:
    blob = session.scalars(select(SyncWorkingSet.state).where(
        SyncWorkingSet.client_key == client, SyncWorkingSet.cursor == cursor)
        .order_by(SyncWorkingSet.id.desc()).limit(1)).first()
    return None if blob is None else json.loads(zlib.decompress(blob))


def _save_state(session: Session, client: str, cursor: int, version: int, state: dict) -> None:
    blob = zlib.compress(json.dumps(state, sort_keys=True, separators=(",", ":")).encode(), 6)
    session.add(SyncWorkingSet(client_key=client, cursor=cursor, schema_version=version, state=blob,
                               created_at=_now()))
    session.flush()
    keep = select(SyncWorkingSet.id).where(SyncWorkingSet.client_key == client).order_by(
        SyncWorkingSet.id.desc()).limit(KEEP_STATES)
    session.execute(delete(SyncWorkingSet).where(SyncWorkingSet.client_key == client,
                                                 SyncWorkingSet.id.not_in(keep.scalar_subquery())))


# ------------------------------------------------------------------ the pull


@dataclass
class WorkingSetPull:
    timestamp: int
    created: dict[str, dict[str, None]]  # table -> ids (ordered)
    updated: dict[str, dict[str, None]]
    deleted: dict[str, list[str]]
    summaries: dict[str, dict]
    version: int
    viewer_id: str


def plan_working_set(session: Session, actor: Actor, since: int, version: int, rules: WorkingSetRules,
                     now: datetime | None = None) -> WorkingSetPull:
    """Compute the working set, diff it with the state of ``since``, store the new state. Flushes."""
    now = now or _now()
    user = actor.user
    client = origin_key(actor)
    members = _shared_members(session, user, version)
    summaries: dict[str, dict] = {}
    if user.role == "inspector":
        members.update(_raw_members(session, user, worked_enterprises(session, user, now, rules), now, rules))
    else:
        summaries = enterprise_summaries(session, user, now, rules)
        members[SUMMARY_TABLE] = {eid: _fingerprint(row) for eid, row in summaries.items()}
    state = {t: {i: s for i, s in ids.items()} for t, ids in members.items()}
    prev = _load_state(session, client, since) if since else None
    created, updated, deleted = {}, {}, {}
    for table, ids in members.items():
        before = (prev or {}).get(table, {})
        if not since:
            created[table], updated[table] = dict.fromkeys(ids), {}
        elif prev is None:
            created[table], updated[table] = {}, dict.fromkeys(ids)
        else:
            created[table] = dict.fromkeys(i for i in ids if str(i) not in before)
            updated[table] = dict.fromkeys(i for i, s in ids.items() if str(i) in before and before[str(i)] != s)
        if since and prev is not None:
            deleted[table] = sorted(i for i in before if i not in ids)
        else:
            deleted[table] = []
    if since and prev is None:
        deleted.update(_outside(session, user, members, since))
    if since:
        _own_echoes_as_updated(session, client, since, created, updated)
    cursor = current_seq(session)
    changed = any(created[t] or updated[t] or deleted[t] for t in members)
    if since and changed and cursor <= since:
        cursor = allocate_seq(session, 1)  # other contents, another timestamp (see the module docstring)
    elif cursor < since:
        cursor = since
    stored = _load_state(session, client, cursor)
    if stored != _jsonable_state(state):
        if stored is not None:
            cursor = allocate_seq(session, 1)
        _save_state(session, client, cursor, version, state)
    return WorkingSetPull(cursor, created, updated, deleted, summaries, version, user.id)


def _own_echoes_as_updated(session: Session, client: str | None, since: int, created: dict, updated: dict) -> None:
    """A record the tablet itself pushed after ``since`` is on it already: listed under ``updated`` (as the
    version-1 engine does), so WatermelonDB never logs that it "already exists"."""
    if not client:
        return
    specs = tables_for(WORKING_SET_VERSION)
    for name in RAW_TABLES:
        new = created.get(name)
        if not new:
            continue
        model = specs[name].model
        mine = set()
        for part in _chunks(sorted(new)):
            mine.update(session.scalars(select(model.id).where(
                model.id.in_(part), model.sync_origin == client, model.created_seq > since)))
        if mine:
            created[name] = dict.fromkeys(i for i in new if i not in mine)
            updated[name].update(dict.fromkeys(sorted(mine)))


def _jsonable_state(state: dict) -> dict:
    return json.loads(json.dumps(state, sort_keys=True))


def _outside(session: Session, user: User, members: dict, since: int) -> dict[str, list[str]]:
    """No state for ``since``: every raw record of the jurisdiction the tablet may hold (a version-1 tablet
    held them all) that is not in the working set, and what was deleted since."""
    specs = tables_for(WORKING_SET_VERSION)
    out = {}
    for name in RAW_TABLES:
        model = specs[name].model
        have = members.get(name, {})
        ids = session.scalars(select(model.id).where(scope_clause(model, user), or_(
            model.deleted_at.is_(None), model.sync_seq > since)))
        out[name] = sorted(i for i in ids if i not in have)
    return out


def render_working_set(session: Session, pull: WorkingSetPull) -> str:
    """The pull response (JSON text). Raw records as version ``pull.version`` carries them."""
    specs = tables_for(pull.version)
    from .pull import _raw_maker, _select_rows

    changes = {}
    for name in list(specs) + [SUMMARY_TABLE]:
        if name not in pull.created:
            changes[name] = {"created": [], "updated": [], "deleted": []}
            continue
        part = {"created": [], "updated": [], "deleted": pull.deleted.get(name, [])}
        for kind in ("created", "updated"):
            ids = list(pull.created[name] if kind == "created" else pull.updated[name])
            if name == SUMMARY_TABLE:
                part[kind] = [pull.summaries[i] for i in ids]
                continue
            spec = specs[name]
            make = _raw_maker(spec)
            rows = {}
            for chunk in _chunks(sorted(ids)):
                for row in session.execute(_select_rows(spec).where(spec.model.id.in_(chunk))):
                    rows[row[0]] = make(row)
            part[kind] = [rows[i] for i in ids if i in rows]
        changes[name] = part
    return json.dumps({"changes": changes, "timestamp": pull.timestamp}, ensure_ascii=False,
                      separators=(",", ":"))


HISTORY_TABLES = {"hazards": (Hazard, Hazard.found_at), "inspections": (Inspection, Inspection.started_at),
                  "notices": (Notice, Notice.issued_at)}
HISTORY_MAX_LIMIT = 500


def enterprise_history(session: Session, actor: Actor, enterprise_id: str, table: str, *, after: str | None = None,
                       limit: int = 100, version: int = WORKING_SET_VERSION) -> dict:
    """One enterprise's full history of one table, newest first, on demand (not kept on the tablet): raw
    records as the tablet's schema version carries them, ``limit`` a page, ``next`` the cursor of the next
    page (None at the end). An enterprise outside the caller's scope answers 404."""
    if table not in HISTORY_TABLES:
        raise ValidationError(details={"fields": {"table": [f"one of {', '.join(HISTORY_TABLES)}"]}})
    if not 1 <= limit <= HISTORY_MAX_LIMIT:
        raise ValidationError(details={"fields": {"limit": [f"1..{HISTORY_MAX_LIMIT}"]}})
    get_scoped(session, Enterprise, enterprise_id, actor.user)
    model, when = HISTORY_TABLES[table]
    from .pull import _raw_maker, _select_rows

    spec = tables_for(version)[table]
    stmt = _select_rows(spec).add_columns(when).where(
        model.enterprise_id == enterprise_id, model.deleted_at.is_(None), scope_clause(model, actor.user))
    if after:
        try:
            at_ms, after_id = after.split(":", 1)
            at = datetime.fromtimestamp(int(at_ms) / 1000, tz=timezone.utc)
        except ValueError:
            raise ValidationError(details={"fields": {"after": ["the next cursor of the previous page"]}}) from None
        stmt = stmt.where(or_(when < at, and_(when == at, model.id < after_id)))
    rows = session.execute(stmt.order_by(when.desc(), model.id.desc()).limit(limit + 1)).all()
    make = _raw_maker(spec)
    records = [make(r[:-1]) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        at = last[-1]
        nxt = f"{int(at.astimezone(timezone.utc).timestamp() * 1000) if at else 0}:{last[0]}"
    return {"enterprise_id": enterprise_id, "table": table, "records": records, "next": nxt}


def register_version() -> None:
    """Version 4 adds ``hazards.closed_at`` (read-only, for the tablet's recent history) and changes the
    scope (the working set above) and, for supervisors, adds ``enterprise_summaries``."""
    from .tables import register_columns

    register_columns("hazards", Col("closed_at", "time", writable=False, since=WORKING_SET_VERSION))


__all__ = ["WorkingSetRules", "enterprise_history", "plan_working_set", "render_working_set", "worked_enterprises",
           "enterprise_summaries", "SUMMARY_COLUMNS", "Region", "User"]
