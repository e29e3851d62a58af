"""The store's files are its owner's alone (issue 14, item 6): the SQLite file, its WAL, its
folder and the columnar copies under data/ are created 0600 (files) and 0700 (folders), whatever
the process's umask would give (0644 / 0755)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from metrics import columnar
from tests.conftest import make_store


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _complaints(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "tracking_id": [f"P-{i}" for i in range(n)],
        "submitted_at": [pd.Timestamp("2026-01-05 01:00", tz="UTC")] * n,
        "status": ["proses"] * n,
        "opd": ["Dinas Kesehatan"] * n,
    })


def test_the_sqlite_store_and_its_folder_are_owner_only(tmp_path, usual_umask):
    folder = tmp_path / "data"
    store = make_store(f"sqlite:///{folder / 'complaints.db'}")
    try:
        source = store.ensure_source("berkas", "canonical")
        store.write_complaints(source, _complaints(3), run_id=None, observed_at=datetime.now(UTC))
        assert _mode(folder) == 0o700
        assert _mode(folder / "complaints.db") == 0o600
        wal = folder / "complaints.db-wal"
        assert wal.exists() and _mode(wal) == 0o600
    finally:
        store.dispose()


def test_columnar_copies_are_owner_only(sqlite_store, tmp_path, usual_umask):
    source = sqlite_store.ensure_source("berkas", "canonical")
    sqlite_store.write_complaints(source, _complaints(5), run_id=None, observed_at=datetime.now(UTC))
    columns = columnar.rebuild(sqlite_store)
    target = tmp_path / "cache" / "kolom" / "complaints-1"
    columnar._save(columns, target)
    assert os.umask(0o022) == 0o022  # the process's umask is left as it was
    for folder in (tmp_path / "cache" / "kolom", target):
        assert _mode(folder) == 0o700, folder
    files = list(target.iterdir())
    assert any(f.suffix == ".npy" for f in files)
    for file in files:
        assert _mode(file) == 0o600, file
