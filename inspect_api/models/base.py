"""Shared column types and mixins."""
from __future__ import annotations

import secrets
import string
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Integer, String, types
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

ID_ALPHABET = string.ascii_letters + string.digits
# BIGINT on PostgreSQL, INTEGER on SQLite (so it can be the rowid alias)
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> str:
    """A 16-character [A-Za-z0-9] id, the same shape WatermelonDB generates."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(16))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text. Values
    always come back aware (UTC). Naive datetimes are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class SealedString(types.TypeDecorator):
    """Personal data sealed at rest (envelope encryption, services/security/crypto.py): the database holds
    ``e1:…`` text, Python sees the value. Equality in SQL cannot work on it: look values up by their keyed
    index column (``sealed_index``)."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return _sealer().encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return _sealer().decrypt(value)


_SEALER = []


def set_sealer(ring) -> None:
    """create_app hands the key ring over (models import nothing of the services)."""
    _SEALER[:] = [ring]


def _sealer():
    if not _SEALER:
        raise RuntimeError("personal data cannot be sealed: no key ring (create_app sets it)")
    return _SEALER[0]


def sealed_index(value: str | None, kind: str = "phone") -> str | None:
    """The keyed index (HMAC) of a sealed value, for exact lookups."""
    return _sealer().index(value, kind) if value else None


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class SyncMixin:
    """Rows that tablets pull.

    ``sync_seq`` is the server-assigned change cursor (see models/sync.py): every
    insert or update of the row takes the next value, under the lock that
    serialises committers, so a pull after cursor N sees every later change.
    Rows are never hard-deleted; ``deleted_at`` is the tombstone.
    """

    __sync_table__: str | None = None  # name on the wire; defaults to __tablename__

    sync_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The cursor of the row's insert, and the pushing client ("d:<device>" / "u:<user>") when a
    # tablet created it: a pull lists a row under `created` only when the puller cannot have it yet.
    created_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sync_origin: Mapped[str | None] = mapped_column(String(80), nullable=True)


def render_migration_item(type_, obj, autogen_context):
    """Alembic autogenerate: write UTCDateTime as a plain timestamptz column."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, SealedString):
        return "sa.String(length=400)"
    if type_ == "type" and isinstance(obj, BigInteger) and obj._variant_mapping:
        return "sa.BigInteger().with_variant(sa.Integer(), 'sqlite')"
    return False
