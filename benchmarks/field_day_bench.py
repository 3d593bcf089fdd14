"""Field day: N tablets pushing records and uploading 1–4 MB photos against gunicorn (2 workers × 4 threads).

    python benchmarks/field_day_bench.py [--tablets 50] [--seconds 180] [--pg postgresql://…/db] [--json out.json]

Each simulated tablet signs in, then until the time is up: pushes an inspection, a hazard and a photos record
(WatermelonDB shape), uploads the photo's file over tus in 1 MiB chunks, and pulls. Run twice in one go, with
image decodes per worker unbounded (``INSPECT_IMAGE_DECODE_CONCURRENCY`` = threads: the behaviour before
issue #19) and with the default bound (1), on PostgreSQL when ``--pg`` names an empty database you own
(else SQLite). Reported per run: peak RSS of each worker (sampled every 100 ms), 5xx answers, transport
errors, acknowledged records and photos, and records acknowledged by a push but missing from the database
(lost).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MB = 1024 * 1024
ALPHABET = string.ascii_letters + string.digits


def wm_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(16))


def make_photos(directory: str, n: int = 6) -> list[bytes]:
    """JPEGs of 1–4 MB (noisy 6–12 MP images: the size of a tablet's photo)."""
    from tests.photos import imagegen

    out = []
    for i, (w, h) in enumerate([(3000, 2000), (3264, 2448), (4000, 3000)] * (n // 3)):
        out.append(imagegen.jpeg_bytes(w, h, seed=500 + i, quality=88))
    return out


def prepare_database(url: str, uploads: str) -> dict:
    from sqlalchemy import text

    from inspect_api import create_app
    from inspect_api.extensions import db
    from tests import factories

    app = create_app({"ENV_NAME": "development", "DATABASE_URL": url, "UPLOAD_ROOT": uploads,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        world = factories.build_world(db.session)
        db.session.commit()
        ids = {"ent1": world.ent1.id, "ent2": world.ent2.id}
        db.session.remove()
        db.engine.dispose()
    return ids


def start_gunicorn(url: str, uploads: str, decode_slots: int, port: int, log: str):
    env = {**os.environ, "INSPECT_ENV_NAME": "development", "INSPECT_DATABASE_URL": url,
           "INSPECT_UPLOAD_ROOT": uploads, "INSPECT_SECRET_KEY": "bench", "INSPECT_ARGON2_TIME_COST": "1",
           "INSPECT_ARGON2_MEMORY_COST": "1024", "INSPECT_ARGON2_PARALLELISM": "1",
           "INSPECT_RATELIMIT_LOGIN_PER_IP": "100000 per minute",
           "INSPECT_IMAGE_DECODE_CONCURRENCY": str(decode_slots)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "4", "-b",
         f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", "inspect_api:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)
    import requests

    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=10).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def sample_rss(master_pid: int, stop: threading.Event, peaks: dict) -> None:
    import psutil

    master = psutil.Process(master_pid)
    while not stop.is_set():
        for child in master.children():
            try:
                rss = child.memory_info().rss
            except psutil.Error:
                continue
            peaks[child.pid] = max(peaks.get(child.pid, 0), rss)
        time.sleep(0.1)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.status_5xx = 0
        self.errors = 0
        self.acked: list[str] = []
        self.photos = 0

    def add(self, **kw):
        with self.lock:
            for key, value in kw.items():
                if key == "acked":
                    self.acked.extend(value)
                else:
                    setattr(self, key, getattr(self, key) + value)


def tablet(base: str, ids: dict, photos: list[bytes], deadline: float, tally: Tally, n: int) -> None:
    import requests

    s = requests.Session()
    user = "inspector1" if n % 2 == 0 else "inspector2"
    from tests import factories

    resp = s.post(base + "/api/v1/auth/token", json={"username": user, "password": factories.PASSWORD,
                                                     "device_id": f"bench-tablet-{n}"}, timeout=60)
    resp.raise_for_status()
    headers = {"Authorization": "Bearer " + resp.json()["access_token"]}
    tus = {**headers, "Tus-Resumable": "1.0.0"}
    rng = random.Random(n)
    cursor = 0
    while time.monotonic() < deadline:
        try:
            data = rng.choice(photos)
            ins, hz, ph = wm_id(), wm_id(), wm_id()
            changes = {
                "inspections": {"created": [{"id": ins, "enterprise_id": ids["ent1"], "template_id": "",
                                             "started_at": 1764547200000, "status": "draft", "note": "现场",
                                             "latitude": 37.7, "longitude": 115.6}], "updated": [], "deleted": []},
                "hazards": {"created": [{"id": hz, "inspection_id": ins, "enterprise_id": ids["ent1"],
                                         "description": "储罐区防火堤破损", "grade": "general",
                                         "rectified_on_spot": False}], "updated": [], "deleted": []},
                "photos": {"created": [{"id": ph, "owner_table": "hazards", "owner_id": hz,
                                        "sha256": hashlib.sha256(data).hexdigest(), "taken_at": 1764554709000}],
                           "updated": [], "deleted": []},
            }
            resp = s.post(base + "/api/v1/sync", params={"last_pulled_at": cursor}, json=changes, headers=headers,
                          timeout=120)
            if resp.status_code >= 500:
                tally.add(status_5xx=1)
                continue
            if resp.status_code == 200 and not resp.json().get("rejected"):
                tally.add(acked=[ins, hz, ph])
            meta = "photo_id " + base64.b64encode(ph.encode()).decode()
            resp = s.post(base + "/api/v1/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                               "Upload-Metadata": meta}, timeout=120)
            if resp.status_code >= 500:
                tally.add(status_5xx=1)
                continue
            location, offset = resp.headers["Location"], 0
            while offset < len(data):
                resp = s.patch(location, data=data[offset:offset + MB], timeout=120,
                               headers={**tus, "Upload-Offset": str(offset),
                                        "Content-Type": "application/offset+octet-stream"})
                if resp.status_code >= 500:
                    tally.add(status_5xx=1)
                    if resp.status_code != 503:
                        break
                    time.sleep(float(resp.headers.get("Retry-After", "1")))
                    continue
                if resp.status_code != 204:
                    break
                offset = int(resp.headers["Upload-Offset"])
            else:
                tally.add(photos=1)
            resp = s.get(base + "/api/v1/sync", params={"last_pulled_at": cursor, "schema_version": 1},
                         headers=headers, timeout=120)
            if resp.status_code >= 500:
                tally.add(status_5xx=1)
            elif resp.status_code == 200:
                cursor = resp.json()["timestamp"]
        except Exception:  # noqa: BLE001  (a transport error: counted, the tablet carries on)
            tally.add(errors=1)
            time.sleep(0.5)


def count_lost(url: str, acked: list[str]) -> int:
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)
    found = set()
    with engine.connect() as conn:
        for table in ("inspections", "hazards", "photos"):
            for i in range(0, len(acked), 500):
                part = acked[i:i + 500]
                rows = conn.execute(text(f"SELECT id FROM {table} WHERE id IN :ids").bindparams(
                    __import__("sqlalchemy").bindparam("ids", expanding=True)), {"ids": part})
                found.update(r[0] for r in rows)
    engine.dispose()
    return len(set(acked) - found)


def run(label: str, url: str, decode_slots: int, tablets: int, seconds: float, photos: list[bytes], port: int,
        work: str) -> dict:
    uploads = os.path.join(work, f"uploads-{label}")
    os.makedirs(uploads, exist_ok=True)
    ids = prepare_database(url, uploads)
    proc = start_gunicorn(url, uploads, decode_slots, port, os.path.join(work, f"gunicorn-{label}.log"))
    peaks: dict = {}
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(proc.pid, stop, peaks), daemon=True)
    sampler.start()
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=tablet, args=(f"http://127.0.0.1:{port}", ids, photos, deadline, tally, n))
               for n in range(tablets)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    return {"label": label, "decode_slots": decode_slots, "tablets": tablets, "seconds": round(elapsed, 1),
            "peak_rss_mib_per_worker": sorted(round(v / MB) for v in peaks.values()),
            "http_5xx": tally.status_5xx, "transport_errors": tally.errors,
            "records_acknowledged": len(tally.acked), "photos_uploaded": tally.photos,
            "records_lost": count_lost(url, tally.acked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--pg", help="an empty PostgreSQL database you own (dropped and recreated tables)")
    parser.add_argument("--json")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="field_day_")
    photos = make_photos(work)
    print(f"photos: {', '.join(f'{len(p) / MB:.1f} MB' for p in photos)}", flush=True)
    from tests.security.gunicorn_server import free_port

    results = []
    for label, slots in (("before: decodes unbounded (4 per worker)", 4), ("after: 1 decode per worker", 1)):
        url = args.pg or "sqlite:///" + os.path.join(work, f"bench-{slots}.sqlite3")
        result = run(f"slots{slots}", url, slots, args.tablets, args.seconds, photos, free_port(), work)
        result["label"] = label
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
