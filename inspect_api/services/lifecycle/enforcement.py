"""Enforcement cases (立案) and penalty decisions (行政处罚).

A case is opened by an inspector or supervisor of the region from an
inspection and/or hazards of one enterprise; it is numbered per bureau and year
(kind "case"). Penalty decisions (warning, fine with amount, order to suspend
production, licence suspension, closure) are numbered per bureau and year
(kind "penalty"); a fine starts unpaid and is marked paid with the amount and
date paid. A case with a decision is "decided"; closing it (结案) is "closed".
These rows feed the enforcement statistics.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationError
from ...models import (
    EnforcementCase, Enterprise, Hazard, Inspection, PenaltyDecision, allocate_seq, utcnow,
)
from ...models.enforcement import PENALTY_KINDS
from ..access.actor import Actor
from ..access.audit import record_event
from ..casefile.guard import ensure_not_archived
from .numbering import SHANGHAI, assign_number
from ..access.scope import get_scoped, scope_clause

CASE_ROLES = ("inspector", "supervisor")


class InvalidCaseState(Conflict):
    code = "invalid_transition"
    message = "案件当前状态下不允许此操作 (not allowed in the case's state)"


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def _require_role(actor: Actor) -> None:
    if actor.user is not None and actor.user.role not in CASE_ROLES:
        raise Forbidden("只有执法人员和监管负责人可以办理案件 (only inspectors and supervisors handle cases)")


def _today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def open_case(session: Session, actor: Actor, data: dict, default_bureau: str) -> EnforcementCase:
    """立案 from an inspection and/or hazards of one enterprise.

    data: cause (案由, required), enterprise_id? inspection_id? hazard_ids?, source?, summary?, reason?.
    """
    _require_role(actor)
    user = actor.user
    cause = (data.get("cause") or "").strip()
    if not cause:
        raise _field_error("cause", "须填写案由 (cause required)")
    allocate_seq(session, 0)
    enterprise_id = None
    inspection = None
    if data.get("inspection_id"):
        inspection = get_scoped(session, Inspection, data["inspection_id"], user)
        enterprise_id = inspection.enterprise_id
    hazards = [get_scoped(session, Hazard, hid, user) for hid in dict.fromkeys(data.get("hazard_ids") or [])]
    for h in hazards:
        if enterprise_id is None:
            enterprise_id = h.enterprise_id
        if h.enterprise_id != enterprise_id:
            raise _field_error("hazard_ids", "隐患须属于同一企业 (hazards of one enterprise)")
    if data.get("enterprise_id"):
        ent = get_scoped(session, Enterprise, data["enterprise_id"], user)
        if enterprise_id is not None and ent.id != enterprise_id:
            raise _field_error("enterprise_id", "企业与检查或隐患不一致 (enterprise differs)")
        enterprise_id = ent.id
    if enterprise_id is None:
        raise _field_error("enterprise_id", "须指定企业、检查或隐患 (enterprise, inspection or hazards required)")
    ent = session.get(Enterprise, enterprise_id)
    now = utcnow()
    bureau, year, seq_no, number = assign_number(session, "case", ent.region_id, now, default_bureau)
    case = EnforcementCase(
        enterprise_id=ent.id, region_code=ent.region_id, inspection_id=inspection.id if inspection else None,
        bureau_code=bureau, year=year, seq_no=seq_no, number=number, cause=cause, source=data.get("source"),
        summary=data.get("summary"), opened_at=now, opened_by_id=actor.id, status="open",
    )
    case.hazards = hazards
    session.add(case)
    session.flush()
    record_event(session, actor, "case.open", case, to_state="open", reason=data.get("reason"),
                 data={"number": number, "cause": cause, "hazard_ids": [h.id for h in hazards],
                       "inspection_id": case.inspection_id})
    return case


def _lock_case(session: Session, actor: Actor, case: EnforcementCase) -> EnforcementCase:
    session.flush()
    if actor.user is not None and session.scalar(select(EnforcementCase.id).where(
            EnforcementCase.id == case.id, scope_clause(EnforcementCase, actor.user))) is None:
        from ...errors import NotFound

        raise NotFound("案件不存在 (case not found)")
    session.refresh(case, with_for_update=True)
    return case


def record_penalty(session: Session, actor: Actor, case: EnforcementCase, data: dict,
                   default_bureau: str) -> PenaltyDecision:
    """行政处罚决定: kind, amount (fines only, > 0 yuan), decided_on, target (unit/person), basis?."""
    _require_role(actor)
    kind = data.get("kind")
    if kind not in PENALTY_KINDS:
        raise _field_error("kind", "处罚种类无效 (unknown penalty kind)")
    amount = data.get("amount")
    if amount is not None:
        amount = Decimal(str(amount))
    if kind == "fine":
        if amount is None or amount <= 0:
            raise _field_error("amount", "罚款须有金额 (a fine needs an amount in yuan > 0)")
    elif amount is not None:
        raise _field_error("amount", "只有罚款有金额 (only fines carry an amount)")
    decided_on = data.get("decided_on") or _today()
    if decided_on > _today():
        raise _field_error("decided_on", "决定日期不能晚于今天 (decision date in the future)")
    target = data.get("target") or "unit"
    if target not in ("unit", "person"):
        raise _field_error("target", "处罚对象须为 unit 或 person")
    allocate_seq(session, 0)
    _lock_case(session, actor, case)
    ensure_not_archived(session, "enforcement_cases", case.id)
    if case.status == "closed":
        raise InvalidCaseState("已结案的案件不能再作出处罚 (the case is closed)",
                               details={"action": "record_penalty", "status": case.status, "reason": "state"})
    bureau, year, seq_no, number = assign_number(session, "penalty", case.region_code, utcnow(), default_bureau)
    decision = PenaltyDecision(
        case_id=case.id, enterprise_id=case.enterprise_id, region_code=case.region_code, kind=kind, target=target,
        amount=amount, decided_on=decided_on, payment_status="unpaid" if kind == "fine" else "not_applicable",
        bureau_code=bureau, year=year, seq_no=seq_no, number=number, basis=data.get("basis"),
        decided_by_id=actor.id,
    )
    session.add(decision)
    before = case.status
    case.status = "decided"
    session.flush()
    record_event(session, actor, "penalty.decide", decision, to_state=decision.payment_status,
                 reason=data.get("reason"),
                 data={"case_id": case.id, "number": number, "kind": kind, "amount": amount,
                       "decided_on": decided_on, "target": target, "basis": decision.basis})
    if before != "decided":
        record_event(session, actor, "case.decide", case, from_state=before, to_state="decided",
                     data={"penalty_id": decision.id, "number": number})
    return decision


def record_payment(session: Session, actor: Actor, decision: PenaltyDecision, data: dict) -> PenaltyDecision:
    """罚款缴纳: paid_amount (> 0, at most the fine), paid_on (not in the future)."""
    _require_role(actor)
    allocate_seq(session, 0)
    session.flush()
    if actor.user is not None and session.scalar(select(PenaltyDecision.id).where(
            PenaltyDecision.id == decision.id, scope_clause(PenaltyDecision, actor.user))) is None:
        from ...errors import NotFound

        raise NotFound("处罚决定不存在 (penalty not found)")
    session.refresh(decision, with_for_update=True)
    ensure_not_archived(session, "penalty_decisions", decision.id)
    if decision.kind != "fine" or decision.payment_status != "unpaid":
        raise InvalidCaseState("该处罚没有待缴罚款 (nothing unpaid on this decision)",
                               details={"action": "record_payment", "status": decision.payment_status,
                                        "reason": "state"})
    paid = data.get("paid_amount")
    paid = Decimal(str(paid)) if paid is not None else None
    if paid is None or paid <= 0 or paid > decision.amount:
        raise _field_error("paid_amount", "缴纳金额须大于0且不超过罚款金额 (0 < paid amount ≤ fine)")
    paid_on = data.get("paid_on") or _today()
    if paid_on > _today() or paid_on < decision.decided_on:
        raise _field_error("paid_on", "缴纳日期须在决定日期与今天之间 (paid between decision date and today)")
    decision.payment_status = "paid"
    decision.paid_amount = paid
    decision.paid_on = paid_on
    session.flush()
    record_event(session, actor, "penalty.pay", decision, from_state="unpaid", to_state="paid",
                 reason=data.get("reason"), data={"paid_amount": paid, "paid_on": paid_on})
    return decision


def close_case(session: Session, actor: Actor, case: EnforcementCase, reason: str | None = None) -> EnforcementCase:
    """结案: a decided case whose fines are all paid (or with no fine) closes."""
    _require_role(actor)
    allocate_seq(session, 0)
    _lock_case(session, actor, case)
    ensure_not_archived(session, "enforcement_cases", case.id)
    if case.status != "decided":
        raise InvalidCaseState("只有已作出处罚决定的案件可以结案 (only decided cases close)",
                               details={"action": "close", "status": case.status, "reason": "state"})
    unpaid = [d.number for d in case.decisions if d.payment_status == "unpaid"]
    if unpaid:
        raise InvalidCaseState("尚有未缴纳的罚款 (fines still unpaid)",
                               details={"action": "close", "status": case.status, "reason": "guard",
                                        "unpaid": unpaid})
    case.status = "closed"
    case.closed_at = utcnow()
    session.flush()
    record_event(session, actor, "case.close", case, from_state="decided", to_state="closed", reason=reason)
    return case


def cases_stmt(user, *, status: str | None = None, enterprise_id: str | None = None, year: int | None = None):
    stmt = select(EnforcementCase).where(scope_clause(EnforcementCase, user))
    if status:
        stmt = stmt.where(EnforcementCase.status == status)
    if enterprise_id:
        stmt = stmt.where(EnforcementCase.enterprise_id == enterprise_id)
    if year:
        stmt = stmt.where(EnforcementCase.year == year)
    return stmt.order_by(EnforcementCase.opened_at.desc(), EnforcementCase.id)


def penalties_stmt(user, *, case_id: str | None = None, kind: str | None = None,
                   payment_status: str | None = None):
    stmt = select(PenaltyDecision).where(scope_clause(PenaltyDecision, user))
    if case_id:
        stmt = stmt.where(PenaltyDecision.case_id == case_id)
    if kind:
        stmt = stmt.where(PenaltyDecision.kind == kind)
    if payment_status:
        stmt = stmt.where(PenaltyDecision.payment_status == payment_status)
    return stmt.order_by(PenaltyDecision.decided_on.desc(), PenaltyDecision.id)


def get_case(session: Session, user, case_id: str) -> EnforcementCase:
    return get_scoped(session, EnforcementCase, case_id, user)


def get_penalty(session: Session, user, penalty_id: str) -> PenaltyDecision:
    return get_scoped(session, PenaltyDecision, penalty_id, user)
