"""The bureau's view of self-inspection, per enterprise and per region, over a period:

- found by the enterprise itself vs by inspectors (hazards found in the period, by ``origin``); an
  enterprise whose inspectors keep finding what its own checks miss stands out (``self_share`` low);
- self-check completion: checks done / checks settled (done, or missed because their period ended
  without one), over the due periods that overlap the period;
- commitment punctuality: commitments submitted by the bureau's hour / days an enterprise with a
  major hazard source had to commit (days in the period up to today);
- re-check disagreement: re-checks found "not fixed" / re-checks done.
Ratios are None when their denominator is 0 (nothing to judge), never 0 % or 100 % by default.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import (
    Enterprise, Hazard, MajorHazardSource, RecheckTask, SafetyCommitment, SelfCheckDue, User, utcnow,
)
from ..access.scope import scope_clause
from ..lifecycle.numbering import SHANGHAI
from .commitments import deadline_of
from .common import local_today


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def selfcheck_statistics(session: Session, user: User, period_from: date, period_to: date, hour: int) -> dict:
    lo = datetime.combine(period_from, time(0), tzinfo=SHANGHAI)
    hi = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    per: dict[str, dict] = defaultdict(lambda: {"self_found": 0, "inspector_found": 0, "checks_done": 0,
                                                "checks_missed": 0, "commit_on_time": 0, "commit_late": 0,
                                                "commit_days": 0, "rechecks": 0, "not_fixed": 0})
    for ent_id, origin, n in session.execute(
            select(Hazard.enterprise_id, Hazard.origin, func.count()).where(
                scope_clause(Hazard, user), Hazard.deleted_at.is_(None), Hazard.found_at >= lo, Hazard.found_at < hi)
            .group_by(Hazard.enterprise_id, Hazard.origin)):
        per[ent_id]["self_found" if origin == "self" else "inspector_found"] += n
    for ent_id, status, n in session.execute(
            select(SelfCheckDue.enterprise_id, SelfCheckDue.status, func.count()).where(
                scope_clause(SelfCheckDue, user), SelfCheckDue.period_start <= period_to,
                SelfCheckDue.period_end >= period_from, SelfCheckDue.status.in_(("done", "missed")))
            .group_by(SelfCheckDue.enterprise_id, SelfCheckDue.status)):
        per[ent_id]["checks_done" if status == "done" else "checks_missed"] += n
    for c in session.scalars(select(SafetyCommitment).where(
            scope_clause(SafetyCommitment, user), SafetyCommitment.day >= period_from,
            SafetyCommitment.day <= period_to)):
        per[c.enterprise_id]["commit_on_time" if c.submitted_at <= deadline_of(c.day, hour) else "commit_late"] += 1
    last_day = min(period_to, local_today())
    days = max(0, (last_day - period_from).days + 1)
    committing = session.execute(select(Enterprise.id, func.min(MajorHazardSource.created_at)).join(
        MajorHazardSource, MajorHazardSource.enterprise_id == Enterprise.id).where(
        scope_clause(Enterprise, user), MajorHazardSource.deleted_at.is_(None)).group_by(Enterprise.id))
    for ent_id, since in committing:
        first = max(period_from, since.astimezone(SHANGHAI).date()) if since else period_from
        per[ent_id]["commit_days"] += max(0, (last_day - first).days + 1) if days else 0
    for ent_id, result, n in session.execute(
            select(RecheckTask.enterprise_id, RecheckTask.result, func.count()).where(
                scope_clause(RecheckTask, user), RecheckTask.status == "done", RecheckTask.done_at >= lo,
                RecheckTask.done_at < hi).group_by(RecheckTask.enterprise_id, RecheckTask.result)):
        per[ent_id]["rechecks"] += n
        if result == "not_fixed":
            per[ent_id]["not_fixed"] += n
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(per)))).all()) \
        if per else {}
    regions = dict(session.execute(select(Enterprise.id, Enterprise.region_id).where(
        Enterprise.id.in_(list(per)))).all()) if per else {}
    rows = [_row(ent_id, names.get(ent_id, ""), regions.get(ent_id), v) for ent_id, v in per.items()]
    rows.sort(key=lambda r: (r["self_share"] if r["self_share"] is not None else 2, r["name"]))
    by_region: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for key in ("self_found", "inspector_found", "checks_done", "checks_missed", "commit_on_time",
                    "commit_late", "commit_days", "rechecks", "not_fixed"):
            by_region[r["region_code"]][key] += r[key]
    region_rows = [_row(None, "", code, dict(v)) for code, v in sorted(by_region.items())]
    total = defaultdict(int)
    for r in region_rows:
        for key, value in r.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[key] += value
    return {"period": {"from": period_from, "to": period_to}, "commitment_hour": hour,
            "enterprises": rows, "regions": region_rows, "total": _row(None, "合计", None, dict(total)),
            "generated_at": utcnow()}


def _row(ent_id, name, region, v: dict) -> dict:
    found = v.get("self_found", 0) + v.get("inspector_found", 0)
    return {
        "enterprise_id": ent_id, "name": name, "region_code": region,
        **{k: v.get(k, 0) for k in ("self_found", "inspector_found", "checks_done", "checks_missed",
                                    "commit_on_time", "commit_late", "commit_days", "rechecks", "not_fixed")},
        "self_share": _ratio(v.get("self_found", 0), found),
        "check_completion": _ratio(v.get("checks_done", 0), v.get("checks_done", 0) + v.get("checks_missed", 0)),
        "commitment_punctuality": _ratio(v.get("commit_on_time", 0), v.get("commit_days", 0)),
        "disagreement_rate": _ratio(v.get("not_fixed", 0), v.get("rechecks", 0)),
    }
