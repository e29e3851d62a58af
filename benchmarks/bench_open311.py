"""Benchmark: sync a GeoReport v2 server of 10,000 requests that caps replies at 50 and ignores dates.

    .venv/bin/python benchmarks/bench_open311.py                 # 10,000 requests; target under 2 minutes
    .venv/bin/python benchmarks/bench_open311.py --small         # 600 requests (the test suite runs this)
    .venv/bin/python benchmarks/bench_open311.py --db postgresql://postgres@127.0.0.1:5432/test

The server is the tests' own GeoReport v2 server (tests/open311_server.py) on 127.0.0.1, a real
HTTP server: newest first, at most 50 requests per reply, `start_date`/`end_date` ignored,
paging honoured. The first sync probes it, pages the whole listing and windows it on our side;
a second sync a day later (one new request) shows the incremental cost. Prints its figures
and exits non-zero when a sync is incomplete or (full mode) over the target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIMIT_SECONDS = 120.0
CAP = 50
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=60)


def run(requests: int, db_url: str | None) -> int:
    from core.settings import load_settings
    from data_sources.store import Store
    from data_sources.sync import sync_source
    from tests.open311_server import Deviations, GeoReportServer, make_requests

    records = make_requests(requests, first=FIRST, step=SPAN / requests)
    now = FIRST + SPAN + timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench_open311.db'}"
        store = Store.open(url, load_settings(db_url=url))
        name = f"bench-open311-{int(time.time())}"
        deviations = Deviations(dates="ignored", cap=CAP, newest_first=True)
        with GeoReportServer(records, deviations) as server:
            config = {
                "kind": "open311",
                "base_url": server.base_url,
                "start_date": (FIRST - timedelta(days=1)).date(),
                "timeout_seconds": 10,
            }
            started = time.perf_counter()
            first = sync_source(store, name, config, now=now)
            first_s = time.perf_counter() - started
            first_calls = len(server.calls)
            records.append(
                {**make_requests(1, first=now + timedelta(hours=2))[0], "service_request_id": "9999999"}
            )
            started = time.perf_counter()
            second = sync_source(store, name, config, now=now + timedelta(days=1))
            second_s = time.perf_counter() - started
            second_calls = len(server.calls) - first_calls
        source_id = store.source_row(name)["id"]
        stored = store.execute(
            "SELECT COUNT(*) FROM complaints WHERE source_id = :s", {"s": source_id}
        ).scalar()
        store.dispose()
    print(f"server: {requests:,} requests, cap {CAP} per reply, dates ignored, newest first, 127.0.0.1")
    print(f"first sync (probe + full read): {first_s:.1f} s, {first_calls} HTTP calls, "
          f"{first.stored:,} stored, {first.read / first_s:,.0f} requests/s")
    print(f"second sync (one new request): {second_s:.1f} s, {second_calls} HTTP calls, {second.stored:,} stored")
    print(f"stored in all: {stored:,} of {requests + 1:,}")
    for line in first.notes + second.notes:
        print(f"  {line}")
    ok = first.ok and second.ok and stored == requests + 1
    if not ok:
        print("INCOMPLETE:", first.error or second.error or "count differs", file=sys.stderr)
        return 1
    return 0 if first_s <= LIMIT_SECONDS else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--small", action="store_true", help="600 requests (the test suite)")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    return run(600 if args.small else args.requests, args.db)


if __name__ == "__main__":
    sys.exit(main())
