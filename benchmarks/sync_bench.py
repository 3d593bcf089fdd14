"""Sync benchmark: inspect_api's WatermelonDB sync against Kinto, on SQLite and PostgreSQL.

    python benchmarks/sync_bench.py                       # everything, 1,000,000-row big database
    python benchmarks/sync_bench.py --big 200000 --backends postgresql
    python benchmarks/sync_bench.py --no-kinto --backends sqlite

Workloads (the same for Kinto where it applies):
  push 10k        one push of 10,000 new records (1,000 inspections, 6,000 findings, 3,000 hazards)
  full pull 10k   a first pull of those 10,000 records (plus the reference data in scope)
  incr 100 @10k   pull of the last 100 changes (hazard updates) from the 10k database
  incr 100 @big   the same from a database of --big records (generated with batched Core inserts)
  concurrency     4 writers pushing 25-record batches while a reader pulls in a loop: records an
                  acknowledged write that the reader never got are "lost", seen twice "doubled"

Both servers run as real HTTP servers in their own processes: inspect_api under gunicorn
(1 worker, gthread, 4 threads), Kinto under its waitress (4 threads), both on this machine's
PostgreSQL. "server ms" is measured inside inspect_api's WSGI process around the whole
response (the streamed body included); "wall ms" is what the client waited for.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from base64 import b64encode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PASSWORD = "test-pass-123"  # tests/factories.PASSWORD
ALPHABET = string.ascii_letters + string.digits


def wm_id() -> str:
    return "".join(random.choice(ALPHABET) for _ in range(16))


# ====================================================================== server side (gunicorn app)

_TIMINGS: list = []


def serve_app():
    """gunicorn entry point: the app plus a timing middleware (server time per request)."""
    from inspect_api import create_app

    app = create_app({"ENV_NAME": "development", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                      "ARGON2_PARALLELISM": 1,
                      "RATELIMIT_LOGIN_PER_ACCOUNT": "100000 per minute", "RATELIMIT_LOGIN_PER_IP": "100000 per minute"})
    inner = app.wsgi_app

    def timed(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_bench/timings":
            body = json.dumps(_TIMINGS).encode()
            _TIMINGS.clear()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        t0 = time.perf_counter()
        result = inner(environ, start_response)

        def body():
            try:
                for chunk in result:
                    yield chunk
            finally:
                if hasattr(result, "close"):
                    result.close()
                _TIMINGS.append({"method": environ["REQUEST_METHOD"], "path": path,
                                 "ms": (time.perf_counter() - t0) * 1000})

        return body()

    app.wsgi_app = timed
    return app


# ====================================================================== helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, raw=False, timeout=600):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = resp.read()
            return resp.status, resp.headers, (payload if raw else (json.loads(payload) if payload else None))
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, exc.headers, json.loads(payload)
        except ValueError:
            return exc.code, exc.headers, payload


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def stop_process(proc):
    """SIGTERM a server process; kill it if it has not ended within 20 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def pg_admin(base_url, sql):
    import psycopg

    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(sql)


class Database:
    """A fresh database for one run: SQLite file or PostgreSQL database."""

    def __init__(self, backend, pg_base):
        self.backend = backend
        self.pg_base = pg_base
        if backend == "sqlite":
            self.dir = tempfile.mkdtemp(prefix="sync_bench_")
            self.url = "sqlite:///" + os.path.join(self.dir, "bench.sqlite3")
        else:
            self.name = f"sync_bench_{uuid.uuid4().hex[:8]}"
            pg_admin(pg_base, f'CREATE DATABASE "{self.name}"')
            self.url = f"{pg_base}/{self.name}"

    def drop(self):
        if self.backend == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            pg_admin(self.pg_base, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'")
            pg_admin(self.pg_base, f'DROP DATABASE IF EXISTS "{self.name}"')


def make_app(url):
    from inspect_api import create_app

    return create_app({"ENV_NAME": "development", "DATABASE_URL": url, "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                       "ARGON2_PARALLELISM": 1, "UPLOAD_ROOT": tempfile.mkdtemp(prefix="sync_bench_up_")})


def seed(url):
    """Schema, the test world (regions, enterprises, users) and a published 10-item checklist."""
    from sqlalchemy import text

    from inspect_api.extensions import db
    from inspect_api.models import ChecklistItem, ChecklistTemplate
    from tests import factories

    app = make_app(url)
    with app.app_context():
        db.create_all()
        db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        world = factories.build_world(db.session)
        tmpl = ChecklistTemplate(code="BENCH", title="基准检查表", version=1, status="published")
        db.session.add(tmpl)
        db.session.flush()
        for n in range(10):
            db.session.add(ChecklistItem(template_id=tmpl.id, code=f"B-{n}", category="基础", content=f"内容{n}",
                                         position=n))
        db.session.commit()
        info = {"ent1": world.ent1.id, "ent2": world.ent2.id, "template": tmpl.id,
                "items": [i.id for i in tmpl.items]}
        db.session.remove()
        db.engine.dispose()
    return info


def generate(url, n, info):
    """n synced rows (1 inspection : 6 findings : 3 hazards) with batched Core inserts."""
    from sqlalchemy import insert, text

    from inspect_api.extensions import db
    from inspect_api.models import Finding, Hazard, Inspection, utcnow

    app = make_app(url)
    t0 = time.perf_counter()
    with app.app_context():
        start = db.session.execute(text("SELECT seq FROM sync_state WHERE id = 1")).scalar()
        seq = start
        now = utcnow()
        batch_i, batch_f, batch_h = [], [], []
        groups = n // 10
        ent = info["ent1"]

        def flush():
            for model, rows in ((Inspection, batch_i), (Finding, batch_f), (Hazard, batch_h)):
                if rows:
                    db.session.execute(insert(model.__table__), rows)
                    rows.clear()

        for g in range(groups):
            iid = wm_id()
            seq += 1
            batch_i.append(dict(id=iid, enterprise_id=ent, region_code="131102", template_id=info["template"],
                                status="draft", note=None, started_at=now, finished_at=None, latitude=37.7,
                                longitude=115.6, lead_inspector_id=None, co_inspector_id=None, created_by_id=None,
                                device_id=None, task_id=None, created_at=now, updated_at=now, sync_seq=seq,
                                created_seq=seq, sync_origin=None, deleted_at=None))
            for k in range(6):
                seq += 1
                batch_f.append(dict(id=wm_id(), inspection_id=iid, item_id=info["items"][k], enterprise_id=ent,
                                    region_code="131102", result="pass", note=None, created_at=now, updated_at=now,
                                    sync_seq=seq, created_seq=seq, sync_origin=None, deleted_at=None))
            for k in range(3):
                seq += 1
                batch_h.append(dict(id=wm_id(), inspection_id=iid, finding_id=None, enterprise_id=ent,
                                    region_code="131102", notice_id=None, description=f"隐患 {g}-{k}", location=None,
                                    grade="general", major_criterion_code=None, basis=None, deadline_at=None,
                                    rectified_on_spot=False, status="found", found_at=now, found_by_id=None,
                                    closed_at=None, closed_by_id=None, listing_level=None, listed_at=None,
                                    listed_by_id=None, version=1, created_at=now, updated_at=now, sync_seq=seq,
                                    created_seq=seq, sync_origin=None, deleted_at=None))
            if len(batch_f) >= 6000:
                flush()
        flush()
        db.session.execute(text("UPDATE sync_state SET seq = :s WHERE id = 1"), {"s": seq})
        db.session.commit()
        if url.startswith("postgresql"):
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - t0


class InspectServer:
    def __init__(self, url):
        self.port = free_port()
        env = dict(os.environ, INSPECT_DATABASE_URL=url, INSPECT_SECRET_KEY="bench", INSPECT_ENV_NAME="development",
                   INSPECT_UPLOAD_ROOT=tempfile.mkdtemp(prefix="sync_bench_up_"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4", "--timeout", "600",
             "-b", f"127.0.0.1:{self.port}", "--chdir", os.path.join(ROOT, "benchmarks"), "--pythonpath", ROOT,
             "--log-level", "warning", "sync_bench:serve_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.url + "/api/v1/openapi.json")

    def token(self, username, device):
        status, _, body = http("POST", self.url + "/api/v1/auth/token",
                               {"username": username, "password": PASSWORD, "device_id": device})
        assert status == 201, body
        return {"Authorization": f"Bearer {body['access_token']}"}

    def pull(self, headers, last=None):
        q = "null" if last is None else last
        t0 = time.perf_counter()
        status, _, body = http("GET", f"{self.url}/api/v1/sync?last_pulled_at={q}&schema_version=1&migration=null",
                               headers=headers)
        wall = (time.perf_counter() - t0) * 1000
        assert status == 200, body
        return body, wall

    def push(self, headers, changes, last):
        payload = json.dumps(changes).encode()
        t0 = time.perf_counter()
        status, _, body = http("POST", f"{self.url}/api/v1/sync?last_pulled_at={last}", payload,
                               headers={**headers, "Content-Type": "text/plain;charset=UTF-8"})
        wall = (time.perf_counter() - t0) * 1000
        return status, body, wall

    def timings(self):
        return http("GET", self.url + "/_bench/timings")[2]

    def stop(self):
        stop_process(self.proc)


def empty_changes(**tables):
    out = {t: {"created": [], "updated": [], "deleted": []}
           for t in ("regions", "enterprises", "checklist_templates", "checklist_items", "inspections", "findings",
                     "hazards", "notices", "photos")}
    for name, parts in tables.items():
        out[name].update(parts)
    return out


def records_10k(info, n=10_000):
    insp, finds, hazards = [], [], []
    for g in range(n // 10):
        iid = wm_id()
        insp.append({"id": iid, "enterprise_id": info["ent1"], "template_id": info["template"], "status": "draft",
                     "started_at": 1764547200000 + g, "finished_at": None, "latitude": 37.7, "longitude": 115.6,
                     "lead_inspector_id": "", "co_inspector_id": "", "note": "基准", "_status": "created",
                     "_changed": ""})
        for k in range(6):
            finds.append({"id": wm_id(), "inspection_id": iid, "item_id": info["items"][k], "result": "pass",
                          "note": "", "_status": "created", "_changed": ""})
        for k in range(3):
            hazards.append({"id": wm_id(), "inspection_id": iid, "finding_id": "", "enterprise_id": info["ent1"],
                            "notice_id": "", "description": f"隐患 {g}-{k}", "location": "", "grade": "general",
                            "major_criterion_code": "", "deadline_at": None, "rectified_on_spot": False,
                            "status": "found", "_status": "created", "_changed": ""})
    return insp, finds, hazards


def count_changes(body):
    return sum(len(p["created"]) + len(p["updated"]) + len(p["deleted"]) for p in body["changes"].values())


def server_ms(server, method="GET", expect=1):
    """Server times of the sync requests since the last call (the worker records them just after
    the last byte went out, so wait a moment for the ones still being finished)."""
    rows = []
    deadline = time.time() + 5
    while True:
        rows += [t["ms"] for t in server.timings() if t["method"] == method and t["path"] == "/api/v1/sync"]
        if len(rows) >= expect or time.time() > deadline:
            return rows
        time.sleep(0.05)


def incremental(server, headers, info, hazard_raws, repeat):
    """Update 100 hazards by push, then time pulls of exactly those 100 changes."""
    body, _ = server.pull(headers, 10 ** 12)  # nothing after a far cursor: just the current one
    before = body["timestamp"]
    updated = [{**h, "description": h["description"] + " (复查)", "_status": "updated", "_changed": "description"}
               for h in hazard_raws[:100]]
    status, resp, _ = server.push(headers, empty_changes(hazards={"updated": updated}), before)
    assert status == 200 and not resp["rejected"], resp
    server.timings()
    walls = []
    for _ in range(repeat):
        body, wall = server.pull(headers, before)
        assert count_changes(body) == 100, count_changes(body)
        walls.append(wall)
    srv = server_ms(server, expect=repeat)
    return statistics.median(srv), statistics.median(walls)


def concurrent_writers(push_batch, pull_since, writers=4, batches=60, size=25):
    """4 writers push `batches` batches of `size` new records while a reader pulls in a loop."""
    acked, lock, done = set(), threading.Lock(), threading.Event()
    seen: dict = {}
    errors = []

    def writer(w):
        try:
            for _ in range(batches):
                ids = [wm_id() for _ in range(size)]
                if push_batch(w, ids):
                    with lock:
                        acked.update(ids)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    def reader():
        cursor = None
        while True:
            finished = done.is_set()
            got, cursor = pull_since(cursor)
            for i in got:
                seen[i] = seen.get(i, 0) + 1
            if finished:
                return

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    r.join()
    if errors:
        raise errors[0]
    lost = len(acked - set(seen))
    doubled = sum(1 for i in acked if seen.get(i, 0) > 1)
    return len(acked), lost, doubled


# ====================================================================== inspect_api runs


def bench_inspect(backend, args):
    res = {}
    db = Database(backend, args.pg)
    try:
        info = seed(db.url)
        server = InspectServer(db.url)
        try:
            h1 = server.token("inspector1", "bench-pusher")
            body, _ = server.pull(h1)
            last = body["timestamp"]
            insp, finds, hazards = records_10k(info, args.records)
            server.timings()
            status, resp, wall = server.push(h1, empty_changes(inspections={"created": insp},
                                                               findings={"created": finds},
                                                               hazards={"created": hazards}), last)
            assert status == 200 and not resp["rejected"], (status, str(resp)[:300])
            n = len(insp) + len(finds) + len(hazards)
            res["push 10k: records/s (wall)"] = n / (wall / 1000)
            res["push 10k: wall ms"] = wall
            res["push 10k: server ms"] = server_ms(server, "POST")[0]

            h2 = server.token("inspector2", "bench-puller")
            body, wall = server.pull(h2)
            pulled = count_changes(body)
            assert pulled >= n, pulled
            res["full pull 10k: wall ms"] = wall
            res["full pull 10k: server ms"] = server_ms(server)[-1]
            res["full pull 10k: records"] = pulled
            srv, wall = incremental(server, h1, info, hazards, args.repeat)
            res["incr 100 @10k: server ms (median)"] = srv
            res["incr 100 @10k: wall ms (median)"] = wall

            def push_batch(w, ids):
                status, resp, _ = server.push(writer_headers[w], empty_changes(inspections={"created": [
                    {"id": i, "enterprise_id": info["ent2"], "status": "draft"} for i in ids]}), 0)
                return status == 200 and not resp["rejected"]

            def pull_since(cursor):
                body, _ = server.pull(reader_headers, cursor)
                return [r["id"] for p in ("created", "updated") for r in body["changes"]["inspections"][p]], \
                    body["timestamp"]

            writer_headers = [server.token("inspector1", f"bench-writer-{w}") for w in range(4)]
            reader_headers = server.token("supervisor_taocheng", "bench-reader")
            acked, lost, doubled = concurrent_writers(push_batch, pull_since, batches=args.conc_batches)
            res["4 writers: acknowledged"] = acked
            res["4 writers: lost"] = lost
            res["4 writers: doubled"] = doubled
        finally:
            server.stop()
    finally:
        db.drop()

    if args.big:
        db = Database(backend, args.pg)
        try:
            info = seed(db.url)
            gen_s = generate(db.url, args.big, info)
            res[f"generate {args.big:,}: rows/s"] = args.big / gen_s
            server = InspectServer(db.url)
            try:
                h1 = server.token("inspector1", "bench-big")
                body, _ = server.pull(h1, 10 ** 12)  # nothing: just the cursor
                insp, _f, hazards = records_10k(info, 1000)
                status, resp, _ = server.push(h1, empty_changes(inspections={"created": insp},
                                                                hazards={"created": hazards}), body["timestamp"])
                assert status == 200, resp
                srv, wall = incremental(server, h1, info, hazards, args.repeat)
                res[f"incr 100 @{args.big:,}: server ms (median)"] = srv
                res[f"incr 100 @{args.big:,}: wall ms (median)"] = wall
            finally:
                server.stop()
        finally:
            db.drop()
    return res


# ====================================================================== Kinto


class KintoServer:
    def __init__(self, pg_base):
        self.dbname = f"kinto_bench_{uuid.uuid4().hex[:6]}"
        pg_admin(pg_base, f'CREATE DATABASE "{self.dbname}"')
        pg_admin(pg_base, f"ALTER DATABASE \"{self.dbname}\" SET TIMEZONE TO 'UTC'")
        self.pg_base = pg_base
        self.dir = tempfile.mkdtemp(prefix="kinto_bench_")
        ini = os.path.join(self.dir, "k.ini")
        subprocess.run(["kinto", "init", "--ini", ini, "--backend", "postgresql", "--cache-backend", "memory"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"{pg_base.replace('postgresql+psycopg://', 'postgresql://')}/{self.dbname}"
        text = open(ini).read()
        text = text.replace("postgresql://postgres:postgres@localhost/postgres", url)
        text = text.replace("# kinto.paginate_by =", "kinto.paginate_by = 10000")
        open(ini, "w").write(text)
        subprocess.run(["kinto", "migrate", "--ini", ini], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.port = free_port()
        self.proc = subprocess.Popen(["kinto", "start", "--ini", ini, "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        wait_http(self.url + "/")
        http("PUT", self.url + "/accounts/admin", {"data": {"password": "s3cret-bench"}})
        self.headers = {"Authorization": "Basic " + b64encode(b"admin:s3cret-bench").decode()}
        http("PUT", self.url + "/buckets/b", {}, headers=self.headers)
        http("PUT", self.url + "/buckets/b/collections/c", {}, headers=self.headers)

    def batch(self, records, method="PUT"):
        reqs = [{"method": method, "path": f"/buckets/b/collections/c/records/{r['id']}", "body": {"data": r}}
                for r in records]
        status, _, body = http("POST", self.url + "/batch", {"requests": reqs}, headers=self.headers)
        return status == 200 and all(r["status"] in (200, 201) for r in body["responses"])

    def since(self, ts):
        url = f"{self.url}/buckets/b/collections/c/records"
        if ts is not None:
            url += f"?_since={ts}"
        out = []
        etag = None
        while url:
            status, headers, body = http("GET", url, headers=self.headers)
            assert status == 200, body
            out.extend(body["data"])
            if etag is None:  # the collection timestamp when the first page was read: the next _since
                etag = headers.get("ETag", '"0"').strip('"')
            url = headers.get("Next-Page")
        return out, etag

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
        pg_admin(self.pg_base, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.dbname}'")
        pg_admin(self.pg_base, f'DROP DATABASE IF EXISTS "{self.dbname}"')


def bench_kinto(args):
    res = {}
    k = KintoServer(args.pg)
    try:
        insp, finds, hazards = records_10k({"ent1": "E", "template": "T", "items": [f"I{i}" for i in range(10)]},
                                           args.records)
        records = [{k_: v for k_, v in r.items() if not k_.startswith("_")} for r in insp + finds + hazards]
        t0 = time.perf_counter()
        for i in range(0, len(records), 25):
            assert k.batch(records[i:i + 25])
        wall = (time.perf_counter() - t0) * 1000
        res["push 10k: records/s (wall)"] = len(records) / (wall / 1000)
        res["push 10k: wall ms"] = wall
        t0 = time.perf_counter()
        got, etag = k.since(None)
        res["full pull 10k: wall ms"] = (time.perf_counter() - t0) * 1000
        res["full pull 10k: records"] = len(got)
        updated = [{**{k_: v for k_, v in h.items() if not k_.startswith("_")}, "description": "复查"}
                   for h in hazards[:100]]
        for i in range(0, 100, 25):
            assert k.batch(updated[i:i + 25])
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            got, _ = k.since(etag)
            walls.append((time.perf_counter() - t0) * 1000)
            assert len(got) == 100, len(got)
        res["incr 100 @10k: wall ms (median)"] = statistics.median(walls)

        def push_batch(w, ids):
            return k.batch([{"id": i, "kind": "inspection", "writer": w} for i in ids])

        def pull_since(cursor):
            if cursor is None:
                _, cursor0 = k.since(None)
                return [], cursor0
            got, etag = k.since(cursor)
            return [r["id"] for r in got if r.get("kind") == "inspection"], etag

        acked, lost, doubled = concurrent_writers(push_batch, pull_since, batches=args.conc_batches)
        res["4 writers: acknowledged"] = acked
        res["4 writers: lost"] = lost
        res["4 writers: doubled"] = doubled
    finally:
        k.stop()
    return res


# ====================================================================== report


def fmt(v):
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v) if v is not None else "–"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--pg", default=os.environ.get("SYNC_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server URL without a database name")
    p.add_argument("--records", type=int, default=10_000)
    p.add_argument("--big", type=int, default=1_000_000, help="size of the big database (0 to skip)")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--conc-batches", type=int, default=40, help="batches of 25 per writer (4 writers)")
    p.add_argument("--no-kinto", action="store_true")
    args = p.parse_args(argv)

    columns = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"… inspect_api on {backend}", file=sys.stderr, flush=True)
        columns[f"inspect_api {backend}"] = bench_inspect(backend, args)
    if not args.no_kinto:
        print("… Kinto on postgresql", file=sys.stderr, flush=True)
        columns["Kinto postgresql"] = bench_kinto(args)

    metrics = []
    for col in columns.values():
        for m in col:
            if m not in metrics:
                metrics.append(m)
    names = list(columns)
    ours_pg = columns.get("inspect_api postgresql")
    kinto = columns.get("Kinto postgresql")
    header = ["metric"] + names + (["Kinto / ours (pg)"] if ours_pg and kinto else [])
    rows = []
    for m in metrics:
        row = [m] + [fmt(columns[n].get(m)) for n in names]
        if ours_pg and kinto:
            a, b = ours_pg.get(m), kinto.get(m)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a and b and "records/s" in m:
                row.append(f"ours {a / b:.2f}x faster")
            elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and a and b and "wall ms" in m:
                row.append(f"Kinto takes {b / a:.2f}x")
            else:
                row.append("")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    if ours_pg:
        big = next((m for m in ours_pg if m.startswith("incr 100 @") and "server" in m and "@10k" not in m), None)
        if big:
            print(f"\nincremental pull, big / 10k database (server time, PostgreSQL): "
                  f"{ours_pg[big] / ours_pg['incr 100 @10k: server ms (median)']:.2f}x")
    print(json.dumps(columns, indent=1, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
