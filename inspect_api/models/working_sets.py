"""What a version-4 tablet was sent (services/sync/working_set.py): per client and timestamp, the ids of
its working set and their fingerprints, compressed. The last few per client are kept."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntPK, UTCDateTime, utcnow


class SyncWorkingSet(db.Model):
    __tablename__ = "sync_working_sets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    client_key: Mapped[str] = mapped_column(String(80), nullable=False)
    cursor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_sync_working_sets_client_cursor", "client_key", "cursor"),)
