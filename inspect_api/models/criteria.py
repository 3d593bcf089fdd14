"""Major-hazard judgement standards (重大事故隐患判定标准) as versioned catalogues of clauses.

A catalogue version is immutable once published (its clauses, scope and dates); publishing a
successor that names it in ``replaces_id`` ends it the day before the successor takes effect
(services/criteria/catalogues.py). Hazards and checklist items point at one clause, and so at one
catalogue version: a later standard never rewrites an old judgement.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, cast
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id

CATALOGUE_KINDS = ("national_rule", "industry_standard", "provincial_rule")
CATALOGUE_STATUSES = ("draft", "published")


class CriteriaCatalogue(SyncMixin, TimestampMixin, db.Model):
    """One version of a judgement standard (判定依据)."""

    __tablename__ = "criteria_catalogues"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_criteria_catalogues_code_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    doc_no: Mapped[str] = mapped_column(String(100), nullable=False)  # 文号 / 标准号
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # CATALOGUE_KINDS
    # Scope: GB/T 4754 industry code prefixes, comma separated ("" = every enterprise in the registry),
    # and for a provincial rule the region (GB/T 2260 code) it applies in.
    industries: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    region_code: Mapped[str | None] = mapped_column(String(12))
    scope_note: Mapped[str | None] = mapped_column(Text)  # the scope in the standard's own words
    # In force from / to (Asia/Shanghai calendar days, both inclusive; None: open)
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("criteria_catalogues.id"))
    source: Mapped[str | None] = mapped_column(Text)  # where the clause texts were taken from
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    clauses: Mapped[list[CriteriaClause]] = relationship(
        back_populates="catalogue", order_by="CriteriaClause.position")
    replaces: Mapped[CriteriaCatalogue | None] = relationship(remote_side="CriteriaCatalogue.id")

    # the dates as ISO text, for the sync wire (schema version 3)
    effective_from_text = column_property(cast(effective_from, String))
    effective_to_text = column_property(cast(effective_to, String))

    @property
    def industry_list(self) -> list[str]:
        return [p for p in (self.industries or "").split(",") if p]


class CriteriaClause(SyncMixin, TimestampMixin, db.Model):
    """One situation (情形) of a catalogue: its number (5.3.2), group, text and optional guidance."""

    __tablename__ = "criteria_clauses"
    __table_args__ = (UniqueConstraint("catalogue_id", "number", name="uq_criteria_clauses_catalogue_number"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    catalogue_id: Mapped[str] = mapped_column(ForeignKey("criteria_catalogues.id"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(20), nullable=False)
    # the short code hazards carry on the version-1 wire (major_criterion_code): HC2017-01 …
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    group_title: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    guidance: Mapped[str | None] = mapped_column(Text)

    catalogue: Mapped[CriteriaCatalogue] = relationship(back_populates="clauses")
