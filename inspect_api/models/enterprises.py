from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from .base import SealedString, SyncMixin, TimestampMixin, new_id, sealed_index

RISK_COLORS = ("red", "orange", "yellow", "blue")
SCALES = ("large", "medium", "small", "micro")


class Enterprise(SyncMixin, TimestampMixin, db.Model):
    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint("major_hazard_level BETWEEN 0 AND 4", name="major_hazard_level_range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    scale: Mapped[str | None] = mapped_column(String(10))
    major_hazard_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    risk_color: Mapped[str | None] = mapped_column(String(10), index=True)
    hazardous_processes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    safety_contact: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(SealedString)  # sealed at rest; shown masked
    contact_phone_index: Mapped[str | None] = mapped_column(String(40), index=True)  # keyed index

    @validates("contact_phone")
    def _index_phone(self, key, value):
        self.contact_phone_index = sealed_index(value)
        return value
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    region = relationship("Region")

    @property
    def region_code(self) -> str:
        return self.region_id
