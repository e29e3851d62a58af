"""The one door to the complaint store: connection, migrations, upserts with history, quarantine.

Everything that reads or writes the database goes through `Store`. It opens SQLite (WAL mode)
or PostgreSQL (psycopg 3), brings the schema to the newest Alembic revision on open, and writes
complaints as atomic batches: an upsert on (source, tracking_id), a status-history row for
every status it has not seen before, and the KPI.md derived columns (local submission date,
response instant, deadlines) computed with the working-day calendar.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Date,
    Engine,
    Float,
    Integer,
    SmallInteger,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.calendar import calendar_for
from core.settings import Settings, load_settings
from data_sources import schema
from data_sources.schema import complaints, from_micros, to_micros

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How far along the lifecycle a status is; a snapshot at rank r proves every stage <= r happened.
STATUS_RANK = {
    "menunggu_verifikasi": 0,
    "menunggu_tindak_lanjut": 1,
    "proses": 2,
    "selesai": 3,
}
STAGE_COLUMNS = (("verified_at", 1), ("disposed_at", 1), ("first_response_at", 2), ("closed_at", 3))
INSTANT_COLUMNS = (
    "submitted_at", "verified_at", "disposed_at", "first_response_at", "closed_at", "expected_at",
    "response_due_at", "completion_due_at",
)
# Canonical record columns (DATA.md) plus the raw values and Open311 extras the store keeps.
RECORD_COLUMNS = (
    "tracking_id", "submitted_at", "channel", "channel_raw", "classification", "category", "opd",
    "kecamatan", "kelurahan", "status", "status_raw", "verified_at", "disposed_at",
    "first_response_at", "closed_at", "response_due_at", "completion_due_at",
    "redisposition_count", "reopen_count", "rating",
    "is_anonymous", "is_confidential", "reporter_name", "title", "body", "expected_at",
    "latitude", "longitude", "address", "region_code",
)
CHUNK = 5000


REGION_NAME_LENGTH = schema.regions.c.name.type.length
# "Kab." / "Kab" / "Kabupaten", "Kota" / "Kotamadya" / "Kodya" at the start of a region name.
_REGION_PREFIX = re.compile(r"^(kabupaten|kota) ")
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


_HOST = socket.gethostname()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def alias_key(name: str) -> str:
    """The normalised spelling used to match OPD aliases: case, accents, dots and spaces folded.

    A name with no Latin letters or digits (Arabic or Chinese script, symbols) keeps its own
    letters, case-folded, so two such names never share the empty key.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    key = re.sub(r"[^a-z0-9]+", " ", decomposed.encode("ascii", "ignore").decode().lower()).strip()
    if key:
        return key
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in letters).split()) or name.strip()


def region_key(name: str) -> str:
    """A region name folded for matching: "KAB. HULU SUNGAI TENGAH" == "Kabupaten Hulu Sungai Tengah"."""
    key = alias_key(name)
    key = re.sub(r"^(kab|kabupaten|pemkab|pemerintah kabupaten) ", "kabupaten ", key)
    return re.sub(r"^(kotamadya|kodya|pemkot|pemerintah kota) ", "kota ", key)


@dataclass
class WriteResult:
    stored: int = 0
    inserted: int = 0
    updated: int = 0
    history_added: int = 0
    older_observations: int = 0  # rows of a snapshot older than their complaint's latest one


@dataclass
class QuarantinedRow:
    record_no: int | None
    reason: str
    raw: dict[str, Any]
    tracking_id: str | None = None


@dataclass
class Results:
    """Rows of a query, after Datasette's `Results`: `.rows`, `.first()`, `.dicts()`."""

    columns: list[str]
    rows: list[tuple]
    _extra: dict = field(default_factory=dict)

    def first(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


def make_engine(
    url: str, *, lock_timeout_seconds: float = 30.0, idle_in_transaction_timeout_seconds: float = 60.0
) -> Engine:
    """An engine for `url`. PostgreSQL sessions carry server-side limits: a lock waited for
    longer than `lock_timeout_seconds` fails the statement (`is_lock_timeout`), and a session
    left idle inside a transaction longer than `idle_in_transaction_timeout_seconds` is ended
    by the server, so a killed importer can never hold its locks for ever (0 turns either off).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_dir(Path(path).parent)
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        _configure_postgresql(engine, lock_timeout_seconds, idle_in_transaction_timeout_seconds)
    _forget_pool_after_fork(engine)
    return engine


def _configure_postgresql(engine: Engine, lock_timeout: float, idle_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction, kept for the session
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            cursor.execute(f"SET idle_in_transaction_session_timeout = {int(idle_timeout * 1000)}")
        dbapi_connection.autocommit = autocommit


def _forget_pool_after_fork(engine: Engine) -> None:
    """In a forked child, drop the engine's pooled connections without closing them (SQLAlchemy's
    documented way: `dispose(close=False)`), so the child never speaks on the parent's sockets."""
    ref = weakref.ref(engine)

    def _in_child() -> None:
        forked = ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=_in_child)


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether a database error is a lock waited for too long (PostgreSQL's lock_timeout,
    SQLite's busy timeout): another process holds the store."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "55P03":  # lock_not_available
        return True
    return "database is locked" in str(orig)


def _private_dir(path: Path) -> None:
    """Create a folder for the store readable by its owner only (0700); an existing one is kept."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its -wal/-shm companions, which SQLite gives the main file's
    mode) owner-only (0600) before SQLite opens it with its default 0644."""
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


_migrate_lock = threading.Lock()


# The newest migration in migrations/versions (a test keeps the two equal). Comparing it with
# the database's alembic_version in one query spares every command and page process from
# importing Alembic (about 0.4 s) when there is nothing to migrate.
SCHEMA_HEAD = "0007"


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _stored_revision(engine: Engine) -> str | None:
    """The database's Alembic revision; None when it has none (a new database)."""
    with engine.connect() as conn:  # connection errors propagate: the database is unreachable
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError:
            return None


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic head (no-op when already there)."""
    if _stored_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with _migrate_lock, engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """The complaint store of one database URL."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.calendar = calendar_for(settings.kpi)

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls, url: str | None = None, settings: Settings | None = None, *, migrate_schema: bool = True
    ) -> Store:
        settings = settings or load_settings(db_url=url)
        if url and settings.db_url != url:
            from core.settings import normalise_db_url

            settings = type(settings)(**{**settings.__dict__, "db_url": normalise_db_url(url)})
        engine = make_engine(
            settings.db_url, lock_timeout_seconds=settings.db_lock_timeout_seconds,
            idle_in_transaction_timeout_seconds=settings.db_idle_in_transaction_timeout_seconds,
        )
        store = cls(engine, settings)
        if migrate_schema:
            migrate(engine)
            store.ensure_region(settings.region_code, settings.region_name)
            store.refresh_derived_if_needed()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    # --- reading ------------------------------------------------------------------------
    def execute(self, sql: Any, params: dict | None = None) -> Results:
        statement = text(sql) if isinstance(sql, str) else sql
        with self.engine.connect() as conn:
            result = conn.execute(statement, params or {})
            if not result.returns_rows:
                return Results([], [])
            return Results(list(result.keys()), [tuple(r) for r in result.fetchall()])

    def frame(self, sql: Any, params: dict | None = None) -> pd.DataFrame:
        """A query's rows as a DataFrame (columns as the query names them)."""
        res = self.execute(sql, params)
        return pd.DataFrame.from_records(res.rows, columns=res.columns)

    def meta_get(self, key: str) -> str | None:
        return self.execute(select(schema.meta.c.value).where(schema.meta.c.key == key)).scalar()

    def meta_set(self, key: str, value: str, conn: Connection | None = None) -> None:
        def _do(c: Connection) -> None:
            # One upsert statement: two writers setting a new key at once both succeed.
            upsert = (pg_insert if c.dialect.name == "postgresql" else sqlite_insert)(schema.meta)
            c.execute(
                upsert.values(key=key, value=value).on_conflict_do_update(
                    index_elements=[schema.meta.c.key], set_={"value": value}
                )
            )

        if conn is not None:
            _do(conn)
        else:
            with self.engine.begin() as c:
                _do(c)

    def next_change_seq(self, conn: Connection) -> int:
        """The next change marker (meta `change_seq`), for the complaints one write changes.

        Every statement that changes complaints sets their change_seq to it, so the columnar
        copy (metrics/columnar.py) reads only those rows. One atomic increment: the meta row
        stays locked until the transaction commits, so markers are committed in their order
        and a reader that sees marker n sees every row marked up to n.
        """
        return int(conn.exec_driver_sql(
            "INSERT INTO meta (key, value) VALUES ('change_seq', '1') ON CONFLICT (key) DO UPDATE "
            "SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value"
        ).scalar_one())

    def data_version(self) -> str:
        """Changes whenever complaints are written; a cache key for computed figures."""
        return self.meta_get("data_version") or "0"

    def has_complaints(self) -> bool:
        return self.execute(select(complaints.c.id).limit(1)).first() is not None

    def only_demo_data(self) -> bool:
        """True when every stored complaint comes from a demo source (or there are none)."""
        # Probe each non-demo source (a handful) through the (source_id, tracking_id) index. The
        # join from complaints made PostgreSQL scan every complaint when all are demo data: 0.9 s
        # per call at 1M complaints, on every page run (benchmarks/bench_scale.py).
        sources = schema.sources
        real = self.execute(
            select(sources.c.id)
            .where(
                sources.c.is_demo.is_(False),
                select(complaints.c.id).where(complaints.c.source_id == sources.c.id).exists(),
            )
            .limit(1)
        ).first()
        return real is None

    def has_demo_data(self) -> bool:
        """True when any stored complaint comes from a demo source: every figure, page, document
        and message then says "Data contoh" (DATA.md "Demo data and real data")."""
        sources = schema.sources
        demo = self.execute(
            select(sources.c.id)
            .where(
                sources.c.is_demo.is_(True),
                select(complaints.c.id).where(complaints.c.source_id == sources.c.id).exists(),
            )
            .limit(1)
        ).first()
        return demo is not None

    def demo_complaint_count(self) -> int:
        """How many stored complaints come from demo sources."""
        sources = schema.sources
        stmt = (
            select(func.count())
            .select_from(complaints.join(sources, sources.c.id == complaints.c.source_id))
            .where(sources.c.is_demo.is_(True))
        )
        return int(self.execute(stmt).scalar() or 0)

    def remove_demo_data(self, conn: Connection | None = None) -> int:
        """Delete the complaints of every demo source with their history, quarantine and runs, in
        `conn`'s transaction when given (a first real import removes them in its own); returns how
        many complaints went. The demo source's row stays, emptied (no last success), so a fresh
        installation is not filled with demo data again; reference names (OPDs, aliases,
        regions) stay too: they are not figures."""
        if conn is None:
            with self.engine.begin() as own:
                return self.remove_demo_data(own)
        demo_ids = [
            int(r[0]) for r in conn.execute(
                select(schema.sources.c.id).where(schema.sources.c.is_demo.is_(True))
            ).fetchall()
        ]
        if not demo_ids:
            return 0
        self.meta_set("data_version", f"demo-removed-{to_micros(utc_now())}", conn)
        removed = int(conn.execute(
            select(func.count()).select_from(complaints).where(complaints.c.source_id.in_(demo_ids))
        ).scalar() or 0)
        for table in (schema.status_history, schema.quarantine, complaints, schema.runs):
            conn.execute(delete(table).where(table.c.source_id.in_(demo_ids)))
        conn.execute(
            update(schema.sources)
            .where(schema.sources.c.id.in_(demo_ids))
            .values(last_success_at=None, watermark=None)
        )
        return removed

    def last_success(self) -> datetime | None:
        """The end of the newest successful import or sync of any source ("Data per ...")."""
        value = self.execute(text("SELECT MAX(last_success_at) FROM sources")).scalar()
        return None if value is None else from_micros(value)

    # --- regions, sources, runs ---------------------------------------------------------
    def ensure_region(self, code: str, name: str | None = None) -> None:
        """Register a region (kode wilayah -> name); idempotent, an existing name is kept.

        A region first seen by its code alone is named by its code until a name arrives.
        """
        code = str(code).strip()
        name = (str(name).strip() if name is not None else "")[:REGION_NAME_LENGTH] or code
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(schema.regions.c.name).where(schema.regions.c.code == code)
            ).first()
            if not existing:
                conn.execute(insert(schema.regions).values(code=code, name=name))
            elif existing[0] == code and name != code:
                conn.execute(
                    update(schema.regions).where(schema.regions.c.code == code).values(name=name)
                )

    def regions(self) -> pd.DataFrame:
        """Every region with its stored complaints: columns code, name, complaints; by code.

        Includes codes complaints carry that the regions table does not name (named by code).
        """
        counts = dict(
            self.execute(
                select(complaints.c.region_code, func.count()).group_by(complaints.c.region_code)
            ).rows
        )
        names = dict(self.execute(select(schema.regions.c.code, schema.regions.c.name)).rows)
        codes = sorted(set(names) | set(counts))
        return pd.DataFrame(
            {
                "code": pd.Series(codes, dtype=object),
                "name": pd.Series([names.get(c, c) for c in codes], dtype=object),
                "complaints": pd.Series([int(counts.get(c, 0)) for c in codes], dtype="int64"),
            }
        )

    def region_resolver(self) -> dict[str, str]:
        """region_key(name) -> code for every registered region (and its name without the
        Kabupaten/Kota prefix when that bare name is unambiguous)."""
        rows = self.execute(select(schema.regions.c.code, schema.regions.c.name)).rows
        mapping: dict[str, str] = {}
        bare: dict[str, set[str]] = {}
        for code, name in rows:
            key = region_key(name)
            mapping[key] = code
            bare.setdefault(_REGION_PREFIX.sub("", key), set()).add(code)
        for key, codes in bare.items():
            if len(codes) == 1 and key not in mapping:
                mapping[key] = next(iter(codes))
        return mapping

    def _resolve_regions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Fill `region_code` from `region_name` (LAPOR! "Kota/Kabupaten") and register regions.

        A row with both a code and a name registers that region; a row with only a name takes
        the code of the registered region of that name; a name no region has is left to the
        default region (logged: register it with `store.ensure_region`); no name, no code: the
        default region (`_derive`).
        """
        has_code = "region_code" in frame.columns
        has_name = "region_name" in frame.columns
        if not (has_code and frame["region_code"].notna().any()) and not (
            has_name and frame["region_name"].notna().any()
        ):
            return frame
        frame = frame.copy()
        codes = frame["region_code"] if has_code else pd.Series(None, index=frame.index, dtype=object)
        codes = codes.astype(object).where(codes.notna(), None)
        codes = codes.map(lambda c: None if c is None else (str(c).strip() or None))
        names = frame["region_name"] if has_name else pd.Series(
            None, index=frame.index, dtype=object
        )
        names = names.astype(object).where(names.notna(), None)
        pairs = pd.DataFrame({"code": codes, "name": names}).dropna(subset=["code"])
        for code, name in pairs.drop_duplicates("code").itertuples(index=False):
            self.ensure_region(code, name)
        need = codes.isna() & names.notna()
        if need.any():
            resolver = self.region_resolver()
            found = {n: resolver.get(region_key(str(n))) for n in names[need].unique().tolist()}
            unknown = sorted(str(n) for n, c in found.items() if c is None)
            if unknown:
                log.warning(
                    "unknown region names stored under the default region %s: %s",
                    self.settings.region_code, ", ".join(unknown[:10]),
                )
            codes = codes.where(~need, names.map(found))
        frame["region_code"] = codes
        return frame

    def ensure_source(self, name: str, kind: str, *, is_demo: bool = False) -> int:
        """The id of source `name`, created if new. Race-safe: two first imports of the same
        new source at once both get its one id (insert ... on conflict do nothing, then read)."""
        find = select(schema.sources.c.id).where(schema.sources.c.name == name)
        with self.engine.begin() as conn:
            row = conn.execute(find).first()
            if row:
                return int(row[0])
            upsert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(schema.sources)
            conn.execute(
                upsert.values(name=name, kind=kind, is_demo=is_demo, created_at=utc_now())
                .on_conflict_do_nothing(index_elements=[schema.sources.c.name])
            )
            return int(conn.execute(find).scalar_one())

    def source_row(self, name: str) -> dict[str, Any] | None:
        rows = self.execute(select(schema.sources).where(schema.sources.c.name == name)).dicts()
        return rows[0] if rows else None

    def set_watermark(self, source_id: int, watermark: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.sources)
                .where(schema.sources.c.id == source_id)
                .values(watermark=watermark)
            )

    def start_run(
        self, source_id: int, kind: str, *, detail: str | None = None,
        snapshot_at: datetime | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            run_id = int(
                conn.execute(
                    insert(schema.runs)
                    .values(
                        source_id=source_id, kind=kind, status="running", started_at=utc_now(),
                        rows_read=0, rows_stored=0, rows_quarantined=0, detail=detail,
                        snapshot_at=snapshot_at, host=_HOST[:255], pid=os.getpid(),
                    )
                    .returning(schema.runs.c.id)
                ).scalar_one()
            )
            self._close_abandoned_runs(conn, run_id)
        return run_id

    @staticmethod
    def _close_abandoned_runs(conn: Connection, run_id: int) -> int:
        """Mark failed the runs still "running" whose process on this machine is gone (killed
        by the OOM killer, a reboot or kill -9, so nothing was left to finish them). Runs of
        other machines, and of processes that still exist, are left alone."""
        runs = schema.runs
        rows = conn.execute(
            select(runs.c.id, runs.c.pid).where(
                runs.c.status == "running", runs.c.host == _HOST[:255], runs.c.id != run_id,
                runs.c.pid.is_not(None),
            )
        ).fetchall()
        gone = [(rid, pid) for rid, pid in rows if not _process_exists(pid)]
        for rid, pid in gone:
            conn.execute(
                update(runs).where(runs.c.id == rid, runs.c.status == "running").values(
                    status="failed", finished_at=utc_now(),
                    error=f"Proses (pid {pid}) berhenti sebelum selesai; ditandai gagal saat run #{run_id} dimulai.",
                )
            )
        return len(gone)

    def finish_run(
        self, run_id: int, *, status: str, rows_read: int, rows_stored: int,
        rows_quarantined: int, error: str | None = None, detail: str | None = None,
    ) -> None:
        now = utc_now()
        values: dict[str, Any] = dict(
            status=status, finished_at=now, rows_read=rows_read, rows_stored=rows_stored,
            rows_quarantined=rows_quarantined, error=error,
        )
        if detail is not None:
            values["detail"] = detail
        with self.engine.begin() as conn:
            conn.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(**values))
            if status == "ok":
                source_id = conn.execute(
                    select(schema.runs.c.source_id).where(schema.runs.c.id == run_id)
                ).scalar_one()
                conn.execute(
                    update(schema.sources)
                    .where(schema.sources.c.id == source_id)
                    .values(last_success_at=now)
                )

    def previous_snapshot(self, source_id: int, before: datetime) -> datetime | None:
        value = self.execute(
            select(func.max(schema.runs.c.snapshot_at).label("snap")).where(
                and_(
                    schema.runs.c.source_id == source_id,
                    schema.runs.c.status == "ok",
                    schema.runs.c.snapshot_at < to_micros(before),
                )
            )
        ).scalar()
        if value is None or isinstance(value, datetime):
            return value
        return from_micros(value)

    # --- quarantine ---------------------------------------------------------------------
    def quarantine_rows(self, source_id: int, run_id: int | None, rows: Sequence[QuarantinedRow]) -> int:
        if not rows:
            return 0
        now = to_micros(utc_now())
        payload = [
            dict(
                source_id=source_id, run_id=run_id, record_no=r.record_no,
                tracking_id=(str(r.tracking_id)[:200] if r.tracking_id is not None else None),
                reason=r.reason, raw=json.dumps(r.raw, ensure_ascii=False, default=str),
                created_at=now,
            )
            for r in rows
        ]
        with self.engine.begin() as conn:
            for start in range(0, len(payload), CHUNK):
                conn.execute(insert(schema.quarantine), payload[start:start + CHUNK])
        return len(payload)

    # --- OPD names ----------------------------------------------------------------------
    def opd_resolver(self) -> dict[str, str]:
        """alias_key -> canonical OPD name, for every OPD name and alias in the reference table."""
        mapping = {alias_key(name): name for (name,) in self.execute(select(schema.opds.c.name)).rows}
        rows = self.execute(
            select(schema.opd_aliases.c.alias_key, schema.opds.c.name).join(
                schema.opds, schema.opds.c.id == schema.opd_aliases.c.opd_id
            )
        ).rows
        mapping.update({key: name for key, name in rows})
        return mapping

    def add_opd(self, name: str, short_name: str | None = None, region_code: str | None = None) -> int:
        """Add a reference OPD (idempotent) and re-point complaints stored under a spelling of it.

        A spelling whose alias_key equals the new name's (e.g. "DINAS KESEHATAN" for "Dinas
        Kesehatan") now resolves to this OPD, so complaints stored under it follow, unless an
        explicit alias already sends that spelling elsewhere.
        """
        with self.engine.begin() as conn:
            row = conn.execute(select(schema.opds.c.id).where(schema.opds.c.name == name)).first()
            if row:
                return int(row[0])
            opd_id = int(
                conn.execute(
                    insert(schema.opds)
                    .values(name=name, short_name=short_name, region_code=region_code)
                    .returning(schema.opds.c.id)
                ).scalar_one()
            )
            key = alias_key(name)
            aliased = conn.execute(
                select(schema.opd_aliases.c.id).where(schema.opd_aliases.c.alias_key == key)
            ).first()
            if not aliased:
                raw_names = [
                    r[0]
                    for r in conn.execute(select(complaints.c.opd_raw).distinct()).fetchall()
                    if r[0] is not None and alias_key(r[0]) == key
                ]
                if raw_names:
                    changed = conn.execute(
                        update(complaints)
                        .where(complaints.c.opd_raw.in_(raw_names), complaints.c.opd != name)
                        .values(opd=name, change_seq=self.next_change_seq(conn))
                    ).rowcount
                    if changed:
                        self.meta_set("data_version", str(to_micros(utc_now())), conn)
            return opd_id

    def add_alias(self, alias: str, opd_name: str) -> int:
        """Map a spelling to an OPD and re-point the complaints stored under that spelling."""
        opd_id = self.add_opd(opd_name)
        key = alias_key(alias)
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(schema.opd_aliases.c.id).where(schema.opd_aliases.c.alias_key == key)
            ).first()
            if existing:
                conn.execute(
                    update(schema.opd_aliases)
                    .where(schema.opd_aliases.c.id == existing[0])
                    .values(opd_id=opd_id, alias=alias)
                )
            else:
                conn.execute(
                    insert(schema.opd_aliases).values(alias_key=key, alias=alias, opd_id=opd_id)
                )
            raw_names = [
                r[0]
                for r in conn.execute(select(complaints.c.opd_raw).distinct()).fetchall()
                if r[0] is not None and alias_key(r[0]) == key
            ]
            changed = 0
            if raw_names:
                changed = conn.execute(
                    update(complaints)
                    .where(complaints.c.opd_raw.in_(raw_names))
                    .values(opd=opd_name, change_seq=self.next_change_seq(conn))
                ).rowcount
            self.meta_set("data_version", str(to_micros(utc_now())), conn)
        return changed

    def unmapped_opds(self) -> pd.DataFrame:
        """OPD names found in complaints that are neither a reference OPD nor an alias."""
        known = self.opd_resolver()
        counts = self.frame(
            select(complaints.c.opd, func.count().label("complaints"))
            .where(complaints.c.opd.is_not(None))
            .group_by(complaints.c.opd)
        )
        if counts.empty:
            return counts
        mask = ~counts["opd"].map(lambda n: alias_key(n) in known)
        return counts[mask].sort_values("complaints", ascending=False).reset_index(drop=True)

    # --- writing complaints -------------------------------------------------------------
    def write_complaints(
        self,
        source_id: int,
        records: pd.DataFrame,
        *,
        run_id: int | None,
        observed_at: datetime,
        estimate_stage_times: bool = False,
        previous_snapshot_at: datetime | None = None,
        in_transaction: Callable[[Connection], Any] | None = None,
    ) -> WriteResult:
        """Upsert valid canonical records of one source as one atomic batch.

        `records` holds canonical columns with timestamps as tz-aware UTC datetimes. With
        `estimate_stage_times` (LAPOR! export snapshots) each row is an observation of its
        complaint at `observed_at`: it enters the complaint's status history in observation
        order, whatever order the files come in, and the stage times with their lower bounds
        are derived from the whole history (DATA.md "SP4N-LAPOR! admin export"). A snapshot
        older than a complaint's latest observation adds to its history and stage times only;
        the record keeps the newer snapshot's values. `previous_snapshot_at` is accepted for
        callers of the old signature and not used: a complaint's own earlier observation is
        its lower bound.

        The statements are driver-level executemany calls over column lists built with numpy
        (benchmarks/bench_import.py: SQLAlchemy's per-row parameter processing and per-row
        Python dicts cost more than the database's own work at a million rows).
        """
        del previous_snapshot_at
        result = WriteResult()
        if records.empty:
            return result
        frame = records.drop_duplicates("tracking_id", keep="last").reset_index(drop=True)
        frame = self._resolve_regions(frame)
        frame = self._complete_columns(frame)
        resolver = self.opd_resolver()
        frame["opd_raw"] = frame["opd"]
        # Resolve each distinct spelling once (alias_key is slow per row at a million rows).
        spellings = {
            n: resolver.get(alias_key(str(n)), str(n).strip())
            for n in frame["opd"].dropna().unique().tolist()
        }
        frame["opd"] = frame["opd"].map(spellings).astype(object).where(frame["opd"].notna(), None)
        with self.engine.begin() as conn:
            # Writing first takes SQLite's write lock (PostgreSQL: the meta row's lock), so what is
            # read below (existing complaints, the next free id) cannot change before the commit;
            # another writer waits for this batch instead of failing on it.
            now = to_micros(utc_now())
            self.meta_set("data_version", str(now), conn)
            if in_transaction is not None:  # e.g. the first real import removing demo data
                in_transaction(conn)
            seq = self.next_change_seq(conn)
            existing = self._existing(conn, source_id, frame["tracking_id"].tolist())
            frame = frame.merge(existing, on="tracking_id", how="left", suffixes=("", "_old"))
            plan: _Observation | None = None
            if estimate_stage_times:
                known_ids = frame["id"].dropna().astype(np.int64).tolist()
                plan = _observe(frame, _history_runs(conn, known_ids), to_micros(observed_at))
                stale = plan.stale
            else:
                frame["times_estimated"] = frame["times_estimated_old"].fillna(False).astype(bool)
                frame["estimate_precision_hours"] = frame["estimate_precision_hours_old"]
                for stage, lower in LOWER_COLUMNS.items():
                    # An exact source has no interval, unless the records state one.
                    frame[lower] = _instant_column(frame, lower)
                    frame["times_estimated"] |= (frame[lower].notna() & frame[stage].notna()).to_numpy()
                stale = np.zeros(len(frame), dtype=bool)
            if stale.any():
                # An older snapshot: derive with the stored record, not the snapshot's old values.
                for col in KEPT_FROM_STORE:
                    frame[col] = frame[col].where(~stale, frame[f"{col}_old"])
            self._derive(frame)
            is_new = frame["id"].isna().to_numpy()
            ids = frame["id"].to_numpy(dtype="float64").copy()
            new_count = int(is_new.sum())
            if new_count:
                # Ids are taken before the insert, so the history rows need no lookup afterwards.
                ids[is_new] = self._allocate_ids(conn, new_count)
                columns = _db_columns(frame[is_new])
                columns.update(id=ids[is_new].astype(np.int64).tolist(), source_id=source_id,
                               first_seen_at=now, updated_at=now, change_seq=seq)
                _insert_many(conn, complaints, columns)
            fresh = ~is_new & ~stale
            if fresh.any():
                columns = _db_columns(frame[fresh])
                columns.update(updated_at=now, change_seq=seq)
                _update_many(conn, complaints, columns, ids[fresh].astype(np.int64).tolist())
            if stale.any():
                columns = _db_columns(frame.loc[stale, list(STALE_WRITE)])
                columns["change_seq"] = seq
                _update_many(conn, complaints, columns, ids[stale].astype(np.int64).tolist())
            if plan is not None:
                result.history_added = _write_runs(
                    conn, plan, ids, frame, source_id, run_id, to_micros(observed_at)
                )
            else:
                # A status-history row for every status the store has not seen for the complaint.
                old_status = frame["status_old"]
                changed = (old_status.isna() | (old_status != frame["status"])).to_numpy()
                if changed.any():
                    status_raw = frame["status_raw"][changed]
                    _insert_many(conn, schema.status_history, {
                        "complaint_id": ids[changed].astype(np.int64).tolist(),
                        "source_id": source_id,
                        "run_id": run_id,
                        "status": frame["status"][changed].tolist(),
                        "status_raw": status_raw.astype(object).where(status_raw.notna(), None).tolist(),
                        "observed_at": to_micros(observed_at),
                    })
                result.history_added = int(changed.sum())
        result.stored = len(frame)
        result.inserted = new_count
        result.updated = len(frame) - new_count
        result.older_observations = int(stale.sum())
        return result

    @staticmethod
    def _allocate_ids(conn: Connection, count: int) -> np.ndarray:
        """`count` fresh complaint ids for this transaction.

        PostgreSQL hands them out from the id sequence, safe beside other writers. SQLite: the
        ids after the current maximum, safe because the transaction already holds the write lock
        (`write_complaints` writes first).
        """
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('complaints', 'id')) "
                "FROM generate_series(1, %(n)s)", {"n": count},
            ).fetchall()
            return np.array([r[0] for r in rows], dtype=np.int64)
        top = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM complaints").scalar()
        return np.arange(int(top) + 1, int(top) + 1 + count, dtype=np.int64)

    @staticmethod
    def _complete_columns(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for col in RECORD_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        for col in (*INSTANT_COLUMNS, *(c for c in LOWER_COLUMNS.values() if c in frame.columns)):
            frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[us, UTC]")
        for col in ("redisposition_count", "reopen_count"):
            frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        for col in ("is_anonymous", "is_confidential"):
            values = frame[col]
            frame[col] = values.astype(object).where(values.notna(), False).astype(bool)
        frame["tracking_id"] = frame["tracking_id"].astype(str)
        return frame

    def existing_tracking_ids(self, source_id: int, tracking_ids: list[str]) -> set[str]:
        """Which of `tracking_ids` the source already has in the store."""
        with self.engine.connect() as conn:
            rows = _select_by_tracking_ids(conn, "tracking_id", source_id, tracking_ids)
        return {r[0] for r in rows}

    def _existing(self, conn: Connection, source_id: int, tracking_ids: list[str]) -> pd.DataFrame:
        stages = [c for c, _ in STAGE_COLUMNS]
        instants = [*stages, *LOWER_COLUMNS.values(), "submitted_at", "response_due_at",
                    "completion_due_at"]
        texts = ["classification", "category"]
        names = ["id", "tracking_id", "status_old", "times_estimated_old",
                 "estimate_precision_hours_old"] + [f"{c}_old" for c in (*instants, *texts)]
        found = _select_by_tracking_ids(
            conn, "id, tracking_id, status, times_estimated, estimate_precision_hours, "
            + ", ".join([*instants, *texts]), source_id, tracking_ids,
        )
        existing = pd.DataFrame.from_records(found, columns=names)
        existing["id"] = existing["id"].astype("float64")
        for c in ("status_old", "times_estimated_old", *(f"{t}_old" for t in texts)):
            existing[c] = existing[c].astype(object)
        existing["estimate_precision_hours_old"] = existing["estimate_precision_hours_old"].astype("float64")
        for c in instants:
            existing[f"{c}_old"] = pd.to_datetime(
                existing[f"{c}_old"].astype("Int64"), unit="us", utc=True
            ).astype("datetime64[us, UTC]")
        return existing

    def _derive(self, frame: pd.DataFrame) -> None:
        """Fill the KPI.md derived columns of `frame` in place (vectorised).

        Deadlines: a due instant the source states wins (`response_due_at`,
        `completion_due_at`); else the working-day deadline from disposed_at, the completion
        one with N by category (`completion_days_by_category`), else by classification.
        Estimates: each stage time with a lower bound gets its precision in working days and
        is unknown for timing above `max_estimate_working_days` (KPI.md).
        """
        kpi = self.settings.kpi
        cal = self.calendar
        frame["submitted_date"] = cal.local_dates(frame["submitted_at"])  # naive local midnight
        frame["response_at"] = frame["first_response_at"].where(
            frame["first_response_at"].notna(), frame["closed_at"]
        )
        frame["verification_deadline"] = cal.deadlines(frame["submitted_at"], kpi.verification_days)
        response_deadline = cal.deadlines(frame["disposed_at"], kpi.response_days)
        response_due = _instant_column(frame, "response_due_at")
        frame["response_deadline"] = response_deadline.where(response_due.isna(), response_due)
        # "" stands for no classification (completion_days_for treats it as pengaduan).
        classes = frame["classification"].astype(object).where(frame["classification"].notna(), "")
        per_class = {c: kpi.completion_days_for(c) for c in classes.unique().tolist()}
        days = classes.map(per_class).to_numpy(dtype=np.int64).copy()
        if kpi.completion_days_by_category and "category" in frame.columns:
            by_category = frame["category"].map(dict(kpi.completion_days_by_category))
            own = by_category.notna().to_numpy()
            days[own] = by_category[own].to_numpy(dtype=np.int64)
        completion_deadline = cal.deadlines(frame["disposed_at"], days)
        completion_due = _instant_column(frame, "completion_due_at")
        frame["completion_deadline"] = completion_deadline.where(completion_due.isna(), completion_due)
        precision = np.zeros(len(frame), dtype=np.int64)
        for stage, lower_name in LOWER_COLUMNS.items():
            lower = _instant_column(frame, lower_name)
            upper = frame[stage]
            bounded = (lower.notna() & upper.notna()).to_numpy()
            stage_days = np.where(bounded, cal.working_days_between_many(lower, upper), 0)
            frame[UNKNOWN_COLUMNS[stage]] = bounded & (stage_days > kpi.max_estimate_working_days)
            precision = np.maximum(precision, stage_days)
        frame["estimate_precision_days"] = precision
        frame["region_code"] = frame["region_code"].where(
            frame["region_code"].notna(), self.settings.region_code
        )

    def refresh_derived_if_needed(self, *, force: bool = False) -> int:
        """Recompute stored deadlines and estimate flags when the calendar, deadline or
        estimate settings changed (their fingerprint)."""
        fingerprint = self.settings.kpi.calendar_fingerprint()
        if not force and self.meta_get("calendar_fingerprint") == fingerprint:
            return 0
        instants = ["submitted_at", "disposed_at", "first_response_at", "closed_at",
                    "response_due_at", "completion_due_at", *LOWER_COLUMNS.values()]
        cols = ["id", *instants, "classification", "category", "region_code"]
        changed = 0
        with self.engine.begin() as conn:
            last_id = 0
            while True:
                rows = conn.execute(
                    text(
                        f"SELECT {', '.join(cols)} FROM complaints WHERE id > :last "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"last": last_id, "n": 50_000},
                ).fetchall()
                if not rows:
                    break
                frame = pd.DataFrame.from_records(rows, columns=cols)
                for col in instants:
                    frame[col] = pd.to_datetime(
                        frame[col].astype("Int64"), unit="us", utc=True
                    ).astype("datetime64[us, UTC]")
                self._derive(frame)
                _update_many(conn, complaints, _db_columns(frame[list(DERIVED_COLUMNS)]),
                             frame["id"].astype(int).tolist())
                changed += len(frame)
                last_id = int(frame["id"].iloc[-1])
            self.meta_set("calendar_fingerprint", fingerprint, conn)
            if changed:
                self.meta_set("data_version", str(to_micros(utc_now())), conn)
                # Every row changed: a columnar copy from before is rebuilt, not refreshed.
                self.meta_set("columnar_rebuild_seq", str(self.next_change_seq(conn)), conn)
        return changed


# --- estimated stage times: the status history of snapshots -----------------------------------
# Stage time -> its lower bound and its "unknown for timing" flag (KPI.md).
LOWER_COLUMNS = {
    "disposed_at": "disposed_lower_at",
    "first_response_at": "first_response_lower_at",
    "closed_at": "closed_lower_at",
}
UNKNOWN_COLUMNS = {
    "disposed_at": "disposed_time_unknown",
    "first_response_at": "first_response_time_unknown",
    "closed_at": "closed_time_unknown",
}
DERIVED_COLUMNS = (
    "submitted_date", "response_at", "verification_deadline", "response_deadline",
    "completion_deadline", "estimate_precision_days", *UNKNOWN_COLUMNS.values(),
)
# What an older snapshot leaves as stored, and what it may change.
KEPT_FROM_STORE = ("submitted_at", "classification", "category", "response_due_at", "completion_due_at")
STALE_WRITE = (
    *(c for c, _ in STAGE_COLUMNS), *LOWER_COLUMNS.values(), "times_estimated",
    "estimate_precision_hours", *(c for c in DERIVED_COLUMNS if c != "submitted_date"),
)
THIS_RUN = object()  # the run id of the observation being written, in a rebuilt history


def _instant_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")


@dataclass
class _Observation:
    """What one snapshot does to the history of the complaints it shows (positions in the frame)."""

    stale: np.ndarray  # older than the complaint's latest observation: the record is kept
    extend: list[tuple[int, int]]  # (history row id, position): the run's last observation is now
    append: np.ndarray  # positions whose observation starts a new run (a new status, in order)
    # position -> the complaint's whole history, rebuilt: (status, status_raw, run_id, first, last)
    rebuilt: dict[int, list[tuple]] = field(default_factory=dict)
    replaced_runs: dict[int, int] = field(default_factory=dict)  # position -> runs it had


def _history_runs(conn: Connection, complaint_ids: list[int]) -> pd.DataFrame:
    """The status-history runs of the complaints, with `last` filled (= first when observed once)."""
    names = ["hist_id", "complaint_id", "status", "status_raw", "run_id", "first", "last"]
    rows: list[tuple] = []
    step = 50_000
    select_sql = ("SELECT id, complaint_id, status, status_raw, run_id, observed_at, "
                  "COALESCE(last_observed_at, observed_at) FROM status_history ")
    for start in range(0, len(complaint_ids), step):
        chunk = complaint_ids[start:start + step]
        if conn.dialect.name == "sqlite":
            sql = select_sql + "WHERE complaint_id IN (SELECT value FROM json_each(?))"
            params: tuple = (json.dumps(chunk),)
        else:
            sql = select_sql + "WHERE complaint_id = ANY(%s)"
            params = (chunk,)
        rows.extend(tuple(r) for r in conn.exec_driver_sql(sql, params).fetchall())
    runs = pd.DataFrame.from_records(rows, columns=names)
    for name in ("hist_id", "complaint_id", "first", "last"):
        runs[name] = runs[name].astype(np.int64)
    return runs


def _stage_rank(status: str | None) -> int:
    return STATUS_RANK.get(status, -1) if status is not None else -1


def _runs_from_points(points: list[tuple]) -> list[tuple]:
    """Observations (time, status, status_raw, run_id), one per instant, -> runs in time order:
    (status, status_raw, run_id, first, last) with last None when observed once."""
    runs: list[list] = []
    for at, status, status_raw, run_id in sorted(points, key=lambda p: p[0]):
        if runs and runs[-1][0] == status:
            runs[-1][4] = at
        else:
            runs.append([status, status_raw, run_id, at, at])
    return [(s, raw, rid, first, None if last == first else last) for s, raw, rid, first, last in runs]


def stage_times_from_runs(runs: list[tuple], submitted_at: int) -> dict[str, tuple[int, int] | None]:
    """DATA.md: each stage time is the first observation at or past the stage; its lower bound
    the last observation before it, or submitted_at when there was none. Per stage column:
    (lower, time) in microseconds, or None when no observation showed the stage."""
    out: dict[str, tuple[int, int] | None] = {}
    for column, rank in STAGE_COLUMNS:
        found = None
        for i, (status, _raw, _rid, first, _last) in enumerate(runs):
            if _stage_rank(status) >= rank:
                if i == 0:
                    lower = submitted_at
                else:
                    previous = runs[i - 1]
                    lower = previous[4] if previous[4] is not None else previous[3]
                found = (lower, first)
                break
        out[column] = found
    return out


def _observe(frame: pd.DataFrame, runs: pd.DataFrame, at: int) -> _Observation:
    """Enter the observation at `at` of every row into its complaint's history and set the
    stage times (with lower bounds), times_estimated and estimate_precision_hours in `frame`.

    Vectorised for the usual case, a snapshot newer than everything stored (one run extended
    or appended per complaint); a complaint whose history already covers a later time (an older
    snapshot imported late) gets its runs rebuilt in observation order, one by one.
    """
    n = len(frame)
    ids = frame["id"].to_numpy(dtype="float64")
    new = np.isnan(ids)
    status = frame["status"].astype(object).to_numpy()
    if runs.empty:
        last_seen = np.full(n, np.nan)
        latest_status = np.full(n, None, dtype=object)
        latest_hist = np.full(n, -1, dtype=np.int64)
    else:
        by_id = runs.sort_values(["complaint_id", "first"]).groupby("complaint_id")
        seen = by_id["last"].max()
        latest = by_id.tail(1).set_index("complaint_id")
        key = pd.Series(ids)
        last_seen = key.map(seen).to_numpy(dtype="float64")
        latest_status = key.map(latest["status"]).astype(object).to_numpy()
        latest_hist = key.map(latest["hist_id"]).fillna(-1).to_numpy(dtype=np.int64)
    has_history = ~new & ~np.isnan(last_seen)
    with np.errstate(invalid="ignore"):
        in_order = ~has_history | (last_seen < at)
        stale = has_history & (at < last_seen)
    # Already known: inside a run of the same status (importing a file again).
    covered = np.zeros(n, dtype=bool)
    late = np.flatnonzero(~in_order)
    if len(late):
        rows = pd.DataFrame({"pos": late, "complaint_id": ids[late].astype(np.int64),
                             "obs_status": status[late]})
        joined = rows.merge(runs, on="complaint_id")
        inside = joined[(joined["status"] == joined["obs_status"]) & (joined["first"] <= at)
                        & (joined["last"] >= at)]
        covered[inside["pos"].to_numpy(dtype=np.int64)] = True
    rebuild = ~in_order & ~covered
    extend_mask = has_history & in_order & (latest_status == status)
    plan = _Observation(
        stale=stale,
        extend=list(zip(latest_hist[extend_mask].tolist(), np.flatnonzero(extend_mask).tolist(), strict=True)),
        append=np.flatnonzero(in_order & ~extend_mask),
    )

    # In order: a stage first shown now is dated now, bounded below by the complaint's previous
    # observation (or its submission); a stage shown before keeps its time and bound.
    rank = frame["status"].map(STATUS_RANK).fillna(-1).to_numpy()
    observed = pd.Timestamp(at, unit="us", tz="UTC")
    previous = pd.Series(pd.to_datetime(np.where(has_history, last_seen, np.nan), unit="us", utc=True),
                         index=frame.index).astype("datetime64[us, UTC]")
    fallback = previous.where(previous.notna(), frame["submitted_at"])
    for col, stage_rank in STAGE_COLUMNS:
        old = frame[f"{col}_old"]
        value = old.where(old.notna(), frame[col])
        derive = in_order & value.isna().to_numpy() & (rank >= stage_rank)
        value = value.copy()
        value[derive] = observed
        frame[col] = value
        lower_name = LOWER_COLUMNS.get(col)
        if lower_name is not None:
            lower = frame[f"{lower_name}_old"].where(old.notna()).copy()
            lower[derive] = fallback[derive]
            frame[lower_name] = lower.astype("datetime64[us, UTC]")

    # Out of order: rebuild the history from its observations and derive from all of it.
    if rebuild.any():
        positions = np.flatnonzero(rebuild)
        wanted = runs[runs["complaint_id"].isin(ids[positions].astype(np.int64))].sort_values(
            ["complaint_id", "first"], kind="mergesort")
        # Plain lists and one (start, end) span per complaint: pandas per group costs ~1 ms.
        owner = wanted["complaint_id"].to_numpy()
        run_first, run_last = wanted["first"].tolist(), wanted["last"].tolist()
        run_status, run_raw = wanted["status"].tolist(), wanted["status_raw"].tolist()
        run_ids = wanted["run_id"].tolist()
        owners, starts = np.unique(owner, return_index=True)
        ends = np.append(starts[1:], len(owner))
        spans = dict(zip(owners.tolist(), zip(starts.tolist(), ends.tolist(), strict=True), strict=True))
        submitted = frame["submitted_at_old"].where(frame["submitted_at_old"].notna(), frame["submitted_at"])
        submitted_micros = submitted.array.asi8
        status_raw = frame["status_raw"].astype(object).where(frame["status_raw"].notna(), None)
        derived: dict[str, list[Any]] = {}
        for col, _rank in STAGE_COLUMNS:
            derived[col] = []
            if col in LOWER_COLUMNS:
                derived[LOWER_COLUMNS[col]] = []
        for pos in positions.tolist():
            start, end = spans[int(ids[pos])]
            points: dict[int, tuple] = {}
            for j in range(start, end):
                points[run_first[j]] = (run_first[j], run_status[j], run_raw[j], run_ids[j])
                points.setdefault(run_last[j], (run_last[j], run_status[j], run_raw[j], run_ids[j]))
            points[at] = (at, status[pos], status_raw.iat[pos], THIS_RUN)
            new_runs = _runs_from_points(list(points.values()))
            plan.rebuilt[pos] = new_runs
            plan.replaced_runs[pos] = end - start
            times = stage_times_from_runs(new_runs, int(submitted_micros[pos]))
            for col, _rank in STAGE_COLUMNS:
                found = times[col]
                derived[col].append(None if found is None else found[1])
                if col in LOWER_COLUMNS:
                    derived[LOWER_COLUMNS[col]].append(None if found is None else found[0])
        for name, values in derived.items():
            micros = pd.array(values, dtype="Int64")
            column = frame[name].copy()
            column.iloc[positions] = pd.to_datetime(micros, unit="us", utc=True).astype("datetime64[us, UTC]")
            frame[name] = column
    hours = np.zeros(n, dtype=float)
    bounded_any = np.zeros(n, dtype=bool)
    for col, lower_name in LOWER_COLUMNS.items():
        lower = frame[lower_name]
        bounded = (lower.notna() & frame[col].notna()).to_numpy()
        gap = (frame[col] - lower).dt.total_seconds().to_numpy(dtype=float) / 3600.0
        hours = np.where(bounded, np.fmax(hours, np.clip(np.nan_to_num(gap), 0, None)), hours)
        bounded_any |= bounded
    frame["times_estimated"] = bounded_any
    frame["estimate_precision_hours"] = np.where(bounded_any, hours, np.nan)
    return plan


def _write_runs(
    conn: Connection, plan: _Observation, ids: np.ndarray, frame: pd.DataFrame,
    source_id: int, run_id: int | None, at: int,
) -> int:
    """Apply an observation's plan to status_history; returns how many runs it added."""
    if plan.extend:
        hist_ids = [h for h, _ in plan.extend]
        _update_many(conn, schema.status_history, {"last_observed_at": [at] * len(hist_ids)}, hist_ids)
    added = 0
    if len(plan.append):
        pos = plan.append
        status_raw = frame["status_raw"].iloc[pos]
        _insert_many(conn, schema.status_history, {
            "complaint_id": ids[pos].astype(np.int64).tolist(),
            "source_id": source_id,
            "run_id": run_id,
            "status": frame["status"].iloc[pos].tolist(),
            "status_raw": status_raw.astype(object).where(status_raw.notna(), None).tolist(),
            "observed_at": at,
            "last_observed_at": None,
        })
        added += len(pos)
    if plan.rebuilt:
        complaint_ids = [int(ids[p]) for p in plan.rebuilt]
        for chunk in iter_chunks(complaint_ids):
            conn.execute(schema.status_history.delete().where(
                schema.status_history.c.complaint_id.in_(list(chunk))))
        rows: dict[str, list] = {k: [] for k in (
            "complaint_id", "status", "status_raw", "run_id", "observed_at", "last_observed_at")}
        for p, new_runs in plan.rebuilt.items():
            for status, status_raw, rid, first, last in new_runs:
                rows["complaint_id"].append(int(ids[p]))
                rows["status"].append(status)
                rows["status_raw"].append(None if status_raw is None or status_raw != status_raw else status_raw)
                rows["run_id"].append(run_id if rid is THIS_RUN else (None if pd.isna(rid) else int(rid)))
                rows["observed_at"].append(int(first))
                rows["last_observed_at"].append(None if last is None else int(last))
            added += len(new_runs) - plan.replaced_runs[p]
        _insert_many(conn, schema.status_history, {"source_id": source_id, **rows})
    return added


def _param_rows(columns: dict[str, Any]) -> list[tuple]:
    """Column lists (scalars repeat for every row) -> parameter tuples for executemany."""
    lengths = {len(v) for v in columns.values() if isinstance(v, list)}
    if len(lengths) != 1:
        raise ValueError(f"column lists of different lengths: {sorted(lengths)}")
    n = lengths.pop()
    return list(zip(*(v if isinstance(v, list) else repeat(v, n) for v in columns.values()), strict=False))


def _insert_many(conn: Connection, table: Any, columns: dict[str, Any]) -> None:
    """INSERT rows given as column lists (values as `_db_columns` makes them); a scalar stands
    for the same value in every row. SQLite: one driver-level executemany per 5,000 rows;
    PostgreSQL: COPY, several times faster than psycopg's row-by-row executemany."""
    if not any(isinstance(v, list) and v for v in columns.values()):
        return
    params = _param_rows(columns)
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, f"COPY {table.name} ({names}) FROM STDIN", params)
        return
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
    for start in range(0, len(params), CHUNK):
        conn.exec_driver_sql(sql, params[start:start + CHUNK])


def _copy_rows(conn: Connection, statement: str, rows: list[tuple]) -> None:
    """PostgreSQL COPY .. FROM STDIN of `rows`, inside the connection's transaction."""
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _update_many(conn: Connection, table: Any, columns: dict[str, Any], ids: list[int]) -> None:
    """UPDATE the rows with `ids` to the values of `columns` (as for `_insert_many`).

    PostgreSQL: the new values are copied into a temporary table and applied with one
    UPDATE .. FROM; SQLite: a driver-level executemany by primary key."""
    if not ids:
        return
    params = _param_rows({**columns, "id": ids})
    if conn.dialect.name == "postgresql":
        names = [*columns, "id"]
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE _new_values ON COMMIT DROP AS "
            f"SELECT {', '.join(names)} FROM {table.name} WITH NO DATA"
        )
        _copy_rows(conn, f"COPY _new_values ({', '.join(names)}) FROM STDIN", params)
        sets = ", ".join(f"{c} = v.{c}" for c in columns)
        conn.exec_driver_sql(f"UPDATE {table.name} AS t SET {sets} FROM _new_values AS v WHERE t.id = v.id")
        conn.exec_driver_sql("DROP TABLE _new_values")
        return
    sets = ", ".join(f"{c} = ?" for c in columns)
    sql = f"UPDATE {table.name} SET {sets} WHERE id = ?"
    for start in range(0, len(params), CHUNK):
        conn.exec_driver_sql(sql, params[start:start + CHUNK])


def _select_by_tracking_ids(
    conn: Connection, columns: str, source_id: int, tracking_ids: list[str]
) -> list[tuple]:
    """Rows of `complaints` of one source whose tracking id is in the list, by its unique index.

    The list travels as one parameter (SQLite: a JSON array read by `json_each`, PostgreSQL: an
    array), not as thousands of bound values SQLAlchemy would have to expand and compile.
    """
    found: list[tuple] = []
    step = 50_000
    for start in range(0, len(tracking_ids), step):
        chunk = tracking_ids[start:start + step]
        if conn.dialect.name == "sqlite":
            sql = (f"SELECT {columns} FROM complaints WHERE source_id = ? "
                   "AND tracking_id IN (SELECT value FROM json_each(?))")
            params: tuple = (source_id, json.dumps(chunk))
        else:
            sql = f"SELECT {columns} FROM complaints WHERE source_id = %s AND tracking_id = ANY(%s)"
            params = (source_id, chunk)
        found.extend(tuple(r) for r in conn.exec_driver_sql(sql, params).fetchall())
    return found


def _nullable(values: np.ndarray, isna: np.ndarray) -> list[Any]:
    """A numpy array as a list of Python scalars with None where `isna`."""
    out = values.astype(object)
    out[isna] = None
    return out.tolist()


def _db_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """The complaint columns of `frame` as lists the DB-API drivers take directly: integer
    microseconds for instants, ISO text for dates, Python scalars, None for every kind of null."""
    columns: dict[str, list[Any]] = {}
    for col in frame.columns:
        if col not in _WRITABLE:
            continue
        series = frame[col]
        isna = series.isna().to_numpy()
        kind = complaints.c[col].type
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            micros = series.astype("datetime64[us, UTC]").array.asi8
            columns[col] = _nullable(micros, isna)
        elif isinstance(kind, Date):
            days = pd.to_datetime(series.where(~isna, None)).to_numpy().astype("datetime64[D]")
            columns[col] = _nullable(np.datetime_as_string(days, unit="D"), isna)
        elif isinstance(kind, Integer | SmallInteger) and not isinstance(kind, Boolean):
            numbers = pd.to_numeric(series.where(~isna, 0)).to_numpy().astype(np.int64)
            columns[col] = _nullable(numbers, isna)
        elif isinstance(kind, Float):
            columns[col] = _nullable(pd.to_numeric(series).to_numpy(dtype=float), isna)
        elif isinstance(kind, Boolean):
            columns[col] = _nullable(series.astype(object).where(~isna, False).astype(bool).to_numpy(), isna)
        else:
            columns[col] = series.astype(object).where(~isna, None).tolist()
    return columns


_WRITABLE = frozenset(complaints.c.keys()) - {
    "id", "source_id", "first_seen_at", "updated_at", "change_seq"}


def iter_chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
