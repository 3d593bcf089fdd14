"""The 双随机 draw and the tablets' first pull of tasks, at county-bureau scale.

    python benchmarks/planning_bench.py --database-url postgresql://postgres@127.0.0.1:5432/inspect_h_planning \
        [--enterprises 15000] [--inspectors 300] [--tasks 200] [--repeat 5]

Rebuilds the schema in the given database (drop_all / create_all: use a database of its own), then makes:
the Hengshui region tree; N enterprises spread over the 11 counties; M certified inspectors of the city; last
year's submitted inspections (one per enterprise for a third of them, by a random pair: the recusal input);
this year's task-less inspections (a fifth of the enterprises at the annual cap of 1: the cap filter); a city
plan (cap 1, approved). Then it times, best and median of --repeat runs:

  draw     make_draw over the city register (eligibility queries, recusal, cap, the algorithm, the record)
  verify   verify_draw of that record (must say verified, equal digests)
  pull     a county inspector's first pull at schema version 2 holding T tasks, against the same pull at
           version 1 (the baseline, same run): the difference is what the tasks add

Prints one line per measure and a JSON summary. Goals (issue #14): draw < 1 s; pull adds < 50 ms.
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import insert, text  # noqa: E402

COUNTIES = ["131102", "131103", "131121", "131122", "131123", "131124", "131125", "131126", "131127", "131128",
            "131182"]
BATCH = 5_000


def make_app(url: str):
    from inspect_api import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1, "RATELIMIT_STORAGE_URI": "memory://"})


def _rows(session, model, rows):
    from inspect_api.models import allocate_seq

    synced = hasattr(model, "sync_seq")
    for i in range(0, len(rows), BATCH):
        part = rows[i:i + BATCH]
        if synced:
            last = allocate_seq(session, len(part))
            for n, r in enumerate(part, start=last - len(part) + 1):
                r["sync_seq"] = r["created_seq"] = n
        session.execute(insert(model), part)


def build(app, n_ent: int, n_insp: int, n_tasks: int, rng: random.Random) -> dict:
    from inspect_api.extensions import db
    from inspect_api.models import Enterprise, Inspection, InspectionTask, User, new_id, utcnow
    from inspect_api.services.accounts import passwords
    from inspect_api.services.planning.tasks import new_code
    from tests import factories

    with app.app_context():
        db.drop_all()
        db.create_all()
        s = db.session
        s.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        factories.region_tree(s)
        now = utcnow()
        year = now.year
        ents = [{"id": new_id(), "name": f"基准企业{i}", "uscc": factories.uscc(100000 + i, COUNTIES[i % 11]),
                 "region_id": COUNTIES[i % 11], "industry": rng.choice(["C26", "C25", "F51"]),
                 "risk_color": rng.choice(["red", "orange", "yellow", "blue"]),
                 "major_hazard_level": 1 if i % 25 == 0 else 0, "hazardous_processes": [],
                 "created_at": now, "updated_at": now} for i in range(n_ent)]
        _rows(s, Enterprise, ents)
        hashed = passwords.hash_password("bench-pass-1")
        users = [{"id": new_id(), "username": f"insp{i:03d}", "display_name": f"执法员{i}", "password_hash": hashed,
                  "role": "inspector", "region_id": COUNTIES[i % 11], "certificate_no": f"1311{i:07d}",
                  "is_active": True, "must_change_password": False, "created_at": now, "updated_at": now}
                 for i in range(n_insp)]
        users.append({"id": new_id(), "username": "citysup", "display_name": "市局", "password_hash": hashed,
                      "role": "supervisor", "region_id": "131100", "is_active": True, "must_change_password": False,
                      "created_at": now, "updated_at": now})
        s.execute(insert(User), users)
        last_year = datetime(year - 1, 6, 1, 2, tzinfo=timezone.utc)
        this_year = now - timedelta(days=1)
        insp = []
        for i, e in enumerate(ents):
            if i % 3 == 0:
                a, b = rng.sample(users[:n_insp], 2)
                insp.append(_inspection(new_id(), e, a["id"], b["id"], last_year))
            if i % 5 == 0:
                a, b = rng.sample(users[:n_insp], 2)
                insp.append(_inspection(new_id(), e, a["id"], b["id"], this_year))
        _rows(s, Inspection, insp)
        puller = users[0]  # county 131102
        county = [e for e in ents if e["region_id"] == puller["region_id"]]
        co = users[11]
        start = now - timedelta(days=1)
        tasks = [{"id": new_id(), "enterprise_id": county[i % len(county)]["id"], "region_code": puller["region_id"],
                  "kind": "random", "status": "assigned", "title": f"双随机抽查 {i}", "lead_inspector_id": puller["id"],
                  "co_inspector_id": co["id"], "window_start_at": start, "window_end_at": start + timedelta(days=30),
                  "template_ids": [], "item_ids": [], "is_joint": False, "code": new_code(), "in_plan": True,
                  "record_refused": False, "created_at": now, "updated_at": now} for i in range(n_tasks)]
        _rows(s, InspectionTask, tasks)
        s.commit()
        return {"year": year, "puller": puller["username"]}


def _inspection(iid, ent, lead, co, at):
    return {"id": iid, "enterprise_id": ent["id"], "region_code": ent["region_id"], "lead_inspector_id": lead,
            "co_inspector_id": co, "started_at": at, "finished_at": at + timedelta(hours=2), "status": "submitted",
            "created_at": at, "updated_at": at}


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def bench_draw(app, year, repeat):
    from sqlalchemy import select

    from inspect_api.extensions import db
    from inspect_api.models import User
    from inspect_api.services.access.actor import Actor
    from inspect_api.services.planning import draw as draw_service
    from inspect_api.services.planning import plans as plan_service

    with app.app_context():
        s = db.session
        sup = Actor(s.scalars(select(User).where(User.username == "citysup")).one())
        plan = plan_service.create_plan(s, sup, {"year": year, "region_code": "131100", "staff_count": 40,
                                                 "working_days": 248, "booked_days": 4000, "annual_cap": 1,
                                                 "days_per_class": {"major_hazard": 2, "default": 1}})
        plan_service.approve_plan(s, sup, plan)
        s.commit()
        request = {"period_label": "基准", "period_start": date(year, 1, 1), "period_end": date(year, 12, 31),
                   "sample_size": 1500}

        def one():
            d = draw_service.make_draw(s, sup, plan, request)
            s.flush()
            return d

        best, med, d = timed(one, repeat)
        vbest, vmed, outcome = timed(lambda: draw_service.verify_draw(s, d), repeat)
        facts = {"eligible": len(d.enterprise_ids), "inspectors": len(d.inspectors), "drawn": len(d.result),
                 "recusal_lists": len(d.exclusions), "verified": outcome["verified"],
                 "equal": outcome["result_digest"] == d.result_digest}
        s.rollback()
        return best, med, vbest, vmed, facts


def bench_pull(app, username, repeat):
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": username, "password": "bench-pass-1"}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def pull(version):
        def run():
            resp = client.get("/api/v1/sync", query_string={"last_pulled_at": "null", "schema_version": version,
                                                            "migration": "null"}, headers=headers)
            assert resp.status_code == 200
            return json.loads(resp.get_data())
        return run

    pull(1)()  # warm up
    b1, m1, body1 = timed(pull(1), repeat)
    b2, m2, body2 = timed(pull(2), repeat)
    return b1, m1, b2, m2, len(body2["changes"]["inspection_tasks"]["created"]), len(body1["changes"]["enterprises"]["created"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("INSPECT_BENCH_DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/inspect_h_planning"))
    ap.add_argument("--enterprises", type=int, default=15_000)
    ap.add_argument("--inspectors", type=int, default=300)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = make_app(url)
    t0 = time.perf_counter()
    info = build(app, args.enterprises, args.inspectors, args.tasks, random.Random(20261208))
    print(f"built in {time.perf_counter() - t0:.1f} s")
    best, med, vbest, vmed, facts = bench_draw(app, info["year"], args.repeat)
    print(f"draw    best {best * 1000:7.1f} ms  median {med * 1000:7.1f} ms  {facts}")
    print(f"verify  best {vbest * 1000:7.1f} ms  median {vmed * 1000:7.1f} ms")
    b1, m1, b2, m2, n_tasks, n_ent = bench_pull(app, info["puller"], args.repeat)
    print(f"pull v1 best {b1 * 1000:7.1f} ms  median {m1 * 1000:7.1f} ms  ({n_ent} enterprises; baseline)")
    print(f"pull v2 best {b2 * 1000:7.1f} ms  median {m2 * 1000:7.1f} ms  (+{n_tasks} tasks)")
    summary = {"draw_ms": round(med * 1000, 1), "verify_ms": round(vmed * 1000, 1), "pull_v1_ms": round(m1 * 1000, 1),
               "pull_v2_ms": round(m2 * 1000, 1), "tasks_add_ms": round((m2 - m1) * 1000, 1), **facts,
               "draw_under_1s": med < 1.0, "pull_adds_under_50ms": (m2 - m1) < 0.05}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
