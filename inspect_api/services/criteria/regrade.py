"""Re-judging (重新判定): when a new standard takes effect, a supervisor re-grades the open major hazards
of their jurisdiction under it — a bulk action with a preview of what changes, audited per hazard.

Candidates: open major hazards in the supervisor's scope that are not judged by a clause of the target
catalogue. Each change names the hazard and either a clause of the target catalogue (judged on the day
of the re-grading: the new standard must be in force then and cover the enterprise) or ``null`` with
grade ``general`` (no longer a major hazard; a listed hazard cannot be downgraded). There is no automatic
mapping between the clauses of two standards: the supervisor chooses each clause.

``preview_regrade`` checks every change and shows before → after; ``apply_regrade`` re-checks under the
row locks and applies all or nothing (422 ``regrade_invalid`` with the preview when any change fails).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...errors import AppError, Forbidden, NotFound, ValidationError
from ...models import CriteriaClause, Enterprise, Hazard, allocate_seq, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import scope_clause
from .catalogues import clause_label, get_catalogue, get_clause, in_force, local_day
from .rules import CriterionRejected, check_clause

OPEN = ("found", "ordered", "acknowledged", "reported", "rejected", "verified")


class RegradeInvalid(AppError):
    status = 422
    code = "regrade_invalid"
    message = "部分隐患不能按所选条款重新判定，未做任何修改 (some changes are invalid; nothing was changed)"


def _require_supervisor(actor: Actor) -> None:
    if actor.user is not None and actor.user.role != "supervisor":
        raise Forbidden("只有监管负责人可以重新判定 (only supervisors re-grade hazards)")


def regrade_candidates(session: Session, actor: Actor, catalogue_id: str) -> list[Hazard]:
    """Open major hazards in scope not judged by a clause of the target catalogue, oldest first."""
    _require_supervisor(actor)
    target = get_catalogue(session, catalogue_id)
    stmt = (select(Hazard).outerjoin(CriteriaClause, CriteriaClause.id == Hazard.criterion_clause_id)
            .where(Hazard.deleted_at.is_(None), Hazard.grade == "major", Hazard.status.in_(OPEN),
                   (CriteriaClause.catalogue_id.is_(None)) | (CriteriaClause.catalogue_id != target.id))
            .options(selectinload(Hazard.enterprise)).order_by(Hazard.found_at, Hazard.id))
    if actor.user is not None:
        stmt = stmt.where(scope_clause(Hazard, actor.user))
    return list(session.scalars(stmt))


def _describe(clause: CriteriaClause | None, code: str | None) -> str:
    if clause is not None:
        return f"{clause_label(clause)} {clause.text}"
    return f"{code}（未关联条款）" if code else "未注明判定条款"


def preview_regrade(session: Session, actor: Actor, catalogue_id: str, changes: list[dict],
                    *, for_update: bool = False) -> list[dict]:
    """One row per change: the hazard, before → after, and ``problem`` (None when it can be applied)."""
    _require_supervisor(actor)
    target = get_catalogue(session, catalogue_id)
    today = local_day(utcnow())
    if target.status != "published" or not in_force(target, today):
        raise ValidationError("目标标准尚未施行或未发布 (the target catalogue is not in force today)",
                              details={"fields": {"catalogue_id": ["not in force today"]}})
    if not changes:
        raise ValidationError("请至少选择一项隐患 (no changes given)", details={"fields": {"changes": ["empty"]}})
    seen, rows = set(), []
    for change in changes:
        hazard_id = change.get("hazard_id")
        stmt = select(Hazard).where(Hazard.id == hazard_id, Hazard.deleted_at.is_(None))
        if actor.user is not None:
            stmt = stmt.where(scope_clause(Hazard, actor.user))
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        hazard = session.scalars(stmt).first()
        if hazard is None:
            raise NotFound("hazard not found", details={"hazard_id": hazard_id})
        before = get_clause(session, hazard.criterion_clause_id) if hazard.criterion_clause_id else None
        clause_id = change.get("clause_id") or None
        clause = get_clause(session, clause_id) if clause_id else None
        problem = None
        if hazard_id in seen:
            problem = "同一隐患重复出现 (the hazard is listed twice)"
        elif hazard.grade != "major" or hazard.status not in OPEN:
            problem = "只能重新判定未销号的重大隐患 (only open major hazards are re-graded)"
        elif clause_id is None and hazard.listing_level:
            problem = "已挂牌督办的隐患不能降级 (a listed hazard cannot be downgraded)"
        elif clause_id is not None and (clause is None or clause.catalogue_id != target.id):
            problem = "所选条款不属于目标标准 (the clause is not of the target catalogue)"
        elif clause is not None:
            try:
                check_clause(session, clause, session.get(Enterprise, hazard.enterprise_id), utcnow())
            except CriterionRejected as exc:
                problem = exc.message
        seen.add(hazard_id)
        rows.append({"hazard": hazard, "hazard_id": hazard.id, "enterprise_name": hazard.enterprise.name,
                     "description": hazard.description, "found_day": local_day(hazard.found_at).isoformat(),
                     "before": _describe(before, hazard.major_criterion_code),
                     "before_clause_id": hazard.criterion_clause_id,
                     "after": _describe(clause, None) if clause is not None else "一般隐患（不再构成重大隐患）",
                     "after_clause_id": clause.id if clause is not None else None,
                     "after_grade": "major" if clause is not None else "general",
                     "clause": clause, "problem": problem})
    return rows


def apply_regrade(session: Session, actor: Actor, catalogue_id: str, changes: list[dict],
                  reason: str | None) -> list[dict]:
    """Apply every change or none; one ``hazard.regrade`` audit event per hazard."""
    _require_supervisor(actor)
    if not (reason or "").strip():
        raise ValidationError("请填写重新判定的理由 (a reason is required)", details={"fields": {"reason": ["required"]}})
    allocate_seq(session, 0)  # lock order: cursor, then the hazard rows (as the lifecycle does)
    session.flush()
    rows = preview_regrade(session, actor, catalogue_id, changes, for_update=True)
    if any(r["problem"] for r in rows):
        raise RegradeInvalid(details={"preview": [public_row(r) for r in rows]})
    for r in rows:
        hazard, clause = r["hazard"], r["clause"]
        hazard.grade = r["after_grade"]
        hazard.criterion_clause_id = clause.id if clause is not None else None
        hazard.major_criterion_code = clause.code if clause is not None else None
        record_event(session, actor, "hazard.regrade", hazard, from_state=hazard.status, to_state=hazard.status,
                     reason=reason.strip(), data={"catalogue_id": catalogue_id, "before": r["before"],
                                                  "before_clause_id": r["before_clause_id"], "after": r["after"],
                                                  "after_clause_id": r["after_clause_id"],
                                                  "grade": r["after_grade"]})
    session.flush()
    return rows


def public_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("hazard", "clause")}
