"""The daily safety commitment (安全承诺) of an enterprise with a major hazard source.

An enterprise submits one commitment per Shanghai calendar day, for that day only (not another day,
not another enterprise): the state of each of its sources, the special operations under way (特殊作业)
and the responsible person. The bureau sees who has not submitted by its configured hour
(INSPECT_COMMITMENT_HOUR; the 10:00 default follows a provincial practice noted in docs/selfcheck.md,
not a national rule). Punctuality counts a commitment submitted by that hour.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden
from ...models import Enterprise, MajorHazardSource, SafetyCommitment, User, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import scope_clause
from ..lifecycle.numbering import SHANGHAI
from .common import field_error, local_today, require_enterprise_user, text

SPECIAL_OPERATIONS = {  # GB 30871 的特殊作业
    "hot_work": "动火作业", "confined_space": "受限空间作业", "blind_plate": "盲板抽堵作业",
    "work_at_height": "高处作业", "lifting": "吊装作业", "temporary_power": "临时用电作业",
    "excavation": "动土作业", "road_closure": "断路作业",
}
SOURCE_STATES = ("normal", "abnormal")


def submit_commitment(session: Session, actor: Actor, data: dict) -> SafetyCommitment:
    enterprise_id = require_enterprise_user(actor.user)
    today = local_today()
    day = data.get("day") or today
    if not isinstance(day, date) or day != today:
        raise field_error("day", "只能提交当天的安全承诺 (only today's commitment can be submitted)")
    if data.get("enterprise_id") not in (None, enterprise_id):
        raise Forbidden("不能替其他企业提交承诺 (not for another enterprise)")
    sources = {s.id: s for s in session.scalars(select(MajorHazardSource).where(
        MajorHazardSource.enterprise_id == enterprise_id, MajorHazardSource.deleted_at.is_(None)))}
    if not sources:
        raise Conflict("本企业没有登记重大危险源，无需提交安全承诺 (no major hazard source registered)",
                       code="no_major_hazard_source")
    states = data.get("sources") or []
    given = {}
    for i, entry in enumerate(states if isinstance(states, list) else [None]):
        if not isinstance(entry, dict) or entry.get("source_id") not in sources \
                or entry.get("status") not in SOURCE_STATES:
            raise field_error(f"sources.{i}", "每个重大危险源须注明运行状态（正常/异常） (status of each source)")
        given[entry["source_id"]] = {"source_id": entry["source_id"], "name": sources[entry["source_id"]].name,
                                     "status": entry["status"], "note": text(entry, "note", max_len=500)}
    missing = [s.name for sid, s in sources.items() if sid not in given]
    if missing:
        raise field_error("sources", "以下重大危险源未填写运行状态：" + "、".join(missing))
    ops = data.get("special_operations") or {}
    if not isinstance(ops, dict) or any(k not in SPECIAL_OPERATIONS or isinstance(v, bool) or not isinstance(v, int)
                                        or not 0 <= v <= 999 for k, v in ops.items()):
        raise field_error("special_operations", "特殊作业须为作业类别及其数量 (operation kind: count 0..999)")
    commitment = SafetyCommitment(
        enterprise_id=enterprise_id, region_code=session.get(Enterprise, enterprise_id).region_id, day=today,
        sources=[given[sid] for sid in sorted(given)], special_operations={k: v for k, v in ops.items() if v},
        responsible_person=text(data, "responsible_person", required=True, max_len=100),
        note=text(data, "note", max_len=1000), submitted_by_id=actor.id, submitted_at=utcnow())
    try:
        with session.begin_nested():
            session.add(commitment)
            session.flush()
    except IntegrityError:
        raise Conflict("今日安全承诺已提交 (today's commitment was already submitted)",
                       code="commitment_exists") from None
    record_event(session, actor, "safety_commitment.submit", commitment, table="safety_commitments",
                 object_id=commitment.id, data={"day": today, "abnormal": [s["name"] for s in commitment.sources
                                                                           if s["status"] == "abnormal"]})
    return commitment


def deadline_of(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def commitment_board(session: Session, user: User, day: date, hour: int) -> dict:
    """For the bureau: the enterprises in scope that must commit, who did (on time or late) and who has not."""
    has_source = exists().where(MajorHazardSource.enterprise_id == Enterprise.id,
                                MajorHazardSource.deleted_at.is_(None))
    enterprises = list(session.scalars(select(Enterprise).where(scope_clause(Enterprise, user), has_source)
                                       .order_by(Enterprise.region_id, Enterprise.name)))
    got = {c.enterprise_id: c for c in session.scalars(select(SafetyCommitment).where(
        scope_clause(SafetyCommitment, user), SafetyCommitment.day == day))}
    deadline = deadline_of(day, hour)
    rows = []
    for ent in enterprises:
        c = got.get(ent.id)
        state = "missing" if c is None else ("on_time" if c.submitted_at <= deadline else "late")
        rows.append({"enterprise": ent, "commitment": c, "state": state})
    return {"day": day, "deadline": deadline, "rows": rows,
            "missing": sum(1 for r in rows if r["state"] == "missing"),
            "after_deadline": utcnow() > deadline}
