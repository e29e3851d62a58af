"""Benchmark of the columnar copy's refresh (issue 17, metrics/columnar.py).

On a demo store (`python -m data_sources demo`), prints with the load average beside each figure
and its ratio to the target:

- full rebuild: wall time and peak memory of `columnar.rebuild` in a fresh process (Arrow through
  ADBC; the DB-API tuple path beside it for comparison). Targets at 1,000,000 complaints:
  2.5 s and 600 MB. Peak memory is the process's own peak plus its SQLite reader child's
  (an upper bound: the two peaks need not coincide).
- after a write of --changes changed complaints (80% updates of stored ones, 20% new), the
  wall time of the next `python -m metrics report` over 12 months, which refreshes the saved
  copy instead of rebuilding it. Target 1.5 s. A warm report (nothing changed) beside it.

    .venv/bin/python -m data_sources demo --complaints 1000000 --db sqlite:////tmp/scale1m.db
    .venv/bin/python benchmarks/bench_refresh.py --db sqlite:////tmp/scale1m.db
    .venv/bin/python benchmarks/bench_refresh.py --small     # a 20,000-complaint store, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_REBUILD_S = 2.5
TARGET_REBUILD_MB = 600.0
TARGET_REPORT_S = 1.5

# Runs in a fresh process: one full rebuild, its figures as JSON on stdout.
_REBUILD = """
import json, resource, sys, time
from core.settings import load_settings
from data_sources.store import Store
from metrics import columnar
store = Store.open(sys.argv[1], load_settings(db_url=sys.argv[1]))
started = time.perf_counter()
copy = columnar.rebuild(store, arrow=sys.argv[2] == "arrow")
wall = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
          for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(json.dumps({"wall": wall, "cpu": cpu, "own_mb": own, "child_mb": child, "rows": len(copy)}))
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def ratio(value: float, target: float) -> str:
    return f"{value / target:.2f}x target {target:g}"


def rebuild_figures(url: str, path: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _REBUILD, url, path], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"rebuild failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_report(url: str, date_from: str, date_to: str, output: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one `python -m metrics report` subprocess."""
    cmd = [sys.executable, "-m", "metrics", "report", "--from", date_from, "--to", date_to,
           "--db", url, "--output", str(output)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"report failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def write_changes(url: str, changes: int, seed: int) -> str:
    """`changes` complaints written through the store: 80% updates of stored demo complaints
    (new status and closure), 20% new ones. Returns what was written."""
    import numpy as np
    from sqlalchemy import select

    from core.settings import load_settings
    from data_sources import schema
    from data_sources.demo import default_until, generate_frame
    from data_sources.store import Store

    store = Store.open(url, load_settings(db_url=url))
    try:
        source_id = store.execute(
            select(schema.sources.c.id).where(schema.sources.c.is_demo).limit(1)
        ).scalar()
        tracking = [r[0] for r in store.execute(
            select(schema.complaints.c.tracking_id).where(schema.complaints.c.source_id == source_id)
        ).rows]
        rng = np.random.default_rng(seed)
        updates = min(len(tracking), int(changes * 0.8))
        frame = generate_frame(changes, seed, default_until(store.settings), store.settings)
        frame["tracking_id"] = [*rng.choice(tracking, updates, replace=False),
                                *(f"BENCH-{time.time_ns()}-{i}" for i in range(changes - updates))]
        started = time.perf_counter()
        result = store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC))
        wall = time.perf_counter() - started
    finally:
        store.dispose()
    return f"{result.updated} updated, {result.inserted} new, written in {wall:.2f} s"


def period(url: str) -> tuple[str, str, int]:
    """The last 12 months of the store's submissions."""
    from sqlalchemy import func, select

    from core.settings import load_settings
    from data_sources import schema
    from data_sources.store import Store

    store = Store.open(url, load_settings(db_url=url))  # also migrates an older store
    try:
        last = store.execute(select(func.max(schema.complaints.c.submitted_date))).scalar()
        rows = store.execute(select(func.count()).select_from(schema.complaints)).scalar()
    finally:
        store.dispose()
    last = datetime.fromisoformat(str(last)).date()
    first = last.replace(year=last.year - 1)
    return first.isoformat(), last.isoformat(), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/scale1m.db", help="a demo store's URL")
    parser.add_argument("--small", action="store_true",
                        help="make a 20,000-complaint demo store in --dir and bench it")
    parser.add_argument("--dir", help="scratch folder for --small (default: a temporary one)")
    parser.add_argument("--changes", type=int, default=1000, help="complaints changed per write")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    url = args.db
    if args.small:
        folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-refresh-"))
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'small.db'}"
        subprocess.run([sys.executable, "-m", "data_sources", "demo", "--complaints", "20000",
                        "--db", url], cwd=ROOT, check=True, capture_output=True)
        # A 20,000-row copy is kept in memory only; the child processes keep theirs on disk too,
        # so the report after the write takes the same refresh path as at a million.
        os.environ["KPI_COLUMNAR_DISK_MIN_ROWS"] = "0"
    output = Path(tempfile.mkdtemp(prefix="bench-refresh-out-")) / "report.csv"
    date_from, date_to, rows = period(url)
    print(f"store: {url} ({rows:,} complaints), report {date_from}..{date_to}; {load()}")

    for path in ("arrow", "tuples"):
        figures = rebuild_figures(url, path)
        peak = figures["own_mb"] + figures["child_mb"]
        print(f"full rebuild ({path}): {figures['wall']:.2f} s ({ratio(figures['wall'], TARGET_REBUILD_S)}; "
              f"cpu {figures['cpu']:.2f} s incl. process start), "
              f"peak {peak:.0f} MB (own {figures['own_mb']:.0f} + reader {figures['child_mb']:.0f}; "
              f"{ratio(peak, TARGET_REBUILD_MB)}) [{load()}]")

    wall, cpu, mb = run_report(url, date_from, date_to, output)  # builds and saves the copy
    print(f"first report of this run (builds or refreshes the saved copy): {wall:.2f} s (cpu {cpu:.2f} s), {mb:.0f} MB [{load()}]")
    wall, cpu, mb = run_report(url, date_from, date_to, output)
    print(f"warm report (nothing changed): {wall:.2f} s (cpu {cpu:.2f} s), {mb:.0f} MB [{load()}]")
    for round_no in range(2):
        written = write_changes(url, args.changes, args.seed + round_no)
        wall, cpu, mb = run_report(url, date_from, date_to, output)
        print(f"report after a write of {args.changes:,} changed complaints ({written}): "
              f"{wall:.2f} s ({ratio(wall, TARGET_REPORT_S)}; cpu {cpu:.2f} s), {mb:.0f} MB [{load()}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
