"""Backup and restore of the complaint store: SQLite online backup, PostgreSQL pg_dump/pg_restore.

SQLite is copied with the sqlite3 online-backup API, which takes a consistent snapshot while
the dashboard keeps reading and writing (WAL mode). PostgreSQL is dumped in pg_dump's custom
format and restored with pg_restore --clean, so a restore replaces the tables it holds.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class BackupError(RuntimeError):
    """A backup or restore that could not be done, with a message fit for the user."""


@dataclass(frozen=True)
class PgTarget:
    dsn: str  # libpq URL without the SQLAlchemy driver suffix or options
    schema: str | None  # from `options=-csearch_path=...`, when the URL pins one


def sqlite_path(url: str) -> Path:
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise BackupError("Basis data SQLite dalam memori tidak dapat dicadangkan.")
    return Path(path)


def pg_target(url: str) -> PgTarget:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    schema = None
    for option in parse_qs(parts.query).get("options", []):
        option = unquote(option)
        if "search_path=" in option:
            schema = option.split("search_path=", 1)[1].split()[0].split(",")[0]
    dsn = parts._replace(query="").geturl()
    return PgTarget(dsn=dsn, schema=schema)


def backup(url: str, output: Path) -> Path:
    """Write a consistent copy of the database at `url` to `output`."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite_path(url)
        if not source.exists():
            raise BackupError(f"Basis data tidak ditemukan: {source}")
        tmp = output.with_suffix(output.suffix + ".part")
        with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
        os.replace(tmp, output)
        return output
    target = pg_target(url)
    cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={output}"]
    if target.schema:
        cmd.append(f"--schema={target.schema}")
    _run([*cmd, target.dsn])
    return output


def restore(url: str, backup_file: Path) -> None:
    """Replace the database at `url` with the contents of `backup_file`."""
    backup_file = Path(backup_file)
    if not backup_file.exists():
        raise BackupError(f"Berkas cadangan tidak ditemukan: {backup_file}")
    if url.startswith("sqlite"):
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(backup_file) as src:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("Berkas cadangan rusak (integrity_check gagal).")
            with sqlite3.connect(target) as dst:
                src.backup(dst)
        return
    target = pg_target(url)
    cmd = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    cmd.append(f"--dbname={target.dsn}")
    _run([*cmd, str(backup_file)])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} tidak ditemukan; pasang klien PostgreSQL (postgresql-client).")
    return found


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        # The DSN may hold a password: name the tool and its own message only.
        raise BackupError(f"{Path(cmd[0]).name} gagal: {result.stderr.strip()[:500]}")
