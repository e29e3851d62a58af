"""The reader process of a big import (data_sources/ahead.py): a real fork, real pipes.

An import with the reader process must store exactly what the one-process import stores, raise
what it raises, and leave no process behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data_sources import schema
from data_sources.ahead import ReaderStopped, can_run_ahead, run_ahead
from data_sources.importer import ImportFailed, import_file
from data_sources.readers import UnreadableFile

SAMPLES = Path(__file__).resolve().parent / "data"
HEADER = "tracking_id,submitted_at,status,opd,channel,rating,disposed_at,closed_at,reporter_name,title"


def _canonical_csv(path: Path, rows: int) -> Path:
    lines = [HEADER]
    for i in range(rows):
        status = ("proses", "selesai", "menunggu_tindak_lanjut")[i % 3]
        closed = f"2026-02-{1 + i % 20:02d} 10:00" if status == "selesai" else ""
        rating = "9" if i % 17 == 5 else ("4" if closed else "")  # some bad ratings
        submitted = "kemarin" if i % 23 == 7 else f"2026-01-{1 + i % 28:02d} {8 + i % 9:02d}:15"
        tid = f"T-{i % (rows - 5)}"  # the last rows repeat earlier ones: later rows update
        lines.append(
            f"{tid},{submitted},{status},Dinas {i % 4},SMS,{rating},2026-01-30 09:00,{closed},"
            f"Warga {i},Aduan {i}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _complaints(store, source: str) -> list[tuple]:
    c, s = schema.complaints, schema.sources
    # change_seq counts writes (metrics.columnar refresh), not what was stored: batches may differ.
    skip = {"id", "source_id", "first_seen_at", "updated_at", "change_seq"}
    cols = [col for col in c.columns if col.name not in skip]
    return store.execute(
        select(*cols).join(s, s.c.id == c.c.source_id).where(s.c.name == source).order_by(c.c.tracking_id)
    ).rows


def _quarantine(store, source: str) -> list[tuple]:
    q, s = schema.quarantine, schema.sources
    return store.execute(
        select(q.c.record_no, q.c.tracking_id, q.c.reason, q.c.raw)
        .join(s, s.c.id == q.c.source_id).where(s.c.name == source).order_by(q.c.record_no)
    ).rows


def _history(store, source: str) -> list[tuple]:
    h, c, s = schema.status_history, schema.complaints, schema.sources
    return store.execute(
        select(c.c.tracking_id, h.c.status, h.c.status_raw)
        .join(c, c.c.id == h.c.complaint_id).join(s, s.c.id == h.c.source_id)
        .where(s.c.name == source).order_by(c.c.tracking_id, h.c.id)
    ).rows


def test_the_reader_process_stores_exactly_what_one_process_stores(store, tmp_path):
    path = _canonical_csv(tmp_path / "besar.csv", 400)
    inline = import_file(store, path, source="satu", chunk_rows=37, background=False)
    ahead = import_file(store, path, source="dua", chunk_rows=37, background=True)
    assert (ahead.rows_read, ahead.rows_stored, ahead.rows_quarantined) == (
        inline.rows_read, inline.rows_stored, inline.rows_quarantined,
    )
    assert ahead.rows_read == 400 and ahead.accounted and ahead.rows_quarantined > 30
    assert _complaints(store, "dua") == _complaints(store, "satu")
    valid = [i for i in range(400) if i % 17 != 5 and i % 23 != 7]
    assert [r[0] for r in _complaints(store, "dua")] == sorted({f"T-{i % 395}" for i in valid})
    assert _quarantine(store, "dua") == _quarantine(store, "satu")
    assert _history(store, "dua") == _history(store, "satu")
    assert not multiprocessing.active_children()


def test_lapor_exports_through_the_reader_process_match_one_process(store):
    first, second = SAMPLES / "lapor_export_2026-01-15.xlsx", SAMPLES / "lapor_export_2026-01-16.xlsx"
    for path in (first, second):
        import_file(store, path, fmt="lapor-export", source="satu", background=False)
        import_file(store, path, fmt="lapor-export", source="dua", background=True)
    assert _complaints(store, "dua") == _complaints(store, "satu")
    assert _quarantine(store, "dua") == _quarantine(store, "satu")
    assert _history(store, "dua") == _history(store, "satu")
    estimated = store.execute(
        select(func.count()).select_from(schema.complaints).where(schema.complaints.c.times_estimated)
    ).scalar()
    assert estimated > 0


def _numbers(n: int, fail_after: int | None = None, exc: BaseException | None = None):
    for i in range(n):
        if fail_after is not None and i == fail_after:
            raise exc
        yield i, os.getpid()


def test_items_arrive_in_order_from_another_process():
    got = list(run_ahead(_numbers(50)))
    assert [i for i, _ in got] == list(range(50))
    assert {pid for _, pid in got} != {os.getpid()}
    assert not multiprocessing.active_children()


def test_an_error_in_the_reader_is_raised_after_the_items_before_it():
    seen = []
    with pytest.raises(UnreadableFile, match="Berkas rusak setelah baris 3"):
        for i, _ in run_ahead(_numbers(10, 3, UnreadableFile("Berkas rusak setelah baris 3"))):
            seen.append(i)
    assert seen == [0, 1, 2]
    assert not multiprocessing.active_children()


class _Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def test_an_exception_that_cannot_travel_arrives_as_its_text():
    with pytest.raises(RuntimeError, match="_Unpicklable: x/y"):
        list(run_ahead(_numbers(5, 2, _Unpicklable("x", "y"))))


def _killed_after_two():
    yield 1
    yield 2
    os.kill(os.getpid(), signal.SIGKILL)
    yield 3


def test_a_killed_reader_stops_the_import_with_a_message():
    seen = []
    with pytest.raises(ReaderStopped, match="berhenti tiba-tiba"):
        for item in run_ahead(_killed_after_two()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_ends_the_reader():
    items = run_ahead(_numbers(10_000))
    assert next(items)[0] == 0
    items.close()  # what happens when writing a chunk fails
    assert not multiprocessing.active_children()


def test_the_reader_process_is_only_used_where_forking_is_safe(tmp_path):
    small = _canonical_csv(tmp_path / "kecil.csv", 10)
    assert not can_run_ahead(small)  # small files: not worth a process
    assert not can_run_ahead(tmp_path / "tidak-ada.csv")
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert not can_run_ahead(small, min_bytes=0)  # a program with threads never forks
    finally:
        stop.set()
        helper.join()


def test_a_failed_write_stops_the_reader_at_once(sqlite_store, tmp_path, monkeypatch):
    path = _canonical_csv(tmp_path / "besar.csv", 400)
    real_write = sqlite_store.write_complaints
    calls = []

    def failing_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk penuh")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(sqlite_store, "write_complaints", failing_write)
    with pytest.raises(ImportFailed, match="disk penuh") as failure:
        import_file(sqlite_store, path, source="dua", chunk_rows=37, background=True)
    assert not multiprocessing.active_children()  # before the traceback is even freed
    assert failure.value is not None
    run = sqlite_store.execute("SELECT status, rows_read FROM runs").rows
    assert run == [("failed", 37)]


def _socket_fds():
    import stat as stat_module

    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat_module.S_ISSOCK(os.fstat(int(name)).st_mode):
                found.append(int(name))
        except OSError:
            continue
    yield found


def test_the_reader_holds_none_of_the_parents_database_sockets(pg_url):
    from tests.conftest import make_store

    store = make_store(pg_url)
    try:
        store.execute("SELECT 1")  # a pooled connection: a socket to PostgreSQL in this process
        assert list(_socket_fds())[0], "the parent should hold a database socket"
        [in_child] = list(run_ahead(_socket_fds()))
        assert in_child == []
        assert store.execute("SELECT 1").scalar() == 1  # the parent's connection still works
    finally:
        store.dispose()
