"""Benchmark of `python -m metrics report`: wall time and peak memory over N synthetic complaints.

Builds (once, cached under data/bench/) a SQLite store with `--rows` complaints submitted over
one year, generated with vectorised numpy and bulk-inserted with the store's own derived
columns, then runs the report command for that 12-month period in a subprocess and prints its
wall time and peak resident memory. The issue's budget: 1,000,000 complaints in at most 2 s
and 600 MB on a 2-core machine.

    .venv/bin/python benchmarks/bench_report.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_report.py --rows 10000    # a quick run
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from data_sources.schema import complaints  # noqa: E402
from data_sources.store import Store  # noqa: E402

YEAR_START = pd.Timestamp("2025-01-01", tz="Asia/Makassar")
YEAR_END = pd.Timestamp("2026-01-01", tz="Asia/Makassar")
AS_OF = "2026-01-15T00:00:00+08:00"
OPDS = [f"Dinas {i:02d}" for i in range(1, 41)]
CATEGORIES = [f"Kategori {i:02d}" for i in range(1, 21)]
KECAMATAN = [f"Kecamatan {i:02d}" for i in range(1, 16)]
CHANNELS = ["website", "android", "sms", "whatsapp", "instagram", "tatap_muka"]
CLASSIFICATIONS = ["pengaduan", "aspirasi", "permintaan_informasi", "pengawasan"]
BATCH = 100_000
HOUR = pd.Timedelta(hours=1)


def synthetic_frame(n: int, seed: int) -> pd.DataFrame:
    """n canonical complaints over one year, as a store would hold them (instants aware UTC)."""
    rng = np.random.default_rng(seed)
    span = (YEAR_END - YEAR_START).value // 1000  # microseconds
    submitted = YEAR_START.tz_convert("UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, span, n)), unit="us"
    )
    frame = pd.DataFrame({
        "tracking_id": np.char.add("B", np.arange(n).astype(str)),
        "submitted_at": submitted,
        "channel": rng.choice(CHANNELS, n),
        "classification": rng.choice(CLASSIFICATIONS, n, p=[0.7, 0.15, 0.13, 0.02]),
        "category": rng.choice(CATEGORIES, n),
        "opd": rng.choice(OPDS, n, p=np.linspace(2, 0.2, len(OPDS)) / np.linspace(2, 0.2, len(OPDS)).sum()),
        "kecamatan": rng.choice(KECAMATAN, n),
    })
    stage = rng.choice(
        ["menunggu_verifikasi", "arsip", "menunggu_tindak_lanjut", "proses", "selesai"],
        n, p=[0.02, 0.03, 0.08, 0.12, 0.75],
    )
    disposed = stage != "menunggu_verifikasi"
    responded = np.isin(stage, ["proses", "selesai"])
    closed = stage == "selesai"
    verify_lag = pd.to_timedelta(rng.gamma(1.5, 20, n), unit="h")
    response_lag = pd.to_timedelta(rng.lognormal(3.5, 1.0, n), unit="h")
    close_lag = pd.to_timedelta(rng.lognormal(4.5, 0.9, n), unit="h")
    frame["disposed_at"] = (frame["submitted_at"] + verify_lag).where(disposed)
    frame["verified_at"] = frame["disposed_at"]
    # Some closures come without a recorded follow-up (closing is then the response).
    no_follow_up = closed & (rng.random(n) < 0.05)
    frame["first_response_at"] = (frame["disposed_at"] + response_lag).where(responded & ~no_follow_up)
    frame["closed_at"] = (frame["disposed_at"] + response_lag + close_lag).where(closed)
    frame["status"] = stage
    frame["rating"] = pd.array(
        np.where(closed & (rng.random(n) < 0.6), rng.choice([1, 2, 3, 4, 5], n, p=[.05, .07, .18, .4, .3]), 0),
        dtype="Int64",
    )
    frame.loc[frame["rating"] == 0, "rating"] = pd.NA
    frame["reopen_count"] = (closed & (rng.random(n) < 0.04)).astype("int64")
    frame["redisposition_count"] = (rng.random(n) < 0.06).astype("int64")
    return frame


def build_database(path: Path, rows: int, seed: int) -> None:
    """Create the store (migrations) and bulk-insert `rows` complaints with derived columns."""
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    settings = load_settings(db_url=url)
    store = Store.open(url, settings)
    source_id = store.ensure_source("benchmark", "demo", is_demo=True)
    columns = [
        "source_id", "tracking_id", "region_code", "submitted_at", "submitted_date", "channel",
        "classification", "category", "opd", "opd_raw", "kecamatan", "status", "verified_at",
        "disposed_at", "first_response_at", "closed_at", "times_estimated", "redisposition_count",
        "reopen_count", "rating", "is_anonymous", "is_confidential", "response_at",
        "verification_deadline", "response_deadline", "completion_deadline", "first_seen_at",
        "updated_at",
    ]
    assert set(columns) <= set(complaints.c.keys())
    now = int(datetime.now(UTC).timestamp() * 1_000_000)
    frame = synthetic_frame(rows, seed)
    store.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO complaints ({', '.join(columns)}) VALUES ({placeholders})"
    for start in range(0, rows, BATCH):
        part = frame.iloc[start:start + BATCH].copy()
        part["region_code"] = settings.region_code
        # The store's own derivation, so deadlines are exactly what write_complaints stores.
        store._derive(part)  # noqa: SLF001
        part["source_id"] = source_id
        part["opd_raw"] = part["opd"]
        part["times_estimated"] = 0
        part["is_anonymous"] = 0
        part["is_confidential"] = 0
        part["first_seen_at"] = now
        part["updated_at"] = now
        part["submitted_date"] = pd.to_datetime(part["submitted_date"]).dt.strftime("%Y-%m-%d")
        data: dict[str, list] = {}
        for col in columns:
            series = part[col]
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                micros = series.astype("datetime64[us, UTC]").astype("int64")
                data[col] = micros.astype(object).where(series.notna(), None).tolist()
            else:
                data[col] = series.astype(object).where(series.notna(), None).tolist()
        conn.executemany(sql, zip(*(data[c] for c in columns), strict=True))
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def run_report(db_path: Path, output: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one `python -m metrics report` subprocess."""
    cmd = [
        sys.executable, "-m", "metrics", "report", "--from", "2025-01-01", "--to", "2025-12-31",
        "--as-of", AS_OF, "--db", f"sqlite:///{db_path}", "--output", str(output),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"report failed ({proc.returncode}): {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="complaints to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="report runs to time")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached database")
    parser.add_argument("--dir", default=str(ROOT / "data" / "bench"), help="where the database goes")
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--max-mb", type=float, default=600.0)
    args = parser.parse_args(argv)

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / f"bench_{args.rows}_{args.seed}.db"
    if args.rebuild or not db_path.exists():
        started = time.perf_counter()
        build_database(db_path, args.rows, args.seed)
        print(f"built {args.rows:,} complaints in {time.perf_counter() - started:.1f} s: {db_path}")
    output = folder / "report.csv"
    # The first report after a data change builds the columnar copy (metrics/columnar.py);
    # time it separately, then the runs that use it, as every later report does.
    shutil.rmtree(folder / "cache", ignore_errors=True)
    wall, cpu, mb = run_report(db_path, output)
    print(f"cold run (builds the columnar cache): wall {wall:.2f} s, cpu {cpu:.2f} s, "
          f"peak memory {mb:.0f} MB")
    results = [run_report(db_path, output) for _ in range(args.runs)]
    for i, (wall, cpu, mb) in enumerate(results, start=1):
        print(f"run {i}: wall {wall:.2f} s, cpu {cpu:.2f} s, peak memory {mb:.0f} MB")
    wall = statistics.median(w for w, _, _ in results)
    cpu = statistics.median(c for _, c, _ in results)
    peak = max(m for _, _, m in results)
    load = os.getloadavg()[0]
    lines = output.read_text().count("\n")
    print(f"report over {args.rows:,} complaints, 12 months ({lines - 1} rows incl. TOTAL): "
          f"wall time {wall:.2f} s, cpu {cpu:.2f} s (median of {args.runs}), "
          f"peak memory {peak:.0f} MB; machine load average {load:.1f}")
    ok = wall <= args.max_seconds and peak <= args.max_mb
    print("within budget" if ok else f"OVER BUDGET ({args.max_seconds} s, {args.max_mb} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
