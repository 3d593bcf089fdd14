"""Major hazard sources and their duty holders from a spreadsheet (XLSX or CSV, the registry's reader):
one row per source, the enterprise named by its credit code. Rows are checked one by one and reported
by row number, as the enterprise import does; a source already registered (same enterprise and name)
is left as it is; an enterprise outside the importer's scope is reported like an unknown one."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import AppError, ValidationError
from ...models import Enterprise, MajorHazardSource
from ..access.actor import Actor
from ..access.scope import scope_clause
from ..registry.imports import _cell_text, read_table
from .common import local_today
from .sources import add_holder, add_source

ROLE_COLUMNS = {"principal": "主要负责人", "technical": "技术负责人", "operational": "操作负责人"}
COLUMNS = {
    "uscc": ["统一社会信用代码", "信用代码", "uscc"],
    "name": ["重大危险源名称", "危险源名称", "name"],
    "grade": ["重大危险源等级", "等级", "grade"],
    "units": ["构成单元", "units"],
    "substances": ["主要危险物质", "危险物质", "substances"],
}
for _role, _label in ROLE_COLUMNS.items():
    COLUMNS[f"{_role}_name"] = [_label, f"{_label}姓名"]
    COLUMNS[f"{_role}_post"] = [f"{_label}职务"]
    COLUMNS[f"{_role}_phone"] = [f"{_label}电话"]
REQUIRED = ("uscc", "name", "grade")
GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass
class SourceImportReport:
    created: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)


def import_sources(session: Session, actor: Actor, data: bytes, filename: str) -> SourceImportReport:
    table = read_table(data, filename, COLUMNS, REQUIRED)
    report = SourceImportReport()
    for number, cells in table.rows:
        row = {key: _cell_text(cells[i]) if i < len(cells) else None for key, i in table.columns.items()}
        try:
            with session.begin_nested():
                created = _import_row(session, actor, row)
        except AppError as exc:
            report.failed += 1
            report.errors.append({"row": number, "uscc": row.get("uscc"), "name": row.get("name"),
                                  "reason": exc.message})
            continue
        if created:
            report.created += 1
        else:
            report.unchanged += 1
    return report


def _import_row(session: Session, actor: Actor, row: dict) -> bool:
    stmt = select(Enterprise).where(Enterprise.uscc == (row.get("uscc") or "").upper())
    if actor.user is not None:
        stmt = stmt.where(scope_clause(Enterprise, actor.user))
    enterprise = session.scalars(stmt).first()
    if enterprise is None:
        raise ValidationError("未找到该统一社会信用代码的企业 (no enterprise with this credit code)")
    if session.scalar(select(MajorHazardSource.id).where(MajorHazardSource.enterprise_id == enterprise.id,
                                                         MajorHazardSource.name == row.get("name"),
                                                         MajorHazardSource.deleted_at.is_(None))):
        return False
    grade = GRADES.get((row.get("grade") or "").strip())
    if grade is None:
        raise ValidationError("重大危险源等级须为一级～四级 (grade)")
    source = add_source(session, actor, enterprise, {"name": row.get("name"), "grade": grade,
                                                     "units": row.get("units"), "substances": row.get("substances")})
    for role in ROLE_COLUMNS:
        if row.get(f"{role}_name"):
            add_holder(session, actor, source, {"role": role, "name": row[f"{role}_name"],
                                                "post": row.get(f"{role}_post"), "phone": row.get(f"{role}_phone"),
                                                "appointed_on": local_today()})
    return True
