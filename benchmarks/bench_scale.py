"""Scale benchmark (issue 8): import, report, Ringkasan page and memory at N complaints, SQLite and PostgreSQL side by side.

For every N (default 1,000,000) and database, on demo data (`data_sources.demo`), in one run:

- import: `load_demo` (generate + store) in a fresh process, then ANALYZE (PostgreSQL: VACUUM
  ANALYZE), with its wall time and peak memory;
- report: `python -m metrics report` for the 12 months before the data's last month, in a fresh
  process: once right after the import (it builds the columnar copy, metrics/columnar.py), then
  with that copy on disk as every later run finds it;
- Ringkasan: the server-side work of the page's first view (the frame's store calls, the filter
  options and the metrics calls of pages/ringkasan.py for its default filters, this month) in a
  fresh process, with the columnar copy on disk and without it; then, in that same process,
  filter changes (a kecamatan, an OPD, a channel, another period), each a new filter combination
  the way Streamlit reruns the page;
- the report's aggregates alone, in process: the engine over its columnar copy and the engine's
  SQL path (GROUP BY in the database);

against two baselines on the same rows: (a) the naive way, `pd.read_sql` of the whole complaints
table and the per-OPD aggregates grouped in pandas, and (b) DuckDB computing the same per-OPD
aggregates (DuckDB's sqlite/postgres extensions need a download, so the same columns are read
into DuckDB's memory first and only the aggregate query is timed: a near-limit reference).
Every way's per-OPD counts must agree (asserted), so the benchmark cannot time a wrong answer.
It prints one table per N with the ratios, the issue's targets, a growth table over the Ns, and
writes everything as JSON. Every step that must start cold runs in its own process, whose peak
RSS comes from os.wait4.

    .venv/bin/python benchmarks/bench_scale.py                          # 1,000,000, both databases
    .venv/bin/python benchmarks/bench_scale.py --rows 100000,1000000,5000000 --backends sqlite
    .venv/bin/python benchmarks/bench_scale.py --small                  # 10,000 rows, CI
    .venv/bin/python benchmarks/bench_scale.py --merge a.json b.json    # one table from earlier runs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

_STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_ROWS = 1_000_000
SMALL_ROWS = 10_000
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "scale.json"
DEFAULT_DIR = ROOT / "data" / "bench" / "scale"
DEFAULT_UNTIL = date(2026, 11, 20)  # fixed, so runs on different days measure the same data
SEED = 42
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
BACKENDS = ("sqlite", "postgresql")
# The targets at 1,000,000 complaints in SQLite on a 2-core machine.
TARGET_ROWS = 1_000_000
TARGET_REPORT_S = 2.0
TARGET_FIRST_VIEW_S = 1.5
TARGET_FILTER_CHANGE_S = 0.5
TARGET_DUCKDB_FACTOR = 3.0
# Counts every way computes per OPD; received, responded and completed are the minimum.
AGREED_COUNTS = (
    "received",
    "responded",
    "responded_on_time",
    "response_overdue_open",
    "completed",
    "completed_on_time",
    "overdue",
    "accepted",
    "rated",
    "rating_sum",
    "redisposed",
)
REPORT_COUNTS = ("received", "responded", "completed")
# Columns the naive way reads: the whole table except the reporter's identity (DATA.md: it never
# leaves the database, not even into a benchmark's memory).
PRIVATE_COLUMNS = ("reporter_name",)
# Filter changes measured after the first view: (name, preset, slices).
FILTER_CHANGES: tuple[tuple[str, str, dict[str, tuple[str, ...]]], ...] = (
    ("kecamatan Barabai", "bulan_ini", {"kecamatan": ("Barabai",)}),
    ("OPD Dinas PUPR", "bulan_ini", {"opds": ("Dinas Pekerjaan Umum dan Penataan Ruang",)}),
    ("kecamatan Pandawan", "bulan_ini", {"kecamatan": ("Pandawan",)}),
    ("kanal whatsapp", "bulan_ini", {"channels": ("whatsapp",)}),
    ("OPD Dinas Kesehatan", "bulan_ini", {"opds": ("Dinas Kesehatan",)}),
    ("periode bulan lalu", "bulan_lalu", {}),
    ("periode 3 bulan", "3_bulan", {}),
)


# --- the period, as_of and page filters of a run ------------------------------------------
def report_period(until: date) -> tuple[date, date]:
    """The 12 whole months before the month of `until` (the data's last day)."""
    first_of_month = until.replace(day=1)
    year, month = first_of_month.year - 1, first_of_month.month
    return date(year, month, 1), first_of_month - timedelta(days=1)


def as_of_for(until: date, timezone: str) -> datetime:
    """The end of `until` in the local zone: every figure is judged at the end of the data."""
    from zoneinfo import ZoneInfo

    local = datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


# --- workers: each runs in its own process, reads a spec and writes a result file ----------
class _AutoAnalyze:
    """ANALYZE complaints every `every` seconds while an import runs, as autovacuum would.

    A server with autovacuum off (this project's development server) never gathers statistics
    during a long import, so PostgreSQL plans the store's `tracking_id IN (...)` lookups as a
    scan of every complaint of the source and the import turns quadratic. Production servers
    run autovacuum; the benchmark measures that case.
    """

    def __init__(self, store: Any, every: float = 30.0) -> None:
        import threading

        self.store, self.every, self.runs = store, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.store.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE complaints")
                self.runs += 1
            except Exception:  # noqa: BLE001 - statistics are an aid; the import decides success
                pass

    def __enter__(self) -> _AutoAnalyze:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _worker_import(spec: dict[str, Any]) -> dict[str, Any]:
    from contextlib import nullcontext

    from data_sources.demo import load_demo
    from data_sources.store import Store

    store = Store.open(spec["url"])
    autovacuum = None
    if store.dialect == "postgresql":
        autovacuum = store.execute("SHOW autovacuum").scalar()
    emulate = autovacuum == "off"
    try:
        with _AutoAnalyze(store) if emulate else nullcontext() as analyzer:
            result = load_demo(
                store, n=spec["rows"], seed=spec["seed"], until=date.fromisoformat(spec["until"])
            )
        started = time.perf_counter()
        # Fresh statistics after a bulk load (autovacuum would get there later on PostgreSQL).
        with store.engine.connect() as conn:
            if store.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("VACUUM ANALYZE complaints")
                conn.exec_driver_sql("VACUUM ANALYZE status_history")
                size = conn.exec_driver_sql(
                    "SELECT pg_total_relation_size('complaints') + pg_total_relation_size('status_history')"
                ).scalar()
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.commit()
                size = None
        maintenance = time.perf_counter() - started
        if size is None:
            path = Path(spec["url"].split("///", 1)[1])
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    finally:
        store.dispose()
    return {
        "server_autovacuum": autovacuum,
        "analyze_runs_during_import": analyzer.runs if emulate else None,
        "generate_s": result.generate_seconds,
        "store_s": result.store_seconds,
        "maintenance_s": maintenance,
        "stored": result.stored,
        "db_size_mb": int(size) / 1e6,
    }


def filter_options(store: Any) -> dict[str, list[str]]:
    """What ui.data.filter_options computes (cached per data version: a process's first run):
    the slicers' values from the columnar copy and the regions holding complaints."""
    from metrics.columnar import distinct_labels

    result = {
        name: distinct_labels(store, column)
        for name, column in (
            ("opds", "opd"),
            ("categories", "category"),
            ("kecamatan", "kecamatan"),
            ("channels", "channel"),
        )
    }
    regions = store.regions()
    result["region_codes"] = [str(v) for v in regions[regions["complaints"] > 0]["code"]]
    return result


def ringkasan_run(store: Any, filters: Any, settings: Any, *, first_run: bool) -> dict[str, float]:
    """The server-side work of one Streamlit run of Ringkasan, timed step by step.

    Mirrors dashboard.py (sign-in gate, filter options, demo banner), ui/page.guard (freshness line,
    empty-store check) and pages/ringkasan.py (compare_periods, opd_table, the 6-month series,
    the leaders' summary block),
    calling metrics/ directly: ui.data's st.cache_data wrappers would miss anyway for a new
    filter combination, and every wrapper reads the data version for its cache key.
    """
    from dataclasses import replace

    from access import accounts
    from metrics import briefing, kpi, trends
    from ui import views

    steps: dict[str, float] = {}
    cpu_started = time.process_time()

    def timed(name: str, call: Any) -> Any:
        started = time.perf_counter()
        value = call()
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - started
        return value

    # dashboard.py: the sign-in gate of a signed-in viewer (accounts exist; the account is
    # re-read every run), the filter options, the demo banner.
    timed("frame_store_calls", lambda: (accounts.user_count(store), accounts.get_user(store, "pimpinan")))
    if first_run:
        timed("filter_options", lambda: filter_options(store))
    timed("frame_store_calls", lambda: (store.has_complaints(), store.only_demo_data()))
    # ui/page.guard: freshness line and empty-store check.
    timed("frame_store_calls", lambda: (store.last_success(), store.has_complaints()))
    # pages/ringkasan.py, each through ui.data (one data_version read per call for the cache key).
    timed("frame_store_calls", store.data_version)
    comparison = timed("compare_periods", lambda: kpi.compare_periods(store, filters, settings))
    timed("frame_store_calls", store.data_version)
    table = timed("opd_table", lambda: kpi.opd_table(store, filters, settings))
    trend_filters = replace(filters, date_from=min(filters.date_from, views.trend_window(filters.date_to)))
    timed("frame_store_calls", store.data_version)
    timed("series", lambda: trends.series(store, trend_filters, settings, freq="month"))
    if filters.scope.opd is None:
        # "Briefing pimpinan": ui.summary_block.summary_block reuses the page's opd_table and
        # compare_periods and adds the administrative counts (the PDF itself is built only when
        # its button is clicked).
        timed("frame_store_calls", store.data_version)
        timed(
            "summary_block",
            lambda: briefing.summary_figures(store, filters, settings, table=table, comparison=comparison),
        )
    steps["total"] = sum(steps.values())
    # CPU seconds of the same work: on a busy machine, what the wall time would be on an idle one.
    steps["cpu"] = time.process_time() - cpu_started
    return steps


def _worker_page(spec: dict[str, Any]) -> dict[str, Any]:
    import access.accounts  # noqa: F401 - what ringkasan_run uses, imported as a server has it
    import metrics.briefing  # noqa: F401
    import metrics.kpi  # noqa: F401
    import metrics.trends  # noqa: F401
    import ui.briefing_download  # noqa: F401
    import ui.summary_block  # noqa: F401
    import ui.views  # noqa: F401
    from data_sources.store import Store
    from metrics.filters import Scope
    from ui.filters import FilterChoice, build_filters

    imports = time.perf_counter() - _STARTED  # interpreter, pandas, SQLAlchemy, Streamlit: a server has them
    as_of = datetime.fromisoformat(spec["as_of"])

    started, cpu_started = time.perf_counter(), time.process_time()
    store = Store.open(spec["url"])  # st.cache_resource: once per server process
    open_s, open_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    settings = store.settings

    def filters_for(preset: str, slices: dict[str, tuple[str, ...]]) -> Any:
        choice = FilterChoice(preset=preset, slices=slices, as_of=as_of)
        return build_filters(choice, settings, Scope())

    try:
        first = ringkasan_run(store, filters_for("bulan_ini", {}), settings, first_run=True)
        first["open_store"] = open_s
        first["total"] += open_s
        first["cpu"] += open_cpu
        changes: dict[str, dict[str, float]] = {}
        if spec.get("filter_changes", True):
            for name, preset, slices in FILTER_CHANGES:
                changes[name] = ringkasan_run(store, filters_for(preset, slices), settings, first_run=False)
    finally:
        store.dispose()
    return {"imports_s": imports, "first_view": first, "filter_changes": changes}


def _counts_payload(frame: Any, median_column: str | None = "median_hours") -> dict[str, dict[str, float]]:
    """Per-OPD counts (and median hours) as plain JSON: {opd: {count: value}}."""
    out: dict[str, dict[str, float]] = {}
    for row in frame.to_dict("records"):
        values = {name: int(row[name]) for name in AGREED_COUNTS}
        if median_column is not None:
            median = row.get(median_column)
            values["median_hours"] = None if median is None or median != median else float(median)
        out[str(row["opd"])] = values
    return out


def _worker_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """The report's aggregates in process: the columnar copy, its aggregates, the SQL path."""
    import pandas as pd

    from data_sources.store import Store
    from metrics import kpi
    from metrics.columnar import complaint_columns
    from metrics.filters import Filters

    store = Store.open(spec["url"])
    settings = store.settings
    filters = Filters(
        date_from=date.fromisoformat(spec["date_from"]),
        date_to=date.fromisoformat(spec["date_to"]),
        as_of=datetime.fromisoformat(spec["as_of"]),
    )
    # In-process aggregations are cheap: always the median of 3 or more, so a first run that
    # touches the memory-mapped copy cold does not stand for every run.
    repeats = max(spec["repeats"], 3)

    def aggregates(backend: str) -> pd.DataFrame:
        counts = kpi.cohort_counts(store, filters, settings.kpi, ["opd"], scope_opd=False, backend=backend)
        durations = kpi.response_durations(store, filters, scope_opd=False, backend=backend)
        per_opd_median, _ = kpi._median_hours(durations)  # noqa: SLF001 - the report's own median step
        counts["median_hours"] = counts["opd"].map(per_opd_median)
        return counts

    cpu: dict[str, float] = {}

    def best_of(name: str, call: Any, runs: int) -> tuple[float, list[float], Any]:
        times, cpus, value = [], [], None
        for _ in range(runs):
            kpi._cohort_memo.clear()  # noqa: SLF001 - time the aggregation, not the memo
            started, cpu_started = time.perf_counter(), time.process_time()
            value = call()
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
        cpu[name] = statistics.median(cpus)
        return statistics.median(times), times, value

    try:
        started = time.perf_counter()
        complaint_columns(store)
        load_s = time.perf_counter() - started
        frame_s, frame_runs, frame_counts = best_of("aggregates", lambda: aggregates("frame"), repeats)
        table_s, _, _ = best_of("opd_table", lambda: kpi.opd_table(store, filters, settings), repeats)
        sql_runs = 1 if spec["rows"] >= 1_000_000 else repeats
        sql_s, _, sql_counts = best_of("sql_aggregates", lambda: aggregates("sql"), sql_runs)
    finally:
        store.dispose()
    return {
        "columnar_load_s": load_s,
        "aggregates_s": frame_s,
        "aggregates_cpu_s": cpu["aggregates"],
        "aggregates_runs_s": frame_runs,
        "opd_table_s": table_s,
        "opd_table_cpu_s": cpu["opd_table"],
        "sql_aggregates_s": sql_s,
        "counts": _counts_payload(frame_counts),
        "sql_counts": _counts_payload(sql_counts),
    }


def _read_table_columns(url: str, columns: list[str] | None) -> Any:
    """`pd.read_sql` of the complaints table (the named columns, else all but the private ones)."""
    import pandas as pd
    from sqlalchemy import create_engine

    from data_sources.schema import complaints

    names = columns or [c for c in complaints.c.keys() if c not in PRIVATE_COLUMNS]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(f"SELECT {', '.join(names)} FROM complaints", conn)
    finally:
        engine.dispose()


def naive_counts(frame: Any, date_from: date, date_to: date, as_of_us: int, accepted_min_rating: int) -> Any:
    """KPI.md's per-OPD counts grouped in pandas over the whole table's rows (the naive way)."""
    import numpy as np
    import pandas as pd

    day = frame["submitted_date"].astype(str)  # ISO text (SQLite) or dates (PostgreSQL)
    disposed = frame["disposed_at"].astype("float64")  # NULL -> NaN; microseconds fit a float exactly
    cohort = (
        (day >= date_from.isoformat())
        & (day <= date_to.isoformat())
        & frame["opd"].notna()
        & (frame["status"] != "arsip")
        & (disposed <= as_of_us)
    )
    rows = frame[cohort]
    first = rows["first_response_at"].astype("float64")
    closed = rows["closed_at"].astype("float64")
    response_at = np.where(first <= as_of_us, first, np.where(closed <= as_of_us, closed, np.nan))
    responded = ~np.isnan(response_at)
    response_deadline = rows["response_deadline"].astype("float64").to_numpy()
    completion_deadline = rows["completion_deadline"].astype("float64").to_numpy()
    completed = (closed <= as_of_us).to_numpy()
    rating = rows["rating"].astype("float64").to_numpy()
    overdue_response = ~responded & (response_deadline < as_of_us)
    rated = completed & ~np.isnan(rating)
    flags = pd.DataFrame(
        {
            "opd": rows["opd"].to_numpy(),
            "received": 1,
            "responded": responded,
            "responded_on_time": responded & (response_at <= response_deadline),
            "response_overdue_open": overdue_response,
            "completed": completed,
            "completed_on_time": completed & (closed.to_numpy() <= completion_deadline),
            "overdue": ~completed & (overdue_response | (completion_deadline < as_of_us)),
            "accepted": completed
            & (rows["reopen_count"].to_numpy() == 0)
            & (np.isnan(rating) | (rating >= accepted_min_rating)),
            "rated": rated,
            "rating_sum": np.where(rated, rating, 0),
            "redisposed": rows["redisposition_count"].to_numpy() > 0,
        }
    )
    counts = flags.groupby("opd", sort=True).sum().astype("int64").reset_index()
    hours = pd.DataFrame(
        {
            "opd": rows["opd"].to_numpy()[responded],
            "hours": (response_at[responded] - disposed[cohort].to_numpy()[responded]) / 3.6e9,
        }
    )
    counts["median_hours"] = counts["opd"].map(hours.groupby("opd")["hours"].median())
    return counts


def _worker_naive(spec: dict[str, Any]) -> dict[str, Any]:
    from core.settings import load_settings

    accepted_min = load_settings(db_url=spec["url"]).kpi.accepted_min_rating
    cpu_started = time.process_time()
    started = time.perf_counter()
    frame = _read_table_columns(spec["url"], None)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    counts = naive_counts(
        frame,
        date.fromisoformat(spec["date_from"]),
        date.fromisoformat(spec["date_to"]),
        spec["as_of_us"],
        accepted_min,
    )
    group_s = time.perf_counter() - started
    return {
        "read_s": read_s,
        "group_s": group_s,
        "total_s": read_s + group_s,
        "cpu_s": time.process_time() - cpu_started,
        "rows_read": len(frame),
        "columns_read": len(frame.columns),
        "counts": _counts_payload(counts),
    }


DUCKDB_COLUMNS = [
    "opd",
    "status",
    "submitted_date",
    "disposed_at",
    "first_response_at",
    "closed_at",
    "response_deadline",
    "completion_deadline",
    "rating",
    "reopen_count",
    "redisposition_count",
]
DUCKDB_QUERY = """
WITH cohort AS (
    SELECT opd, disposed_at, closed_at, response_deadline, completion_deadline, rating,
           reopen_count, redisposition_count,
           CASE WHEN first_response_at <= $as_of THEN first_response_at
                WHEN closed_at <= $as_of THEN closed_at END AS response_at
    FROM complaints
    WHERE submitted_date BETWEEN $date_from AND $date_to AND opd IS NOT NULL
      AND status <> 'arsip' AND disposed_at <= $as_of
)
SELECT opd,
    count(*) AS received,
    count(response_at) AS responded,
    count(*) FILTER (WHERE response_at <= response_deadline) AS responded_on_time,
    count(*) FILTER (WHERE response_at IS NULL AND response_deadline < $as_of) AS response_overdue_open,
    count(*) FILTER (WHERE closed_at <= $as_of) AS completed,
    count(*) FILTER (WHERE closed_at <= $as_of AND closed_at <= completion_deadline) AS completed_on_time,
    count(*) FILTER (WHERE NOT coalesce(closed_at <= $as_of, false) AND (
        (response_at IS NULL AND response_deadline < $as_of) OR completion_deadline < $as_of)) AS overdue,
    count(*) FILTER (WHERE closed_at <= $as_of AND reopen_count = 0
                     AND (rating IS NULL OR rating >= $accepted_min)) AS accepted,
    count(*) FILTER (WHERE closed_at <= $as_of AND rating IS NOT NULL) AS rated,
    coalesce(sum(rating) FILTER (WHERE closed_at <= $as_of), 0) AS rating_sum,
    count(*) FILTER (WHERE redisposition_count > 0) AS redisposed,
    median(response_at - disposed_at) / 3.6e9 AS median_hours
FROM cohort GROUP BY opd ORDER BY opd
"""


def _worker_duckdb(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from core.settings import load_settings

    accepted_min = load_settings(db_url=spec["url"]).kpi.accepted_min_rating
    con = duckdb.connect()
    # Never reach for the network: offline an extension download only fails (slowly at worst).
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    source = "sqlite_scanner"
    started = time.perf_counter()
    try:
        # The near-limit way: DuckDB scanning the SQLite file itself. Its extension is a download,
        # so offline it is unavailable and the same columns are read through pandas instead.
        if not spec["url"].startswith("sqlite"):
            raise duckdb.Error("no scanner for this database")
        con.execute("LOAD sqlite")
        path = spec["url"].split("///", 1)[1]
        con.execute(
            f"CREATE TABLE complaints AS SELECT {', '.join(DUCKDB_COLUMNS)} FROM sqlite_scan(?, 'complaints')",
            [path],
        )
    except duckdb.Error:
        source = "pandas (pd.read_sql of the columns) into DuckDB memory"
        frame = _read_table_columns(spec["url"], DUCKDB_COLUMNS)
        days = pd.to_datetime(frame["submitted_date"].astype(str)).to_numpy().astype("datetime64[D]")
        arrays = {"submitted_date": pa.array(days, type=pa.date32())}
        for name in DUCKDB_COLUMNS:
            if name in ("opd", "status"):
                arrays[name] = pa.array(frame[name], type=pa.string(), from_pandas=True)
            elif name != "submitted_date":
                arrays[name] = pa.array(frame[name].astype("Int64"), type=pa.int64(), from_pandas=True)
        loaded = pa.table({name: arrays[name] for name in DUCKDB_COLUMNS})
        del frame, arrays
        con.register("loaded", loaded)
        con.execute("CREATE TABLE complaints AS SELECT * FROM loaded")
        con.unregister("loaded")
        del loaded
    load_s = time.perf_counter() - started
    params = {
        "as_of": spec["as_of_us"],
        "date_from": date.fromisoformat(spec["date_from"]),
        "date_to": date.fromisoformat(spec["date_to"]),
        "accepted_min": accepted_min,
    }
    times, cpus, result = [], [], None
    for _ in range(max(spec["repeats"], 3)):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = con.execute(DUCKDB_QUERY, params).df()
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    con.close()
    return {
        "source": source,
        "load_s": load_s,
        "aggregates_s": statistics.median(times),
        "aggregates_runs_s": times,
        "aggregates_cpu_s": statistics.median(cpus),  # all of DuckDB's threads
        "threads": os.cpu_count(),
        "counts": _counts_payload(result),
    }


WORKERS = {
    "import": _worker_import,
    "page": _worker_page,
    "engine": _worker_engine,
    "naive": _worker_naive,
    "duckdb": _worker_duckdb,
}


def worker_main(kind: str, spec_path: str, result_path: str) -> int:
    # The libraries every worker uses, imported before any step is timed (a server has them).
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sqlalchemy  # noqa: F401

    import data_sources.store  # noqa: F401
    import metrics.kpi  # noqa: F401

    if kind == "duckdb":
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    spec = json.loads(Path(spec_path).read_text())
    result = WORKERS[kind](spec)
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0


# --- the parent: runs the workers and the report command, checks, prints, writes -----------
@dataclass
class Child:
    """What one child process took: wall, CPU, peak RSS, and its result file (if any)."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    result: dict[str, Any] = field(default_factory=dict)
    load_1min: float = 0.0  # the machine's load average when it started: a busy machine skews times


class BenchError(Exception):
    """A step failed; the message says which and shows the child's last lines."""


def run_child(cmd: list[str], env: dict[str, str], log: Path, result_file: Path | None = None) -> Child:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if VERBOSE:
        print(f"      {wall:6.2f} s  {' '.join(cmd[1:5])}", flush=True)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        # Driver errors print whole statements (5,000 bound parameters): keep each line short.
        tail = "\n".join(line[:300] for line in log.read_text(errors="replace").splitlines()[-15:])
        raise BenchError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{tail}")
    result = json.loads(result_file.read_text()) if result_file is not None else {}
    # Linux reports ru_maxrss in KiB: the child's own peak, its interpreter and libraries included.
    return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, result, load)


@dataclass
class Runner:
    """Runs the steps of one (backend, N) against one database URL."""

    backend: str
    rows: int
    url: str
    work: Path
    env: dict[str, str]
    until: date
    repeats: int
    log: Path
    seq: int = 0
    loads: list[float] = field(default_factory=list)  # load average as each child started

    def worker(self, kind: str, **extra: Any) -> Child:
        from core.settings import load_settings

        settings = load_settings(db_url=self.url)
        date_from, date_to = report_period(self.until)
        as_of = as_of_for(self.until, settings.kpi.timezone)
        spec = {
            "url": self.url,
            "rows": self.rows,
            "seed": SEED,
            "until": self.until.isoformat(),
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "as_of": as_of.isoformat(),
            "as_of_us": int(as_of.timestamp()) * 1_000_000,
            "repeats": self.repeats,
            **extra,
        }
        self.seq += 1
        spec_file = self.work / f"spec-{self.seq}.json"
        result_file = self.work / f"result-{self.seq}.json"
        spec_file.write_text(json.dumps(spec))
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            str(spec_file),
            str(result_file),
        ]
        child = run_child(cmd, self.env, self.log, result_file)
        self.loads.append(round(child.load_1min, 2))
        return child

    def report(self, output: Path) -> Child:
        from core.settings import load_settings

        date_from, date_to = report_period(self.until)
        as_of = as_of_for(self.until, load_settings(db_url=self.url).kpi.timezone)
        cmd = [
            sys.executable,
            "-m",
            "metrics",
            "report",
            "--from",
            date_from.isoformat(),
            "--to",
            date_to.isoformat(),
            "--as-of",
            as_of.isoformat(),
            "--db",
            self.url,
            "--format",
            "csv",
            "--output",
            str(output),
        ]
        child = run_child(cmd, self.env, self.log)
        self.loads.append(round(child.load_1min, 2))
        return child


def columnar_cache_folders(url: str) -> list[Path]:
    """The on-disk columnar copies (metrics/columnar.py) belonging to this database URL."""
    from types import SimpleNamespace

    from core.settings import load_settings
    from metrics.columnar import _disk_path

    path = _disk_path(SimpleNamespace(settings=load_settings(db_url=url)), ())
    prefix = path.name.rsplit("-", 1)[0]
    return [p for p in path.parent.glob(f"{prefix}-*") if p.is_dir()]


def drop_columnar_cache(url: str) -> None:
    for folder in columnar_cache_folders(url):
        shutil.rmtree(folder, ignore_errors=True)


def _pg_admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").split("?", 1)[0]


def pg_available(url: str) -> str | None:
    """None when PostgreSQL answers at `url`, else the reason."""
    try:
        import psycopg

        with psycopg.connect(_pg_admin(url), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available", with its reason
        return f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def pg_schema(url: str, name: str, *, create: bool) -> str:
    """Create (or drop) the schema `name`; returns the URL whose search_path is that schema."""
    import psycopg

    with psycopg.connect(_pg_admin(url), autocommit=True) as conn:
        if create:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{name}"')
        else:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={name}', safe='-_')}"


def check_agreement(run: dict[str, Any], report_csv: Path) -> dict[str, Any]:
    """Assert that every way computed the same per-OPD counts (and the same medians)."""
    import pandas as pd

    ways = {
        "engine (columnar)": run["engine"]["counts"],
        "engine (SQL)": run["engine"]["sql_counts"],
        "naive pandas": run["naive"].get("counts"),
        "DuckDB": run["duckdb"]["counts"],
    }
    ways = {name: counts for name, counts in ways.items() if counts is not None}
    reference_name, reference = next(iter(ways.items()))
    for name, counts in ways.items():
        assert set(counts) == set(reference), f"{name} has other OPDs than {reference_name}"
        for opd, values in reference.items():
            for count in AGREED_COUNTS:
                assert counts[opd][count] == values[count], (
                    f"{name} {opd} {count} = {counts[opd][count]}, {reference_name} says {values[count]}"
                )
            a, b = counts[opd]["median_hours"], values["median_hours"]
            assert (a is None) == (b is None) and (
                a is None or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            ), f"{name} {opd} median hours {a} != {b}"
    table = pd.read_csv(report_csv)
    table = table[table["opd"] != "TOTAL"]
    from_report = {str(r["opd"]): r for r in table.to_dict("records")}
    assert set(from_report) == set(reference), "the report command lists other OPDs"
    for opd, values in reference.items():
        for count in REPORT_COUNTS:
            assert int(from_report[opd][count]) == values[count], f"report {opd} {count} differs"
    totals = {c: sum(v[c] for v in reference.values()) for c in REPORT_COUNTS}
    return {
        "ok": True,
        "opds": len(reference),
        "ways": [*ways, "python -m metrics report"],
        "counts_checked": list(AGREED_COUNTS) + ["median_hours"],
        "totals": totals,
    }


# What `python -m metrics report` imports before it reads anything (metrics/__main__.py).
REPORT_IMPORTS = "import core.settings, data_sources.store, metrics.kpi, metrics.export, metrics.filters"


def measure(
    backend: str, rows: int, args: argparse.Namespace, env: dict[str, str], log: Path
) -> dict[str, Any]:
    """Every measurement of one database at one N."""
    from core.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix=f"scale-{backend}-{rows}-", dir=args.dir))
    schema_name = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'complaints.db'}"
    else:
        schema_name = f"bench_scale_{rows}_{uuid.uuid4().hex[:8]}"
        url = pg_schema(args.pg_url, schema_name, create=True)
    runner = Runner(backend, rows, url, work, env, args.until, args.repeats, log)
    run: dict[str, Any] = {"backend": backend, "rows": rows}
    date_from, date_to = report_period(args.until)
    timezone = load_settings(db_url=url).kpi.timezone
    run["period"] = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "as_of": as_of_for(args.until, timezone).isoformat(),
    }

    def say(text: str) -> None:
        if not args.quiet:
            print(f"  [{backend} {rows:,}] {text}", flush=True)

    try:
        say("import (generate + store)...")
        child = runner.worker("import")
        run["import"] = {
            "wall_s": child.wall_s,
            "cpu_s": child.cpu_s,
            "peak_rss_mb": child.peak_rss_mb,
            **child.result,
            "rows_per_s": rows / child.wall_s,
        }
        drop_columnar_cache(url)
        report_csv = work / "report.csv"
        say("report right after the import (builds the columnar copy)...")
        child = runner.report(report_csv)
        run["report_cold"] = {"wall_s": child.wall_s, "cpu_s": child.cpu_s, "peak_rss_mb": child.peak_rss_mb}
        say("report with the columnar copy on disk...")
        children = [runner.report(report_csv) for _ in range(args.repeats)]
        startup = run_child([sys.executable, "-c", REPORT_IMPORTS], env, log)
        run["report"] = {
            "wall_s": statistics.median(c.wall_s for c in children),
            "cpu_s": statistics.median(c.cpu_s for c in children),
            "peak_rss_mb": max(c.peak_rss_mb for c in children),
            "runs_s": [c.wall_s for c in children],
            "startup_wall_s": startup.wall_s,  # interpreter + imports alone, same machine, same moment
            "startup_cpu_s": startup.cpu_s,
        }
        say("Ringkasan first view and filter changes...")
        child = runner.worker("page")
        first = child.result["first_view"]
        run["page"] = {
            "process_wall_s": child.wall_s,
            "peak_rss_mb": child.peak_rss_mb,
            "imports_s": child.result["imports_s"],
            "first_view_s": first["total"],
            "first_view_cpu_s": first["cpu"],
            "first_view_steps": first,
        }
        changes = child.result["filter_changes"]
        totals = [c["total"] for c in changes.values()]
        cpus = [c["cpu"] for c in changes.values()]
        run["filter_change"] = {
            "median_s": statistics.median(totals),
            "max_s": max(totals),
            "median_cpu_s": statistics.median(cpus),
            "max_cpu_s": max(cpus),
            "variants": {k: v["total"] for k, v in changes.items()},
            "steps": changes,
        }
        say("Ringkasan first view right after a data change (no columnar copy on disk)...")
        drop_columnar_cache(url)
        child = runner.worker("page", filter_changes=False)
        run["page_after_data_change"] = {
            "process_wall_s": child.wall_s,
            "peak_rss_mb": child.peak_rss_mb,
            "first_view_s": child.result["first_view"]["total"],
            "first_view_cpu_s": child.result["first_view"]["cpu"],
            "first_view_steps": child.result["first_view"],
        }
        say("report aggregates in process (columnar and SQL)...")
        child = runner.worker("engine")
        run["engine"] = {"peak_rss_mb": child.peak_rss_mb, **child.result}
        if rows <= args.naive_max_rows:
            say("naive baseline (whole table into pandas)...")
            child = runner.worker("naive")
            run["naive"] = {"peak_rss_mb": child.peak_rss_mb, "process_wall_s": child.wall_s, **child.result}
        else:
            say(f"naive baseline skipped above --naive-max-rows {args.naive_max_rows:,}")
            run["naive"] = {
                "skipped": f"above --naive-max-rows {args.naive_max_rows:,}: reading every column of "
                f"{rows:,} rows into pandas needs about {NAIVE_MB_PER_MILLION * rows / 1e6 / 1024:.0f} GB "
                f"(~{NAIVE_MB_PER_MILLION / 1024:.0f} GB per million rows measured at 1M)",
            }
        say("DuckDB baseline...")
        child = runner.worker("duckdb")
        run["duckdb"] = {"peak_rss_mb": child.peak_rss_mb, "process_wall_s": child.wall_s, **child.result}
        run["agreement"] = check_agreement(run, report_csv)
        run["ratios"] = ratios(run)
        run["load_1min_at_steps"] = runner.loads
    finally:
        drop_columnar_cache(url)
        if schema_name is not None and not args.keep:
            pg_schema(args.pg_url, schema_name, create=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    # The per-OPD counts have been checked; the JSON keeps only the totals.
    for part in ("engine", "naive", "duckdb"):
        run[part].pop("counts", None)
        run[part].pop("sql_counts", None)
    return run


NAIVE_MB_PER_MILLION = 4200  # peak RSS of the naive way per million complaints (PostgreSQL, 1M)


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def ratios(run: dict[str, Any]) -> dict[str, float | None]:
    """How the dashboard's ways compare with the baselines (> 1: the baseline is slower)."""
    naive = run["naive"].get("total_s")
    duck = run["duckdb"]["aggregates_s"]
    return {
        "naive_over_report": _div(naive, run["report"]["wall_s"]),
        "naive_over_first_view": _div(naive, run["page"]["first_view_s"]),
        "naive_over_filter_change": _div(naive, run["filter_change"]["max_s"]),
        "engine_aggregates_over_duckdb": _div(run["engine"]["aggregates_s"], duck),
        "engine_aggregates_cpu_over_duckdb_cpu": _div(
            run["engine"]["aggregates_cpu_s"], run["duckdb"]["aggregates_cpu_s"]
        ),
        "report_table_over_duckdb": _div(run["engine"]["opd_table_s"], duck),
        "sql_aggregates_over_duckdb": _div(run["engine"]["sql_aggregates_s"], duck),
        "naive_memory_over_report_memory": _div(
            run["naive"].get("peak_rss_mb"), run["report"]["peak_rss_mb"]
        ),
    }


# --- presentation ------------------------------------------------------------------------
def _s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} MB"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _get(run: dict[str, Any], *path: str) -> Any:
    value: Any = run
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _wall_cpu(run: dict[str, Any], wall: tuple[str, ...], cpu: tuple[str, ...]) -> str:
    return f"{_s(_get(run, *wall))} (cpu {_s(_get(run, *cpu))})"


def _steps(run: dict[str, Any], *names: str) -> str:
    steps = _get(run, "page", "first_view_steps") or {}
    if not any(name in steps for name in names):
        return "-"  # a run from before this step was measured
    return _s(sum(steps.get(name, 0.0) for name in names))


TABLE_ROWS: tuple[tuple[str, Any], ...] = (
    ("import: generate + store", lambda r: _wall_cpu(r, ("import", "wall_s"), ("import", "cpu_s"))),
    (
        "  generate / store / analyze",
        lambda r: " / ".join(_s(_get(r, "import", k)) for k in ("generate_s", "store_s", "maintenance_s")),
    ),
    ("  rows per second", lambda r: f"{r['import']['rows_per_s']:,.0f}"),
    ("  peak memory", lambda r: _mb(r["import"]["peak_rss_mb"])),
    ("  database size", lambda r: _mb(r["import"]["db_size_mb"])),
    (
        "report 12 months, first after import",
        lambda r: _wall_cpu(r, ("report_cold", "wall_s"), ("report_cold", "cpu_s")),
    ),
    ("report 12 months (metrics report)", lambda r: _wall_cpu(r, ("report", "wall_s"), ("report", "cpu_s"))),
    (
        "  of which interpreter + imports",
        lambda r: _wall_cpu(r, ("report", "startup_wall_s"), ("report", "startup_cpu_s")),
    ),
    ("  peak memory", lambda r: _mb(r["report"]["peak_rss_mb"])),
    (
        "Ringkasan first view (fresh process)",
        lambda r: _wall_cpu(r, ("page", "first_view_s"), ("page", "first_view_cpu_s")),
    ),
    ("  metrics calls", lambda r: _steps(r, "compare_periods", "opd_table", "series")),
    ("  summary block (briefing figures)", lambda r: _steps(r, "summary_block")),
    ("  filter options (ui.data)", lambda r: _steps(r, "filter_options")),
    ("  open store + frame queries", lambda r: _steps(r, "open_store", "frame_store_calls")),
    ("  process start + imports (not counted)", lambda r: _s(r["page"]["imports_s"])),
    ("  peak memory", lambda r: _mb(r["page"]["peak_rss_mb"])),
    (
        "Ringkasan first view after data change",
        lambda r: _wall_cpu(
            r, ("page_after_data_change", "first_view_s"), ("page_after_data_change", "first_view_cpu_s")
        ),
    ),
    (
        "Ringkasan filter change (median)",
        lambda r: _wall_cpu(r, ("filter_change", "median_s"), ("filter_change", "median_cpu_s")),
    ),
    (
        "Ringkasan filter change (slowest)",
        lambda r: _wall_cpu(r, ("filter_change", "max_s"), ("filter_change", "max_cpu_s")),
    ),
    (
        "report aggregates, columnar",
        lambda r: _wall_cpu(r, ("engine", "aggregates_s"), ("engine", "aggregates_cpu_s")),
    ),
    ("  whole opd_table", lambda r: _wall_cpu(r, ("engine", "opd_table_s"), ("engine", "opd_table_cpu_s"))),
    ("  columnar copy load (mmap)", lambda r: _s(r["engine"]["columnar_load_s"])),
    ("report aggregates, SQL in database", lambda r: _s(r["engine"]["sql_aggregates_s"])),
    ("(a) naive: whole table + pandas", lambda r: _wall_cpu(r, ("naive", "total_s"), ("naive", "cpu_s"))),
    ("  read / group", lambda r: f"{_s(_get(r, 'naive', 'read_s'))} / {_s(_get(r, 'naive', 'group_s'))}"),
    ("  peak memory", lambda r: _mb(_get(r, "naive", "peak_rss_mb"))),
    (
        "(b) DuckDB: same aggregates",
        lambda r: _wall_cpu(r, ("duckdb", "aggregates_s"), ("duckdb", "aggregates_cpu_s")),
    ),
    ("  DuckDB load (not counted)", lambda r: _s(r["duckdb"]["load_s"])),
    ("ratio naive / report", lambda r: _x(r["ratios"]["naive_over_report"])),
    ("ratio naive / filter change", lambda r: _x(r["ratios"]["naive_over_filter_change"])),
    ("ratio columnar / DuckDB (wall)", lambda r: _x(r["ratios"]["engine_aggregates_over_duckdb"])),
    ("ratio columnar / DuckDB (cpu)", lambda r: _x(r["ratios"].get("engine_aggregates_cpu_over_duckdb_cpu"))),
    ("ratio whole opd_table / DuckDB", lambda r: _x(r["ratios"]["report_table_over_duckdb"])),
    ("ratio SQL aggregates / DuckDB", lambda r: _x(r["ratios"]["sql_aggregates_over_duckdb"])),
    (
        "ways agree (per-OPD counts)",
        lambda r: f"yes: {len(r['agreement']['ways'])} ways, {r['agreement']['opds']} OPDs",
    ),
    ("machine load avg (max in steps)", lambda r: f"{max(r['load_1min_at_steps']):.1f}"),
)
COLUMN = 28


def format_tables(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for rows in sorted({r["rows"] for r in runs}):
        present = {r["backend"]: r for r in runs if r["rows"] == rows and "import" in r}
        skipped = {r["backend"]: r for r in runs if r["rows"] == rows and "import" not in r}
        backends = [b for b in BACKENDS if b in present]
        lines.append(f"\n== {rows:,} complaints (wall time; cpu = CPU seconds of the same work) ==")
        if backends:
            lines.append(f"{'':40}" + "".join(f"{b:>{COLUMN}}" for b in backends))
            for label, cell in TABLE_ROWS:
                cells = []
                for b in backends:
                    try:
                        cells.append(cell(present[b]))
                    except (KeyError, TypeError):
                        cells.append("-")
                lines.append(f"{label:40}" + "".join(f"{c:>{COLUMN}}" for c in cells))
            for b in backends:
                if "skipped" in present[b].get("naive", {}):
                    lines.append(f"{b}: naive baseline skipped ({present[b]['naive']['skipped']})")
        for backend, run in skipped.items():
            lines.append(f"{backend}: {run.get('skipped') or 'failed: ' + str(run.get('failed'))}")
    return "\n".join(lines)


def targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets at 1,000,000 complaints, each met or not, per database."""
    checks = []
    for run in runs:
        if run.get("rows") != TARGET_ROWS or "import" not in run:
            continue
        for name, value, cpu, limit in (
            ("report <= 2 s", run["report"]["wall_s"], run["report"]["cpu_s"], TARGET_REPORT_S),
            (
                "page first view <= 1.5 s",
                run["page"]["first_view_s"],
                run["page"]["first_view_cpu_s"],
                TARGET_FIRST_VIEW_S,
            ),
            (
                "filter change <= 0.5 s (slowest)",
                run["filter_change"]["max_s"],
                run["filter_change"]["max_cpu_s"],
                TARGET_FILTER_CHANGE_S,
            ),
            (
                "report aggregates within 3x of DuckDB",
                run["ratios"]["engine_aggregates_over_duckdb"],
                run["ratios"]["engine_aggregates_cpu_over_duckdb_cpu"],
                TARGET_DUCKDB_FACTOR,
            ),
        ):
            checks.append(
                {
                    "backend": run["backend"],
                    "target": name,
                    "measured": value,
                    "cpu": cpu,
                    "limit": limit,
                    "met": value <= limit,
                    # A PostgreSQL first view runs SELECT DISTINCT in the server, outside this CPU time.
                    "met_in_cpu_time": cpu is not None
                    and cpu <= limit
                    and (run["backend"] == "sqlite" or not name.startswith("page first view")),
                    "binding": run["backend"] == "sqlite",
                    "load_1min_max": max(run["load_1min_at_steps"]),
                }
            )
    return checks


GROWTH_METRICS: tuple[tuple[str, Any], ...] = (
    ("import", lambda r: r["import"]["wall_s"]),
    ("report", lambda r: r["report"]["wall_s"]),
    ("report (cpu)", lambda r: r["report"]["cpu_s"]),
    ("report, first after import", lambda r: r["report_cold"]["wall_s"]),
    ("page first view", lambda r: r["page"]["first_view_s"]),
    ("page first view (cpu)", lambda r: r["page"].get("first_view_cpu_s")),
    ("filter change (slowest)", lambda r: r["filter_change"]["max_s"]),
    ("filter change (slowest, cpu)", lambda r: r["filter_change"].get("max_cpu_s")),
    ("columnar aggregates", lambda r: r["engine"]["aggregates_s"]),
    ("columnar aggregates (cpu)", lambda r: r["engine"].get("aggregates_cpu_s")),
    ("SQL aggregates", lambda r: r["engine"]["sql_aggregates_s"]),
    ("naive", lambda r: r["naive"].get("total_s")),
    ("DuckDB", lambda r: r["duckdb"]["aggregates_s"]),
    ("report peak memory (MB)", lambda r: r["report"]["peak_rss_mb"]),
)


def growth(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per database and metric: the value at each N and, between neighbouring Ns, the cost
    growth divided by the row growth (<= 1: no worse than linear)."""
    out: dict[str, Any] = {}
    for backend in BACKENDS:
        measured = sorted(
            (r for r in runs if r["backend"] == backend and "import" in r), key=lambda r: r["rows"]
        )
        if len(measured) < 2:
            continue
        table = {}
        for name, value in GROWTH_METRICS:
            values = []
            for r in measured:
                try:
                    values.append(value(r))
                except (KeyError, TypeError):
                    values.append(None)
            steps = [
                (values[i + 1] / values[i]) / (measured[i + 1]["rows"] / measured[i]["rows"])
                if values[i] and values[i + 1] is not None
                else None
                for i in range(len(measured) - 1)
            ]
            known = [s for s in steps if s is not None]
            table[name] = {
                "rows": [r["rows"] for r in measured],
                "values": values,
                "growth_over_linear": steps,
                "no_worse_than_linear": bool(known) and all(s <= 1.05 for s in known),
            }
        out[backend] = table
    return out


def format_growth(table: dict[str, Any]) -> str:
    lines = []
    for backend, metrics_ in table.items():
        ns = next(iter(metrics_.values()))["rows"]
        lines.append(
            f"\n== growth, {backend}: value at each N, then cost growth / row growth between "
            "neighbouring N (<= 1: no worse than linear) =="
        )
        header = (
            f"{'':30}"
            + "".join(f"{n:>14,}" for n in ns)
            + "".join(f"{f'{a:,}->{b:,}':>24}" for a, b in zip(ns, ns[1:], strict=False))
        )
        lines.append(header)
        for name, row in metrics_.items():
            fmt = _mb if name.endswith("(MB)") else _s
            cells = "".join(f"{fmt(v):>14}" for v in row["values"])
            cells += "".join(f"{('-' if g is None else f'{g:.2f}'):>24}" for g in row["growth_over_linear"])
            lines.append(f"{name:30}{cells}")
    return "\n".join(lines)


def format_targets(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return ""
    lines = [
        f"\n== targets at {TARGET_ROWS:,} complaints (binding on SQLite; PostgreSQL reported); "
        "cpu: the same work in CPU seconds, what an idle machine would take =="
    ]
    for c in checks:
        fmt = _x if "DuckDB" in c["target"] else _s
        verdict = "met" if c["met"] else ("NOT MET (met in cpu time)" if c["met_in_cpu_time"] else "NOT MET")
        lines.append(
            f"{c['backend']:11} {c['target']:40} {fmt(c['measured']):>9} (cpu {fmt(c['cpu'])})  {verdict}"
            f"  [load {c['load_1min_max']:.1f}]"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def versions() -> dict[str, str]:
    out = {}
    for name in ("pandas", "numpy", "sqlalchemy", "duckdb", "psycopg", "streamlit"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing optional package is only not listed
            pass
    import sqlite3

    out["sqlite"] = sqlite3.sqlite_version
    return out


def pg_version(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(_pg_admin(url), connect_timeout=3) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception:  # noqa: BLE001
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        help=f"complaints, a comma list allowed, e.g. 100000,1000000 (default {DEFAULT_ROWS:,}; "
        f"--small: {SMALL_ROWS:,})",
    )
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"small mode for CI: {SMALL_ROWS:,} rows, both databases, one run per step, a temporary folder",
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma list of sqlite, postgresql")
    parser.add_argument(
        "--json-out", default=str(DEFAULT_JSON), help="results file (default benchmarks/results/scale.json)"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL server; the benchmark creates and drops its own schema there",
    )
    parser.add_argument(
        "--dir", help="where the SQLite files and scratch files go (default data/bench/scale)"
    )
    parser.add_argument(
        "--until",
        type=date.fromisoformat,
        default=DEFAULT_UNTIL,
        help="the demo data's last day (default %(default)s); the report covers the 12 months before its month",
    )
    parser.add_argument(
        "--naive-max-rows",
        type=int,
        default=2_000_000,
        help="run the naive baseline only up to this many rows (it needs ~4 GB per million; default %(default)s)",
    )
    parser.add_argument("--repeats", type=int, help="timed runs of the warm steps (default 3; --small: 1)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and scratch files")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="print one table from earlier result files, measure nothing",
    )
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "SPEC", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    text = args.rows or str(SMALL_ROWS if args.small else DEFAULT_ROWS)
    try:
        args.rows = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--rows must be whole numbers separated by commas: {text!r}")
    if not args.rows or min(args.rows) < 100:
        parser.error("--rows must be at least 100")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown or not args.backends:
        parser.error(f"--backends takes {', '.join(BACKENDS)}")
    args.repeats = args.repeats or (1 if args.small else 3)
    return args


def summarise(runs: list[dict[str, Any]]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    grown = growth(runs)
    checks = targets(runs)
    text = format_tables(runs) + format_growth(grown) + format_targets(checks)
    return text, grown, checks


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)
    if args.merge:
        runs = []
        for path in args.merge:
            runs.extend(json.loads(Path(path).read_text())["runs"])
        text, grown, checks = summarise(runs)
        print(text)
        merged = {
            "benchmark": "bench_scale",
            "merged_from": args.merge,
            "runs": runs,
            "growth": grown,
            "targets": checks,
        }
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(merged, indent=2, default=str))
        print(f"\nresults written to {args.json_out}")
        return 0

    scratch = None
    if args.dir is None:
        if args.small:
            scratch = tempfile.mkdtemp(prefix="bench_scale_")
            args.dir = scratch
        else:
            args.dir = str(DEFAULT_DIR)
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    log = Path(args.dir) / f"bench_scale-{os.getpid()}.log"
    # Children get an empty secrets file: a developer's secrets.toml must not change the figures.
    secrets = Path(args.dir) / "no-secrets.toml"
    secrets.write_text("")
    env = dict(os.environ, DASHBOARD_SECRETS=str(secrets), PYTHONPATH=str(ROOT))
    env.pop("COMPLAINTS_DB_URL", None)
    os.environ["DASHBOARD_SECRETS"] = str(secrets)

    pg_reason = pg_available(args.pg_url) if "postgresql" in args.backends else None
    result: dict[str, Any] = {
        "benchmark": "bench_scale",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {
            **versions(),
            "postgresql": pg_version(args.pg_url) if "postgresql" in args.backends else None,
        },
        "options": {
            "rows": args.rows,
            "backends": args.backends,
            "small": args.small,
            "repeats": args.repeats,
            "until": args.until.isoformat(),
            "seed": SEED,
        },
        "runs": [],
    }
    print(
        f"bench_scale: {', '.join(f'{n:,}' for n in args.rows)} complaints on {', '.join(args.backends)}; "
        f"log {log}",
        flush=True,
    )
    status = 0
    try:
        for rows in args.rows:
            for backend in args.backends:
                if backend == "postgresql" and pg_reason:
                    print(f"  [postgresql {rows:,}] skipped: no server ({pg_reason})")
                    result["runs"].append(
                        {"backend": backend, "rows": rows, "skipped": f"no server: {pg_reason}"}
                    )
                    continue
                try:
                    result["runs"].append(measure(backend, rows, args, env, log))
                except BenchError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    result["runs"].append({"backend": backend, "rows": rows, "failed": str(exc)})
                    status = 1
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    text, result["growth"], result["targets"] = summarise(result["runs"])
    print(text)
    out = Path(args.json_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nresults written to {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
