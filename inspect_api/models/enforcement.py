"""Enforcement cases (立案) and penalty decisions (行政处罚)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin, UTCDateTime, new_id, utcnow

CASE_STATUSES = ("open", "decided", "closed")
PENALTY_KINDS = ("warning", "fine", "suspend_production", "licence_suspension", "closure")
PAYMENT_STATUSES = ("not_applicable", "unpaid", "paid")

case_hazards = Table(
    "case_hazards",
    db.metadata,
    Column("case_id", ForeignKey("enforcement_cases.id"), primary_key=True),
    Column("hazard_id", ForeignKey("hazards.id"), primary_key=True),
)


class EnforcementCase(TimestampMixin, db.Model):
    __tablename__ = "enforcement_cases"
    __table_args__ = (UniqueConstraint("bureau_code", "year", "seq_no", name="uq_cases_bureau_year_seq"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"))
    bureau_code: Mapped[str] = mapped_column(String(12), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq_no: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    cause: Mapped[str] = mapped_column(Text, nullable=False)  # 案由
    source: Mapped[str | None] = mapped_column(String(100))  # 案件来源
    summary: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    opened_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise = relationship("Enterprise")
    hazards = relationship("Hazard", secondary=case_hazards)
    decisions: Mapped[list[PenaltyDecision]] = relationship(back_populates="case", order_by="PenaltyDecision.decided_on")


class PenaltyDecision(TimestampMixin, db.Model):
    __tablename__ = "penalty_decisions"
    __table_args__ = (UniqueConstraint("bureau_code", "year", "seq_no", name="uq_penalties_bureau_year_seq"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("enforcement_cases.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    target: Mapped[str] = mapped_column(String(12), nullable=False, default="unit")  # unit / person
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 罚款 (元)
    decided_on: Mapped[date] = mapped_column(Date, nullable=False)
    payment_status: Mapped[str] = mapped_column(String(16), nullable=False, default="not_applicable")
    paid_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    paid_on: Mapped[date | None] = mapped_column(Date)
    bureau_code: Mapped[str] = mapped_column(String(12), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq_no: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    basis: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[EnforcementCase] = relationship(back_populates="decisions")
