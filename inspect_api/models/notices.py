"""Rectification notices (责令限期整改指令书) and document numbering (文号)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id

NOTICE_STATUSES = ("issued", "acknowledged", "closed")
DOCUMENT_KINDS = ("notice", "review", "case", "penalty")


class DocumentCounter(db.Model):
    """Gapless document numbers per (kind, bureau, year).

    Taken with SELECT ... FOR UPDATE (PostgreSQL) inside the transaction that
    creates the document, so concurrent creators queue and a rollback gives the
    number back.
    """

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Notice(SyncMixin, TimestampMixin, db.Model):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("bureau_code", "year", "seq_no", name="uq_notices_bureau_year_seq"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    bureau_code: Mapped[str | None] = mapped_column(String(12))
    year: Mapped[int | None] = mapped_column(Integer)
    seq_no: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(80), unique=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    officer1_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    officer2_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    safety_measures: Mapped[str | None] = mapped_column(Text)  # 整改期间安全措施要求
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="issued")

    enterprise = relationship("Enterprise")
    inspection = relationship("Inspection")
    officer1 = relationship("User", foreign_keys=[officer1_id])
    officer2 = relationship("User", foreign_keys=[officer2_id])
    hazards = relationship("Hazard", back_populates="notice", order_by="Hazard.found_at")
