"""Backup and restore round-trips on SQLite (online backup) and PostgreSQL (pg_dump/pg_restore)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pandas as pd
import pytest
from conftest import ROOT, make_store

from data_sources.backup import BackupError, backup, restore


def _complaints(n: int, status: str = "proses") -> pd.DataFrame:
    start = pd.Timestamp("2026-01-05 01:00", tz="UTC")
    return pd.DataFrame(
        {
            "tracking_id": [str(1000 + i) for i in range(n)],
            "submitted_at": [start + pd.Timedelta(hours=i) for i in range(n)],
            "status": status,
            "opd": "Dinas Kesehatan",
            "disposed_at": [start + pd.Timedelta(hours=i + 2) for i in range(n)],
        }
    )


def _count(store) -> int:
    return int(store.execute("SELECT COUNT(*) FROM complaints").scalar())


def test_backup_then_restore_brings_back_the_complaints_as_they_were(db_url, tmp_path):
    if db_url.startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    store = make_store(db_url)
    source = store.ensure_source("berkas", "canonical")
    store.write_complaints(source, _complaints(50), run_id=None, observed_at=datetime.now(UTC))
    target = tmp_path / ("backup.db" if db_url.startswith("sqlite") else "backup.dump")

    backup(db_url, target)
    store.write_complaints(source, _complaints(80, "selesai"), run_id=None, observed_at=datetime.now(UTC))
    assert _count(store) == 80
    store.dispose()

    restore(db_url, target)
    restored = make_store(db_url)
    assert _count(restored) == 50
    statuses = {row[0] for row in restored.execute("SELECT DISTINCT status FROM complaints").rows}
    assert statuses == {"proses"}
    restored.dispose()


def test_sqlite_backup_is_consistent_while_the_store_is_open(sqlite_url, tmp_path):
    store = make_store(sqlite_url)
    source = store.ensure_source("berkas", "canonical")
    store.write_complaints(source, _complaints(10), run_id=None, observed_at=datetime.now(UTC))
    with store.engine.connect() as reader:  # an open reader must not block the online backup
        reader.exec_driver_sql("SELECT COUNT(*) FROM complaints").fetchall()
        backup(sqlite_url, tmp_path / "copy.db")
    copy = make_store(f"sqlite:///{tmp_path / 'copy.db'}")
    assert _count(copy) == 10


def test_restore_of_a_missing_file_says_so(sqlite_url, tmp_path):
    with pytest.raises(BackupError, match="tidak ditemukan"):
        restore(sqlite_url, tmp_path / "nope.db")


def test_backup_cli_writes_a_file_and_reports_it(sqlite_url, tmp_path):
    make_store(sqlite_url).dispose()
    out = tmp_path / "cli.db"
    result = subprocess.run(
        [sys.executable, "-m", "data_sources", "backup", "--output", str(out), "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.exists() and "backup written" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "data_sources", "restore", str(tmp_path / "none.db"), "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
