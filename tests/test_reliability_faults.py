"""Faults in the middle of work lose nothing and duplicate nothing (issue 9, item 3).

A disk that fills up during an import, a PostgreSQL server restarted (and, separately, a
connection terminated) inside a sync's write, a sync process killed half-way, and a database
that is not there at all: every case ends in a clear message (never a traceback), a
rolled-back batch, a run marked failed, and a next run that completes the work from the
watermark. The restart uses a private PostgreSQL server the test starts itself, so it never
disturbs the shared cluster other tests run against.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text

from data_sources.importer import ImportFailed, import_file, quarantine_count
from data_sources.sync import sync_source
from data_sources.sync.lapor_api import iso_utc
from tests.conftest import PG_ADMIN_URL, ROOT, make_store
from tests.http_fixture import FaultServer, Reply

T1 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
HEADER = "tracking_id,submitted_at,status,opd,disposed_at,rating\n"


def _csv(path: Path, first: int, n: int, bad: int = 0) -> Path:
    with path.open("w") as fh:
        fh.write(HEADER)
        for i in range(first, first + n):
            fh.write(f"{i},2026-01-05T09:00:00+08:00,proses,Dinas Kesehatan,2026-01-06T09:00:00+08:00,\n")
        for i in range(bad):
            fh.write(f"bad{i},2026-01-05T09:00:00+08:00,proses,Dinas Kesehatan,,9\n")  # rating 9
    return path


def _cli(args: list[str], secrets: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
    env.pop("COMPLAINTS_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "data_sources", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _scalar(store, sql: str) -> int:
    return int(store.execute(sql).scalar() or 0)


def _no_duplicates(store) -> None:
    assert _scalar(store, "SELECT COUNT(*) - COUNT(DISTINCT tracking_id) FROM complaints") == 0
    repeated = store.execute(
        "SELECT complaint_id, status FROM status_history GROUP BY complaint_id, status HAVING COUNT(*) > 1"
    ).rows
    assert repeated == []


# --- disk full -------------------------------------------------------------------------------
@contextmanager
def _tiny_disk(path: Path, size: str):
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs to fill the disk needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_during_import_rolls_back_and_keeps_earlier_data_and_quarantine(tmp_path):
    secrets = tmp_path / "none.toml"
    secrets.write_text("")
    with _tiny_disk(tmp_path / "disk", "3m") as disk:
        url = f"sqlite:///{disk / 'complaints.db'}"
        first = _cli(["import", str(_csv(tmp_path / "awal.csv", 1, 100, bad=2)), "--db", url], secrets)
        assert first.returncode == 0, first.stderr
        big = _csv(tmp_path / "besar.csv", 10_000, 30_000)  # one 30,000-row batch: far over 3 MB

        result = _cli(["import", str(big), "--db", url], secrets)

        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "Gagal impor" in result.stderr and "disk is full" in result.stderr
        store = make_store(url)
        try:
            assert _scalar(store, "SELECT COUNT(*) FROM complaints") == 100  # the batch rolled back whole
            assert _scalar(store, "SELECT MAX(CAST(tracking_id AS INTEGER)) FROM complaints") == 100
            assert quarantine_count(store) == 2
            statuses = [r[0] for r in store.execute("SELECT status FROM runs ORDER BY id").rows]
            assert statuses[0] == "ok" and statuses[-1] == "failed"
            assert store.execute("PRAGMA integrity_check").scalar() == "ok"
        finally:
            store.dispose()


def test_database_full_part_way_keeps_whole_batches_only(sqlite_url, tmp_path):
    """SQLite's max_page_count makes the database 'full' without root: batches stay atomic."""
    store = make_store(sqlite_url)
    source = _csv(tmp_path / "awal.csv", 1, 50, bad=3)
    import_file(store, source)
    pages = _scalar(store, "PRAGMA page_count")
    store.dispose()
    store = make_store(sqlite_url)

    @event.listens_for(store.engine, "connect")
    def _cap(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 120}")

    store.engine.dispose()  # new connections get the cap
    with pytest.raises(ImportFailed, match="full"):
        import_file(store, _csv(tmp_path / "besar.csv", 10_000, 20_000), chunk_rows=1000)
    stored = _scalar(store, "SELECT COUNT(*) FROM complaints") - 50
    assert stored % 1000 == 0  # whole batches of 1,000 or nothing of a batch
    assert stored < 20_000
    assert quarantine_count(store) == 3
    run = store.execute("SELECT status, rows_stored FROM runs ORDER BY id DESC LIMIT 1").first()
    assert run[0] == "failed" and run[1] == stored
    store.dispose()


# --- sync faults -----------------------------------------------------------------------------
def _record(i: int, updated: datetime) -> dict:
    return {
        "tracking_id": str(8_000_000 + i),
        "submitted_at": (T1 - timedelta(days=10, minutes=i)).isoformat(),
        "status": "proses",
        "opd": "Dinas PUPR",
        "disposed_at": (T1 - timedelta(days=9, minutes=i)).isoformat(),
        "updated_at": updated.isoformat(),
    }


class Api:
    """A LAPOR!-shaped listing that honours updated_since and paging, with an optional delay."""

    def __init__(self, records: list[dict], per_page: int, delay: float = 0.0) -> None:
        self.records = records
        self.per_page = per_page
        self.delay = delay
        self.on_page: dict[int, threading.Event] = {}

    def __call__(self, request) -> Reply:  # noqa: ANN001
        rows = self.records
        since = request.params.get("updated_since")
        if since:
            cut = datetime.fromisoformat(since.replace("Z", "+00:00"))
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= cut]
        page = int(request.params.get("page", 1))
        if page in self.on_page:
            self.on_page[page].set()
        chunk = rows[(page - 1) * self.per_page: page * self.per_page]
        more = page * self.per_page < len(rows)
        if self.delay:
            time.sleep(self.delay)
        return Reply(body={"data": chunk, "next_page": page + 1 if more else None})


def _config(server: FaultServer, per_page: int) -> dict:
    return {"kind": "lapor-api", "base_url": server.url, "token": "t", "per_page": per_page,
            "timeout_seconds": 10, "max_retries": 1, "backoff_seconds": 0.01}


def _terminate_writer(application_name: str, timeout: float = 20.0) -> int:
    """Terminate the backend of `application_name` the moment it is inside a write transaction."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    with psycopg.connect(admin, autocommit=True) as conn:
        while time.monotonic() < deadline:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
                "AND backend_xid IS NOT NULL", (application_name,)
            ).fetchall()
            if killed:
                return len(killed)
            time.sleep(0.002)
    return 0


def test_connection_cut_during_a_sync_write_fails_the_run_and_the_next_run_resumes(pg_url):
    name = f"rel_{uuid.uuid4().hex[:8]}"
    url = f"{pg_url}&application_name={name}"
    store = make_store(url)
    old = [_record(i, T1 - timedelta(days=1)) for i in range(100)]
    new = [_record(i, T1 + timedelta(hours=1)) for i in range(100, 4100)]
    api = Api(old, per_page=1000)
    try:
        with FaultServer(api) as server:
            first = sync_source(store, "lapor", _config(server, 1000), now=T1)
            assert first.ok, first.error
            watermark = store.source_row("lapor")["watermark"]
            assert watermark == iso_utc(T1 - timedelta(minutes=5))

            api.records = old + new
            api.on_page[2] = threading.Event()
            killed: list[int] = []

            def cut_when_page_2_is_written() -> None:
                api.on_page[2].wait(30)
                killed.append(_terminate_writer(name))

            cutter = threading.Thread(target=cut_when_page_2_is_written)
            cutter.start()
            second = sync_source(store, "lapor", _config(server, 1000), now=T1 + timedelta(hours=2))
            cutter.join()
            assert killed == [1], "the sync's write transaction was never seen"
            assert not second.ok
            run = store.execute("SELECT status, error FROM runs WHERE id = :id", {"id": second.run_id}).first()
            assert run[0] == "failed" and run[1]
            assert store.source_row("lapor")["watermark"] == watermark  # not moved by a failed run
            partial = _scalar(store, "SELECT COUNT(*) FROM complaints")
            assert partial < 4100 and (partial - 100) % 1000 == 0  # page 2's batch rolled back whole

            server.requests.clear()
            third = sync_source(store, "lapor", _config(server, 1000), now=T1 + timedelta(hours=3))
            assert third.ok, third.error
            assert {r.params.get("updated_since") for r in server.requests} == {watermark}
        assert _scalar(store, "SELECT COUNT(*) FROM complaints") == 4100
        _no_duplicates(store)
    finally:
        store.dispose()


def _sync_secrets(tmp_path: Path, server: FaultServer, per_page: int) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(
        "[sources.lapor]\n"
        f'kind = "lapor-api"\nbase_url = "{server.url}"\ntoken = "t"\nper_page = {per_page}\n'
        "timeout_seconds = 10\nmax_retries = 1\nbackoff_seconds = 0.01\n"
    )
    return path


def test_sync_process_killed_half_way_is_completed_by_the_next_run(sqlite_url, tmp_path):
    db_url = sqlite_url  # PostgreSQL's side of a dying writer is the connection-cut test above
    records = [_record(i, T1) for i in range(600)]
    api = Api(records, per_page=50, delay=0.2)
    store = make_store(db_url)
    try:
        with FaultServer(api) as server:
            secrets = _sync_secrets(tmp_path, server, 50)
            env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
            process = subprocess.Popen([sys.executable, "-m", "data_sources", "sync", "--db", db_url],
                                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while _scalar(store, "SELECT COUNT(*) FROM complaints") < 150 and time.monotonic() < deadline:
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            partial = _scalar(store, "SELECT COUNT(*) FROM complaints")
            assert 150 <= partial < 600, "the sync was not killed half-way"
            assert partial % 50 == 0  # pages commit whole
            assert store.source_row("lapor")["watermark"] is None

            api.delay = 0
            again = _cli(["sync", "--db", db_url], secrets)
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        assert _scalar(store, "SELECT COUNT(*) FROM complaints") == 600
        _no_duplicates(store)
        assert store.source_row("lapor")["watermark"] is not None
        # The killed run does not stay "running" forever: the next run saw its process gone.
        runs = store.execute("SELECT id, status, pid, error FROM runs ORDER BY id").rows
        assert [r[1] for r in runs] == ["failed", "ok"]
        assert runs[0][2] == process.pid
        assert f"pid {process.pid}" in runs[0][3] and f"run #{runs[1][0]}" in runs[0][3]
    finally:
        store.dispose()


def test_a_run_of_a_live_process_or_another_machine_is_not_marked_abandoned(sqlite_url):
    store = make_store(sqlite_url)
    source_id = store.ensure_source("uji", "canonical")
    mine = store.start_run(source_id, "import")  # this process: alive
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET host = 'mesin-lain', pid = 1 WHERE id = :i"), {"i": mine})
    other_machine = mine
    alive = store.start_run(source_id, "import")
    store.start_run(source_id, "import")
    status = dict(store.execute("SELECT id, status FROM runs").rows)
    assert status[other_machine] == "running" and status[alive] == "running"
    store.dispose()


# --- database unreachable --------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.mark.parametrize("command", [["import", "FILE"], ["quarantine"], ["demo", "--complaints", "10"]])
def test_cli_with_an_unreachable_database_says_so_without_a_traceback(command, tmp_path):
    secrets = tmp_path / "none.toml"
    secrets.write_text("")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere?connect_timeout=3"
    args = [str(_csv(tmp_path / "a.csv", 1, 3)) if a == "FILE" else a for a in command]
    result = _cli([*args, "--db", url], secrets)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "basis data" in result.stderr.lower()


def test_sqlite_store_whose_folder_cannot_exist_says_so_without_a_traceback(tmp_path):
    secrets = tmp_path / "none.toml"
    secrets.write_text("")
    not_a_folder = tmp_path / "berkas-biasa"
    not_a_folder.write_text("")  # a file where the database's folder should be: even root cannot
    url = f"sqlite:///{not_a_folder / 'data' / 'complaints.db'}"
    result = _cli(["import", str(_csv(tmp_path / "a.csv", 1, 3)), "--db", url], secrets)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "basis data" in result.stderr.lower()


# --- a real PostgreSQL restart ---------------------------------------------------------------
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def _private_postgres():
    """A throwaway PostgreSQL server of its own (initdb in /tmp, run as the postgres user), so a
    test can restart it for real without touching the shared cluster other tests use."""
    import pwd
    import shutil
    import tempfile

    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or not shutil.which("runuser"):
        pytest.skip("a private PostgreSQL server needs root, runuser and the PostgreSQL 15 binaries")
    folder = Path(tempfile.mkdtemp(prefix="rel-pg-", dir="/tmp"))
    account = pwd.getpwnam("postgres")
    os.chown(folder, account.pw_uid, account.pw_gid)
    port = _closed_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"

    def pg_ctl(*args: str) -> None:
        done = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                               str(folder / "data"), "-l", str(folder / "log"), *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(folder / "data"),
                    "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
    pg_ctl("-o", options, "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", lambda: pg_ctl(
            "-o", options, "-m", "fast", "-w", "restart")
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_restart_during_sync_fails_the_run_and_loses_and_duplicates_nothing(tmp_path):
    # Big pages and no network delay: the sync spends its time writing, so the restart lands
    # inside a write transaction rather than between pages.
    records = [_record(i, T1) for i in range(20_000)]
    api = Api(records, per_page=1000)
    with _private_postgres() as (url, restart):
        store = make_store(url)
        try:
            with FaultServer(api) as server:
                secrets = _sync_secrets(tmp_path, server, 100)
                env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
                sync_url = f"{url}?application_name=rel_sync"
                process = subprocess.Popen([sys.executable, "-m", "data_sources", "sync", "--db", sync_url],
                                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)
                deadline = time.monotonic() + 60
                while _scalar(store, "SELECT COUNT(*) FROM complaints") < 2000 and time.monotonic() < deadline:
                    time.sleep(0.02)
                # Restart the moment the sync is inside a write transaction.
                while time.monotonic() < deadline and not store.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = 'rel_sync' AND backend_xid IS NOT NULL"
                ).rows:
                    time.sleep(0.002)
                restart()
                out, err = process.communicate(timeout=300)
                assert "Traceback" not in err, err
                store.dispose()
                store = make_store(url)
                first_run = store.execute("SELECT status FROM runs ORDER BY id LIMIT 1").scalar()
                print(f"\nsync across a PostgreSQL restart: run {first_run}, exit {process.returncode}: {err.strip()[-300:]}")
                # "ok" only if the restart fell between two pages (the pool reconnects quietly)
                assert (first_run, process.returncode) in (("failed", 1), ("ok", 0)), (first_run, out, err)
                api.delay = 0
                again = _cli(["sync", "--db", url], secrets)
                assert again.returncode == 0, again.stderr
            assert _scalar(store, "SELECT COUNT(*) FROM complaints") == 20_000
            _no_duplicates(store)
        finally:
            store.dispose()
