"""The 双随机 draw: a pure, documented algorithm over recorded inputs (docs/planning.md, "The draw").

ALGORITHM "hmac-sha256-v1". Inputs, all recorded on the draw:
  seed           64 hex digits (32 random bytes from the operating system's CSPRNG), used as the HMAC key
                 (the 32 bytes, not the hex text)
  enterprise_ids the eligible enterprise ids after the filters, sorted by code point
  inspectors     [[user id, 执法证号], …] of the eligible inspectors, sorted by 执法证号
  exclusions     {enterprise id: [user ids]} recusals and declared conflicts
  sample_size    how many enterprises to draw
Steps:
  1. For each enterprise id e: k(e) = HMAC-SHA256(seed, "E|" + e) as lowercase hex. Sort the enterprises
     by (k(e), e) ascending and take the first sample_size (all if fewer).
  2. N = number of inspectors, S = number drawn, limit = ceil(2·S / N); Load(i) = 0 for every inspector.
     For each drawn enterprise e, in that order, for n = 0, 1, 2, …: j = int(HMAC-SHA256(seed, "I|" + e +
     "|" + n), as a 256-bit big-endian number) mod N; inspector i = inspectors[j] is taken when it is not in
     exclusions[e], not already taken for e, and Load(i) < limit (after 8·N tries the Load condition is
     dropped for e); stop at two. The first taken is the lead, the second the co-inspector; each Load goes
     up by one. When 16·N tries give fewer than two (too many recusals), e gets no pair (manual task).
  3. The result is [[e, lead user id or null, co user id or null], …] in draw order.
Digests: SHA-256 of the canonical JSON (UTF-8, keys sorted, no spaces, ensure_ascii false) of the inputs
and of the result; both are written to the append-only audit log when the draw is made.
"""
from __future__ import annotations

import hashlib
import json

ALGORITHM = "hmac-sha256-v1"


def canonical_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(value) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def canonical_inputs(seed: str, enterprise_ids, inspectors, exclusions, sample_size: int) -> dict:
    """The inputs in their canonical order, as recorded and hashed."""
    return {
        "algorithm": ALGORITHM,
        "seed": seed.lower(),
        "enterprise_ids": sorted(set(enterprise_ids)),
        "inspectors": sorted(([str(u), str(c)] for u, c in inspectors), key=lambda p: (p[1], p[0])),
        "exclusions": {e: sorted(set(ids)) for e, ids in sorted(exclusions.items()) if ids},
        "sample_size": int(sample_size),
    }


def hmac_sha256(key: bytes):
    """HMAC-SHA256 with ``key`` (RFC 2104), the pads hashed once: the same bytes as ``hmac.digest(key, m,
    "sha256")``, about three times faster here (OpenSSL 3 sets up every one-shot HMAC anew)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> bytes:
        inner = inner0.copy()
        inner.update(message)
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.digest()

    return mac


def run(inputs: dict) -> list[list]:
    """Steps 1–3 of the module docstring over canonical inputs."""
    if inputs["algorithm"] != ALGORITHM:
        raise ValueError(f"unknown draw algorithm {inputs['algorithm']}")
    mac = hmac_sha256(bytes.fromhex(inputs["seed"]))
    ranked = sorted((mac(("E|" + e).encode("utf-8")).hex(), e) for e in inputs["enterprise_ids"])
    chosen = [e for _, e in ranked[: max(0, inputs["sample_size"])]]
    inspectors = inputs["inspectors"]
    n_insp = len(inspectors)
    limit = -(-2 * len(chosen) // n_insp) if n_insp else 0
    load = [0] * n_insp
    exclusions = inputs["exclusions"]
    result = []
    for e in chosen:
        pair = _pair(mac, e, inspectors, set(exclusions.get(e, ())), load, limit)
        if pair is None:
            result.append([e, None, None])
            continue
        for j in pair:
            load[j] += 1
        result.append([e, inspectors[pair[0]][0], inspectors[pair[1]][0]])
    return result


def _pair(mac, e: str, inspectors, barred: set, load: list, limit: int):
    n_insp = len(inspectors)
    taken: list[int] = []
    prefix = ("I|" + e + "|").encode("utf-8")
    for n in range(16 * n_insp):
        j = int.from_bytes(mac(prefix + str(n).encode("ascii")), "big") % n_insp
        if j in taken or inspectors[j][0] in barred:
            continue
        if n < 8 * n_insp and load[j] >= limit:
            continue
        taken.append(j)
        if len(taken) == 2:
            return taken
    return None


# ------------------------------------------------------------------ the draw as a record (database side)

import secrets  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from sqlalchemy import func, or_, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ...errors import Conflict, ValidationError  # noqa: E402
from ...models import (  # noqa: E402
    AuditEvent, Enterprise, Inspection, InspectionPlan, InspectionTask, PlanDraw, User, region_prefix, utcnow,
)
from ..access.actor import Actor  # noqa: E402
from ..access.audit import record_event  # noqa: E402
from ..access.scope import get_scoped, select_scoped  # noqa: E402
from .rules import DrawMismatch, OPEN_TASK_STATUSES, in_jurisdiction  # noqa: E402

RISK_COLORS = ("red", "orange", "yellow", "blue")


def _check_request(plan: InspectionPlan, data: dict) -> dict:
    if plan.status not in ("approved", "published"):
        raise Conflict("计划未批准，不能抽取 (draw from an approved plan)", code="invalid_transition",
                       details={"status": plan.status})
    start, end = data["period_start"], data["period_end"]
    if end < start or start.year != plan.year or end.year != plan.year:
        raise ValidationError("抽查期间须在计划年度内且起止有序 (the period must lie in the plan year)",
                              details={"fields": {"period_end": ["Before period_start or outside the year."]}})
    filters = {
        "regions": sorted(set(data.get("regions") or [])),
        "industries": sorted(set(data.get("industries") or [])),
        "risk_colors": sorted(set(data.get("risk_colors") or [])),
        "exclude_key": bool(data.get("exclude_key", True)),
        "conflicts": sorted({(c["enterprise_id"], c["inspector_id"]) for c in data.get("conflicts") or []}),
    }
    bad = [r for r in filters["regions"] if not in_jurisdiction(r, plan.region_code)]
    if bad or any(c not in RISK_COLORS for c in filters["risk_colors"]):
        raise ValidationError("筛选条件超出本辖区或无效 (filters outside the jurisdiction or invalid)",
                              details={"fields": {"regions": bad, "risk_colors": filters["risk_colors"]}})
    filters["conflicts"] = [list(c) for c in filters["conflicts"]]
    return filters


def _eligible_enterprises(session: Session, plan: InspectionPlan, start: date, end: date, f: dict) -> list[str]:
    from .rules import year_bounds

    E = Enterprise
    stmt = select(E.id).where(E.deleted_at.is_(None), E.region_id.like(region_prefix(plan.region_code) + "%"))
    if f["regions"]:
        stmt = stmt.where(or_(*[E.region_id.like(region_prefix(r) + "%") for r in f["regions"]]))
    if f["industries"]:
        stmt = stmt.where(E.industry.in_(f["industries"]))
    if f["risk_colors"]:
        stmt = stmt.where(E.risk_color.in_(f["risk_colors"]))
    ids = set(session.scalars(stmt))
    if f["exclude_key"]:
        ids -= set(plan.key_enterprise_ids or [])
    lo, hi = _utc_range(start, end)
    # not already inspected (or tasked) in the period
    ids -= set(session.scalars(select(Inspection.enterprise_id).where(
        Inspection.deleted_at.is_(None), Inspection.status == "submitted",
        func.coalesce(Inspection.started_at, Inspection.created_at) >= lo,
        func.coalesce(Inspection.started_at, Inspection.created_at) < hi)))
    ids -= set(session.scalars(select(InspectionTask.enterprise_id).where(
        InspectionTask.deleted_at.is_(None), InspectionTask.status.in_(OPEN_TASK_STATUSES + ("done",)),
        InspectionTask.window_start_at < hi, InspectionTask.window_end_at >= lo)))
    if plan.annual_cap is not None:
        ids -= _at_cap(session, ids, plan.year, plan.annual_cap, year_bounds(plan.year))
    return sorted(ids)


def _at_cap(session: Session, ids: set, year: int, cap: int, bounds) -> set:
    lo, hi = bounds
    counts: dict[str, int] = {}
    for eid, n in session.execute(select(InspectionTask.enterprise_id, func.count()).where(
            InspectionTask.deleted_at.is_(None), InspectionTask.status.in_(OPEN_TASK_STATUSES + ("done",)),
            InspectionTask.window_start_at >= lo, InspectionTask.window_start_at < hi)
            .group_by(InspectionTask.enterprise_id)):
        counts[eid] = counts.get(eid, 0) + n
    for eid, n in session.execute(select(Inspection.enterprise_id, func.count()).where(
            Inspection.deleted_at.is_(None), Inspection.task_id.is_(None), Inspection.status == "submitted",
            func.coalesce(Inspection.started_at, Inspection.created_at) >= lo,
            func.coalesce(Inspection.started_at, Inspection.created_at) < hi).group_by(Inspection.enterprise_id)):
        counts[eid] = counts.get(eid, 0) + n
    return {e for e in ids if counts.get(e, 0) >= cap}


def _utc_range(start: date, end: date):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    return (datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(timezone.utc),
            datetime(end.year, end.month, end.day, tzinfo=tz).astimezone(timezone.utc) + timedelta(days=1))


def _inspectors_and_recusals(session: Session, plan: InspectionPlan, start: date, end: date, f: dict):
    """Certified active inspectors of the jurisdiction; recusals: who inspected the enterprise in the
    previous period (the same length, just before period_start), and declared conflicts."""
    people = session.execute(select(User.id, User.certificate_no).where(
        User.role == "inspector", User.is_active.is_(True), User.certificate_no.is_not(None),
        User.certificate_no != "", User.region_id.like(region_prefix(plan.region_code) + "%"))).all()
    inspectors = [[u, c.strip()] for u, c in people]
    prev_start = start - (end - start) - timedelta(days=1)
    lo, hi = _utc_range(prev_start, start - timedelta(days=1))
    exclusions: dict[str, set] = {}
    for ent, lead, co in session.execute(select(
            Inspection.enterprise_id, Inspection.lead_inspector_id, Inspection.co_inspector_id).where(
            Inspection.deleted_at.is_(None), Inspection.status == "submitted",
            Inspection.region_code.like(region_prefix(plan.region_code) + "%"),
            func.coalesce(Inspection.started_at, Inspection.created_at) >= lo,
            func.coalesce(Inspection.started_at, Inspection.created_at) < hi)):
        exclusions.setdefault(ent, set()).update(x for x in (lead, co) if x)
    for ent, uid in f["conflicts"]:
        exclusions.setdefault(ent, set()).add(uid)
    return inspectors, exclusions


def make_draw(session: Session, actor: Actor, plan: InspectionPlan, data: dict, *,
              supersedes: PlanDraw | None = None, seed: str | None = None) -> PlanDraw:
    """Freeze the eligible register, draw, record everything, audit the digests."""
    filters = _check_request(plan, data)
    start, end = data["period_start"], data["period_end"]
    enterprise_ids = _eligible_enterprises(session, plan, start, end, filters)
    inspectors, exclusions = _inspectors_and_recusals(session, plan, start, end, filters)
    if len(inspectors) < 2:
        raise ValidationError("辖区内持证执法人员不足两名 (fewer than two certified inspectors)", code="no_inspectors")
    size = data.get("sample_size") or plan.ordinary_count
    if size < 1:
        raise ValidationError("抽取数量须大于零 (sample_size must be positive)",
                              details={"fields": {"sample_size": ["Must be >= 1."]}})
    chosen = set(enterprise_ids)
    inputs = canonical_inputs(seed or secrets.token_hex(32), enterprise_ids, inspectors,
                              {e: ids for e, ids in exclusions.items() if e in chosen}, size)
    result = run(inputs)
    draw = PlanDraw(plan_id=plan.id, region_code=plan.region_code, period_label=data["period_label"],
                    period_start=start, period_end=end, algorithm=ALGORITHM, seed=inputs["seed"], filters=filters,
                    sample_size=size, enterprise_ids=inputs["enterprise_ids"], inspectors=inputs["inspectors"],
                    exclusions=inputs["exclusions"], result=result, input_digest=digest(inputs),
                    result_digest=digest(result), status="published", drawn_by_id=actor.id, drawn_at=utcnow(),
                    supersedes_id=supersedes.id if supersedes else None, reason=data.get("reason"))
    session.add(draw)
    session.flush()
    record_event(session, actor, "draw.made", draw, to_state="published", reason=data.get("reason"),
                 data={"plan_id": plan.id, "input_digest": draw.input_digest, "result_digest": draw.result_digest,
                       "algorithm": ALGORITHM, "eligible": len(enterprise_ids), "inspectors": len(inspectors),
                       "drawn": len(result), "supersedes": draw.supersedes_id})
    return draw


def redraw(session: Session, actor: Actor, old: PlanDraw, data: dict) -> PlanDraw:
    """A new draw replacing ``old``, with a reason; tasks made from the old one stay as they are."""
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise ValidationError("重新抽取须说明理由 (a re-draw needs a reason)", details={"fields": {"reason": ["Required."]}})
    if old.status != "published":
        raise Conflict("该抽取已被替代 (this draw was already replaced)", code="invalid_transition")
    request = {"period_label": old.period_label, "period_start": old.period_start, "period_end": old.period_end,
               "regions": old.filters.get("regions"), "industries": old.filters.get("industries"),
               "risk_colors": old.filters.get("risk_colors"), "exclude_key": old.filters.get("exclude_key", True),
               "conflicts": [{"enterprise_id": e, "inspector_id": u} for e, u in old.filters.get("conflicts", [])],
               "sample_size": old.sample_size, **{k: v for k, v in data.items() if v is not None}, "reason": reason}
    plan = session.get(InspectionPlan, old.plan_id)
    new = make_draw(session, actor, plan, request, supersedes=old)
    old.status = "superseded"
    record_event(session, actor, "draw.superseded", old, from_state="published", to_state="superseded",
                 reason=reason, data={"by": new.id})
    return new


def recorded_inputs(draw: PlanDraw) -> dict:
    return {"algorithm": draw.algorithm, "seed": draw.seed, "enterprise_ids": draw.enterprise_ids,
            "inspectors": draw.inspectors, "exclusions": draw.exclusions, "sample_size": draw.sample_size}


def verify_draw(session: Session, draw: PlanDraw, claimed: dict | None = None) -> dict:
    """Re-run the draw from its record. ``claimed`` inputs that differ from the record are refused."""
    inputs = recorded_inputs(draw)
    if claimed:
        differ = sorted(k for k, v in claimed.items() if k in inputs and v is not None and v != inputs[k])
        if differ:
            raise DrawMismatch(details={"fields": differ})
    result = run(inputs)
    audited = session.scalar(select(AuditEvent.data).where(
        AuditEvent.object_table == "plan_draws", AuditEvent.object_id == draw.id, AuditEvent.action == "draw.made")
        .order_by(AuditEvent.id).limit(1)) or {}
    checks = {
        "input_digest": digest(inputs) == draw.input_digest == audited.get("input_digest"),
        "result_digest": digest(result) == draw.result_digest == audited.get("result_digest"),
        "result": result == draw.result,
    }
    return {"draw_id": draw.id, "algorithm": draw.algorithm, "verified": all(checks.values()), "checks": checks,
            "input_digest": digest(inputs), "result_digest": digest(result), "drawn": len(result)}


def draws_stmt(user, plan_id: str | None = None):
    stmt = select_scoped(PlanDraw, user)
    if plan_id:
        stmt = stmt.where(PlanDraw.plan_id == plan_id)
    return stmt.order_by(PlanDraw.drawn_at.desc())


def get_draw(session: Session, user, draw_id: str) -> PlanDraw:
    return get_scoped(session, PlanDraw, draw_id, user)
