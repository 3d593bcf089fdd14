"""The sync cursor and the scope-exit tombstones."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, event, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import db
from .base import BigIntPK, SyncMixin, UTCDateTime, utcnow


class SyncState(db.Model):
    """One row (id=1) holding the last assigned change cursor.

    Taking cursors is ``UPDATE sync_state SET seq = seq + n RETURNING seq``:
    the row lock is held until the transaction ends, so transactions that
    write syncable rows commit in cursor order and a reader never sees
    cursor N+1 committed while N is still in flight.
    """

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class SyncTombstone(db.Model):
    """A record that left a scope (moved region / enterprise) or was purged.

    Pullers whose scope held (region_code, enterprise_id) get ``record_id``
    under ``deleted`` for ``table_name``.
    """

    __tablename__ = "sync_tombstones"
    __table_args__ = (Index("ix_sync_tombstones_table_seq", "table_name", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    table_name: Mapped[str] = mapped_column(String(40), nullable=False)
    record_id: Mapped[str] = mapped_column(String(64), nullable=False)
    region_code: Mapped[str | None] = mapped_column(String(12))
    enterprise_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def allocate_seq(session: Session, count: int = 1) -> int:
    """Reserve ``count`` cursors; return the last one (first = last - count + 1)."""
    conn = session.connection()
    row = conn.execute(
        update(SyncState).where(SyncState.id == 1).values(seq=SyncState.seq + count).returning(SyncState.seq)
    ).first()
    if row is None:
        conn.execute(SyncState.__table__.insert().values(id=1, seq=count))
        return count
    return int(row[0])


def current_seq(session: Session) -> int:
    value = session.execute(text("SELECT seq FROM sync_state WHERE id = 1")).scalar()
    return int(value or 0)


@event.listens_for(Session, "before_flush")
def _assign_sync_seq(session, flush_context, instances):
    new = [o for o in session.new if isinstance(o, SyncMixin)]
    new_ids = {id(o) for o in new}  # session.new is rebuilt on every access: O(n) each
    changed = list(new)
    changed += [o for o in session.dirty if isinstance(o, SyncMixin) and session.is_modified(o)]
    for obj in session.deleted:
        if isinstance(obj, SyncMixin) and not getattr(obj, "__allow_hard_delete__", False):
            raise RuntimeError(
                f"{type(obj).__name__} is synced to tablets: set deleted_at instead of deleting it"
            )
    if not changed:
        return
    exits = [t for t in (_scope_exit(o) for o in changed if id(o) not in new_ids) if t is not None]
    total = len(changed) + len(exits)
    last = allocate_seq(session, total)
    first = last - total + 1
    for offset, obj in enumerate(changed):
        obj.sync_seq = first + offset
        if id(obj) in new_ids and obj.created_seq is None:
            obj.created_seq = obj.sync_seq
    for offset, tomb in enumerate(exits, start=len(changed)):
        tomb.seq = first + offset
        session.add(tomb)


# Columns that decide who may pull a row: when one changes, pullers of the old scope get a tombstone.
SCOPE_COLUMNS = ("region_code", "region_id", "enterprise_id")


def _scope_exit(obj) -> SyncTombstone | None:
    from sqlalchemy import inspect as sa_inspect

    state = sa_inspect(obj)
    old = {}
    moved = False
    for name in SCOPE_COLUMNS:
        if name not in state.mapper.column_attrs:
            continue
        hist = state.attrs[name].history
        if hist.deleted and hist.deleted[0] is not None and hist.deleted[0] != getattr(obj, name):
            old[name] = hist.deleted[0]
            moved = True
        else:
            old[name] = getattr(obj, name)
    if not moved:
        return None
    table = obj.__sync_table__ or obj.__tablename__
    region = old.get("region_code") or old.get("region_id")
    enterprise = obj.id if table == "enterprises" else old.get("enterprise_id")
    return SyncTombstone(seq=0, table_name=table, record_id=obj.id, region_code=region, enterprise_id=enterprise)
