"""The enterprise's own half of 双重预防: major hazard sources (重大危险源) and their three duty holders
(包保责任人), the bureau's check duties and the due self-checks they generate, the checks recorded,
daily safety commitments (安全承诺) and the bureau's re-check samples (地方复核)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin, UTCDateTime, new_id, utcnow

# 主要负责人、技术负责人、操作负责人 (应急厅〔2021〕12号)
DUTY_ROLES = ("principal", "technical", "operational")
SOURCE_GRADES = (1, 2, 3, 4)  # 一级 … 四级 (GB 18218-2018)
CHECK_RESULTS = ("pass", "fail", "na")
DUE_STATUSES = ("due", "done", "missed")
RECHECK_RESULTS = ("confirmed", "not_fixed")


class MajorHazardSource(TimestampMixin, db.Model):
    """A major hazard source (重大危险源) of an enterprise."""

    __tablename__ = "major_hazard_sources"
    __table_args__ = (UniqueConstraint("enterprise_id", "name", name="uq_major_hazard_sources_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    grade: Mapped[int] = mapped_column(Integer, nullable=False)  # 1..4
    units: Mapped[str | None] = mapped_column(Text)  # 构成单元 (储罐区、生产装置 …)
    substances: Mapped[str | None] = mapped_column(Text)  # 主要危险物质
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise = relationship("Enterprise")
    duty_holders: Mapped[list[DutyHolder]] = relationship(
        back_populates="source", order_by="DutyHolder.role, DutyHolder.appointed_on")


class DutyHolder(TimestampMixin, db.Model):
    """One of the three 包保责任人 of a source. ``user_id`` links the person's portal account: only that
    account records the checks of this duty. A replaced holder keeps the row with ``ended_on``."""

    __tablename__ = "duty_holders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("major_hazard_sources.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    post: Mapped[str | None] = mapped_column(String(100))  # 职务
    phone: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    appointed_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)

    source: Mapped[MajorHazardSource] = relationship(back_populates="duty_holders")
    user = relationship("User")


class CheckDuty(TimestampMixin, db.Model):
    """How often a duty role checks a source, as a bureau configures it (per bureau region and role;
    optionally only for sources of one grade). No defaults are shipped: docs/selfcheck.md says why."""

    __tablename__ = "check_duties"
    __table_args__ = (UniqueConstraint("region_code", "role", "source_grade", name="uq_check_duties"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)  # the bureau's region
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    source_grade: Mapped[int | None] = mapped_column(Integer)  # None: every grade
    every_days: Mapped[int] = mapped_column(Integer, nullable=False)  # one check per period of N days
    template_id: Mapped[str | None] = mapped_column(ForeignKey("checklist_templates.id"))
    basis: Mapped[str | None] = mapped_column(Text)  # the rule the bureau cites for it
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class SelfCheckDue(TimestampMixin, db.Model):
    """A check a duty holder owes for a period (generated from the duties); missed after its period."""

    __tablename__ = "self_check_dues"
    __table_args__ = (UniqueConstraint("source_id", "role", "period_start", name="uq_self_check_dues"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("major_hazard_sources.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    duty_id: Mapped[str] = mapped_column(ForeignKey("check_duties.id"), nullable=False)
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("duty_holders.id"))
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)  # Shanghai calendar days
    period_end: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="due", index=True)
    check_id: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[MajorHazardSource] = relationship()
    holder: Mapped[DutyHolder | None] = relationship()


class SelfCheck(TimestampMixin, db.Model):
    """A check a duty holder recorded on a checklist: pass / fail / n.a. per item, and the hazards found."""

    __tablename__ = "self_checks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    due_id: Mapped[str | None] = mapped_column(ForeignKey("self_check_dues.id"), unique=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("major_hazard_sources.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("duty_holders.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    template_id: Mapped[str | None] = mapped_column(ForeignKey("checklist_templates.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    results: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{item_id, result, note}]
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)

    source: Mapped[MajorHazardSource] = relationship()
    holder: Mapped[DutyHolder] = relationship()


class SafetyCommitment(TimestampMixin, db.Model):
    """The day's safety commitment (安全承诺) of an enterprise with a major hazard source."""

    __tablename__ = "safety_commitments"
    __table_args__ = (UniqueConstraint("enterprise_id", "day", name="uq_safety_commitments_day"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)  # Shanghai calendar day
    # [{source_id, name, status: normal|abnormal, note}]
    sources: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # special operations under way (特殊作业): {"hot_work": n, "confined_space": n, …}
    special_operations: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    responsible_person: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RecheckSample(TimestampMixin, db.Model):
    """A reproducible random sample (地方复核) of hazards enterprises closed themselves."""

    __tablename__ = "recheck_samples"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    period_from: Mapped[date] = mapped_column(Date, nullable=False)
    period_to: Mapped[date] = mapped_column(Date, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)  # hex
    algorithm: Mapped[str] = mapped_column(String(40), nullable=False)
    candidates: Mapped[list] = mapped_column(JSON, nullable=False)  # hazard ids, canonical order
    drawn: Mapped[list] = mapped_column(JSON, nullable=False)  # hazard ids, in draw order
    reason: Mapped[str | None] = mapped_column(Text)  # why a new sample replaces an earlier one
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("recheck_samples.id"))
    drawn_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    tasks: Mapped[list[RecheckTask]] = relationship(back_populates="sample", order_by="RecheckTask.position")


class RecheckTask(TimestampMixin, db.Model):
    """One hazard of a sample, re-checked by an inspector: confirmed, or not fixed (reopened with a notice)."""

    __tablename__ = "recheck_tasks"
    __table_args__ = (UniqueConstraint("sample_id", "hazard_id", name="uq_recheck_tasks"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    sample_id: Mapped[str] = mapped_column(ForeignKey("recheck_samples.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")  # pending | done
    result: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("notices.id"))
    inspector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sample: Mapped[RecheckSample] = relationship(back_populates="tasks")
    hazard = relationship("Hazard")
