"""A duty holder's self-check, and the enterprise's own findings (企业自查).

A check is recorded by the current holder of the duty role on that source (anyone else: refused), on
a published checklist, pass / fail / n.a. per item, with the hazards it found. Those hazards go into
the one hazards table and the one lifecycle (services/lifecycle/hazards.py) with ``origin = "self"``:
a general one is fixed and closed by the enterprise itself (``self_close``, with what was done); a
major one goes to the bureau as an inspector's finding does (the five-point plan, 挂牌督办, and only a
supervisor closes it).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound
from ...models import ChecklistItem, ChecklistTemplate, Hazard, Rectification, SelfCheck, SelfCheckDue, User, utcnow
from ...models.selfcheck import CHECK_RESULTS
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped
from ..criteria import rules as criteria_rules
from ..lifecycle.hazards import transition
from .common import field_error, local_today, require_enterprise_user, text
from .sources import get_source, holder_for_user

MAX_HAZARDS = 50


def record_check(session: Session, actor: Actor, data: dict) -> SelfCheck:
    """Record a check: data = source_id, role, due_id?, template_id?, results [{item_id, result, note?}],
    hazards [{description, location?, grade?, major_criterion_code?}], note?."""
    user = actor.user
    require_enterprise_user(user)
    due = None
    if data.get("due_id"):
        due = get_scoped(session, SelfCheckDue, data["due_id"], user)
        source_id, role = due.source_id, due.role
        if due.status != "due":
            raise Conflict("该项自查已完成或已逾期关闭 (this due check is no longer open)", code="due_closed",
                           details={"status": due.status})
    else:
        source_id, role = data.get("source_id"), data.get("role")
        if not source_id:
            raise field_error("source_id", "须选择重大危险源 (source_id)")
    source = get_source(session, user, source_id)
    holder = holder_for_user(session, user, source.id, role)
    results = _results(session, data)
    hazards_in = data.get("hazards") or []
    if not isinstance(hazards_in, list) or len(hazards_in) > MAX_HAZARDS:
        raise field_error("hazards", f"隐患须为列表，至多 {MAX_HAZARDS} 项 (a list of at most {MAX_HAZARDS})")
    check = SelfCheck(due_id=due.id if due else None, source_id=source.id, enterprise_id=source.enterprise_id,
                      region_code=source.region_code, holder_id=holder.id, role=role,
                      template_id=data.get("template_id") or None, checked_at=utcnow(), results=results,
                      note=text(data, "note", max_len=2000), recorded_by_id=user.id)
    session.add(check)
    session.flush()
    found = [report_hazard(session, actor, {**h, "self_check_id": check.id}, source=source)
             for h in hazards_in]
    if due is not None:
        due.status, due.check_id = "done", check.id
    record_event(session, actor, "self_check.record", check, table="self_checks", object_id=check.id,
                 data={"source_id": source.id, "role": role, "due_id": check.due_id,
                       "failed": sum(1 for r in results if r["result"] == "fail"),
                       "hazard_ids": [h.id for h in found]})
    session.flush()
    return check


def _results(session: Session, data: dict) -> list[dict]:
    template_id = data.get("template_id") or None
    raw = data.get("results") or []
    if not isinstance(raw, list):
        raise field_error("results", "检查结果须为列表 (a list)")
    if template_id is None:
        if raw:
            raise field_error("template_id", "逐项结果须对应一张检查表 (results need a checklist)")
        return []
    if session.scalar(select(ChecklistTemplate.status).where(ChecklistTemplate.id == template_id)) != "published":
        raise field_error("template_id", "须为已发布的检查表 (a published checklist)")
    items = set(session.scalars(select(ChecklistItem.id).where(ChecklistItem.template_id == template_id)))
    out, seen = [], set()
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or entry.get("item_id") not in items or entry["item_id"] in seen:
            raise field_error(f"results.{i}", "检查项不属于该检查表或重复 (unknown or repeated item)")
        if entry.get("result") not in CHECK_RESULTS:
            raise field_error(f"results.{i}", "结果须为合格、不合格或不适用 (pass / fail / na)")
        seen.add(entry["item_id"])
        out.append({"item_id": entry["item_id"], "result": entry["result"],
                    "note": text(entry, "note", max_len=500)})
    return out


def report_hazard(session: Session, actor: Actor, data: dict, *, source=None) -> Hazard:
    """The enterprise records a hazard it found itself (with or without a check): status found, origin self."""
    user = actor.user
    enterprise_id = require_enterprise_user(user)
    if source is None and data.get("source_id"):
        source = get_source(session, user, data["source_id"])
    description = text(data, "description", required=True, max_len=2000)
    found_at = utcnow()
    # the one grading rule (services/criteria): a major one needs a clause in force today for this industry
    judged = criteria_rules.judge(session, enterprise=user.enterprise, found_at=found_at,
                                  grade=data.get("grade") or "general", clause_id=data.get("criterion_clause_id"),
                                  code=data.get("major_criterion_code"), require_clause=True)
    region = source.region_code if source is not None else user.enterprise.region_id
    hazard = Hazard(enterprise_id=enterprise_id, region_code=region, description=description,
                    location=text(data, "location", max_len=300), status="found", found_at=found_at,
                    found_by_id=user.id, origin="self", self_check_id=data.get("self_check_id"), **judged)
    session.add(hazard)
    session.flush()
    record_event(session, actor, "hazard.self_report", hazard, to_state="found",
                 data={**judged, "self_check_id": hazard.self_check_id})
    return hazard


def self_close(session: Session, actor: Actor, hazard: Hazard, data: dict) -> Hazard:
    """自查自改: the enterprise records what it did and closes its own general finding (one step)."""
    require_enterprise_user(actor.user)
    completed = data.get("completed_on") or local_today()
    if not isinstance(completed, date) or completed > local_today():
        raise field_error("completed_on", "完成日期不能晚于今天 (completed_on cannot be in the future)")
    rect = Rectification(hazard_id=hazard.id, enterprise_id=hazard.enterprise_id, region_code=hazard.region_code,
                         description=text(data, "description", required=True, max_len=4000),
                         measures=text(data, "measures", max_len=4000),
                         responsible_person=text(data, "responsible_person", required=True, max_len=100),
                         funds=_funds(data.get("funds")), completed_on=completed, reported_by_id=actor.id,
                         reported_at=utcnow(), status="pending")
    with session.begin_nested():
        session.add(rect)
        session.flush()
        transition(session, actor, hazard, "self_close", rectification=rect, reason=data.get("reason"),
                   expected_version=data.get("expected_version"))
    return hazard


def _funds(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise field_error("funds", "资金须为数字（元） (funds must be a number of yuan)") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise field_error("funds", "资金须为不小于 0 的金额 (funds must be >= 0)")
    return amount.quantize(Decimal("0.01"))


def get_self_hazard(session: Session, user: User, hazard_id: str) -> Hazard:
    hazard = get_scoped(session, Hazard, hazard_id, user)
    if hazard.origin != "self":
        raise NotFound("hazard not found")
    return hazard
