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
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Date,
    Engine,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection

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
)
# Canonical record columns (DATA.md) plus the raw values and Open311 extras the store keeps.
RECORD_COLUMNS = (
    "tracking_id", "submitted_at", "channel", "channel_raw", "classification", "category", "opd",
    "kecamatan", "kelurahan", "status", "status_raw", "verified_at", "disposed_at",
    "first_response_at", "closed_at", "redisposition_count", "reopen_count", "rating",
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


def alias_key(name: str) -> str:
    """The normalised spelling used to match OPD aliases: case, accents, dots and spaces folded."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


_migrate_lock = threading.Lock()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic head (no-op when already there)."""
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
        engine = make_engine(settings.db_url)
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
            done = c.execute(
                update(schema.meta).where(schema.meta.c.key == key).values(value=value)
            ).rowcount
            if not done:
                c.execute(insert(schema.meta).values(key=key, value=value))

        if conn is not None:
            _do(conn)
        else:
            with self.engine.begin() as c:
                _do(c)

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
        with self.engine.begin() as conn:
            row = conn.execute(
                select(schema.sources.c.id).where(schema.sources.c.name == name)
            ).first()
            if row:
                return int(row[0])
            return int(
                conn.execute(
                    insert(schema.sources)
                    .values(name=name, kind=kind, is_demo=is_demo, created_at=utc_now())
                    .returning(schema.sources.c.id)
                ).scalar_one()
            )

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
            return int(
                conn.execute(
                    insert(schema.runs)
                    .values(
                        source_id=source_id, kind=kind, status="running", started_at=utc_now(),
                        rows_read=0, rows_stored=0, rows_quarantined=0, detail=detail,
                        snapshot_at=snapshot_at,
                    )
                    .returning(schema.runs.c.id)
                ).scalar_one()
            )

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
                        .values(opd=name)
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
                    .values(opd=opd_name)
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
    ) -> WriteResult:
        """Upsert valid canonical records of one source as one atomic batch.

        `records` holds canonical columns with timestamps as tz-aware UTC datetimes. With
        `estimate_stage_times` (LAPOR! export snapshots) missing stage times are set to
        `observed_at` the first time a snapshot shows the complaint at or past that stage.
        """
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
        frame["opd"] = frame["opd"].map(lambda n: None if n is None or n != n else spellings[n])
        with self.engine.begin() as conn:
            existing = self._existing(conn, source_id, frame["tracking_id"].tolist())
            frame = frame.merge(existing, on="tracking_id", how="left", suffixes=("", "_old"))
            if estimate_stage_times:
                self._estimate_stage_times(frame, observed_at, previous_snapshot_at)
            else:
                frame["times_estimated"] = frame["times_estimated_old"].fillna(False).astype(bool)
                frame["estimate_precision_hours"] = frame["estimate_precision_hours_old"]
            self._derive(frame)
            now = to_micros(utc_now())
            is_new = frame["id"].isna().to_numpy()
            rows = _rows_for_db(frame)
            new_rows = [dict(r, source_id=source_id, first_seen_at=now, updated_at=now) for r, n in zip(rows, is_new, strict=True) if n]
            old_rows = [dict(r, _id=int(i), updated_at=now) for r, i, n in zip(rows, frame["id"], is_new, strict=True) if not n]
            ids: dict[str, int] = {}
            # A plain executemany, then one lookup of the new ids: INSERT .. RETURNING goes through
            # SQLAlchemy's "insertmanyvalues", whose huge multi-row statements psycopg re-parses
            # page by page (about 50 s for 100,000 complaints on PostgreSQL instead of a few).
            for start in range(0, len(new_rows), CHUNK):
                chunk = new_rows[start:start + CHUNK]
                _insert_many(conn, complaints, chunk)
                returned = conn.execute(
                    select(complaints.c.id, complaints.c.tracking_id).where(
                        complaints.c.source_id == source_id,
                        complaints.c.tracking_id.in_([r["tracking_id"] for r in chunk]),
                    )
                ).fetchall()
                ids.update({tid: cid for cid, tid in returned})
            if old_rows:
                stmt = (
                    update(complaints)
                    .where(complaints.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in old_rows[0] if c != "_id"})
                )
                for start in range(0, len(old_rows), CHUNK):
                    conn.execute(stmt, old_rows[start:start + CHUNK])
            history = []
            observed = to_micros(observed_at)
            for row, old_status, old_id in zip(rows, frame["status_old"], frame["id"], strict=True):
                if old_status is not None and old_status == old_status and old_status == row["status"]:
                    continue
                complaint_id = ids.get(row["tracking_id"]) if old_id != old_id else int(old_id)
                history.append(
                    dict(
                        complaint_id=complaint_id, source_id=source_id, run_id=run_id,
                        status=row["status"], status_raw=row.get("status_raw"), observed_at=observed,
                    )
                )
            for start in range(0, len(history), CHUNK):
                _insert_many(conn, schema.status_history, history[start:start + CHUNK])
            self.meta_set("data_version", str(now), conn)
        result.stored = len(frame)
        result.inserted = len(new_rows)
        result.updated = len(old_rows)
        result.history_added = len(history)
        return result

    @staticmethod
    def _complete_columns(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for col in RECORD_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        for col in INSTANT_COLUMNS:
            frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[us, UTC]")
        for col in ("redisposition_count", "reopen_count"):
            frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        for col in ("is_anonymous", "is_confidential"):
            frame[col] = frame[col].map(lambda v: bool(v) if v is not None and v == v else False)
        frame["tracking_id"] = frame["tracking_id"].astype(str)
        return frame

    def _existing(self, conn: Connection, source_id: int, tracking_ids: list[str]) -> pd.DataFrame:
        cols = [
            complaints.c.id, complaints.c.tracking_id, complaints.c.status.label("status_old"),
            complaints.c.times_estimated.label("times_estimated_old"),
            complaints.c.estimate_precision_hours.label("estimate_precision_hours_old"),
        ] + [type_coerce(complaints.c[c], BigInteger).label(f"{c}_old") for c, _ in STAGE_COLUMNS]
        found: list[tuple] = []
        for start in range(0, len(tracking_ids), CHUNK):
            chunk = tracking_ids[start:start + CHUNK]
            found.extend(
                conn.execute(
                    select(*cols).where(
                        complaints.c.source_id == source_id, complaints.c.tracking_id.in_(chunk)
                    )
                ).fetchall()
            )
        names = ["id", "tracking_id", "status_old", "times_estimated_old",
                 "estimate_precision_hours_old"] + [f"{c}_old" for c, _ in STAGE_COLUMNS]
        existing = pd.DataFrame.from_records(found, columns=names)
        existing["id"] = existing["id"].astype("float64")
        existing["status_old"] = existing["status_old"].astype(object)
        existing["estimate_precision_hours_old"] = existing["estimate_precision_hours_old"].astype("float64")
        for c, _ in STAGE_COLUMNS:
            existing[f"{c}_old"] = pd.to_datetime(
                existing[f"{c}_old"].astype("Int64"), unit="us", utc=True
            ).astype("datetime64[us, UTC]")
        return existing

    @staticmethod
    def _estimate_stage_times(
        frame: pd.DataFrame, observed_at: datetime, previous_snapshot_at: datetime | None
    ) -> None:
        rank = frame["status"].map(STATUS_RANK).fillna(-1).to_numpy()
        observed = pd.Timestamp(observed_at).tz_convert("UTC")
        estimated_now = np.zeros(len(frame), dtype=bool)
        for col, stage_rank in STAGE_COLUMNS:
            old = frame[f"{col}_old"]
            given = frame[col]
            value = old.where(old.notna(), given)  # keep what an earlier snapshot established
            derive = value.isna().to_numpy() & (rank >= stage_rank)
            value = value.copy()
            value[derive] = observed
            frame[col] = value
            estimated_now |= derive
        lower = frame["submitted_at"] if previous_snapshot_at is None else pd.Series(
            pd.Timestamp(previous_snapshot_at).tz_convert("UTC"), index=frame.index
        )
        gap_hours = ((observed - lower).dt.total_seconds() / 3600.0).clip(lower=0)
        old_precision = frame["estimate_precision_hours_old"]
        frame["times_estimated"] = frame["times_estimated_old"].fillna(False).astype(bool) | estimated_now
        frame["estimate_precision_hours"] = np.where(
            estimated_now, np.fmax(gap_hours.to_numpy(dtype=float), old_precision.to_numpy(dtype=float)),
            old_precision.to_numpy(dtype=float),
        )

    def _derive(self, frame: pd.DataFrame) -> None:
        """Fill the KPI.md derived columns of `frame` in place (vectorised)."""
        kpi = self.settings.kpi
        cal = self.calendar
        frame["submitted_date"] = cal.local_dates(frame["submitted_at"]).dt.date
        frame["response_at"] = frame["first_response_at"].where(
            frame["first_response_at"].notna(), frame["closed_at"]
        )
        frame["verification_deadline"] = cal.deadlines(frame["submitted_at"], kpi.verification_days)
        frame["response_deadline"] = cal.deadlines(frame["disposed_at"], kpi.response_days)
        days = frame["classification"].map(lambda c: kpi.completion_days_for(c if c == c else None))
        frame["completion_deadline"] = cal.deadlines(frame["disposed_at"], days.to_numpy(dtype=np.int64))
        frame["region_code"] = frame["region_code"].where(
            frame["region_code"].notna(), self.settings.region_code
        )

    def refresh_derived_if_needed(self, *, force: bool = False) -> int:
        """Recompute stored deadlines when the calendar or deadline settings changed."""
        fingerprint = self.settings.kpi.calendar_fingerprint()
        if not force and self.meta_get("calendar_fingerprint") == fingerprint:
            return 0
        cols = ["id", "submitted_at", "disposed_at", "first_response_at", "closed_at", "classification", "region_code"]
        changed = 0
        with self.engine.begin() as conn:
            last_id = 0
            while True:
                rows = conn.execute(
                    text(
                        "SELECT id, submitted_at, disposed_at, first_response_at, closed_at, "
                        "classification, region_code FROM complaints WHERE id > :last "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"last": last_id, "n": 50_000},
                ).fetchall()
                if not rows:
                    break
                frame = pd.DataFrame.from_records(rows, columns=cols)
                for col in ("submitted_at", "disposed_at", "first_response_at", "closed_at"):
                    frame[col] = pd.to_datetime(frame[col], unit="us", utc=True).astype("datetime64[us, UTC]")
                self._derive(frame)
                derived = ["submitted_date", "response_at", "verification_deadline",
                           "response_deadline", "completion_deadline"]
                payload = _rows_for_db(frame[["id", *derived]], keep_id=True)
                stmt = (
                    update(complaints)
                    .where(complaints.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in derived})
                )
                conn.execute(stmt, [dict(r, _id=r.pop("id")) for r in payload])
                changed += len(frame)
                last_id = int(frame["id"].iloc[-1])
            self.meta_set("calendar_fingerprint", fingerprint, conn)
            if changed:
                self.meta_set("data_version", str(to_micros(utc_now())), conn)
        return changed


def _insert_many(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows (dicts with the same keys, values as `_rows_for_db` makes them: ints for
    instants) with one driver-level executemany. SQLAlchemy's per-row parameter processing
    costs more than SQLite's insert itself at a million rows (benchmarks/bench_import.py)."""
    if not rows:
        return
    columns = list(rows[0])
    sqlite = conn.dialect.name == "sqlite"
    marks = ", ".join(["?" if sqlite else "%s"] * len(columns))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"

    values = [[row[c] for row in rows] for c in columns]
    if sqlite:
        # SQLAlchemy's SQLite Date stores ISO text; do the same (the sqlite3 date adapter is deprecated).
        for i, column in enumerate(columns):
            if isinstance(table.c[column].type, Date):
                values[i] = [None if v is None else v.isoformat() for v in values[i]]
    params = list(zip(*values, strict=True))
    conn.exec_driver_sql(sql, params)


def _rows_for_db(frame: pd.DataFrame, *, keep_id: bool = False) -> list[dict[str, Any]]:
    """DataFrame -> list of dicts with ints for instants, None for nulls, dates as dates."""
    columns: dict[str, list] = {}
    table_cols = set(complaints.c.keys())
    for col in frame.columns:
        if col not in table_cols or col in ("id", "first_seen_at", "updated_at"):
            continue
        series = frame[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            micros = series.astype("datetime64[us, UTC]").astype("int64").to_numpy()
            isna = series.isna().to_numpy()
            columns[col] = [None if na else int(v) for v, na in zip(micros, isna, strict=True)]
        elif col in ("rating",):
            columns[col] = [None if v is None or v != v else int(v) for v in series.tolist()]
        elif col in ("latitude", "longitude", "estimate_precision_hours"):
            columns[col] = [None if v is None or v != v else float(v) for v in series.tolist()]
        else:
            columns[col] = series.astype(object).where(series.notna(), None).tolist()  # NaN/NA/NaT -> None
    if keep_id:
        columns = {"id": [int(v) for v in frame["id"].tolist()], **columns}
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def iter_chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
