"""Photo ingest benchmark: the full path vs a naive Pillow pipeline, bombs, upload throughput.

    python benchmarks/photo_bench.py [--photos 6] [--repeat 2] [--upload-mb 100] [--json out.json]

1. Per-worker pipelines over generated 12-megapixel JPEGs with EXIF, each in a
   fresh worker process (its peak RSS is VmHWM from /proc):
   - decode:  one full decode (Image.open + load), the yardstick;
   - naive:   for each derivative open, exif_transpose, thumbnail, save JPEG;
   - derivs_only: the same with the polyglot scan switched off (derivative work alone);
   - derivs:  services.images.inspect_image (validation + both derivatives, one
              DCT-scaled decode);
   - ingest:  photos.store_photo_file on local storage: sha256, validation,
              original stored byte for byte, both derivatives stored.
2. A 40000×40000 PNG bomb refused (median of 20).
3. Over loopback against gunicorn (2 sync workers, SQLite, local storage):
   - full-path ingest: POST /photos + tus upload in 5 MB chunks, photos/s with
     2 client threads, and the peak RSS of each worker;
   - upload throughput: one large tus upload in 5 MB PATCH chunks (MB/s), then
     terminated.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MB = 1024 * 1024


def vmhwm_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------ worker pipelines


def _naive(path: str, out_dir: str) -> None:
    from PIL import Image, ImageOps

    for name, size in (("preview", 1280), ("thumb", 256)):
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im.thumbnail((size, size))
            im.convert("RGB").save(os.path.join(out_dir, f"{name}.jpg"), "JPEG", quality=85)


def _decode(path: str, out_dir: str) -> None:
    from PIL import Image

    with Image.open(path) as im:
        im.load()


def _derivs(path: str, out_dir: str) -> None:
    from inspect_api.services.evidence.images import inspect_image

    inspect_image(path, 60_000_000)


def _derivs_only(path: str, out_dir: str) -> None:
    """inspect_image with the polyglot/trailing-data scan switched off: the derivative work alone."""
    from inspect_api.services.evidence import images

    images._check_polyglot = lambda _path, _fmt: None
    images.inspect_image(path, 60_000_000)


def _ingest_factory(out_dir: str):
    from inspect_api.services.evidence.photos import UploadLimits, store_photo_file
    from inspect_api.storage.local import LocalStorage

    def ingest(path: str, _out: str) -> None:
        root = os.path.join(out_dir, "store")
        shutil.rmtree(root, ignore_errors=True)  # content-addressed: a second run would skip the writes
        store_photo_file(LocalStorage(root), path, UploadLimits())

    return ingest


def worker(pipeline: str, repeat: int, files: list[str]) -> None:
    out_dir = tempfile.mkdtemp(prefix="photo-bench-")
    fn = {"naive": _naive, "decode": _decode, "derivs": _derivs, "derivs_only": _derivs_only}.get(pipeline) \
        or _ingest_factory(out_dir)
    fn(files[0], out_dir)  # warm-up (imports, first allocation)
    times, cpu = [], []
    for _ in range(repeat):
        for path in files:
            start, start_cpu = time.perf_counter(), time.process_time()
            fn(path, out_dir)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    shutil.rmtree(out_dir, ignore_errors=True)
    print(json.dumps({"pipeline": pipeline, "n": len(times), "median_ms": statistics.median(times) * 1000,
                      "cpu_median_ms": statistics.median(cpu) * 1000,
                      "mean_ms": statistics.mean(times) * 1000, "photos_per_s": len(times) / sum(times),
                      "peak_rss_mb": vmhwm_kb() / 1024}))


def run_worker(pipeline: str, repeat: int, files: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "_worker", pipeline, str(repeat), *files],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ inputs


def make_photos(n: int, directory: str) -> list[str]:
    from tests.photos import imagegen

    paths = []
    for i in range(n):
        data = imagegen.jpeg_bytes(4000, 3000, seed=100 + i, quality=90, orientation=(1, 6, 3, 8)[i % 4])
        path = os.path.join(directory, f"photo{i}.jpg")
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


def bomb_refusal_ms(directory: str) -> float:
    from inspect_api.services.evidence.images import ImageRejected, inspect_image
    from tests.photos import imagegen

    path = os.path.join(directory, "bomb.png")
    with open(path, "wb") as f:
        f.write(imagegen.png_bomb(40000, 40000))
    times = []
    for _ in range(20):
        start = time.perf_counter()
        try:
            inspect_image(path, 60_000_000)
        except ImageRejected as exc:
            assert exc.code == "image_too_large"
        else:
            raise AssertionError("the bomb was accepted")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


# ------------------------------------------------------------------ HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work: str, upload_max: int):
    from sqlalchemy import text

    from inspect_api import create_app
    from inspect_api.extensions import db
    from tests import factories

    env = {**os.environ, "INSPECT_DATABASE_URL": "sqlite:///" + os.path.join(work, "bench.sqlite3"),
           "INSPECT_UPLOAD_ROOT": os.path.join(work, "uploads"), "INSPECT_SECRET_KEY": "bench",
           "INSPECT_ENV_NAME": "development",
           "INSPECT_UPLOAD_MAX_SIZE": str(upload_max), "INSPECT_MAX_CONTENT_LENGTH": str(64 * MB),
           "INSPECT_ARGON2_TIME_COST": "1", "INSPECT_ARGON2_MEMORY_COST": "1024",
           "INSPECT_RATELIMIT_LOGIN_PER_IP": "10000 per minute"}
    app = create_app({"ENV_NAME": "development", "DATABASE_URL": env["INSPECT_DATABASE_URL"],
                      "UPLOAD_ROOT": env["INSPECT_UPLOAD_ROOT"],
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        db.create_all()
        db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        world = factories.build_world(db.session)
        from inspect_api.models import Hazard

        hazard = Hazard(enterprise_id=world.ent1.id, region_code="131102", description="bench")
        db.session.add(hazard)
        db.session.commit()
        hazard_id = hazard.id
        db.engine.dispose()
    port = free_port()
    proc = subprocess.Popen(
        ["gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--timeout", "120", "--log-level",
         "warning", "inspect_api:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "gunicorn.log"), "w"), start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(200):
        try:
            requests.get(url + "/api/v1/openapi.json", timeout=10)
            break
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    return proc, url, hazard_id


def tus_upload(session, url, headers, data: bytes, photo_id: str, chunk: int) -> None:
    import base64

    meta = "photo_id " + base64.b64encode(photo_id.encode()).decode()
    resp = session.post(url + "/api/v1/uploads", headers={**headers, "Upload-Length": str(len(data)),
                                                          "Upload-Metadata": meta})
    resp.raise_for_status()
    location = resp.headers["Location"]
    offset = 0
    while offset < len(data):
        resp = session.patch(location, data=data[offset:offset + chunk],
                             headers={**headers, "Upload-Offset": str(offset),
                                      "Content-Type": "application/offset+octet-stream"})
        if resp.status_code != 204:
            raise RuntimeError(f"PATCH answered {resp.status_code}: {resp.text}")
        offset = int(resp.headers["Upload-Offset"])


def http_bench(files: list[str], upload_mb: int, work: str) -> dict:
    import psutil
    import requests

    proc, url, hazard_id = start_server(work, max(upload_mb, 60) * MB + MB)
    try:
        tok = requests.post(url + "/api/v1/auth/token", json={"username": "inspector1",
                                                              "password": "test-pass-123"}
                            ).json()["access_token"]
        headers = {"Authorization": f"Bearer {tok}", "Tus-Resumable": "1.0.0"}
        datas = [open(p, "rb").read() for p in files]
        # warm up both workers
        for _ in range(4):
            requests.get(url + "/api/v1/users/me", headers=headers)
        jobs = list(enumerate(datas))
        lock = threading.Lock()

        def client_thread():
            s = requests.Session()
            while True:
                with lock:
                    if not jobs:
                        return
                    i, data = jobs.pop()
                pid = f"BenchPhoto{i:06d}"
                r = s.post(url + "/api/v1/photos", headers=headers,
                           json={"id": pid, "owner_table": "hazards", "owner_id": hazard_id})
                r.raise_for_status()
                tus_upload(s, url, headers, data, pid, 5 * MB)
                r = s.get(f"{url}/api/v1/photos/{pid}", headers=headers)
                assert r.json()["status"] == "ready", r.text

        start = time.perf_counter()
        threads = [threading.Thread(target=client_thread) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ingest_s = time.perf_counter() - start
        workers = psutil.Process(proc.pid).children()
        worker_rss = sorted(vmhwm_kb(w.pid) / 1024 for w in workers)

        # upload throughput: one large upload in 5 MB chunks, terminated before the last byte
        total = upload_mb * MB
        block = os.urandom(5 * MB)
        s = requests.Session()
        resp = s.post(url + "/api/v1/uploads", headers={**headers, "Upload-Length": str(total + 1),
                                                        "Upload-Metadata": "photo_id VGhyb3VnaHB1dA=="})
        location = resp.headers["Location"]
        offset = 0
        start = time.perf_counter()
        while offset < total:
            resp = s.patch(location, data=block, headers={**headers, "Upload-Offset": str(offset),
                                                          "Content-Type": "application/offset+octet-stream"})
            assert resp.status_code == 204, resp.text
            offset = int(resp.headers["Upload-Offset"])
        upload_s = time.perf_counter() - start
        s.delete(location, headers=headers)
        worker_rss_after = sorted(vmhwm_kb(w.pid) / 1024 for w in workers)
        return {"http_ingest_photos": len(datas), "http_ingest_photos_per_s": len(datas) / ingest_s,
                "http_worker_peak_rss_mb_after_ingest": worker_rss,
                "http_worker_peak_rss_mb_after_upload": worker_rss_after,
                "upload_mb": upload_mb, "upload_mb_per_s": upload_mb / upload_s}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--skip-http", action="store_true", help="only the per-worker pipelines and the bomb")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="photo-bench-")
    try:
        print(f"generating {args.photos} 12-megapixel JPEGs with EXIF …", flush=True)
        files = make_photos(args.photos, work)
        sizes = [os.path.getsize(p) / MB for p in files]
        results = {"photos": args.photos, "photo_mb_mean": statistics.mean(sizes), "cpus": os.cpu_count()}
        for pipeline in ("decode", "naive", "derivs_only", "derivs", "ingest"):
            r = run_worker(pipeline, args.repeat, files)
            results[pipeline] = r
            print(f"{pipeline:7s} median {r['median_ms']:7.1f} ms wall, {r['cpu_median_ms']:7.1f} ms CPU  "
                  f"{r['photos_per_s']:5.2f} photos/s  peak RSS {r['peak_rss_mb']:6.1f} MB", flush=True)
        results["speedup_derivs_vs_naive"] = results["naive"]["median_ms"] / results["derivs"]["median_ms"]
        cpu = {name: results[name]["cpu_median_ms"] for name in ("decode", "naive", "derivs_only", "derivs")}
        results["cpu_derivs_vs_decode"] = cpu["derivs"] / cpu["decode"]
        results["cpu_derivs_only_vs_decode"] = cpu["derivs_only"] / cpu["decode"]
        results["cpu_speedup_derivs_vs_naive"] = cpu["naive"] / cpu["derivs"]
        results["bomb_refusal_ms"] = bomb_refusal_ms(work)
        print(f"derivatives (with validation) vs naive: {results['speedup_derivs_vs_naive']:.2f}×; "
              f"vs one full decode: "
              f"{results['derivs']['median_ms'] / results['decode']['median_ms']:.2f}× wall, "
              f"{results['cpu_derivs_vs_decode']:.2f}× CPU time (less sensitive to a loaded machine); "
              f"derivative work alone {results['cpu_derivs_only_vs_decode']:.2f}× a full decode (CPU); "
              f"vs naive {results['cpu_speedup_derivs_vs_naive']:.2f}× (CPU)")
        print(f"40000×40000 PNG bomb refused in {results['bomb_refusal_ms']:.2f} ms (median of 20)")
        if not args.skip_http:
            results.update(http_bench(files, args.upload_mb, work))
            print(f"HTTP full-path ingest (POST /photos + tus, 5 MB chunks, 2 clients, gunicorn -w 2): "
                  f"{results['http_ingest_photos_per_s']:.2f} photos/s; worker peak RSS "
                  f"{results['http_worker_peak_rss_mb_after_ingest']} MB")
            print(f"tus upload throughput, {args.upload_mb} MB in 5 MB chunks over loopback "
                  f"to local storage: "
                  f"{results['upload_mb_per_s']:.1f} MB/s (worker peak RSS after: "
                  f"{results['http_worker_peak_rss_mb_after_upload']} MB)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
