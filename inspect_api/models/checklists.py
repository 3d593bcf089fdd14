from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id

TEMPLATE_STATUSES = ("draft", "published", "retired")


class ChecklistTemplate(SyncMixin, TimestampMixin, db.Model):
    """One version of a checklist. Published versions are immutable."""

    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_checklist_templates_code_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="template", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )


class ChecklistItem(SyncMixin, db.Model):
    __tablename__ = "checklist_items"
    # Only draft templates lose items, and drafts are never pulled by tablets.
    __allow_hard_delete__ = True
    __table_args__ = (UniqueConstraint("template_id", "code", name="uq_checklist_items_template_code"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    template_id: Mapped[str] = mapped_column(ForeignKey("checklist_templates.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    category: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    basis: Mapped[str | None] = mapped_column(Text)
    major_criterion_code: Mapped[str | None] = mapped_column(String(40))
    # the judgement clause this item checks (replaces the free-text code for new templates)
    # (checked by services/criteria/checklists.py; no FOREIGN KEY, see Hazard.criterion_clause_id)
    criterion_clause_id: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items")
