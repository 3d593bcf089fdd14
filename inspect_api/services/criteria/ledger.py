"""The hazard ledger's criteria columns (services/reporting/exports.py): 判定依据 (the catalogue's document
number and version) and 判定条款 (clause number and text) of a major hazard's judgement; a hazard graded
with a legacy code only shows the code."""
from __future__ import annotations

from sqlalchemy import case, literal

from ...models import CriteriaCatalogue, CriteriaClause, Hazard

# (label, kind, width) of the ExportColumns appended to the ledger
LEDGER_COLUMNS = (("判定依据", "text", 24), ("判定条款", "text", 48))
CLAUSE_JOIN = (CriteriaClause, CriteriaClause.id == Hazard.criterion_clause_id)
CATALOGUE_JOIN = (CriteriaCatalogue, CriteriaCatalogue.id == CriteriaClause.catalogue_id)


def ledger_columns(guard):
    """The two column expressions, in LEDGER_COLUMNS order (``guard``: the CSV formula guard or identity)."""
    catalogue = case((CriteriaCatalogue.id.is_not(None), CriteriaCatalogue.doc_no), else_=None)
    clause = case(
        (CriteriaClause.id.is_not(None), CriteriaClause.number + literal(" ") + CriteriaClause.text),
        else_=Hazard.major_criterion_code)
    return [guard(catalogue), guard(clause)]

