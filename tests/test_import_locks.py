"""The store's doors under contention (issue 14, items 1 and 3): PostgreSQL sessions carry
server-side limits, a lock held by another process stops an import with a clear message, and
two first imports of the same new source at once both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.settings import load_settings
from tests.conftest import ROOT, make_store

CSV = "tracking_id,submitted_at,status\nA-1,2026-01-05 09:00,proses\nA-2,2026-01-06 09:00,selesai\n"


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _cli(args: list[str], secrets: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
    env.pop("COMPLAINTS_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "data_sources", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_postgresql_sessions_carry_lock_and_idle_transaction_limits(pg_url):
    store = make_store(pg_url)
    try:
        limits = store.execute(
            "SELECT current_setting('lock_timeout'), current_setting('idle_in_transaction_session_timeout')"
        ).first()
    finally:
        store.dispose()
    assert limits == ("30s", "1min")


def test_a_session_left_idle_in_a_transaction_is_ended_by_the_server(pg_url):
    settings = replace(load_settings(db_url=pg_url), db_idle_in_transaction_timeout_seconds=1)
    store = make_store(pg_url, settings)
    try:
        with store.engine.connect() as conn:
            conn.begin()
            conn.execute(text("SELECT 1"))
            time.sleep(2.5)  # a process frozen (or killed, its socket kept) inside a transaction
            with pytest.raises(DBAPIError, match="idle-in-transaction"):
                conn.execute(text("SELECT 1"))
    finally:
        store.dispose()


def test_a_lock_held_by_another_process_stops_the_import_with_a_clear_message(pg_url, tmp_path):
    make_store(pg_url).dispose()
    path = tmp_path / "kecil.csv"
    path.write_text(CSV)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[connections.complaints]\nlock_timeout_seconds = 1\n")
    with psycopg.connect(_psycopg_url(pg_url)) as holder:  # another writer, stuck mid-transaction
        holder.execute("INSERT INTO meta (key, value) VALUES ('data_version', '1') "
                       "ON CONFLICT (key) DO UPDATE SET value = '1'")
        started = time.monotonic()
        done = _cli(["import", str(path), "--db", pg_url], secrets)
        elapsed = time.monotonic() - started
        holder.rollback()
    assert done.returncode == 1
    assert "Basis data sedang dikunci oleh proses lain" in done.stderr
    assert "lebih dari 1 detik" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 30
    again = _cli(["import", str(path), "--db", pg_url], secrets)  # the lock gone: it goes through
    assert again.returncode == 0, again.stderr
    assert "Baris disimpan (rows stored):      2" in again.stdout


def test_ensure_source_is_race_safe(db_url):
    stores = [make_store(db_url) for _ in range(6)]
    try:
        for round_no in range(15):
            barrier = threading.Barrier(len(stores))
            ids: list[int] = []
            errors: list[BaseException] = []

            def first_import(store, name=f"baru-{round_no}", barrier=barrier, ids=ids, errors=errors):
                barrier.wait()
                try:
                    ids.append(store.ensure_source(name, "canonical"))
                except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                    errors.append(exc)

            threads = [threading.Thread(target=first_import, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors[0]
            assert len(ids) == len(stores) and len(set(ids)) == 1
    finally:
        for s in stores:
            s.dispose()


def test_two_first_imports_of_a_new_source_at_once_both_succeed(db_url, tmp_path):
    make_store(db_url).dispose()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("")
    paths = []
    for n in range(2):
        path = tmp_path / f"berkas{n}.csv"
        path.write_text(CSV.replace("A-", f"B{n}-"))
        paths.append(path)
    env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
    env.pop("COMPLAINTS_DB_URL", None)
    runs = [
        subprocess.Popen([sys.executable, "-m", "data_sources", "import", str(p), "--source", "kota-baru",
                          "--db", db_url], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for p in paths
    ]
    results = [(r.wait(timeout=120), *r.communicate()) for r in runs]
    for code, _out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    store = make_store(db_url)
    try:
        assert store.execute("SELECT COUNT(*) FROM sources WHERE name = 'kota-baru'").scalar() == 1
        assert store.execute("SELECT COUNT(*) FROM complaints").scalar() == 4
    finally:
        store.dispose()
