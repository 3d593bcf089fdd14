from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin


def region_prefix(code: str) -> str:
    """The code prefix shared by a GB/T 2260 region's whole subtree.

    130000 -> "13", 131100 -> "1311", 131102 -> "131102"; 9- and 12-digit
    township codes keep all their digits.
    """
    code = code.strip()
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code.rstrip("0") if len(code) > 6 and code.endswith("000") else code


class Region(SyncMixin, db.Model):
    """A GB/T 2260 administrative division: level 1 province, 2 city, 3 county, 4 township."""

    __tablename__ = "regions"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str | None] = mapped_column(String(20))  # 市辖区 / 县 / 县级市 ...

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")

    @property
    def prefix(self) -> str:
        return region_prefix(self.id)
