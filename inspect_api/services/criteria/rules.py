"""The one judging rule: may a hazard be graded major by this clause?

``judge`` is called by every grading path — the REST / portal lifecycle (services/lifecycle/hazards.py:
the ``grade`` transition and ``create_hazard``), the sync push (services/sync/push_rules.py
``_rule_hazards``) and re-grading (regrade.py). A major grade by a clause needs:

- the clause's catalogue published and in force on the day the hazard was found (Asia/Shanghai day of
  ``found_at``): not before its ``effective_from``, not after its ``effective_to``;
- the catalogue's scope covering the enterprise (industry code prefix, region for a provincial rule).

The clause is stored on the hazard (``criterion_clause_id``: one clause of one catalogue version), and
``major_criterion_code`` — what version-1 tablets read — follows it (HC2017-05, or <code>-<number>).

Legacy input: a bare ``major_criterion_code`` (HC2017-01..20, the version-1 wire and the older REST
field) names the clause with that code in a catalogue in force. Strict callers (REST, portal, tablets of
schema version 3) get an error when it names no such clause; a version-1 tablet's push is accepted as
before (CONTRACT: version 1 never changes) and keeps its code without a clause — those hazards are
listed for re-grading (regrade.py). A major grade without any criterion stays accepted on the REST and
version-1 paths (older clients); a version-3 tablet must name a clause.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import CriteriaCatalogue, CriteriaClause, Enterprise, utcnow
from .catalogues import applies_to, get_clause, in_force, local_day


class CriterionRejected(ValidationError):
    code = "criterion_not_applicable"
    message = "判定条款不适用 (the criterion clause does not apply)"


def _reject(reason: str, message: str, **details) -> CriterionRejected:
    return CriterionRejected(message, details={"reason": reason, **details,
                                               "fields": {"criterion_clause_id": [message]}})


def check_clause(session: Session, clause: CriteriaClause | None, enterprise: Enterprise,
                 found_at: datetime) -> None:
    """Raise CriterionRejected unless the clause may judge a hazard of this enterprise found then."""
    if clause is None or clause.catalogue.status != "published" or clause.catalogue.deleted_at is not None:
        raise _reject("unknown_clause", "判定条款不存在或其标准未发布 (unknown clause, or its catalogue is not published)")
    catalogue = clause.catalogue
    day = local_day(found_at)
    label = f"{catalogue.doc_no} {clause.number}"
    if catalogue.effective_from and day < catalogue.effective_from:
        raise _reject("not_yet_in_force",
                      f"{label}：该标准自 {catalogue.effective_from} 起施行，隐患发现于 {day}，不能据此判定 "
                      f"(the catalogue takes effect after the day the hazard was found)",
                      day=day.isoformat(), effective_from=catalogue.effective_from.isoformat())
    if catalogue.effective_to and day > catalogue.effective_to:
        raise _reject("retired",
                      f"{label}：该标准已于 {catalogue.effective_to} 后废止，隐患发现于 {day}，请按现行标准判定 "
                      f"(the catalogue ended before the day the hazard was found)",
                      day=day.isoformat(), effective_to=catalogue.effective_to.isoformat())
    if not applies_to(catalogue, enterprise.industry, enterprise.region_id):
        raise _reject("out_of_scope",
                      f"{label}：该标准不适用于本企业（行业 {enterprise.industry or '未登记'}）"
                      f"(the catalogue's scope excludes the enterprise's industry or region)",
                      industry=enterprise.industry, industries=catalogue.industry_list)


def clause_for_code(session: Session, code: str, enterprise: Enterprise, found_at: datetime):
    """(clause, known): the clause with this code in a catalogue in force for the enterprise on the day;
    ``known`` tells whether any published clause has that code at all."""
    rows = list(session.scalars(select(CriteriaClause).join(CriteriaCatalogue).where(
        CriteriaClause.code == code, CriteriaClause.deleted_at.is_(None),
        CriteriaCatalogue.status == "published", CriteriaCatalogue.deleted_at.is_(None))))
    day = local_day(found_at)
    for clause in rows:
        if in_force(clause.catalogue, day) and applies_to(clause.catalogue, enterprise.industry,
                                                            enterprise.region_id):
            return clause, True
    return (rows[0] if rows else None), bool(rows)


def judge(session: Session, *, enterprise: Enterprise, found_at: datetime | None, grade: str,
          clause_id: str | None = None, code: str | None = None, strict: bool = True,
          require_clause: bool = False) -> dict:
    """The grade fields to store: ``{"grade", "criterion_clause_id", "major_criterion_code"}``.

    Raises CriterionRejected (422, ``details.reason``: unknown_clause, not_yet_in_force, retired,
    out_of_scope, needs_major, clause_required). ``strict=False`` (version-1 push): a code that names no
    clause in force is kept as given, without a clause.
    """
    found_at = found_at or utcnow()
    clause_id = clause_id or None
    code = (code or "").strip() or None
    if grade != "major":
        if clause_id or code:
            if not strict and not clause_id:
                return {"grade": grade, "criterion_clause_id": None, "major_criterion_code": code}
            raise _reject("needs_major", "一般隐患不能对应重大隐患判定条款 (a criterion needs grade major)")
        return {"grade": grade, "criterion_clause_id": None, "major_criterion_code": None}
    if clause_id:
        clause = get_clause(session, clause_id)
        check_clause(session, clause, enterprise, found_at)
        return {"grade": "major", "criterion_clause_id": clause.id, "major_criterion_code": clause.code}
    if code:
        clause, known = clause_for_code(session, code, enterprise, found_at)
        if strict:
            if not known:
                raise _reject("unknown_clause", f"重大隐患判定条款 {code} 不存在 (unknown criterion code)")
            check_clause(session, clause, enterprise, found_at)
        else:
            try:
                check_clause(session, clause, enterprise, found_at)
            except CriterionRejected:
                return {"grade": "major", "criterion_clause_id": None, "major_criterion_code": code}
        return {"grade": "major", "criterion_clause_id": clause.id, "major_criterion_code": clause.code}
    if require_clause:
        raise _reject("clause_required", "重大隐患须注明现行判定标准的条款 (a major hazard needs a clause in force)")
    return {"grade": "major", "criterion_clause_id": None, "major_criterion_code": None}


# ---------------------------------------------------------------- the hooks of the grading paths


def check_grade(session: Session, hazard, params: dict) -> None:
    """The lifecycle ``grade`` guard: raises CriterionRejected (422, nothing changed) when the clause
    cannot judge this hazard."""
    grade_fields(session, hazard, params)


def grade_fields(session: Session, hazard, params: dict) -> dict:
    """The fields the lifecycle ``grade`` action sets (params: grade, criterion_clause_id,
    major_criterion_code). Raises CriterionRejected."""
    grade = params.get("grade", hazard.grade)
    if not params.get("criterion_clause_id") and not params.get("major_criterion_code") and grade == hazard.grade:
        return {}  # no criterion named and the grade stays: so does the judgement
    enterprise = session.get(Enterprise, hazard.enterprise_id)
    return judge(session, enterprise=enterprise, found_at=hazard.found_at, grade=grade,
                 clause_id=params.get("criterion_clause_id"), code=params.get("major_criterion_code"))


def apply_grade(session: Session, hazard, params: dict) -> None:
    for key, value in grade_fields(session, hazard, params).items():
        setattr(hazard, key, value)


def judge_new_hazard(session: Session, enterprise: Enterprise, data: dict) -> dict:
    """``create_hazard`` (REST / portal): the grade fields of a hazard recorded now (or at ``found_at``)."""
    return judge(session, enterprise=enterprise, found_at=data.get("found_at"), grade=data.get("grade") or "general",
                 clause_id=data.get("criterion_clause_id"), code=data.get("major_criterion_code"))


def judge_pushed_hazard(session: Session, ent_id: str, values: dict, row, reject=ValueError) -> dict:
    """The sync push rule for hazards (after the lifecycle fields were settled): returns ``values`` with the
    grade fields judged; raises ``reject(reason)`` to reject the record (the push names it in
    ``rejected``). A raw carrying ``criterion_clause_id`` comes from a tablet of schema version 3 (strict);
    one without it from a version-1 tablet (its code is kept as before)."""
    v3 = "criterion_clause_id" in values
    if row is not None and row.status != "found":
        if v3 and (values["criterion_clause_id"] or None) != (row.criterion_clause_id or None):
            raise reject("隐患已进入整改流程，criterion_clause_id 不能由平板修改 (managed by the hazard lifecycle now)")
        values.pop("criterion_clause_id", None)
        return values
    touched = v3 or "grade" in values or "major_criterion_code" in values or row is None
    if not touched:
        return values
    def current(key, default=None):
        return values[key] if key in values else (getattr(row, key) if row is not None else default)
    enterprise = session.get(Enterprise, ent_id)
    try:
        judged = judge(session, enterprise=enterprise, found_at=row.found_at if row is not None else None,
                       grade=current("grade", "general") or "general", clause_id=values.get("criterion_clause_id"),
                       code=current("major_criterion_code"), strict=v3, require_clause=v3)
    except CriterionRejected as exc:
        raise reject(f"{exc.message} [{exc.details.get('reason')}]") from None
    if not v3 and judged["major_criterion_code"] == current("major_criterion_code"):
        judged.pop("major_criterion_code")  # version 1: the code stays what the tablet sent
    values.update(judged)
    return values
