"""Benchmark: import a large canonical CSV (default 1,000,000 rows) and report time and peak memory.

Target (issue 4): 1,000,000 rows in at most 90 s with at most 1 GB peak RSS.

    .venv/bin/python benchmarks/bench_import.py                 # the full million rows, SQLite
    .venv/bin/python benchmarks/bench_import.py --rows 20000    # small mode
    .venv/bin/python benchmarks/bench_import.py --db postgresql://postgres@127.0.0.1:5432/test

The CSV is written to a temporary folder (streamed, so generating it costs no memory), one row in
a thousand is deliberately bad so the quarantine path is exercised too. The import runs in a
child process so its peak RSS is measured alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIMIT_SECONDS = 90.0
LIMIT_RSS_MB = 1024.0
OPDS = [
    "Dinas Kesehatan", "Dinas Pendidikan", "Dinas Pekerjaan Umum dan Penataan Ruang",
    "Dinas Perhubungan", "Dinas Lingkungan Hidup", "Dinas Sosial PPKB PPPA",
    "Dinas Kependudukan dan Pencatatan Sipil", "Satuan Polisi Pamong Praja",
    "RSUD H. Damanhuri Barabai", "Dinas Penanaman Modal dan PTSP",
]
KECAMATAN = ["Barabai", "Pandawan", "Haruyan", "Limpasu", "Hantakan", "Batu Benawa"]
CHANNELS = ["Website", "Android - hstkab", "SMS", "Whatsapp", "Twitter", "Instagram", "Tatap Muka"]
CLASSES = ["pengaduan", "aspirasi", "permintaan_informasi"]
HEADER = [
    "tracking_id", "submitted_at", "channel", "classification", "category", "opd", "kecamatan",
    "status", "disposed_at", "first_response_at", "closed_at", "rating", "reopen_count",
    "is_anonymous", "reporter_name", "title", "body",
]


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            submitted = start + timedelta(minutes=rng.randrange(0, 500_000))
            status = rng.choice(("menunggu_tindak_lanjut", "proses", "selesai", "selesai", "arsip"))
            disposed = submitted + timedelta(hours=rng.randrange(1, 72))
            responded = disposed + timedelta(hours=rng.randrange(1, 200)) if status in ("proses", "selesai") else None
            closed = (responded or disposed) + timedelta(hours=rng.randrange(1, 300)) if status == "selesai" else None
            rating = str(rng.randint(1, 5)) if closed and rng.random() < 0.4 else ""
            row = [
                str(7_000_000 + i),
                submitted.strftime("%Y-%m-%d %H:%M:%S"),
                rng.choice(CHANNELS), rng.choice(CLASSES), "Kesehatan", rng.choice(OPDS),
                rng.choice(KECAMATAN), status,
                disposed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                responded.strftime("%Y-%m-%dT%H:%M:%SZ") if responded else "",
                closed.strftime("%Y-%m-%dT%H:%M:%SZ") if closed else "",
                rating, "0", "tidak", f"Warga {i % 1000:03d}", "Jalan berlubang",
                "Mohon ditindaklanjuti: jalan berlubang di depan sekolah.",
            ]
            if i % 1000 == 999:  # a bad row: rating 9
                row[11] = "9"
            writer.writerow(row)


def child(csv_path: str, db_url: str, mode: str) -> None:
    """Run the import as the command line does and print a JSON line with the measurements."""
    from data_sources.importer import import_file
    from data_sources.store import Store

    store = Store.open(db_url)
    began, cpu_began = time.perf_counter(), time.process_time()
    # "auto" is what `python -m data_sources import` does: a reader process for a big file.
    report = import_file(store, csv_path, fmt="canonical", source="bench",
                         background=False if mode == "inline" else None)
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The reader process the import forks for a big file (data_sources/ahead.py): its peak and
    # CPU count too. Its ru_maxrss includes what it shared with this process at the fork, so
    # the sum of the two peaks is an upper bound on the memory the import held at once.
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    store.dispose()
    print(json.dumps({
        "rows_read": report.rows_read, "rows_stored": report.rows_stored,
        "rows_quarantined": report.rows_quarantined, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1), "reader_peak_rss_mb": round(reader.ru_maxrss / 1024, 1),
        "reader_cpu_seconds": round(reader.ru_utime + reader.ru_stime, 2),
    }))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated CSV")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--inline", action="store_true",
                        help="read and write in one process (no reader process), for comparison")
    parser.add_argument("--child", nargs=3, metavar=("CSV", "DB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        csv_path = Path(tmp) / "canonical.csv"
        began = time.perf_counter()
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - began:.1f} s")
        db_url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(csv_path), db_url, "inline" if args.inline else "auto"],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
    accounted = result["rows_read"] == result["rows_stored"] + result["rows_quarantined"]
    print(
        f"rows read {result['rows_read']:,}, stored {result['rows_stored']:,}, "
        f"quarantined {result['rows_quarantined']:,} (accounted: {accounted})"
    )
    peak = result["peak_rss_mb"] + result["reader_peak_rss_mb"]
    print(
        f"import time: {result['seconds']:.1f} s   CPU: writer {result['cpu_seconds']:.1f} s, reader "
        f"process {result['reader_cpu_seconds']:.1f} s   load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"peak RSS: writer {result['peak_rss_mb']:.0f} MB + reader {result['reader_peak_rss_mb']:.0f} MB "
        f"= {peak:.0f} MB (an upper bound: the two share what was loaded before the fork)"
    )
    if args.rows >= 1_000_000:
        ok = result["seconds"] <= LIMIT_SECONDS and peak <= LIMIT_RSS_MB
        print(f"target <= {LIMIT_SECONDS:.0f} s and <= {LIMIT_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'}")
        return 0 if ok and accounted else 1
    return 0 if accounted else 1


if __name__ == "__main__":
    sys.exit(main())
