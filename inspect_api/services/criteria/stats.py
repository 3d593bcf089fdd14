"""按判定标准条款分布: major hazards found in a period counted by the catalogue and clause they were
judged by — one call over any period, also one that spans two standards (each hazard counts under the
clause of the catalogue version it was judged by). Same filters and scope as the hazard statistics
(services/reporting/stats.py): period by found day (Asia/Shanghai), region subtree, industry prefix."""
from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ...models import CriteriaCatalogue, CriteriaClause, Enterprise, Hazard
from ..access.actor import Actor
from ..access.scope import scope_clause
from ..reporting.stats import StatsFilter, _industry_filter, _region_filter, require_stats_reader

UNJUDGED = "未注明判定条款"


def criteria_statistics(session: Session, actor: Actor, f: StatsFilter) -> dict:
    """``{"filter", "rows": [{catalogue_id, catalogue_code, catalogue_version, doc_no, clause_id,
    clause_number, clause_code, clause_text, major, closed}], "total": {...}}`` — rows in catalogue
    order (effective_from, code, version) then clause position; hazards graded major without a clause
    come last under clause_id None (label 未注明判定条款)."""
    require_stats_reader(actor)
    H, C, K = Hazard, CriteriaClause, CriteriaCatalogue
    closed = func.sum(case((H.status == "closed", 1), else_=0))
    stmt = (
        select(H.criterion_clause_id, func.count().label("major"), closed.label("closed"))
        .select_from(H).join(Enterprise, Enterprise.id == H.enterprise_id)
        .where(H.deleted_at.is_(None), H.grade == "major", scope_clause(H, actor.user),
               _region_filter(H.region_code, f), _industry_filter(f), H.found_at >= f.start, H.found_at < f.end)
        .group_by(H.criterion_clause_id)
    )
    counts = {r.criterion_clause_id: (int(r.major), int(r.closed or 0)) for r in session.execute(stmt)}
    clause_ids = [c for c in counts if c is not None]
    clauses = {}
    if clause_ids:
        for clause, catalogue in session.execute(select(C, K).join(K, and_(K.id == C.catalogue_id))
                                                 .where(C.id.in_(clause_ids))):
            clauses[clause.id] = (clause, catalogue)

    def order(item):
        clause, catalogue = item
        return (catalogue.effective_from is not None, catalogue.effective_from, catalogue.code, catalogue.version,
                clause.position)

    rows = []
    for clause, catalogue in sorted(clauses.values(), key=order):
        major, done = counts[clause.id]
        rows.append({"catalogue_id": catalogue.id, "catalogue_code": catalogue.code,
                     "catalogue_version": catalogue.version, "doc_no": catalogue.doc_no,
                     "clause_id": clause.id, "clause_number": clause.number, "clause_code": clause.code,
                     "clause_text": clause.text, "major": major, "closed": done})
    if None in counts:
        major, done = counts[None]
        rows.append({"catalogue_id": None, "catalogue_code": None, "catalogue_version": None, "doc_no": None,
                     "clause_id": None, "clause_number": None, "clause_code": None, "clause_text": UNJUDGED,
                     "major": major, "closed": done})
    return {
        "filter": {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "region": f.region,
                   "industry": f.industry},
        "rows": rows,
        "total": {"major": sum(r["major"] for r in rows), "closed": sum(r["closed"] for r in rows)},
    }
