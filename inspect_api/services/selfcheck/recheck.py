"""地方复核: the bureau re-checks a random sample of the hazards enterprises closed themselves.

The sample is reproducible and verifiable, like the 双随机 draw: the candidates are every hazard of the
region found by the enterprise itself (origin "self") and closed by the enterprise in the period, in id
order; a 32-byte seed is drawn from the operating system's CSPRNG and recorded; each candidate's key is
HMAC-SHA256(seed, hazard id) and the sample is the ``size`` candidates with the smallest keys (algorithm
``hmac-sha256-rank/1``, docs/selfcheck.md). Anyone holding the record re-computes the same sample
(``verify_sample``). A sample is never re-drawn silently: drawing again for a region and period that
has one needs a reason and names the sample it replaces, and both stay on record.

The inspector's result: ``confirmed`` (the fix holds) or ``not_fixed`` — the hazard is reopened
(lifecycle ``reopen``) and ordered again with a rectification notice, in one step.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound
from ...models import Hazard, RecheckSample, RecheckTask, Region, User, region_prefix, utcnow
from ...models.selfcheck import RECHECK_RESULTS
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped, region_in_scope
from ..lifecycle.hazards import transition
from ..lifecycle.notices import issue_notice
from ..lifecycle.numbering import SHANGHAI
from .common import field_error, require_role, text

ALGORITHM = "hmac-sha256-rank/1"
MAX_SIZE = 500


def rank(seed_hex: str, candidates: list[str], size: int) -> list[str]:
    """The sample: the ``size`` candidates with the smallest HMAC-SHA256(seed, id), smallest first."""
    key = bytes.fromhex(seed_hex)
    keyed = sorted((hmac.new(key, cid.encode("utf-8"), hashlib.sha256).hexdigest(), cid) for cid in candidates)
    return [cid for _, cid in keyed[:size]]


def _period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    return (datetime.combine(period_from, time(0), tzinfo=SHANGHAI),
            datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=SHANGHAI))


def candidates_for(session: Session, region_code: str, period_from: date, period_to: date) -> list[str]:
    lo, hi = _period_bounds(period_from, period_to)
    closers = select(User.id).where(User.role == "enterprise")
    return list(session.scalars(select(Hazard.id).where(
        Hazard.region_code.like(region_prefix(region_code) + "%"), Hazard.origin == "self",
        Hazard.status == "closed", Hazard.closed_by_id.in_(closers), Hazard.closed_at >= lo, Hazard.closed_at < hi,
        Hazard.deleted_at.is_(None)).order_by(Hazard.id)))


def draw_sample(session: Session, actor: Actor, data: dict) -> RecheckSample:
    user = actor.user
    require_role(user, "supervisor")
    region = data.get("region_code") or user.region_id
    if not region or session.get(Region, region) is None or not region_in_scope(user, region):
        raise field_error("region_code", "须为本辖区 (a region of your jurisdiction)")
    period_from, period_to = data.get("period_from"), data.get("period_to")
    if not isinstance(period_from, date) or not isinstance(period_to, date) or period_from > period_to \
            or (period_to - period_from).days > 366:
        raise field_error("period_from", "抽样期间无效（至多一年） (a period of at most one year)")
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise field_error("size", f"抽样数量须为 1～{MAX_SIZE} (size 1..{MAX_SIZE})")
    earlier = session.scalars(select(RecheckSample).where(
        RecheckSample.region_code == region, RecheckSample.period_from == period_from,
        RecheckSample.period_to == period_to).order_by(RecheckSample.drawn_at.desc())).first()
    reason = text(data, "reason", max_len=500)
    if earlier is not None and (data.get("replaces_id") != earlier.id or not reason):
        raise Conflict("该辖区该期间已有复核抽样；重新抽取须注明理由并指明被替代的抽样 "
                       "(a sample exists: a new draw needs a reason and replaces_id)",
                       code="sample_exists", details={"sample_id": earlier.id})
    candidates = candidates_for(session, region, period_from, period_to)
    seed = secrets.token_hex(32)
    drawn = rank(seed, candidates, size)
    sample = RecheckSample(region_code=region, period_from=period_from, period_to=period_to, size=size, seed=seed,
                           algorithm=ALGORITHM, candidates=candidates, drawn=drawn, reason=reason,
                           replaces_id=earlier.id if earlier else None, drawn_by_id=user.id, drawn_at=utcnow())
    session.add(sample)
    session.flush()
    hazards = {h.id: h for h in session.scalars(select(Hazard).where(Hazard.id.in_(drawn)))} if drawn else {}
    for pos, hid in enumerate(drawn, 1):
        h = hazards[hid]
        session.add(RecheckTask(sample_id=sample.id, position=pos, hazard_id=hid, enterprise_id=h.enterprise_id,
                                region_code=h.region_code))
    session.flush()
    record_event(session, actor, "recheck_sample.draw", sample, table="recheck_samples", object_id=sample.id,
                 reason=reason, data={"region_code": region, "period": [period_from, period_to], "size": size,
                                      "candidates": len(candidates), "drawn": drawn, "seed": seed,
                                      "algorithm": ALGORITHM, "replaces_id": sample.replaces_id})
    return sample


def verify_sample(sample: RecheckSample) -> dict:
    """Re-compute the sample from its record; ``ok`` when the drawn list is the same."""
    if sample.algorithm != ALGORITHM:
        return {"ok": False, "reason": f"unknown algorithm {sample.algorithm}"}
    again = rank(sample.seed, list(sample.candidates), sample.size)
    return {"ok": again == list(sample.drawn), "drawn": again, "algorithm": ALGORITHM,
            "candidates": len(sample.candidates)}


def samples_stmt(user: User):
    """The samples of the user's jurisdiction (supervisors and inspectors), every one for admins."""
    if user.role == "admin":
        return select(RecheckSample).order_by(RecheckSample.drawn_at.desc())
    if user.role not in ("supervisor", "inspector") or not user.region_id:
        return select(RecheckSample).where(RecheckSample.id.is_(None))
    return select(RecheckSample).where(RecheckSample.region_code.like(region_prefix(user.region_id) + "%")) \
        .order_by(RecheckSample.drawn_at.desc())


def get_sample(session: Session, user: User, sample_id: str) -> RecheckSample:
    sample = session.scalars(samples_stmt(user).where(RecheckSample.id == sample_id)).first()
    if sample is None:
        raise NotFound("复核抽样不存在 (sample not found)")
    return sample


def record_result(session: Session, actor: Actor, task: RecheckTask, data: dict) -> RecheckTask:
    """An inspector's re-check: confirmed, or not fixed (reopen + a notice with a deadline and officer 2)."""
    require_role(actor.user, "inspector")
    task = get_scoped(session, RecheckTask, task.id, actor.user, for_update=True)
    if task.status == "done":
        raise Conflict("该复核任务已有结果 (this re-check already has a result)", code="recheck_done")
    result = data.get("result")
    if result not in RECHECK_RESULTS:
        raise field_error("result", "复核结果须为确认整改到位或未整改到位 (confirmed / not_fixed)")
    note = text(data, "note", required=(result == "not_fixed"), max_len=2000)
    hazard = get_scoped(session, Hazard, task.hazard_id, actor.user)
    with session.begin_nested():
        if result == "not_fixed":
            transition(session, actor, hazard, "reopen", recheck=task, reason=note)
            notice = issue_notice(session, actor, {
                "hazard_ids": [hazard.id], "deadline_at": data.get("deadline_at"),
                "officer2_id": data.get("officer2_id"), "reason": note}, data["default_bureau"])
            task.notice_id = notice.id
        task.status, task.result, task.note = "done", result, note
        task.inspector_id, task.done_at = actor.id, utcnow()
        session.flush()
        record_event(session, actor, "recheck_task.result", task, table="recheck_tasks", object_id=task.id,
                     reason=note, data={"result": result, "hazard_id": hazard.id, "notice_id": task.notice_id})
    return task
