"""Push: the tablet's changes applied in one transaction, or none (CONTRACT §2). Records are checked
by the per-table rules of push_rules.py and written by push_write.py."""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...models import SyncTombstone, allocate_seq, current_seq, utcnow
from ...models.hazards import hazard_items_of_findings
from ..access.actor import Actor
from ..casefile.guard import archived_push_ids
from .push_rules import (
    RULES, PushResult, _Ctx, _delete_allowed, _keep_server_values, _load_existing, _load_parents, _Reject,
    _same, _values, check_changes_shape,
)
from ..planning.tasks import on_push
from .push_write import _after_write, _number_notices, _write
from .tables import PUSH_ORDER, check_schema_version, tables_for
from .wire import SYNC_ROLES, SyncConflict, _chunks, origin_key, parse_cursor, touch_device

def apply_push(session: Session, actor: Actor, changes, last_pulled_at, *, default_bureau: str,
               schema_version=None) -> PushResult:
    """Apply a WatermelonDB push atomically (see the module docstring). Adds and flushes; never commits."""
    user = actor.user
    if user is None or user.role not in SYNC_ROLES:
        raise Forbidden("同步仅对执法人员和监管人员开放 (sync is for inspectors and supervisors)")
    version = check_schema_version(schema_version)
    specs = tables_for(version)  # a column of a newer version is ignored like an unknown one
    changes = check_changes_shape(changes, version)
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
        spec = specs[table]
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
    moves: list[tuple] = []  # rows this push moves out of a scope
    for table in PUSH_ORDER:
        if table not in plan:
            continue
        upserts, deleted = plan[table]
        spec = specs[table]
        existing, hidden = ctx.existing[table], ctx.hidden[table]
        rule = RULES[table]
        archived = archived_push_ids(session, spec.model.__tablename__, {
            i: converted[(table, i)] for i in upserts}, deleted)  # casefile guard (bulk writes skip the flush hook)
        for rec_id, raw in upserts.items():
            values = converted[(table, rec_id)]
            try:
                if isinstance(values, _Reject):
                    raise values
                if rec_id in hidden:
                    raise _Reject("not found")
                if rec_id in archived:
                    raise _Reject("archived: the record belongs to an archived case file")
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
                if changed.keys() & {"region_code", "enterprise_id"}:
                    # the row leaves a scope: tablets of the old one get it under deleted (this is a Core
                    # UPDATE, which the ORM's scope-exit hook in models/sync.py does not see)
                    moves.append((table, rec_id, row.region_code, row.enterprise_id))
                if changed:
                    changed.update(b_id=rec_id, updated_at=now)
                    ctx.updates.setdefault(table, []).append(changed)
        for rec_id in deleted:
            row = existing.get(rec_id)
            if rec_id in hidden:
                ctx.result.reject(table, rec_id, "not found")
                continue
            if rec_id in archived:
                ctx.result.reject(table, rec_id, "archived: the record belongs to an archived case file")
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
    _tombstone_rejected(ctx)
    _write_tombstones(ctx.session, moves)
    _write(ctx)
    for part in _chunks(sorted(ctx.findings_reitemed)):
        session.connection().execute(hazard_items_of_findings(part))
    _after_write(ctx)
    on_push(ctx)  # planning: tasks of the inspections that arrived move on (schema version 2)
    touch_device(session, actor)
    session.flush()
    return ctx.result


def _tombstone_rejected(ctx: _Ctx) -> None:
    """Rejected records reach the tablet's next pull under ``deleted``, so WatermelonDB stops pushing them.

    WatermelonDB keeps a record named in ``experimentalRejectedIds`` unsynced (sync/impl/markAsSynced.js), so
    it would push it again on every sync; a ``deleted`` id in a pull destroys the local record
    (sync/impl/applyRemote.js), and the pull comes before the push in ``synchronize()``. A scope-exit tombstone
    in the pusher's region does it: the pull lists a tombstoned id only to pullers who cannot see a record
    with that id (pull._still_out), so a rejected change to a record the tablet may see is never turned into a
    deletion, and nothing about another scope's record is told (the id is the tablet's own).
    """
    region = ctx.actor.user.region_code
    _write_tombstones(ctx.session, [(table, rec_id, region, None) for table, ids in ctx.result.rejected.items()
                                    for rec_id in ids])


def _write_tombstones(session: Session, items: list[tuple]) -> None:
    """(table, record id, old region, old enterprise) → scope-exit tombstones with fresh cursors."""
    if not items:
        return
    last = allocate_seq(session, len(items))
    now = utcnow()
    rows = [{"seq": last - len(items) + 1 + i, "table_name": table, "record_id": rec_id, "region_code": region,
             "enterprise_id": enterprise, "created_at": now} for i, (table, rec_id, region, enterprise)
            in enumerate(items)]
    session.execute(insert(SyncTombstone), rows)
