"""The writes of a push: notice numbers, batched inserts and updates under cursors allocated in one
step (COPY on PostgreSQL for big batches), the audit rows, and the lifecycle effects afterwards."""
from __future__ import annotations

import json
import logging

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from ...errors import AppError
from ...models import AuditEvent, Hazard, Notice, Photo, allocate_seq, utcnow
from .push_rules import _Ctx
from .tables import PUSH_ORDER, TABLES

log = logging.getLogger(__name__)

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
