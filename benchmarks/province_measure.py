"""``province_bench.py measure``: the figures of issue #17 on the built province (see province_bench.py).

In-process (Flask test client: server time, the streamed body included) unless said otherwise:

- first sync of a county inspector: schema version 4 (working set) vs version 1 (one request, and paged
  by 10,000 with each page's time to first byte): records, bytes, seconds;
- first sync of a city supervisor, version 4 (aggregates) vs version 1 (paged);
- incremental pull of 100 changes (hazard updates in the county), version 1 and version 4, median;
- push throughput: 50 tablets (50 inspectors) pushing at once to a gunicorn server on loopback, each one
  inspection + 10 findings + 5 hazards per push;
- every statistics call (hazards by county / industry / grade / month, enforcement by county / industry /
  month; whole range and 2025) as the province admin and as a city supervisor, median of --repeat;
- a whole-province hazard-ledger export (CSV) as a background job run by a worker process: seconds,
  rows, bytes and the worker's peak RSS;
- the database size.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timezone

from sqlalchemy import select, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench12345"


def _out(results, name, **figures):
    results.append({"what": name, **figures})
    print(f"{name:<58} " + "  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def _token(client, username, device=None):
    body = {"username": username, "password": PASSWORD}
    if device:
        body["device_id"] = device
    resp = client.post("/api/v1/auth/token", json=body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def _pull(client, headers, last=None, version=1, limit=None):
    """(body bytes, seconds, seconds to the first byte)."""
    q = {"last_pulled_at": "null" if last is None else last, "schema_version": version, "migration": "null"}
    if limit:
        q["limit"] = limit
    t0 = time.perf_counter()
    resp = client.get("/api/v1/sync", query_string=q, headers=headers, buffered=False)
    first, parts = None, []
    for part in resp.response:
        if first is None:
            first = time.perf_counter() - t0
        parts.append(part if isinstance(part, bytes) else part.encode())
    resp.close()
    body = b"".join(parts)
    assert resp.status_code == 200, body[:300]
    return body, time.perf_counter() - t0, first or 0.0


def _count(body: bytes) -> int:
    data = json.loads(body)
    return sum(len(p["created"]) + len(p["updated"]) + len(p["deleted"]) for p in data["changes"].values())


def first_syncs(app, county: str, city: str, results) -> None:
    client = app.test_client()
    insp = _token(client, f"insp_{county}_0", "bench-ws-tab")
    body, secs, ttfb = _pull(client, insp, version=4)
    data = json.loads(body)
    closed = sum(1 for r in data["changes"]["hazards"]["created"] if r["status"] == "closed")
    _out(results, f"county inspector first sync v4 (working set) {county}", records=_count(body),
         mb=round(len(body) / 1e6, 2), s=round(secs, 2), ttfb_s=round(ttfb, 2),
         hazards=len(data["changes"]["hazards"]["created"]), closed_hazards=closed,
         findings=len(data["changes"]["findings"]["created"]))
    body, secs, ttfb = _pull(client, _token(client, f"insp_{county}_0", "bench-v1-tab"), version=1)
    data = json.loads(body)
    closed = sum(1 for r in data["changes"]["hazards"]["created"] if r["status"] == "closed")
    _out(results, f"county inspector first sync v1 (one request) {county}", records=_count(body),
         mb=round(len(body) / 1e6, 2), s=round(secs, 2), ttfb_s=round(ttfb, 2),
         hazards=len(data["changes"]["hazards"]["created"]), closed_hazards=closed,
         findings=len(data["changes"]["findings"]["created"]))
    sup = _token(client, f"sup_{city}", "bench-sup-tab")
    body, secs, ttfb = _pull(client, sup, version=4)
    _out(results, f"city supervisor first sync v4 (aggregates) {city}", records=_count(body),
         mb=round(len(body) / 1e6, 2), s=round(secs, 2), ttfb_s=round(ttfb, 2))


def paged_v1(app, username, results, limit=10_000, label="county inspector") -> None:
    client = app.test_client()
    h = _token(client, username, "bench-paged")
    last, total, size, t0, worst = None, 0, 0, time.perf_counter(), 0.0
    pages = 0
    while True:
        body, secs, ttfb = _pull(client, h, last, 1, limit)
        data = json.loads(body)
        pages += 1
        total += _count(body)
        size += len(body)
        worst = max(worst, ttfb)
        last = data["timestamp"]
        if not data.get("has_more"):
            break
    _out(results, f"{label} first sync v1 paged by {limit:,}", records=total, mb=round(size / 1e6, 2),
         s=round(time.perf_counter() - t0, 2), pages=pages, worst_page_ttfb_s=round(worst, 2))


def incremental(app, county: str, results, repeat: int = 5) -> None:
    from inspect_api.extensions import db
    from inspect_api.models import Hazard

    client = app.test_client()
    heads = {v: _token(client, f"insp_{county}_0", f"bench-incr-v{v}") for v in (1, 4)}
    base = {v: json.loads(_pull(client, heads[v], version=v)[0])["timestamp"] for v in (1, 4)}
    with app.app_context():
        ids = db.session.scalars(select(Hazard.id).where(Hazard.region_code == county, Hazard.status != "closed")
                                 .order_by(Hazard.found_at.desc()).limit(100)).all()
        for h in db.session.scalars(select(Hazard).where(Hazard.id.in_(ids))):
            h.description = h.description + "（已更正）"
        db.session.commit()
        db.session.remove()
    for v in (1, 4):
        times, n = [], 0
        for _ in range(repeat):
            body, secs, _ = _pull(client, heads[v], base[v], v)
            n = _count(body)
            times.append(secs)
        _out(results, f"incremental pull of {len(ids)} changes v{v} ({county})", records=n,
             median_ms=round(statistics.median(times) * 1000, 1), best_ms=round(min(times) * 1000, 1))


def stats_calls(app, results, repeat: int, who=("bench_admin", "sup_131100")) -> None:
    from inspect_api.extensions import db
    from inspect_api.models import User
    from inspect_api.services.access.actor import Actor
    from inspect_api.services.reporting import stats

    periods = {"all": (date(2016, 12, 1), date(2026, 11, 30)), "2025": (date(2025, 1, 1), date(2025, 12, 31))}
    now = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
    with app.app_context():
        for username in who:
            actor = Actor(db.session.scalar(select(User).where(User.username == username)))
            for pname, (d0, d1) in periods.items():
                for kind, fn, groups in (("hazards", stats.hazard_statistics, stats.GROUPS),
                                         ("enforcement", stats.enforcement_statistics, stats.ENFORCEMENT_GROUPS)):
                    for g in groups:
                        times = []
                        for _ in range(repeat):
                            t = time.perf_counter()
                            f = stats.make_filter(db.session, actor, date_from=d0, date_to=d1, group_by=g, now=now,
                                                  allowed_groups=groups)
                            fn(db.session, actor, f)
                            times.append(time.perf_counter() - t)
                            db.session.rollback()
                        _out(results, f"stats {kind} by {g}, {pname}, as {username}",
                             median_s=round(statistics.median(times), 3), best_s=round(min(times), 3))
        db.session.remove()


def ledger_job(app, url: str, results) -> None:
    """Submit a whole-province ledger export (CSV) as the admin; run it in a worker process; its peak RSS."""
    from inspect_api.extensions import db
    from inspect_api.models import Job, User
    from inspect_api.services import jobs as job_service
    from inspect_api.services.access.actor import Actor

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "bench_admin"))
        job = job_service.submit_job(db.session, Actor(admin), "ledger_export",
                                     {"from": "2016-12-01", "to": "2026-11-30", "format": "csv"})
        db.session.commit()
        job_id = job.id
        db.session.remove()
    code = ("import sys, resource, json; sys.path.insert(0, %r)\n"
            "from inspect_api import create_app\nfrom inspect_api.extensions import db\n"
            "from inspect_api.services.jobs import JobSettings, run_job\n"
            "app = create_app({'TESTING': True, 'DATABASE_URL': %r, 'SECRET_KEY': 'bench', 'UPLOAD_ROOT': %r})\n"
            "with app.app_context():\n"
            "    state = run_job(db.engine, app.extensions['inspect_storage'], %r, JobSettings.from_config(app.config))\n"
            "print(json.dumps({'state': state, 'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
            ) % (ROOT, url, app.config["UPLOAD_ROOT"], job_id)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    secs = time.perf_counter() - t0
    info = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-500:]}
    with app.app_context():
        job = db.session.get(Job, job_id)
        _out(results, "whole-province ledger CSV export as a job (worker process)", state=job.state,
             rows=job.progress_done, mb=round((job.result_size or 0) / 1e6, 1), s=round(secs, 1),
             worker_peak_rss_mb=round(info.get("maxrss_kb", 0) / 1024, 1), error=info.get("error"))
        if job.result_key:
            app.extensions["inspect_storage"].delete(job.result_key)
        db.session.remove()


def _gunicorn(url: str):
    """gunicorn (2 workers x 4 threads) on a free loopback port, on the bench database; (process, base URL)."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "INSPECT_DATABASE_URL": url, "INSPECT_SECRET_KEY": "bench", "INSPECT_JOBS_QUEUE": "none",
           "INSPECT_RATELIMIT_LOGIN_PER_IP": '"100000 per minute"'}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
                             "-b", f"127.0.0.1:{port}", "--timeout", "300", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).read()
            break
        except Exception:
            time.sleep(0.3)
    return proc, base


def push_concurrency(url: str, counties: list[str], results, tablets: int = 50, rounds: int = 4) -> None:
    """50 tablets push at once to gunicorn (2 workers x 4 threads) on loopback."""
    import urllib.request

    proc, base = _gunicorn(url)
    try:
        def call(method, path, body=None, headers=None):
            req = urllib.request.Request(base + path, method=method, data=None if body is None else
                                         json.dumps(body).encode(), headers={"Content-Type": "application/json",
                                                                             **(headers or {})})
            with urllib.request.urlopen(req, timeout=300) as resp:
                return resp.status, json.loads(resp.read() or b"null")

        tokens = []
        for i in range(tablets):
            county, k = counties[i % len(counties)], (i // len(counties)) % 4
            _, body = call("POST", "/api/v1/auth/token", {"username": f"insp_{county}_{k}",
                                                          "password": PASSWORD, "device_id": f"bench-push-{i}"})
            tokens.append((county, k, {"Authorization": "Bearer " + body["access_token"]}))
        import random
        import string

        from province_data import counties as all_counties

        index = {c: n for n, c in enumerate(all_counties())}
        ok, failed, records, lat = [0], [0], [0], []
        lock = threading.Lock()

        def wm():
            return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(16))

        def one_push(county, k, headers, r):
            insp, ent = wm(), f"E{index[county]:03d}{r:03d}"
            body = {t: {"created": [], "updated": [], "deleted": []} for t in (
                "regions", "enterprises", "checklist_templates", "checklist_items", "inspections", "findings",
                "hazards", "notices", "photos")}
            body["inspections"]["created"] = [{"id": insp, "enterprise_id": ent, "status": "submitted",
                                               "started_at": 1764547200000, "template_id": "TPL1",
                                               "lead_inspector_id": f"U{county}I{k}",
                                               "co_inspector_id": f"U{county}I{(k + 2) % 4}"}]
            body["findings"]["created"] = [{"id": wm(), "inspection_id": insp, "item_id": f"ITEM{k:03d}",
                                            "result": "pass"} for k in range(10)]
            body["hazards"]["created"] = [{"id": wm(), "inspection_id": insp, "enterprise_id": ent,
                                           "description": "压力表未检定", "grade": "general",
                                           "rectified_on_spot": False} for _ in range(5)]
            t = time.perf_counter()
            try:
                status, answer = call("POST", "/api/v1/sync?last_pulled_at=1", body, headers)
            except Exception:
                with lock:
                    failed[0] += 1
                return
            rejected = sum(len(v) for v in (answer or {}).get("experimentalRejectedIds", {}).values())
            with lock:
                ok[0] += status == 200
                records[0] += 16 - rejected
                lat.append(time.perf_counter() - t)

        def run(i):
            county, k, headers = tokens[i]
            for r in range(rounds):
                one_push(county, k, headers, r)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(tablets)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        secs = time.perf_counter() - t0
        _out(results, f"push: {tablets} tablets x {rounds} pushes of 16 records, gunicorn 2x4 threads",
             pushes_ok=ok[0], failed=failed[0], records=records[0], s=round(secs, 1),
             records_per_s=round(records[0] / secs), median_push_ms=round(statistics.median(lat) * 1000) if lat else None)
    finally:
        proc.terminate()
        proc.wait(30)


def database_size(app, results) -> None:
    from inspect_api.extensions import db

    with app.app_context():
        size = db.session.execute(text("SELECT pg_database_size(current_database())")).scalar()
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("hazards", "inspections", "findings", "notices", "photos", "enterprises")}
        db.session.remove()
    _out(results, "database", gb=round(size / 1e9, 2), **counts)


def cmd_measure(args, make_app) -> None:
    import tempfile

    uploads = tempfile.mkdtemp(prefix="province-bench-")
    app = make_app(args.database_url, UPLOAD_ROOT=uploads, RATELIMIT_LOGIN_PER_IP="100000 per minute",
                   RATELIMIT_LOGIN_PER_ACCOUNT="100000 per minute")
    results: list = []
    skip = set(args.skip or [])
    county, city = args.county, args.city
    database_size(app, results)
    if "sync" not in skip:
        first_syncs(app, county, city, results)
        paged_v1(app, f"insp_{county}_0", results)
        incremental(app, county, results, args.repeat)
    if "stats" not in skip:
        stats_calls(app, results, args.repeat)
    if "push" not in skip:
        from province_data import counties

        push_concurrency(args.database_url, counties()[:50], results)
    if "export" not in skip:
        ledger_job(app, args.database_url, results)
    print(json.dumps({"results": results}, ensure_ascii=False), flush=True)
    print(f"(measure ran with maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")


def add_measure_parser(sub, default_url, make_app) -> None:
    m = sub.add_parser("measure", help="measure the built province")
    m.add_argument("--database-url", default=default_url)
    m.add_argument("--county", default="131102")
    m.add_argument("--city", default="131100")
    m.add_argument("--repeat", type=int, default=3)
    m.add_argument("--skip", nargs="*", choices=["sync", "stats", "push", "export"])
    m.set_defaults(func=lambda args: cmd_measure(args, make_app))
