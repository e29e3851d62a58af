"""Benchmark of the demo generator: generation and storing time, rows/s and peak memory.

The issue's budget: 100,000 demo complaints generated and stored in under 60 s. By default the
store is a fresh SQLite file in a temporary directory (removed afterwards); `--db` measures any
other database, e.g. a PostgreSQL URL, whose demo source is then filled or upserted.

    .venv/bin/python benchmarks/bench_demo.py                      # 100,000 complaints
    .venv/bin/python benchmarks/bench_demo.py --complaints 5000    # a quick run
    .venv/bin/python benchmarks/bench_demo.py --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from data_sources.demo import generate_frame, load_demo  # noqa: E402
from data_sources.store import Store  # noqa: E402

BUDGET_SECONDS = 60.0
UNTIL = date(2026, 11, 20)  # fixed, so every run measures the same data


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux; the peak of the whole process, numpy and drivers included.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=100_000, help="number of complaints")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temp dir)")
    args = parser.parse_args(argv)
    if args.complaints < 1:
        print("--complaints must be at least 1", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench_demo_") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'demo.db'}"
        settings = load_settings(db_url=url)

        started = time.perf_counter()
        generate_frame(args.complaints, args.seed, UNTIL, settings)
        generate_only = time.perf_counter() - started

        store = Store.open(url, settings)
        try:
            result = load_demo(store, n=args.complaints, seed=args.seed, until=UNTIL)
        finally:
            store.dispose()

    total = result.generate_seconds + result.store_seconds
    rows = [
        ("database", store.dialect),
        ("rows", f"{result.rows:,}"),
        ("inserted / updated", f"{result.inserted:,} / {result.updated:,}"),
        ("generate seconds", f"{generate_only:.2f}"),
        ("store seconds", f"{result.store_seconds:.2f}"),
        ("total seconds (generate + store)", f"{total:.2f}"),
        ("generate rows/s", f"{result.rows / max(generate_only, 1e-9):,.0f}"),
        ("end-to-end rows/s", f"{result.rows / max(total, 1e-9):,.0f}"),
        ("peak memory MB (RSS)", f"{peak_rss_mb():,.0f}"),
        ("budget (100,000 rows)", f"< {BUDGET_SECONDS:.0f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    # The budget scales with the row count; below 10,000 rows fixed costs (migrations, OPD
    # seeding) dominate, so a small run only shows its figures.
    if args.complaints < 10_000:
        print(f"{'verdict':<{width}}  not checked (small run)")
        return 0
    within = total <= BUDGET_SECONDS * args.complaints / 100_000
    print(f"{'verdict':<{width}}  {'within budget' if within else 'OVER BUDGET'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
