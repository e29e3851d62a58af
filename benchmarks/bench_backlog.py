"""Benchmark of the backlog (metrics/backlog.py) over N synthetic complaints: wall time per call.

Uses the store `benchmarks/bench_report.py` builds (cached under data/bench/), evaluated as of
the report benchmark's moment: `backlog_counts` over the columnar copy and in SQL, and the two
lists the briefing and the slides show (the 20 most working days late, the 20 soonest due).

    .venv/bin/python benchmarks/bench_backlog.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_backlog.py --rows 10000    # a quick run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_report import AS_OF, build_database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from data_sources.store import Store  # noqa: E402
from metrics.backlog import backlog_complaints, backlog_counts  # noqa: E402
from metrics.columnar import complaint_columns  # noqa: E402
from metrics.filters import Filters  # noqa: E402


def best(label: str, call, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    print(f"{label:<42} best {min(times):.3f} s, median {statistics.median(times):.3f} s ({len(result)} rows)")
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="complaints to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=str(ROOT / "data" / "bench"), help="where the database goes")
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / f"bench_{args.rows}_{args.seed}.db"  # the report benchmark's store
    if not db_path.exists():
        build_database(db_path, args.rows, args.seed)
    url = f"sqlite:///{db_path}"
    store = Store.open(url, load_settings(db_url=url))
    try:
        filters = Filters(date(2025, 12, 1), date(2025, 12, 31), datetime.fromisoformat(AS_OF))
        started = time.perf_counter()
        complaint_columns(store)
        print(f"columnar copy ready in {time.perf_counter() - started:.2f} s (shared with the report)")
        total = backlog_counts(store, filters).iloc[-1]
        print(f"backlog as of {AS_OF}: open {total['backlog_open']:,}, overdue "
              f"{total['backlog_overdue']:,}, due soon {total['due_soon']:,}")
        best("backlog_counts (columnar copy)", lambda: backlog_counts(store, filters), args.runs)
        best("backlog_counts (SQL)", lambda: backlog_counts(store, filters, backend="sql"), args.runs)
        best("backlog_complaints overdue, 20", lambda: backlog_complaints(store, filters, limit=20), args.runs)
        best("backlog_complaints due_soon, 20",
             lambda: backlog_complaints(store, filters, kind="due_soon", limit=20), args.runs)
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
