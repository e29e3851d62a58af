"""A command-line import killed with SIGKILL half-way leaves nothing behind (issue 14, item 1).

A big file is read in a forked reader process (data_sources/ahead.py). When the importing
process is killed, that reader must die with it and must never hold the importer's database
connection open: otherwise PostgreSQL keeps the killed transaction "idle in transaction" and
the next import waits on its row lock for ever. A real CLI import is killed with a real
`kill -9` while it is inside a write transaction; the next import must finish within 30 s, and
the killed file imported again must count exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import PG_ADMIN_URL, ROOT, make_store

ROWS = 60_000  # over ahead.MIN_BYTES (16 MB) with the long titles: two batches (50,000 + 10,000)
PAD = "x" * 300


def _big_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("tracking_id,submitted_at,status,opd,title\n")
        for i in range(ROWS):
            fh.write(f"K-{i},2026-01-{1 + i % 28:02d} 09:{i % 60:02d},proses,Dinas {i % 7},aduan {i} {PAD}\n")
    assert path.stat().st_size > 16 * 1024 * 1024
    return path


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:  # fields: state, ppid, ...
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _env() -> dict[str, str]:
    env = {**os.environ}
    env.pop("COMPLAINTS_DB_URL", None)
    return env


def _in_write_transaction(url: str) -> bool:
    """PostgreSQL: some backend of this test's schema holds a lock on the meta table (a batch
    is being written). SQLite: always true once the reader runs."""
    if not url.startswith("postgresql"):
        return True
    import psycopg

    schema = parse_qs(urlparse(url).query)["options"][0].split("=", 1)[1]
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'meta' AND l.granted",
            (schema,),
        ).fetchone() is not None


def test_a_killed_cli_import_leaves_no_reader_and_blocks_no_later_import(db_url, tmp_path):
    path = _big_csv(tmp_path / "besar.csv")
    make_store(db_url).dispose()  # the schema exists before the timing starts
    command = [sys.executable, "-m", "data_sources", "import", str(path), "--db", db_url]
    importer = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        reader = None
        while time.monotonic() < deadline:
            children = _children(importer.pid)
            if children and _in_write_transaction(db_url):
                reader = children[0]
                break
            assert importer.poll() is None, "the import ended before it could be killed"
            time.sleep(0.05)
        assert reader is not None, "the reader process never started"
        os.kill(importer.pid, signal.SIGKILL)
        importer.wait(timeout=10)
    finally:
        if importer.poll() is None:
            importer.kill()
    gone_by = time.monotonic() + 5
    while _alive(reader) and time.monotonic() < gone_by:
        time.sleep(0.05)
    orphan = _alive(reader)
    if orphan:
        os.kill(reader, signal.SIGKILL)  # do not leave it running for the rest of the suite
    assert not orphan, f"the reader process {reader} outlived the killed import"

    # The next import (a small file: the time measured is waiting, not work) must not wait for
    # the killed one: on PostgreSQL it needs the same meta row lock the killed batch held.
    small = tmp_path / "kecil.csv"
    small.write_text("tracking_id,submitted_at,status\n" + "".join(
        f"S-{i},2026-02-01 09:00,proses\n" for i in range(500)))
    started = time.monotonic()
    try:
        quick = subprocess.run([*command[:4], str(small), *command[5:]], cwd=ROOT, env=_env(),
                               capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the next import was still waiting after 90 s")
    elapsed = time.monotonic() - started
    assert quick.returncode == 0, quick.stderr
    assert "Traceback" not in quick.stderr
    assert "Baris dibaca (rows read):          500" in quick.stdout
    assert "Baris disimpan (rows stored):      500" in quick.stdout
    assert elapsed < 30, f"the next import took {elapsed:.1f} s"

    # And the killed file imported again is complete: every row once, nothing twice.
    again = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"Baris dibaca (rows read):          {ROWS}" in again.stdout
    assert f"Baris disimpan (rows stored):      {ROWS}" in again.stdout
    store = make_store(db_url)
    try:
        assert store.execute("SELECT COUNT(*) FROM complaints").scalar() == ROWS + 500
        statuses = sorted(r[0] for r in store.execute("SELECT status FROM runs").rows)
        assert statuses == ["failed", "ok", "ok"]  # the killed run is marked failed by the next one
    finally:
        store.dispose()
    print(f"next import after kill -9 ({'postgresql' if 'postgresql' in db_url else 'sqlite'}): {elapsed:.1f} s")
