"""Schema version 3 (CONTRACT §4, issue #15): the criteria catalogues on the tablets.

Tables (read-only): ``criteria_catalogues`` (the published versions; dates as ISO ``YYYY-MM-DD`` strings,
``""``/null = open) and ``criteria_clauses`` (the clauses of those). Columns:
``hazards.criterion_clause_id`` (writable: the clause a major hazard is judged by, checked by
services/criteria/rules.py on every push) and ``checklist_items.criterion_clause_id`` (read-only).

Rows: every published catalogue whose region (provincial rules) contains or lies in the tablet user's
jurisdiction, national ones for everybody; the tablet picks the clauses in force on the day a hazard
was found for the enterprise's industry with the same columns the server judges by (effective_from,
effective_to, industries).
"""
from __future__ import annotations

from sqlalchemy import or_, select

from ...models import CriteriaCatalogue, CriteriaClause, region_prefix
from ..sync.wire import Col, TableSpec

VERSION = 3


def _ancestors(region: str) -> list[str]:
    region = (region or "")[:6]
    if len(region) != 6:
        return []
    return sorted({region, region[:4] + "00", region[:2] + "0000"})


def catalogues_for(viewer):
    """The published catalogues a tablet user gets (national ones, and provincial ones of their area)."""
    published = (CriteriaCatalogue.status == "published") & CriteriaCatalogue.deleted_at.is_(None)
    if not viewer.region_id:
        return published & CriteriaCatalogue.region_code.is_(None)
    return published & or_(CriteriaCatalogue.region_code.is_(None),
                           CriteriaCatalogue.region_code.in_(_ancestors(viewer.region_id)),
                           CriteriaCatalogue.region_code.like(region_prefix(viewer.region_id) + "%"))


def clauses_for(viewer):
    return CriteriaClause.catalogue_id.in_(select(CriteriaCatalogue.id).where(catalogues_for(viewer)))


CATALOGUES = TableSpec("criteria_catalogues", CriteriaCatalogue, (
    Col("code", "str"), Col("version", "int"), Col("title", "str"), Col("doc_no", "str"), Col("kind", "str"),
    Col("industries", "str"), Col("region_code", "str"),
    Col("effective_from", "str", attr="effective_from_text"), Col("effective_to", "str", attr="effective_to_text"),
    Col("replaces_id", "id")), since=VERSION, rows=catalogues_for)
CLAUSES = TableSpec("criteria_clauses", CriteriaClause, (
    Col("catalogue_id", "id"), Col("number", "str"), Col("code", "str"), Col("position", "int"),
    Col("group_title", "str"), Col("text", "text"), Col("guidance", "text")), since=VERSION, rows=clauses_for)
HAZARD_COLUMNS = (Col("criterion_clause_id", "id", since=VERSION),)
CHECKLIST_ITEM_COLUMNS = (Col("criterion_clause_id", "id", writable=False, since=VERSION),)
