"""Province scale (issue #17): build a synthetic province once, then measure it.

    nice -n 19 python benchmarks/province_bench.py build --database-url postgresql://postgres@127.0.0.1:5432/inspect_province_bench \
        [--inspections 1000000 --findings 10 --hazards 5 --photos 2] [--stop-after SECONDS]
    python benchmarks/province_bench.py measure --database-url … [--repeat 3] [--skip …]

``build`` is resumable (benchmarks/province_data.py: one transaction per segment of inspections, COPY);
``measure`` prints one line per figure and a JSON summary at the end.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/inspect_province_bench"


def make_app(url: str, **over):
    from inspect_api import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1, **over})


def ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def cmd_build(args) -> None:
    import province_data

    ensure_database(args.database_url)
    app = make_app(args.database_url)
    only = None
    if args.segments:
        lo, _, hi = args.segments.partition("-")
        only = set(range(int(lo), int(hi or lo) + 1))
    counts = province_data.build(app, args.inspections, args.findings, args.hazards, args.photos,
                                 seg_size=args.segment, stop_after=args.stop_after, only=only,
                                 log=lambda m: print(m, flush=True))
    print(counts, flush=True)
    if (counts["segments_done"] == counts["segments"] or args.segments) and not args.no_analyze:
        province_data.analyze(app, log=lambda m: print(m, flush=True))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or resume building) the province")
    b.add_argument("--database-url", default=DEFAULT_URL)
    b.add_argument("--inspections", type=int, default=1_000_000)
    b.add_argument("--findings", type=int, default=10, help="findings per inspection")
    b.add_argument("--hazards", type=int, default=5, help="hazards per inspection")
    b.add_argument("--photos", type=int, default=2, help="photos per hazard")
    b.add_argument("--segment", type=int, default=20_000, help="inspections per transaction")
    b.add_argument("--stop-after", type=float, default=None, help="seconds; stop between segments")
    b.add_argument("--segments", help="load only these segments, e.g. 44-49 (the most recent ones)")
    b.add_argument("--no-analyze", action="store_true")
    b.set_defaults(func=cmd_build)
    try:
        from province_measure import add_measure_parser
    except ImportError:  # pragma: no cover
        add_measure_parser = None
    if add_measure_parser is not None:
        add_measure_parser(sub, DEFAULT_URL, make_app)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
