"""Photo evidence metadata and tus upload state."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id, utcnow

PHOTO_OWNER_TABLES = ("inspections", "findings", "hazards", "rectifications")
PHOTO_STATUSES = ("pending", "ready", "rejected")


class Photo(SyncMixin, TimestampMixin, db.Model):
    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    owner_table: Mapped[str] = mapped_column(String(20), nullable=False)
    owner_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    content_type: Mapped[str | None] = mapped_column(String(40))
    size: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    orientation: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exif_latitude: Mapped[float | None] = mapped_column(Float)
    exif_longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    rejected_reason: Mapped[str | None] = mapped_column(String(200))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class Upload(db.Model):
    """A tus upload in progress; parts live in storage, the offset here."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    photo_id: Mapped[str | None] = mapped_column(String(64), index=True)
    length: Mapped[int | None] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    meta: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    is_partial: Mapped[bool] = mapped_column(default=False, nullable=False)
    concat_parts: Mapped[list | None] = mapped_column(JSON)
    part_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="open")  # open/done/failed
    error_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
