"""The synthetic province for benchmarks/province_bench.py, loaded at COPY speed and resumable.

A province of 11 cities and 154 counties (GB/T 2260-shaped codes 13xxyy), 100 enterprises a county
(15,400), four inspectors and a supervisor a county, a supervisor a city, and ten years of work
(2016-12-01 .. 2026-11-30): N inspections (default 1,000,000), each with F findings (10), H hazards
(5: 5,000,000 hazards, ~95 % closed), a notice when a hazard was not fixed on the spot, P photos a hazard
(2), an enforcement case with a fine for 2 % of them; and open inspection tasks for every inspector.

Rows are generated deterministically per *segment* of inspections (``random.Random(seed, segment)``) and
written with PostgreSQL ``COPY … FROM STDIN``; one segment is one transaction, recorded in
``bench_segments``, so a build stopped at any point resumes at the first segment not recorded.
Foreign-key triggers are off while a segment loads (``session_replication_role = replica``: the
rows are consistent by construction). Run under ``nice -n 19``: the machine is shared.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import text

UTC = timezone.utc
START = datetime(2016, 12, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SPAN = (END - START).total_seconds()
CITIES = [f"13{c:02d}" for c in range(1, 12)]  # 1301 .. 1311
COUNTIES_PER_CITY = 14
ENTERPRISES_PER_COUNTY = 100
INSPECTORS_PER_COUNTY = 4
INDUSTRIES = ["C2614", "C2619", "C2621", "C2631", "C2641", "C2661", "C2662", "C2511", "C2710", "F5162", "G5942"]
ITEMS = 60
SEQ_BASE = 1_000_000


def counties() -> list[str]:
    return [f"{city}{k:02d}" for city in CITIES for k in range(1, COUNTIES_PER_CITY + 1)]


def enterprise_id(county_index: int, k: int) -> str:
    return f"E{county_index:03d}{k:03d}"


def inspector_id(county: str, k: int) -> str:
    return f"U{county}I{k}"


def item_id(k: int) -> str:
    return f"ITEM{k:03d}"


def _copy(conn, table: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    cols = list(rows[0])
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))
    return len(rows)


def ensure_schema(app, log=print) -> None:
    """The schema by the Alembic chain (indexes included), once; the bookkeeping table of segments."""
    from flask_migrate import upgrade

    from inspect_api.extensions import db

    with app.app_context():
        have = db.session.execute(text("SELECT to_regclass('hazards') IS NOT NULL")).scalar()
        db.session.rollback()
        if not have:
            log("creating the schema (alembic upgrade)")
            upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_segments (segment integer PRIMARY KEY, "
                              "params text NOT NULL, rows bigint NOT NULL, seconds real NOT NULL)"))
            conn.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0) ON CONFLICT DO NOTHING"))


def load_static(conn, password_hash: str) -> int:
    """Regions, enterprises, users, the checklist, open tasks: segment -1."""
    now = NOW
    seq = [1]

    def nseq():
        seq[0] += 1
        return seq[0]

    regions = [{"id": "130000", "name": "河北省", "parent_id": None, "level": 1, "kind": None, "sync_seq": nseq()}]
    for city in CITIES:
        regions.append({"id": f"{city}00", "name": f"第{city[2:]}市", "parent_id": "130000", "level": 2,
                        "kind": None, "sync_seq": nseq()})
    cs = counties()
    for c in cs:
        regions.append({"id": c, "name": f"{c[2:4]}市{c[4:]}县", "parent_id": f"{c[:4]}00", "level": 3,
                        "kind": "县", "sync_seq": nseq()})
    from inspect_api.services.registry.uscc import make_uscc

    rng = random.Random(7)
    ents, users, tasks = [], [], []
    for ci, c in enumerate(cs):
        for k in range(ENTERPRISES_PER_COUNTY):
            s = nseq()
            ents.append({"id": enterprise_id(ci, k), "name": f"{c}示例化工{k:03d}有限公司",
                         "uscc": make_uscc(c, ci * 1000 + k), "region_id": c, "address": f"{c} 工业园区 {k} 号",
                         "industry": rng.choice(INDUSTRIES), "scale": "small", "major_hazard_level": rng.choice(
                             [0, 0, 0, 1, 2, 3, 4]), "risk_color": rng.choice(["red", "orange", "yellow", "blue"]),
                         "hazardous_processes": "[]", "latitude": 37.7 + rng.random(), "longitude": 115.7 + rng.random(),
                         "sync_seq": s, "created_seq": s, "created_at": now, "updated_at": now})
        for k in range(INSPECTORS_PER_COUNTY):
            users.append({"id": inspector_id(c, k), "username": f"insp_{c}_{k}", "password_hash": password_hash,
                          "role": "inspector", "is_active": True, "must_change_password": False,
                          "display_name": f"执法员{c}{k}", "region_id": c, "certificate_no": f"13{ci:04d}{k:04d}",
                          "created_at": now, "updated_at": now})
            for t in range(5):  # open tasks: this month's planned inspections
                e = enterprise_id(ci, (k * 25 + t * 3) % ENTERPRISES_PER_COUNTY)
                start = datetime(2026, 12, 1 + t, tzinfo=timezone.utc)
                tasks.append({"id": f"T{c}{k}{t}", "enterprise_id": e, "region_code": c, "kind": "random",
                              "status": "assigned", "title": "双随机抽查", "lead_inspector_id": inspector_id(c, k),
                              "co_inspector_id": inspector_id(c, (k + 1) % INSPECTORS_PER_COUNTY),
                              "window_start_at": start, "window_end_at": datetime(2026, 12, 20, tzinfo=timezone.utc),
                              "template_ids": ["TPL1"], "item_ids": [], "is_joint": False, "in_plan": True,
                              "record_refused": False, "code": f"B{c}{k:02d}{t}"[:16], "sync_seq": 0,
                              "created_at": now, "updated_at": now})
        users.append({"id": f"U{c}S", "username": f"sup_{c}", "password_hash": password_hash, "role": "supervisor",
                      "is_active": True, "must_change_password": False, "display_name": f"科长{c}", "region_id": c,
                      "certificate_no": None, "created_at": now, "updated_at": now})
    for city in CITIES:
        users.append({"id": f"U{city}00S", "username": f"sup_{city}00", "password_hash": password_hash,
                      "role": "supervisor", "is_active": True, "must_change_password": False,
                      "display_name": f"局长{city}", "region_id": f"{city}00", "certificate_no": None,
                      "created_at": now, "updated_at": now})
    users.append({"id": "UADMIN", "username": "bench_admin", "password_hash": password_hash, "role": "admin",
                  "is_active": True, "must_change_password": False, "display_name": "管理员", "region_id": None,
                  "certificate_no": None, "created_at": now, "updated_at": now})
    tpl = [{"id": "TPL1", "code": "GEN-2019", "title": "危险化学品企业安全风险隐患排查表", "version": 1,
            "status": "published", "published_at": now, "sync_seq": nseq(), "created_at": now, "updated_at": now}]
    items = [{"id": item_id(k), "template_id": "TPL1", "code": f"{k:03d}", "category": f"类别{k % 8}",
              "content": f"检查内容第{k}项：储罐区防火堤、可燃气体报警、安全阀校验等是否符合要求", "basis": "《安全生产法》",
              "position": k, "sync_seq": nseq()} for k in range(ITEMS)]
    n = 0
    for table, rows in (("regions", regions), ("enterprises", ents), ("users", users),
                        ("checklist_templates", tpl), ("checklist_items", items), ("inspection_tasks", tasks)):
        n += _copy(conn, table, rows)
    return n


def _ts(i: int, n: int, rng) -> datetime:
    return START + timedelta(seconds=SPAN * (i + rng.random()) / n)


def segment_rows(seg: int, seg_size: int, n_insp: int, findings: int, hazards: int, photos: int):
    """Every row of one segment of inspections, by table (deterministic)."""
    rng = random.Random(seg * 7919 + 17)
    cs = counties()
    seq = SEQ_BASE + seg * seg_size * (1 + findings + hazards * (1 + photos) + 3)
    out = {k: [] for k in ("inspections", "findings", "notices", "hazards", "photos", "enforcement_cases",
                           "penalty_decisions")}
    for i in range(seg * seg_size, min((seg + 1) * seg_size, n_insp)):
        ci = rng.randrange(len(cs))
        c = cs[ci]
        e = enterprise_id(ci, rng.randrange(ENTERPRISES_PER_COUNTY))
        lead, co = inspector_id(c, rng.randrange(2)), inspector_id(c, 2 + rng.randrange(2))
        t = _ts(i, n_insp, rng)
        iid = f"I{i:08d}"
        seq += 1
        out["inspections"].append({
            "id": iid, "enterprise_id": e, "region_code": c, "template_id": "TPL1", "lead_inspector_id": lead,
            "co_inspector_id": co, "started_at": t, "finished_at": t + timedelta(hours=2), "status": "submitted",
            "note": None, "created_by_id": lead, "sync_seq": seq, "created_seq": seq, "created_at": t, "updated_at": t})
        age = (NOW - t).days
        on_spot = [rng.random() < 0.3 for _ in range(hazards)]
        nid = f"N{i:08d}" if not all(on_spot) else None
        if nid:
            seq += 1
            closed_all = age > 120
            out["notices"].append({
                "id": nid, "inspection_id": iid, "enterprise_id": e, "region_code": c, "bureau_code": c,
                "year": t.year, "seq_no": i + 1, "number": f"{c}应急责改〔{t.year}〕{i + 1}号",
                "deadline_at": t + timedelta(days=30), "issued_at": t + timedelta(hours=2), "issued_by_id": lead,
                "officer1_id": lead, "officer2_id": co, "status": "closed" if closed_all else "issued",
                "sync_seq": seq, "created_seq": seq, "created_at": t, "updated_at": t})
        for k in range(findings):
            seq += 1
            out["findings"].append({
                "id": f"F{i:08d}{k:02d}", "inspection_id": iid, "enterprise_id": e, "region_code": c,
                "item_id": item_id((i + k) % ITEMS), "result": "fail" if k < hazards else "pass", "note": None,
                "sync_seq": seq, "created_seq": seq, "created_at": t, "updated_at": t})
        for k in range(hazards):
            seq += 1
            hid = f"H{i:08d}{k}"
            grade = "major" if rng.random() < 0.03 else "general"
            closed = age > 90 and rng.random() < 0.985 or (age > 20 and rng.random() < 0.5)
            days = rng.randint(1, 60)
            closed_at = min(t + timedelta(days=days, hours=rng.randint(0, 20)), NOW) if closed else None
            status = "closed" if closed else rng.choice(["ordered", "acknowledged", "reported", "rejected"])
            if on_spot[k] and not closed:
                status = "found"
            out["hazards"].append({
                "id": hid, "inspection_id": iid, "finding_id": f"F{i:08d}{k:02d}", "enterprise_id": e,
                "region_code": c, "notice_id": None if on_spot[k] else nid,
                "description": f"第{k + 1}处：储罐区防火堤有裂缝，可燃气体报警器未定期检定", "location": "罐区",
                "grade": grade, "major_criterion_code": "MC-05" if grade == "major" else None,
                "deadline_at": t + timedelta(days=30), "rectified_on_spot": on_spot[k], "status": status,
                "found_at": t, "found_by_id": lead, "closed_at": closed_at, "closed_by_id": lead if closed else None,
                "listing_level": "county" if grade == "major" and rng.random() < 0.5 else None,
                "version": 1, "rectification_funds": Decimal(rng.randint(0, 50000)) if closed else None,
                "last_reviewer_id": co if closed else None, "item_id": item_id((i + k) % ITEMS),
                "sync_seq": seq, "created_seq": seq, "created_at": t, "updated_at": closed_at or t})
            for p in range(photos):
                seq += 1
                sha = hashlib.sha256(f"{hid}/{p}".encode()).hexdigest()
                out["photos"].append({
                    "id": f"P{hid}{p}", "owner_table": "hazards", "owner_id": hid, "enterprise_id": e,
                    "region_code": c, "sha256": sha, "content_type": "image/jpeg", "size": 2_400_000,
                    "width": 4000, "height": 3000, "taken_at": t, "status": "ready",
                    "storage_key": f"photos/{sha[:2]}/{sha[2:4]}/{sha}", "created_by_id": lead,
                    "sync_seq": seq, "created_seq": seq, "created_at": t, "updated_at": t})
        if rng.random() < 0.02:
            case = f"C{i:08d}"
            out["enforcement_cases"].append({
                "id": case, "inspection_id": iid, "enterprise_id": e, "region_code": c, "bureau_code": c,
                "year": t.year, "seq_no": i + 1, "number": f"{c}应急立〔{t.year}〕{i + 1}号", "cause": "未按期整改",
                "opened_at": t + timedelta(days=35), "opened_by_id": lead, "status": "closed", "created_at": t,
                "updated_at": t})
            out["penalty_decisions"].append({
                "id": f"D{i:08d}", "case_id": case, "enterprise_id": e, "region_code": c, "kind": "fine",
                "target": "entity", "decided_on": (t + timedelta(days=60)).date(), "payment_status": "paid",
                "bureau_code": c, "year": t.year, "seq_no": i + 1, "number": f"{c}应急罚〔{t.year}〕{i + 1}号",
                "amount": Decimal(rng.choice([10000, 30000, 50000, 100000])), "created_at": t, "updated_at": t})
    return out, seq


def build(app, n_insp: int, findings: int, hazards: int, photos: int, seg_size: int = 20_000,
          log=print, stop_after: float | None = None, only: set[int] | None = None) -> dict:
    """Load what is missing; returns row counts. ``stop_after``: seconds, then stop between segments;
    ``only``: load only these segments (e.g. the most recent ones of a partial build)."""
    from inspect_api.extensions import db
    from inspect_api.services.accounts import passwords

    params = json.dumps({"inspections": n_insp, "findings": findings, "hazards": hazards, "photos": photos,
                         "segment": seg_size}, sort_keys=True)
    ensure_schema(app, log)
    t0 = time.perf_counter()
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            done = {r[0]: r[1] for r in conn.execute(text("SELECT segment, params FROM bench_segments"))}
        if any(p != params for p in done.values()):
            raise SystemExit(f"the database holds a province of other parameters ({set(done.values())}): "
                             f"use another database, or drop it")
        if -1 not in done:
            with engine.begin() as conn:
                n = load_static(conn, passwords.hash_password("bench12345"))
                conn.execute(text("INSERT INTO bench_segments VALUES (-1, :p, :n, :s)"),
                             {"p": params, "n": n, "s": time.perf_counter() - t0})
            log(f"static rows: {n:,}")
        segments = (n_insp + seg_size - 1) // seg_size
        max_seq = 0
        for seg in range(segments):
            if seg in done or (only is not None and seg not in only):
                continue
            if stop_after is not None and time.perf_counter() - t0 > stop_after:
                log(f"stopping after {time.perf_counter() - t0:.0f} s; run again to resume")
                break
            ts = time.perf_counter()
            rows, max_seq = segment_rows(seg, seg_size, n_insp, findings, hazards, photos)
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                # the generated rows are consistent by construction: no per-row foreign-key trigger (superuser)
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                n = sum(_copy(conn, table, rows[table]) for table in (
                    "inspections", "findings", "notices", "hazards", "photos", "enforcement_cases",
                    "penalty_decisions"))
                conn.execute(text("INSERT INTO bench_segments VALUES (:g, :p, :n, :s)"),
                             {"g": seg, "p": params, "n": n, "s": time.perf_counter() - ts})
            log(f"segment {seg + 1}/{segments}: {n:,} rows in {time.perf_counter() - ts:.1f} s")
        with engine.begin() as conn:
            top = conn.execute(text("SELECT greatest((SELECT coalesce(max(sync_seq), 0) FROM hazards), "
                                    "(SELECT coalesce(max(sync_seq), 0) FROM photos), "
                                    "(SELECT coalesce(max(sync_seq), 0) FROM findings), :m)"), {"m": max_seq}).scalar()
            conn.execute(text("UPDATE sync_state SET seq = greatest(seq, :s) WHERE id = 1"), {"s": top})
        counts = {}
        with engine.begin() as conn:
            counts["segments_done"] = conn.execute(text("SELECT count(*) FROM bench_segments WHERE segment >= 0")
                                                   ).scalar()
            counts["segments"] = segments
    return counts


def analyze(app, log=print) -> None:
    from inspect_api.extensions import db

    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            t = time.perf_counter()
            conn.exec_driver_sql("VACUUM ANALYZE")
            log(f"VACUUM ANALYZE: {time.perf_counter() - t:.0f} s")
