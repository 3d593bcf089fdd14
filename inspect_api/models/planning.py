"""Enforcement planning (issue #14): the annual plan, the 双随机 draws and the inspection tasks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, cast
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id

PLAN_STATUSES = ("draft", "approved", "published", "superseded")
TASK_KINDS = ("key", "random", "special", "complaint", "follow_up")
TASK_STATUSES = ("pending_approval", "assigned", "in_progress", "done", "overdue", "cancelled")


class InspectionPlan(TimestampMixin, db.Model):
    """年度监督检查计划 of one bureau (region) and year; each amendment is a new version."""

    __tablename__ = "inspection_plans"
    __table_args__ = (UniqueConstraint("region_code", "year", "version", name="uq_inspection_plans_region_year_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    staff_count: Mapped[int] = mapped_column(Integer, nullable=False)
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    booked_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # days one inspection costs, by enterprise class (services/planning/plans.py enterprise_class)
    days_per_class: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    annual_cap: Mapped[int | None] = mapped_column(Integer)  # inspections per enterprise per year (configurable)
    marked_enterprise_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    key_enterprise_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    capacity_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    key_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    ordinary_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("inspection_plans.id"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approved_by = relationship("User", foreign_keys=[approved_by_id])


class PlanDraw(TimestampMixin, db.Model):
    """One 双随机 draw: its inputs, seed, algorithm and result, enough to re-run it (docs/planning.md)."""

    __tablename__ = "plan_draws"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(ForeignKey("inspection_plans.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    period_label: Mapped[str] = mapped_column(String(40), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    algorithm: Mapped[str] = mapped_column(String(40), nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    filters: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    sample_size: Mapped[int] = mapped_column(Integer, nullable=False)
    enterprise_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    inspectors: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [[user id, 执法证号], …]
    exclusions: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)  # enterprise id -> [user ids]
    result: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [[enterprise, lead, co], …]
    input_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    result_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="published")  # published/superseded
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("plan_draws.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    drawn_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    plan = relationship("InspectionPlan")


class InspectionTask(SyncMixin, TimestampMixin, db.Model):
    """检查任务: one enterprise, two inspectors, a window, the items, a 检查码; pulled by its inspectors."""

    __tablename__ = "inspection_tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    draw_id: Mapped[str | None] = mapped_column(ForeignKey("plan_draws.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="assigned")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    lead_inspector_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    co_inspector_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    template_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    item_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    is_joint: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 综合查一次
    code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)  # 检查码
    in_plan: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    over_cap_reason: Mapped[str | None] = mapped_column(Text)
    approval_reason: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspection_id: Mapped[str | None] = mapped_column(String(64))  # the inspection that carried it out
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # the documents (numbered like the others, services/lifecycle/numbering.py)
    notice_number: Mapped[str | None] = mapped_column(String(60))  # 检查任务通知书
    record_number: Mapped[str | None] = mapped_column(String(60))  # 现场检查记录
    record_recorder_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    record_representative: Mapped[str | None] = mapped_column(String(100))
    record_refused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    enterprise = relationship("Enterprise")
    lead_inspector = relationship("User", foreign_keys=[lead_inspector_id])
    co_inspector = relationship("User", foreign_keys=[co_inspector_id])
    recorder = relationship("User", foreign_keys=[record_recorder_id])
    plan = relationship("InspectionPlan")


# The lists as JSON text for the tablets (WatermelonDB has no array columns); read-only, loaded on demand.
InspectionTask.template_ids_json = column_property(cast(InspectionTask.__table__.c.template_ids, Text), deferred=True)
InspectionTask.item_ids_json = column_property(cast(InspectionTask.__table__.c.item_ids, Text), deferred=True)
