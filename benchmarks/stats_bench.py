"""Statistics over N hazards (default 1,000,000) on PostgreSQL (or SQLite).

    python benchmarks/stats_bench.py --database-url postgresql://postgres@127.0.0.1:5432/inspect_bench \
        --hazards 1000000 [--regenerate] [--repeat 3]

Builds the data set once with batched Core inserts (``session.execute(insert(T), rows)``) into a database of
its own (dropped and rebuilt with --regenerate, or when its hazard count differs), then times each statistics
call of services/stats.py as the API makes it: hazards and enforcement, grouped by county, industry, grade
and month, for the whole data range and for one year, as a city supervisor (131100) and as an admin.
Prints one line per query (best and median of --repeat runs) and a JSON summary at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select, text  # noqa: E402

UTC = timezone.utc
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 1065  # to 2026-11-30
INDUSTRIES = ["C26", "C2614", "C2661", "C25", "C27", "F51", "F5162", "G59"]
COUNTIES = ["131102", "131103", "131121", "131122", "131123", "131124", "131125", "131126", "131127", "131128",
            "131182"]
BATCH = 10_000


# A finding is written with its hazard, so in production both tables lie in found order; put the
# generated findings in that order too (foreign-key triggers off for the swap).
FINDINGS_IN_FOUND_ORDER = [
    "CREATE TABLE findings_sorted AS SELECT f.* FROM findings f JOIN hazards h ON h.finding_id = f.id "
    "ORDER BY h.found_at, h.id",
    "SET session_replication_role = replica",
    "DELETE FROM findings",
    "INSERT INTO findings SELECT * FROM findings_sorted",
    "SET session_replication_role = DEFAULT",
    "DROP TABLE findings_sorted",
    "VACUUM FULL findings",
]


def make_app(url: str):
    from inspect_api import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})


def ensure_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def hazard_count(app) -> int:
    from inspect_api.extensions import db
    from inspect_api.models import Hazard

    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Hazard)) or 0
        except Exception:
            db.session.rollback()
            return -1


def _insert(session, model, rows):
    """Core executemany (insertmanyvalues): no ORM bookkeeping, no RETURNING."""
    if not rows:
        return
    table = model.__table__
    keys = set().union(*(r.keys() for r in rows[:1]))
    # fill the Python-side defaults Core would otherwise call once per row
    now = datetime.now(UTC)
    defaults = {c.name: now for c in table.columns if c.name in ("created_at", "updated_at") and c.name not in keys}
    if "sync_seq" in table.columns and "sync_seq" not in keys:
        defaults["sync_seq"] = 0
    conn = session.connection()
    for i in range(0, len(rows), BATCH):
        batch = rows[i:i + BATCH]
        if defaults:
            batch = [{**defaults, **r} for r in batch]
        conn.execute(table.insert(), batch)


def generate(app, n_hazards: int, seed: int = 20260101, log=print) -> dict:
    """Drop and rebuild the schema, then insert the data set. Returns row counts."""
    from inspect_api.extensions import db
    from inspect_api.models import (
        ChecklistItem, ChecklistTemplate, EnforcementCase, Enterprise, Finding, Hazard, Inspection, Notice,
        PenaltyDecision, Rectification, RemediationPlan, Review,
    )
    from tests import factories

    rnd = random.Random(seed)
    t0 = time.perf_counter()
    counts = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        s = db.session
        s.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        factories.region_tree(s)
        s.flush()
        inspectors = [factories.user(s, f"bench_inspector{i}", "inspector", region=COUNTIES[i % 11],
                                     display_name=f"检查员{i:02d}") for i in range(22)]
        factories.user(s, "bench_supervisor", "supervisor", region="131100")
        factories.user(s, "bench_admin", "admin")
        s.commit()
        insp_ids = [u.id for u in inspectors]

        n_ent = max(50, n_hazards // 500)
        ents = []
        for i in range(n_ent):
            county = COUNTIES[i % 11]
            ents.append({"id": f"E{i:015d}", "name": f"衡水第{i}号化工有限公司", "uscc": factories.uscc(10_000 + i, county),
                         "region_id": county, "industry": INDUSTRIES[i % len(INDUSTRIES)],
                         "major_hazard_level": i % 5, "risk_color": ["red", "orange", "yellow", "blue"][i % 4],
                         "hazardous_processes": []})
        _insert(s, Enterprise, ents)
        counts["enterprises"] = n_ent

        tpl_id = "T000000000000001"
        _insert(s, ChecklistTemplate, [{"id": tpl_id, "code": "BENCH", "title": "危化品企业安全检查表", "version": 1,
                                        "status": "published"}])
        items = [{"id": f"I{i:015d}", "template_id": tpl_id, "code": f"{i // 10 + 1}.{i % 10 + 1}",
                  "category": "储存", "content": f"检查项目{i}: 储罐区防火堤、围堰完好，排水切断阀常闭", "position": i}
                 for i in range(50)]
        _insert(s, ChecklistItem, items)

        n_insp = max(1, n_hazards // 5)
        insp_rows, notice_rows = [], []
        for i in range(n_insp):
            e = ents[rnd.randrange(n_ent)]
            started = START + timedelta(seconds=rnd.randrange(SPAN_DAYS * 86400))
            insp_rows.append({"id": f"N{i:015d}", "enterprise_id": e["id"], "region_code": e["region_id"],
                              "lead_inspector_id": insp_ids[i % 22], "co_inspector_id": insp_ids[(i + 1) % 22],
                              "started_at": started, "finished_at": started + timedelta(hours=2),
                              "status": "submitted"})
            notice_rows.append({"id": f"O{i:015d}", "inspection_id": f"N{i:015d}", "enterprise_id": e["id"],
                                "region_code": e["region_id"], "issued_at": started + timedelta(hours=3),
                                "deadline_at": started + timedelta(days=30), "number": f"衡应急责改〔{i}〕",
                                "status": "issued"})
        _insert(s, Inspection, insp_rows)
        _insert(s, Notice, notice_rows)
        counts["inspections"] = counts["notices"] = n_insp
        s.commit()
        del notice_rows
        log(f"  enterprises, inspections, notices: {time.perf_counter() - t0:.1f}s")

        statuses_open = ["found", "ordered", "acknowledged", "reported", "rejected"]
        chunk = 100_000
        n_find = n_rect = n_rev = n_plan = 0
        for base in range(0, n_hazards, chunk):
            hz, fd, rc, rv, pl = [], [], [], [], []
            for i in range(base, min(n_hazards, base + chunk)):
                insp = insp_rows[rnd.randrange(n_insp)]
                found = insp["started_at"] + timedelta(minutes=rnd.randrange(120))
                major = rnd.random() < 0.05
                deadline = found + timedelta(days=rnd.choice((7, 15, 30, 60)))
                hid = f"H{i:015d}"
                finding_id = None
                if i % 2 == 0:
                    finding_id = f"F{i:015d}"
                    fd.append({"id": finding_id, "inspection_id": insp["id"], "item_id": items[i % 50]["id"],
                               "enterprise_id": insp["enterprise_id"], "region_code": insp["region_code"],
                               "result": "fail"})
                closed = None
                if rnd.random() < 0.7:
                    closed = found + timedelta(seconds=rnd.randrange(43_200, 90 * 86400))
                    if closed > START + timedelta(days=SPAN_DAYS):
                        closed = None
                status = "closed" if closed else rnd.choice(statuses_open)
                listing = rnd.choice(("province", "city", "county")) if major and rnd.random() < 0.4 else None
                hz.append({"id": hid, "inspection_id": insp["id"], "finding_id": finding_id,
                           "enterprise_id": insp["enterprise_id"], "region_code": insp["region_code"],
                           "notice_id": "O" + insp["id"][1:],
                           "description": f"第{i}项隐患：储罐区可燃气体报警器未定期检定，现场{rnd.randrange(9)}处",
                           "grade": "major" if major else "general", "deadline_at": deadline, "status": status,
                           "found_at": found, "found_by_id": insp["lead_inspector_id"], "closed_at": closed,
                           "listing_level": listing, "version": 1, "rectified_on_spot": False,
                           "rectification_funds": None, "plan_funds": None, "plan_complete": None,
                           "last_reviewer_id": None, "item_id": items[i % 50]["id"] if finding_id else None,
                           "last_rectification_id": None, "last_review_id": None})
                if major and rnd.random() < 0.8:
                    n_plan += 1
                    pl.append({"id": f"P{i:015d}", "hazard_id": hid, "responsibility": "厂长", "measures": "更换阀门",
                               "funds": Decimal(rnd.randrange(1_000, 500_000)), "time_limit": deadline.date(),
                               "contingency": "应急预案" if rnd.random() < 0.7 else ""})
                    hz[-1].update(plan_funds=pl[-1]["funds"], plan_complete=bool(pl[-1]["contingency"]))
                if closed or status in ("reported", "rejected"):
                    if rnd.random() < 0.7:
                        rid = f"R{i:015d}"
                        reported = closed - timedelta(hours=6) if closed else found + timedelta(days=5)
                        rc.append({"id": rid, "hazard_id": hid, "enterprise_id": insp["enterprise_id"],
                                   "region_code": insp["region_code"], "description": "已整改完毕",
                                   "measures": "更换报警器探头并经有资质单位检定合格",
                                   "responsible_person": rnd.choice(("张建国", "李卫东", "王秀英")),
                                   "completed_on": reported.date(),
                                   "funds": Decimal(rnd.randrange(100, 20_000)), "reported_at": reported,
                                   "status": "accepted" if closed else ("pending" if status == "reported"
                                                                        else "rejected")})
                        if rc[-1]["status"] != "rejected":  # what models/hazards' after_flush hook keeps
                            hz[-1]["rectification_funds"] = rc[-1]["funds"]
                        hz[-1]["last_rectification_id"] = rid
                        if status != "reported":
                            rv.append({"id": f"V{i:015d}", "rectification_id": rid, "hazard_id": hid,
                                       "enterprise_id": insp["enterprise_id"], "region_code": insp["region_code"],
                                       "reviewer_id": insp_ids[rnd.randrange(22)],
                                       "result": "accepted" if closed else "rejected",
                                       "opinion": "经复查整改合格" if closed else "整改不到位，重新整改",
                                       "reviewed_at": closed or reported + timedelta(days=1)})
                            hz[-1]["last_reviewer_id"] = rv[-1]["reviewer_id"]
                            hz[-1]["last_review_id"] = rv[-1]["id"]
            _insert(s, Finding, fd)
            _insert(s, Hazard, hz)
            _insert(s, RemediationPlan, pl)
            _insert(s, Rectification, rc)
            _insert(s, Review, rv)
            s.commit()
            n_find += len(fd)
            n_rect += len(rc)
            n_rev += len(rv)
            log(f"  hazards {min(n_hazards, base + chunk):>9,}: {time.perf_counter() - t0:.1f}s")
        counts.update(hazards=n_hazards, findings=n_find, plans=n_plan, rectifications=n_rect, reviews=n_rev)

        n_case = max(10, n_hazards // 100)
        cases, pens = [], []
        for i in range(n_case):
            e = ents[rnd.randrange(n_ent)]
            opened = START + timedelta(seconds=rnd.randrange(SPAN_DAYS * 86400))
            cases.append({"id": f"C{i:015d}", "enterprise_id": e["id"], "region_code": e["region_id"],
                          "bureau_code": "131100", "year": opened.year, "seq_no": i, "number": f"衡应急立〔{i}〕",
                          "cause": "未落实隐患整改", "opened_at": opened, "opened_by_id": insp_ids[0],
                          "status": "decided"})
            kind = rnd.choice(("fine", "fine", "fine", "warning", "suspend_production"))
            amount = Decimal(rnd.randrange(5_000, 300_000)) if kind == "fine" else None
            paid = rnd.random() < 0.6 and amount is not None
            decided = (opened + timedelta(days=20)).date()
            pens.append({"id": f"D{i:015d}", "case_id": f"C{i:015d}", "enterprise_id": e["id"],
                         "region_code": e["region_id"], "kind": kind, "target": "unit", "amount": amount,
                         "decided_on": decided, "payment_status": "paid" if paid else ("unpaid" if amount else
                                                                                       "not_applicable"),
                         "paid_amount": amount if paid else None,
                         "paid_on": decided + timedelta(days=15) if paid else None, "bureau_code": "131100",
                         "year": decided.year, "seq_no": i, "number": f"衡应急罚〔{i}〕"})
        _insert(s, EnforcementCase, cases)
        _insert(s, PenaltyDecision, pens)
        s.commit()
        counts.update(cases=n_case, penalties=n_case)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # Real hazards arrive in the order they are found; the generator draws found_at at random,
                # so put the table back in found order, as it would be in production.
                conn.execute(text("CLUSTER hazards USING ix_hazards_stats_found"))
                for sql in FINDINGS_IN_FOUND_ORDER:
                    conn.execute(text(sql))
                conn.execute(text("VACUUM ANALYZE"))
        else:
            s.execute(text("ANALYZE"))
            s.commit()
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def prepare(url: str, n: int, regenerate: bool = False, log=print):
    ensure_database(url)
    app = make_app(url)
    have = hazard_count(app)
    if regenerate or have != n:
        log(f"generating {n:,} hazards into {url} (had {have})")
        counts = generate(app, n, log=log)
        log(f"generated: {counts}")
    else:
        log(f"reusing {have:,} hazards in {url}")
    return app


def actor_for(username: str):
    from inspect_api.extensions import db
    from inspect_api.models import User
    from inspect_api.services.access.actor import Actor

    return Actor(db.session.scalar(select(User).where(User.username == username)))


def run(app, repeat: int, log=print) -> list[dict]:
    from inspect_api.extensions import db
    from inspect_api.services.reporting import stats

    results = []
    periods = {"all": (date(2024, 1, 1), date(2026, 11, 30)), "2025": (date(2025, 1, 1), date(2025, 12, 31))}
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with app.app_context():
        for who in ("bench_supervisor", "bench_admin"):
            actor = actor_for(who)
            for pname, (d0, d1) in periods.items():
                for kind, fn, groups in (("hazards", stats.hazard_statistics, stats.GROUPS),
                                         ("enforcement", stats.enforcement_statistics, stats.ENFORCEMENT_GROUPS)):
                    for g in groups:
                        if who == "bench_admin" and (pname != "all" or g not in ("county",)):
                            continue
                        times = []
                        for _ in range(repeat):
                            t = time.perf_counter()
                            f = stats.make_filter(db.session, actor, date_from=d0, date_to=d1, group_by=g, now=now,
                                                  allowed_groups=groups)
                            table = fn(db.session, actor, f)
                            times.append(time.perf_counter() - t)
                            db.session.rollback()
                        key = "general_found" if kind == "hazards" else "inspections"
                        r = {"query": f"{kind} group_by={g}", "as": who, "period": pname,
                             "best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
                             "total_" + key: table.total[key]}
                        results.append(r)
                        log(f"{r['query']:<32} {who:<17} {pname:<4} best {r['best_s']:.3f}s  "
                            f"median {r['median_s']:.3f}s  ({key}={table.total[key]:,})")
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("INSPECT_BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/inspect_bench"))
    p.add_argument("--hazards", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--regenerate", action="store_true")
    args = p.parse_args(argv)
    app = prepare(args.database_url, args.hazards, args.regenerate)
    results = run(app, args.repeat)
    worst = max(r["median_s"] for r in results)
    print(json.dumps({"hazards": args.hazards, "database": app.config["SQLALCHEMY_DATABASE_URI"].split("://")[0],
                      "worst_median_s": worst, "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
