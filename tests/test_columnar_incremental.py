"""The columnar copy (metrics/columnar.py) is brought up to date from the rows a write changed,
and the result equals a full rebuild, on SQLite and PostgreSQL (issue 17)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_store
from sqlalchemy import func, select, text

from core.settings import load_settings, with_kpi
from data_sources.demo import generate_frame
from data_sources.schema import complaints
from metrics import columnar

UNTIL = date(2026, 11, 30)
OPD_NAMES = ["Dinas Kesehatan", "Dinas Pendidikan", "DINAS KESEHATAN", "Dinas PUPR", "Dinkes"]


@pytest.fixture(autouse=True)
def _fresh_memory():
    columnar._memory.clear()
    yield
    columnar._memory.clear()


def _records(n: int, seed: int, start: int) -> pd.DataFrame:
    frame = generate_frame(n, seed, UNTIL)
    frame["tracking_id"] = [f"T{start + i}" for i in range(n)]
    rng = np.random.default_rng(seed)
    frame["opd"] = rng.choice(np.array(OPD_NAMES + [None], dtype=object), n)  # NULL labels too
    return frame


def _write(store, frame: pd.DataFrame) -> None:
    source_id = store.ensure_source("incremental", "canonical")
    store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC))


def _assert_equal(copy: columnar.ComplaintColumns, full: columnar.ComplaintColumns) -> None:
    assert sorted(copy.values) == sorted(full.values)
    for name, array in full.values.items():
        assert np.array_equal(np.asarray(copy[name]), array), name
        assert np.asarray(copy[name]).dtype == array.dtype, name
    for name, labels in full.labels.items():
        assert list(copy.labels[name]) == list(labels), name


def _delete(store, rng: np.random.Generator, k: int) -> None:
    ids = [r[0] for r in store.execute(select(complaints.c.id)).rows]
    gone = [int(i) for i in rng.choice(ids, k, replace=False)]
    with store.engine.begin() as conn:
        for table in ("status_history", "complaints"):
            column = "complaint_id" if table == "status_history" else "id"
            conn.execute(text(f"DELETE FROM {table} WHERE {column} IN ({','.join(map(str, gone))})"))
        store.meta_set("data_version", str(datetime.now(UTC).timestamp()), conn)


@pytest.mark.parametrize("kept", ["memory", "disk"])
def test_incremental_copy_equals_a_full_rebuild_after_random_changes(store, kept, monkeypatch):
    if kept == "disk":
        monkeypatch.setattr(columnar, "DISK_CACHE_MIN_ROWS", 0)
    rng = np.random.default_rng(17)
    _write(store, _records(400, 1, 0))
    assert columnar.complaint_columns(store).built == "rebuild"
    next_id = 400
    for step in range(14):
        action = ["insert", "update", "alias", "mixed", "delete"][step % 5]
        if action in ("insert", "mixed"):
            k = int(rng.integers(1, 60))
            _write(store, _records(k, 100 + step, next_id))
            next_id += k
        if action in ("update", "mixed"):
            stored = [r[0] for r in store.execute(select(complaints.c.tracking_id)).rows]
            picked = rng.choice(stored, int(rng.integers(1, 40)), replace=False)
            frame = _records(len(picked), 200 + step, 0)
            frame["tracking_id"] = picked
            _write(store, frame)
        if action == "alias":
            store.add_alias(str(rng.choice(OPD_NAMES)), f"Dinas Baru {step}")
        if action == "delete":
            _delete(store, rng, int(rng.integers(1, 20)))
        if kept == "disk":
            columnar._memory.clear()  # the next process: only the saved copy is left
        copy = columnar.complaint_columns(store)
        assert copy.built == ("rebuild" if action == "delete" else "refresh"), action
        _assert_equal(copy, columnar.rebuild(store, arrow=False))
        count = store.execute(select(func.count()).select_from(complaints)).scalar()
        assert len(copy) == count


def test_a_refresh_reads_only_the_changed_complaints(store):
    _write(store, _records(300, 2, 0))
    base = columnar.complaint_columns(store)
    frame = _records(5, 3, 0)
    _write(store, frame)  # five updates of known complaints
    block, seq, count, _ = columnar._changes_since(store, base.seq)
    assert len(block[0]["id"]) == 5
    assert seq == base.seq + 1 and count == 300


def test_an_alias_change_marks_the_repointed_complaints(store):
    _write(store, _records(200, 4, 0))
    store.add_opd("Dinas Kesehatan")  # "DINAS KESEHATAN" follows now, not with the alias
    base = columnar.complaint_columns(store)
    before = store.execute(
        select(func.count()).select_from(complaints).where(complaints.c.opd_raw == "Dinkes")
    ).scalar()
    store.add_alias("Dinkes", "Dinas Kesehatan")
    block, *_ = columnar._changes_since(store, base.seq)
    assert len(block[0]["id"]) == before > 0
    copy = columnar.complaint_columns(store)
    assert copy.built == "refresh"
    assert "Dinkes" not in list(copy.labels["opd"])  # an unused label leaves the filter choices
    _assert_equal(copy, columnar.rebuild(store))


def test_a_deadline_recomputation_rebuilds_the_copy(store):
    _write(store, _records(150, 5, 0))
    columnar.complaint_columns(store)
    assert store.refresh_derived_if_needed(force=True) == 150
    copy = columnar.complaint_columns(store)
    assert copy.built == "rebuild"
    _assert_equal(copy, columnar.rebuild(store))


def test_other_deadline_settings_rebuild_the_copy(db_url):
    first = make_store(db_url)
    _write(first, _records(150, 5, 0))
    columnar.complaint_columns(first)
    first.dispose()
    settings = load_settings(db_url=db_url)
    settings = with_kpi(settings, response_days=settings.kpi.response_days + 2)
    second = make_store(db_url, settings)
    try:
        second.refresh_derived_if_needed()
        _write(second, _records(3, 6, 1000))
        copy = columnar.complaint_columns(second)
        assert copy.built == "rebuild"
        _assert_equal(copy, columnar.rebuild(second))
    finally:
        second.dispose()


def test_arrow_rebuild_equals_the_db_api_rebuild(store):
    _write(store, _records(500, 7, 0))
    store.add_alias("Dinkes", "Dinas Kesehatan")
    assert columnar.arrow_reader(store.settings.db_url) is not None  # the drivers load here
    _assert_equal(columnar.rebuild(store, arrow=True), columnar.rebuild(store, arrow=False))


def test_an_in_memory_store_falls_back_to_the_db_api_path():
    assert columnar.arrow_reader("sqlite:///:memory:") is None
    assert columnar.arrow_reader("sqlite://") is None


def test_bench_refresh_small_mode_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_refresh.py"), "--small",
         "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "full rebuild" in done.stdout and "after a write of" in done.stdout
