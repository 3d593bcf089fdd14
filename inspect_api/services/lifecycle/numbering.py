"""Document numbers (文号): gapless and unique per (kind, bureau, year).

The counter row is read with SELECT ... FOR UPDATE (PostgreSQL; SQLite
serialises writers with BEGIN IMMEDIATE), so concurrent creators queue, and a
transaction that rolls back gives its number back: no gaps, no duplicates.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import DocumentCounter, Region

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Document-type words of the national forms (安全生产监管监察执法文书式样)
KIND_WORDS = {
    "notice": "责改",   # 责令限期整改指令书
    "review": "复查",   # 整改复查意见书
    "case": "立",       # 立案审批表
    "penalty": "罚",    # 行政处罚决定书
    "task_notice": "检通",   # 检查任务通知书 (planning)
    "insp_record": "检记",   # 现场检查记录 (planning)
}


def bureau_for_region(region_code: str | None, default: str) -> str:
    """The issuing bureau: the county-level bureau for a county, else the city's."""
    if region_code and len(region_code) >= 6:
        return region_code[:6]
    return default


def bureau_short_name(session: Session, bureau_code: str, fallback: str) -> str:
    """'桃城' for 桃城区, '深州' for 深州市, '衡水' for 衡水市 …"""
    region = session.get(Region, bureau_code)
    if region is None:
        return fallback
    name = region.name
    for suffix in ("自治县", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def year_of(moment: datetime) -> int:
    return moment.astimezone(SHANGHAI).year


def take_number(session: Session, kind: str, bureau_code: str, year: int) -> int:
    """The next number of this kind for the bureau and year (1, 2, 3, …)."""
    stmt = select(DocumentCounter).where(
        DocumentCounter.kind == kind, DocumentCounter.bureau_code == bureau_code, DocumentCounter.year == year
    ).with_for_update()
    counter = session.scalars(stmt).first()
    if counter is None:
        try:
            with session.begin_nested():
                counter = DocumentCounter(kind=kind, bureau_code=bureau_code, year=year, last=0)
                session.add(counter)
        except IntegrityError:
            # Another transaction created the row first: wait for it and lock it.
            counter = session.scalars(stmt.execution_options(populate_existing=True)).one()
    counter.last += 1
    session.flush()
    return counter.last


def format_number(short_name: str, kind: str, year: int, seq_no: int) -> str:
    """e.g. （桃城）应急责改〔2026〕15号"""
    return f"（{short_name}）应急{KIND_WORDS[kind]}〔{year}〕{seq_no}号"


def assign_number(session: Session, kind: str, region_code: str | None, moment: datetime,
                  default_bureau: str) -> tuple[str, int, int, str]:
    """(bureau_code, year, seq_no, number) for a new document."""
    bureau = bureau_for_region(region_code, default_bureau)
    year = year_of(moment)
    seq_no = take_number(session, kind, bureau, year)
    short = bureau_short_name(session, bureau, "衡水")
    return bureau, year, seq_no, format_number(short, kind, year, seq_no)
