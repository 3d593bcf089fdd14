"""Hazard-ledger export: the app's streamed CSV / XLSX beside plain csv and xlsxwriter (constant_memory).

    python benchmarks/export_bench.py --database-url postgresql://postgres@127.0.0.1:5432/inspect_bench \
        --hazards 1000000 --rows 100000 1000000 [--formats csv xlsx]

Uses (and if needed builds) the data set of benchmarks/stats_bench.py. Each measurement runs in a child
process of its own so that its peak RSS (ru_maxrss) is its own:

* ``app``: services/exports.ledger_export for an admin, as the API calls it, over the period that holds
  about ROWS hazards: from 2024-01-01 to the last whole day before the ROWS+1-th hazard (the whole data
  range when ROWS is at least its size). That is how a supervisor asks for a ledger (a period, never a
  row count). The real query (county names, checklist items, latest reviewer), written to a file: on
  PostgreSQL CSV is one server-side COPY, XLSX rows come from one statement on a server-side cursor;
* ``csv``: the same rows (the CSV-typed ledger query) fetched into a list first (not timed), then the
  csv module writing them (timed);
* ``xlsxwriter``: the same rows (XLSX-typed) fetched first, then xlsxwriter constant_memory writing them
  with date formats (timed).

So the app's time includes the database; the baselines' do not. The app's figure is the best of
EXPORT_BENCH_REPEAT runs (3) in its process, its peak RSS the highest over them. Prints a line per
measurement and a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2026, 11, 30)
REPEAT = int(os.environ.get("EXPORT_BENCH_REPEAT", "3"))


def _filter_and_actor(db, rows: int):
    """The admin and the period from FIRST_DAY holding about ``rows`` hazards (whole days, Asia/Shanghai)."""
    from datetime import timedelta

    from sqlalchemy import select
    from stats_bench import actor_for

    from inspect_api.models import Hazard
    from inspect_api.services.reporting import stats

    actor = actor_for("bench_admin")
    last = LAST_DAY
    after = db.session.scalar(select(Hazard.found_at).where(Hazard.found_at >= stats.local_midnight(FIRST_DAY))
                              .order_by(Hazard.found_at).offset(rows).limit(1))
    if after is not None:  # the (rows+1)-th hazard: end the period the day before it
        last = min(LAST_DAY, after.astimezone(stats.LOCAL_TZ).date() - timedelta(days=1))
    f = stats.make_filter(db.session, actor, date_from=FIRST_DAY, date_to=last,
                          now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    return actor, f


def child(writer: str, fmt: str, rows: int, url: str, out_dir: str) -> dict:
    from stats_bench import make_app

    from inspect_api.extensions import db
    from inspect_api.services.reporting import exports

    app = make_app(url)
    path = os.path.join(out_dir, f"{writer}-{rows}.{fmt}")
    with app.app_context():
        actor, f = _filter_and_actor(db, rows)
        now = datetime(2026, 12, 1, tzinfo=timezone.utc)
        rss_before = peak_rss_mb()
        if writer == "app":
            from sqlalchemy import func, select

            from inspect_api.models import Hazard

            n = db.session.scalar(select(func.count()).select_from(Hazard).where(
                Hazard.deleted_at.is_(None), Hazard.found_at >= f.start, Hazard.found_at < f.end))
            times = []
            for _ in range(REPEAT):  # best of REPEAT: the first run may also be reading the rows into cache
                t = time.perf_counter()
                size = 0
                with open(path, "wb") as fh:
                    for block in exports.ledger_export(db.session, actor, f, fmt, now=now):
                        fh.write(block)
                        size += len(block)
                times.append(time.perf_counter() - t)
                db.session.rollback()
            seconds = min(times)
        else:
            stmt = exports.ledger_statement(db.session, actor, f, fmt, now)
            data = [tuple(r) for part in exports.ledger_chunks(db.session, stmt) for r in part]
            rss_before = peak_rss_mb()
            header = [c.label for c in exports.LEDGER_COLUMNS]
            t = time.perf_counter()
            if writer == "csv":
                import csv

                with open(path, "w", encoding="utf-8-sig", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(header)
                    w.writerows(data)
            else:
                import xlsxwriter

                wb = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": out_dir})
                ws = wb.add_worksheet("隐患台账")
                bold = wb.add_format({"bold": True})
                fmts = {"datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
                        "date": wb.add_format({"num_format": "yyyy-mm-dd"})}
                money = wb.add_format({"num_format": "0.00"})
                ws.write_row(0, 0, header, bold)
                kinds = [c.kind for c in exports.LEDGER_COLUMNS]
                for r, row in enumerate(data, start=1):
                    for c, (v, kind) in enumerate(zip(row, kinds)):
                        if v is None:
                            continue
                        if kind in fmts:
                            ws.write_number(r, c, v, fmts[kind])
                        elif kind == "int":
                            ws.write_number(r, c, v)
                        elif kind == "wan":
                            ws.write_number(r, c, float(v), money)
                        else:
                            ws.write_string(r, c, v)
                wb.close()
            seconds = time.perf_counter() - t
            size = os.path.getsize(path)
            n = len(data)
            del data
        result = {"writer": writer, "format": fmt, "rows": n, "requested": rows,
                  "period": f"{f.date_from}..{f.date_to}", "seconds": round(seconds, 2),
                  "rows_per_s": round(n / seconds), "bytes": size if writer == "app" else os.path.getsize(path),
                  "peak_rss_mb": round(peak_rss_mb(), 1), "rss_before_write_mb": round(rss_before, 1)}
    result["check"] = verify(path, fmt, n) if writer == "app" and n <= 200_000 else "skipped (size)"
    if writer == "app" and fmt == "csv":
        with open(path, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        if lines - 1 != n:
            result["check"] = f"MISMATCH {lines - 1} lines != {n} hazards"
    os.remove(path)
    return result


def verify(path: str, fmt: str, rows: int) -> str:
    """Open the file back: openpyxl (read-only) or csv, count the data rows."""
    if fmt == "xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        n = sum(1 for _ in wb.worksheets[0].iter_rows(min_row=4, values_only=True)) - 1  # minus 合计
        wb.close()
    else:
        import csv

        with open(path, encoding="utf-8-sig", newline="") as fh:
            n = sum(1 for _ in csv.reader(fh)) - 1
    return "ok" if n == rows else f"MISMATCH {n} != {rows}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("INSPECT_BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/inspect_bench"))
    p.add_argument("--hazards", type=int, default=1_000_000, help="size of the data set (stats_bench)")
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    p.add_argument("--writers", nargs="+", default=["app", "csv", "xlsxwriter"])
    p.add_argument("--child", nargs=3, metavar=("WRITER", "FORMAT", "ROWS"), help=argparse.SUPPRESS)
    p.add_argument("--out-dir", default=None)
    args = p.parse_args(argv)
    if args.child:
        writer, fmt, rows = args.child
        print(json.dumps(child(writer, fmt, int(rows), args.database_url, args.out_dir)))
        return
    from stats_bench import prepare

    prepare(args.database_url, args.hazards)
    results = []
    with tempfile.TemporaryDirectory(prefix="export_bench_") as out_dir:
        for rows in args.rows:
            if rows > args.hazards:
                print(f"skip {rows:,}: the data set has {args.hazards:,} hazards")
                continue
            for fmt in args.formats:
                for writer in args.writers:
                    if (writer, fmt) in (("csv", "xlsx"), ("xlsxwriter", "csv")):
                        continue
                    cmd = [sys.executable, os.path.abspath(__file__), "--database-url", args.database_url,
                           "--out-dir", out_dir, "--child", writer, fmt, str(rows)]
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    if proc.returncode != 0:
                        print(proc.stderr[-3000:], file=sys.stderr)
                        raise SystemExit(f"child failed: {' '.join(cmd)}")
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    results.append(r)
                    print(f"{fmt:<4} {writer:<10} {r['rows']:>9,} rows ({r['period']})  {r['seconds']:>7.2f}s  "
                          f"{r['rows_per_s']:>7,} rows/s  peak RSS {r['peak_rss_mb']:>6.1f} MB  "
                          f"{r['bytes'] / 1e6:>7.1f} MB  {r.get('check', '')}", flush=True)
    summary = {}
    for r in results:
        if r["writer"] == "app":
            base = next((b for b in results if b["requested"] == r["requested"] and b["format"] == r["format"]
                         and b["writer"] != "app"), None)
            if base:
                summary[f"{r['format']} {r['requested']}"] = {
                    "app_rows_per_s": r["rows_per_s"], "baseline": base["writer"],
                    "baseline_rows_per_s": base["rows_per_s"],
                    "ratio": round(r["rows_per_s"] / base["rows_per_s"], 2), "app_peak_rss_mb": r["peak_rss_mb"]}
    print(json.dumps({"results": results, "summary": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
