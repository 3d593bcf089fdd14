from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id

INSPECTION_STATUSES = ("draft", "submitted")
FINDING_RESULTS = ("pass", "fail", "na")


class Inspection(SyncMixin, TimestampMixin, db.Model):
    """An on-site inspection (现场检查), created on a tablet."""

    __tablename__ = "inspections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("inspection_tasks.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    template_id: Mapped[str | None] = mapped_column(ForeignKey("checklist_templates.id"))
    lead_inspector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    co_inspector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))

    enterprise = relationship("Enterprise")
    template = relationship("ChecklistTemplate")
    lead_inspector = relationship("User", foreign_keys=[lead_inspector_id])
    co_inspector = relationship("User", foreign_keys=[co_inspector_id])
    findings: Mapped[list[Finding]] = relationship(back_populates="inspection")


class Finding(SyncMixin, TimestampMixin, db.Model):
    """The result of one checklist item in one inspection."""

    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("checklist_items.id"))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    result: Mapped[str] = mapped_column(String(8), nullable=False, default="na")
    note: Mapped[str | None] = mapped_column(Text)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    item = relationship("ChecklistItem")
