"""Benchmark: what two hostile workbooks cost the importer (issue 14, item 2).

- a 2 KB workbook whose last row is numbered 3,000,000 (2 rows of data): openpyxl's padded
  reading took 151 s on the reviewer's machine; the reader now follows the rows present;
- a workbook with SHARED_MB MB (default 300) of shared strings: openpyxl loads that part whole
  (1.1 GB peak for 300 MB); it is now refused from the zip directory.

Each import runs as `python -m data_sources import` in a child process; its time and its own
peak memory (VmHWM) are printed.

    .venv/bin/python benchmarks/bench_hostile_xlsx.py
    .venv/bin/python benchmarks/bench_hostile_xlsx.py --shared-mb 120
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml" /></Types>'
)


def _parts(last_row: int | None = None) -> dict[str, bytes]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tracking_id", "submitted_at", "status"])
    sheet.append(["1", "2026-01-05T09:00:00+08:00", "proses"])
    if last_row is not None:
        for column, value in enumerate(["2", "2026-01-06T09:00:00+08:00", "selesai"], start=1):
            sheet.cell(row=9999, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if last_row is not None:  # past Excel's 1,048,576 rows: renumber the sheet's XML
        name = "xl/worksheets/sheet1.xml"
        parts[name] = parts[name].replace(b'9999"', f'{last_row}"'.encode())
    return parts


def sparse_workbook(path: Path, last_row: int = 3_000_000) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _parts(last_row).items():
            archive.writestr(name, content)


def shared_strings_workbook(path: Path, strings_mb: int) -> None:
    parts = _parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", SHARED_STRINGS_TYPE)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                       b'spreadsheetml/2006/main">')
            written = 0
            while written < strings_mb * MB:
                block = b"".join(b"<si><t>" + os.urandom(24).hex().encode() + b"</t></si>" for _ in range(4096))
                part.write(block)
                written += len(block)
            part.write(b"</sst>")


def run_import(path: Path, folder: Path) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak MB, last line of output) of one CLI import."""
    peak = folder / "peak"
    secrets = folder / "secrets.toml"
    secrets.write_text("[app]\nmax_import_mb = 4096\n")
    runner = (
        "import atexit, runpy, sys\n"
        "def _peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        f"            open({str(peak)!r}, 'w').write(line.split()[1])\n"
        "atexit.register(_peak)\n"
        "sys.argv = ['data_sources', *sys.argv[1:]]\n"
        "runpy.run_module('data_sources', run_name='__main__', alter_sys=True)\n"
    )
    env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
    env.pop("COMPLAINTS_DB_URL", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", runner, "import", str(path), "--db", f"sqlite:///{folder / 'bench.db'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
    )
    seconds = time.monotonic() - started
    peak_mb = int(peak.read_text()) / 1024 if peak.exists() else float("nan")
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, seconds, peak_mb, (lines[-1] if lines else "")[:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-mb", type=int, default=300, help="MB of shared strings (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sparse = folder / "jarang.xlsx"
        sparse_workbook(sparse)
        code, seconds, peak_mb, last = run_import(sparse, folder)
        print(f"sparse workbook ({sparse.stat().st_size:,} bytes, last row 3,000,000): exit {code}, "
              f"{seconds:.1f} s, peak {peak_mb:.0f} MB")
        shared = folder / "teks.xlsx"
        shared_strings_workbook(shared, args.shared_mb)
        (folder / "bench.db").unlink(missing_ok=True)
        code, seconds, peak_mb, last = run_import(shared, folder)
        print(f"{args.shared_mb} MB of shared strings ({shared.stat().st_size / MB:,.1f} MB file): exit {code}, "
              f"{seconds:.1f} s, peak {peak_mb:.0f} MB")
        print(f"  {last}")


if __name__ == "__main__":
    main()
