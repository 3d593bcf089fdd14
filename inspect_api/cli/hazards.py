"""``flask --app wsgi hazards overdue``: overdue hazards per region, for cron."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Enterprise, Hazard, Notice, Region, region_prefix, utcnow
from ..services.lifecycle.documents import SHANGHAI
from ..services.lifecycle.hazards import overdue_clause


def overdue_by_region(session, now: datetime, region_code: str | None = None) -> list[dict]:
    """[{region_code, region_name, count, hazards: [...]}] sorted by region code; hazards by deadline."""
    stmt = (select(Hazard, Enterprise.name, Notice.number)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .outerjoin(Notice, Notice.id == Hazard.notice_id)
            .where(overdue_clause(now)))
    if region_code:
        stmt = stmt.where(Hazard.region_code.like(region_prefix(region_code) + "%"))
    stmt = stmt.order_by(Hazard.region_code, Hazard.deadline_at, Hazard.id)
    names = {r.id: r.name for r in session.scalars(select(Region))}
    groups: dict[str, dict] = {}
    for hazard, ent_name, number in session.execute(stmt):
        code = hazard.region_code
        group = groups.setdefault(code, {"region_code": code, "region_name": names.get(code, code), "count": 0,
                                         "hazards": []})
        group["count"] += 1
        group["hazards"].append({
            "id": hazard.id, "enterprise": ent_name, "description": hazard.description, "grade": hazard.grade,
            "status": hazard.status, "notice_number": number,
            "deadline": hazard.deadline_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            "days_overdue": (now - hazard.deadline_at).days,
        })
    return [groups[k] for k in sorted(groups)]


def register(app) -> None:
    group = AppGroup("hazards", help="Hazard lifecycle commands (隐患).")

    @group.command("overdue")
    @click.option("--region", "region_code", help="only this region's subtree (GB/T 2260 code)")
    @click.option("--json", "as_json", is_flag=True, help="JSON output instead of text")
    @click.option("--now", "now_text", help="reference time, ISO 8601 (default: now)")
    @click.option("--fail-if-any", is_flag=True, help="exit status 1 when any hazard is overdue (for cron alerts)")
    def overdue(region_code, as_json, now_text, fail_if_any):
        """List hazards past their deadline and not closed, per region (逾期未整改隐患)."""
        if now_text:
            now = datetime.fromisoformat(now_text)
            if now.tzinfo is None:
                now = now.replace(tzinfo=timezone.utc)
        else:
            now = utcnow()
        groups = overdue_by_region(db.session, now, region_code)
        total = sum(g["count"] for g in groups)
        if as_json:
            click.echo(json.dumps({"at": now.isoformat(), "total": total, "regions": groups}, ensure_ascii=False))
        else:
            stamp = now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            click.echo(f"逾期未整改隐患 overdue hazards at {stamp} (Asia/Shanghai): {total}")
            for g in groups:
                click.echo(f"\n{g['region_name']} ({g['region_code']}): {g['count']}")
                for h in g["hazards"]:
                    click.echo(f"  {h['id']}  {h['enterprise']}  期限 {h['deadline']}  逾期 {h['days_overdue']} 天  "
                               f"{h['status']}  {h['notice_number'] or '-'}  {h['description'][:40]}")
        if fail_if_any and total:
            raise SystemExit(1)

    register_close_on_spot(group)
    app.cli.add_command(group)


def register_close_on_spot(group) -> None:
    @group.command("close-on-spot")
    @click.option("--dry-run", is_flag=True, help="only count")
    def close_on_spot_command(dry_run):
        """Close hazards that tablets marked rectified on the spot once a ready photo is there."""
        from ..services.lifecycle.hazards import close_on_spot_if_ready

        candidates = list(db.session.scalars(select(Hazard).where(
            Hazard.status == "found", Hazard.rectified_on_spot.is_(True), Hazard.deleted_at.is_(None))
            .order_by(Hazard.id)))
        closed = 0
        for hazard in candidates:
            if dry_run:
                continue
            if close_on_spot_if_ready(db.session, hazard):
                closed += 1
        if not dry_run:
            db.session.commit()
        click.echo(f"rectified on the spot: {len(candidates)} waiting, {closed} closed")
