"""A cached columnar copy of the complaint columns the KPI engine aggregates, one per data version.

Aggregating a million complaints in SQLite costs seconds per query (its GROUP BY sorts, every
CASE is interpreted per row), so the engine loads the few columns it needs once per data
version into numpy arrays and aggregates them vectorised. Instants stay integer microseconds
(UTC); an instant that has not happened is NEVER, which compares after every as_of, so "set
and not after as_of" is a single comparison. Text columns are integer codes into a list of
labels (-1 for NULL). The copy lives in memory for the process and, for large stores, in a
folder of .npy files next to the database (memory-mapped on load), so the report command does
not reload it from the database every time.

The key is the store's `data_version` (bumped by every write, alias change and deadline
recomputation) with the calendar fingerprint and the highest complaint id, so a stale copy is
never used.

A copy is brought up to date, not rebuilt (issue 17): every write marks the complaints it
inserts or updates, and an alias change the complaints it re-points, with the next `change_seq`
(data_sources/store.py `next_change_seq`); the copy remembers the marker it has seen and reads
only the rows marked after it, in one snapshot with the row count. Deletes are not marked: they
show as a copy with more rows than the store, and the copy is rebuilt. So is a copy made under
other calendar or deadline settings (their fingerprint), or older than meta
`columnar_rebuild_seq` (set by a deadline recomputation). The refreshed copy equals a full
rebuild array for array (labels in order of first appearance by id, unused labels dropped).

A full rebuild reads the columns as Arrow arrays through the ADBC drivers (adbc-driver-sqlite,
adbc-driver-postgresql), falling back to DB-API tuples when a driver cannot be loaded or fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, case, func, literal, select, type_coerce, union_all
from sqlalchemy.engine import make_url

from core.calendar import calendar_for
from core.settings import PROJECT_ROOT
from data_sources.schema import complaints

NEVER = np.iinfo(np.int64).max  # an instant that has not happened (NULL in the store)
INSTANTS = (
    "submitted_at", "disposed_at", "first_response_at", "closed_at", "response_deadline",
    "completion_deadline", "verification_deadline",
)
LABELS = ("opd", "category", "channel", "kecamatan", "region_code")
# status, reopen_count, redisposition_count and rating are only ever tested, never shown, so the
# query packs what the figures need of them into one small integer per complaint.
ARCHIVED_BIT = 1
REOPENED_BIT = 2
REDISPOSED_BIT = 4
RATING_SHIFT = 3  # rating (0 = none, 1-5) in bits 3-5
# KPI.md "Times that are only estimates": the stage times unknown for timing, in their own small
# integer per complaint (`unknown`), so `flags` keeps its layout.
DISPOSED_UNKNOWN_BIT = 1
FIRST_RESPONSE_UNKNOWN_BIT = 2
CLOSED_UNKNOWN_BIT = 4
FORMAT_VERSION = "4"
# Below this, loading from the database is quick enough (KPI_COLUMNAR_DISK_MIN_ROWS: benchmarks).
DISK_CACHE_MIN_ROWS = int(os.environ.get("KPI_COLUMNAR_DISK_MIN_ROWS", "50000"))
FETCH_ROWS = 50_000
MEMORY_ENTRIES = 2

C = complaints.c
_memory: OrderedDict[tuple, ComplaintColumns] = OrderedDict()
_lock = threading.Lock()


@dataclass
class ComplaintColumns:
    """Column arrays of every stored complaint, in id order."""

    values: dict[str, np.ndarray]  # submitted_date (int32 local days), instants, flags, codes
    labels: dict[str, np.ndarray]  # label column -> object array of its distinct values
    key: tuple = ()  # the cache key (data version) this copy stands for
    seq: int = 0  # every change marked up to this change_seq is in the copy
    built: str = ""  # how this copy was made: "rebuild", "refresh" or "disk" (read as saved)

    def __len__(self) -> int:
        return len(self.values["submitted_at"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def code_of(self, name: str, value: str) -> int:
        found = np.flatnonzero(self.labels[name] == value)
        return int(found[0]) if len(found) else -2  # -2 matches no row

    def among(self, name: str, values: Iterable[str]) -> np.ndarray:
        """Rows whose label column is one of `values`."""
        wanted = [self.code_of(name, v) for v in values]
        return np.isin(self.values[name], np.array(wanted, dtype=np.int32))

    def label_values(self, name: str, codes: np.ndarray) -> np.ndarray:
        """Codes back to labels (None for -1)."""
        lookup = np.append(self.labels[name], None).astype(object)
        return lookup[codes]

    def flag(self, bit: int) -> np.ndarray:
        return (self.values["flags"] & bit) != 0

    def rating(self) -> np.ndarray:
        return self.values["flags"] >> RATING_SHIFT


def _cache_key(store: Any) -> tuple:
    max_id = store.execute(select(func.max(C.id))).scalar()
    return (
        store.settings.db_url,
        store.data_version(),
        store.settings.kpi.calendar_fingerprint(),
        int(max_id or 0),
        FORMAT_VERSION,
    )


def _same_lineage(key: tuple, other: tuple) -> bool:
    """Whether a copy made under `other` can be brought up to `key` (same store, settings, format)."""
    return bool(other) and (other[0], other[2], other[4]) == (key[0], key[2], key[4])


def _disk_prefix(store: Any) -> tuple[Path, str]:
    url = store.settings.db_url
    if url.startswith("sqlite") and "///" in url:
        folder = Path(url.split("///", 1)[1]).resolve().parent / "cache"
    else:
        folder = PROJECT_ROOT / "data" / "cache"
    return folder, f"kpi-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _disk_path(store: Any, key: tuple) -> Path:
    folder, prefix = _disk_prefix(store)
    key_hash = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    return folder / f"{prefix}-{key_hash}"


def _query(store: Any, since_seq: int | None = None, sentinel: bool = False) -> str:
    """SELECT of the copy's columns in id order; with `since_seq`, only the rows changed after it.

    `sentinel` puts a first row (id -1, empty labels) before the rows, for ADBC's SQLite driver,
    which takes a column's type from its first values (a NULL label would make it an integer).
    """
    rating = func.coalesce(C.rating, 0)
    flags = (
        case((C.status == "arsip", ARCHIVED_BIT), else_=0)
        + case((C.reopen_count > 0, REOPENED_BIT), else_=0)
        + case((C.redisposition_count > 0, REDISPOSED_BIT), else_=0)
        + type_coerce(rating, Integer) * (1 << RATING_SHIFT)
    )
    unknown = (
        case((C.disposed_time_unknown, DISPOSED_UNKNOWN_BIT), else_=0)
        + case((C.first_response_time_unknown, FIRST_RESPONSE_UNKNOWN_BIT), else_=0)
        + case((C.closed_time_unknown, CLOSED_UNKNOWN_BIT), else_=0)
    )
    columns = [type_coerce(C.id, BigInteger).label("id")]
    columns += [func.coalesce(type_coerce(C[n], BigInteger), NEVER).label(n) for n in INSTANTS]
    columns += [flags.label("flags"), unknown.label("unknown")] + [C[n] for n in LABELS]
    stmt = select(*columns)
    if since_seq is not None:
        # Unordered, so the database reads the rows by the change_seq index (with ORDER BY id
        # SQLite scans the whole table in id order instead); `_merge` sorts them.
        stmt = stmt.where(C.change_seq > since_seq)
    else:
        stmt = stmt.order_by(C.id)
    if sentinel:
        first = select(*(literal(v).label(n) for n, v in (
            ("id", -1), *((n, 0) for n in (*INSTANTS, "flags", "unknown")),
            *((n, "") for n in LABELS),
        )))
        stmt = union_all(first, select(stmt.subquery()))
    return str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))


NUMERIC = ("id", *INSTANTS, "flags", "unknown")
Block = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]  # values, labels (object arrays)


def _fetch_tuples(cursor: Any, sql: str) -> Block:
    """The rows of `sql` through a DB-API cursor, chunk by chunk (the fallback path)."""
    n_numeric = len(NUMERIC)
    numeric_parts: list[np.ndarray] = []
    label_codes: dict[str, list[np.ndarray]] = {n: [] for n in LABELS}
    label_index: dict[str, dict[str, int]] = {n: {} for n in LABELS}
    cursor.execute(sql)
    while True:
        rows = cursor.fetchmany(FETCH_ROWS)
        if not rows:
            break
        block = np.array(rows, dtype=object)
        numeric_parts.append(block[:, :n_numeric].astype(np.int64))
        for offset, name in enumerate(LABELS, start=n_numeric):
            # Factorise chunk by chunk so a million text values never live at once.
            codes, uniques = pd.factorize(block[:, offset], use_na_sentinel=True)
            index = label_index[name]
            mapping = np.array(
                [index.setdefault(str(u), len(index)) for u in uniques] + [-1], dtype=np.int32
            )
            label_codes[name].append(mapping[codes])
        del block, rows
    numeric = (
        np.concatenate(numeric_parts) if numeric_parts else np.zeros((0, n_numeric), np.int64)
    )
    values = {name: np.ascontiguousarray(numeric[:, i]) for i, name in enumerate(NUMERIC)}
    for name in LABELS:
        parts = label_codes[name]
        values[name] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    labels = {name: np.array(list(label_index[name]), dtype=object) for name in LABELS}
    return values, labels


def _arrow_block(batches: Iterable[Any]) -> Block:
    """Arrow record batches of the query's columns as numpy arrays, batch by batch (so neither
    the Arrow table nor a million text values live at once); labels coded in order of first
    appearance, as `_fetch_tuples` codes them."""
    numeric: dict[str, list[np.ndarray]] = {n: [] for n in NUMERIC}
    label_codes: dict[str, list[np.ndarray]] = {n: [] for n in LABELS}
    label_index: dict[str, dict[str, int]] = {n: {} for n in LABELS}
    for batch in batches:
        for name in NUMERIC:
            numeric[name].append(batch.column(name).to_numpy().astype(np.int64))
        for name in LABELS:
            encoded = batch.column(name).cast("string").dictionary_encode()
            index = label_index[name]
            mapping = np.array(
                [index.setdefault(v, len(index)) for v in encoded.dictionary.to_pylist()] + [-1],
                dtype=np.int32,
            )
            label_codes[name].append(mapping[encoded.indices.fill_null(-1).to_numpy()])
    values = {
        name: np.concatenate(parts) if parts else np.zeros(0, np.int64)
        for name, parts in numeric.items()
    }
    for name, parts in label_codes.items():
        values[name] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    labels = {name: np.array(list(label_index[name]), dtype=object) for name in LABELS}
    return values, labels


# ADBC's SQLite driver carries its own copy of SQLite. Two copies in one process break each
# other's POSIX locks (sqlite.org/howtocorrupt.html 2.2.1; here a connection of Python's sqlite3
# then failed with "disk I/O error" and ADBC missed committed WAL pages), so the SQLite read runs
# in a child process: the change marker on the first line, then an Arrow IPC stream of batches.
_SQLITE_READER = """
import sys
import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
out = sys.stdout.buffer
connection = adbc.connect(sys.argv[1])  # one read transaction: the marker and the rows agree
try:
    cursor = connection.cursor()
    cursor.execute("SELECT value FROM meta WHERE key = 'change_seq'")
    row = cursor.fetchone()
    out.write(((str(row[0]) if row and row[0] is not None else "0") + "\\n").encode())
    cursor.execute(sys.stdin.read())
    reader = cursor.fetch_record_batch()
    with pa.ipc.new_stream(out, reader.schema) as writer:
        first = True
        for batch in reader:
            writer.write_batch(batch.slice(1) if first else batch)  # without the sentinel row
            first = False
    cursor.close()
finally:
    connection.close()
"""


def arrow_reader(url: str) -> str | None:
    """Which Arrow-native reader serves the store ("adbc-sqlite-process", "adbc-postgresql"),
    None when none does (an in-memory SQLite store, another database, no driver installed)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        module = "adbc_driver_sqlite"
    elif backend == "postgresql":
        module = "adbc_driver_postgresql"
    else:
        return None
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return None
    return "adbc-sqlite-process" if backend == "sqlite" else "adbc-postgresql"


def _load_arrow(store: Any) -> tuple[Block, int] | None:
    """Every complaint through an ADBC driver and the change marker read with them, or None
    when the driver is missing or fails (the caller then takes the DB-API path)."""
    reader = arrow_reader(store.settings.db_url)
    if reader is None:
        return None
    import pyarrow as pa

    parsed = make_url(store.settings.db_url)
    try:
        if reader == "adbc-sqlite-process":
            child = subprocess.Popen(
                [sys.executable, "-c", _SQLITE_READER, str(parsed.database)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
            try:
                child.stdin.write(_query(store, sentinel=True).encode())
                child.stdin.close()
                seq = int(child.stdout.readline())
                block = _arrow_block(pa.ipc.open_stream(child.stdout))
            finally:
                child.stdout.close()
                returncode = child.wait()
            return (block, seq) if returncode == 0 else None
        import adbc_driver_postgresql.dbapi as adbc_pg

        uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with adbc_pg.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(_seq_sql())
            seq = _as_seq(cursor.fetchone())
            cursor.execute(_query(store))
            block = _arrow_block(cursor.fetch_record_batch())
        return block, seq
    except Exception:  # noqa: BLE001 - any driver or child failure: the DB-API path
        return None


def _seq_sql() -> str:
    return "SELECT value FROM meta WHERE key = 'change_seq'"


def _as_seq(row: Any) -> int:
    return int(row[0]) if row and row[0] is not None else 0


def _load_from_db(store: Any, arrow: bool = True) -> tuple[Block, int]:
    """Every complaint (the block) and the change marker read with them (or before them: a row
    changed while they are read is marked after it, so the next refresh reads it again).
    `arrow=False` takes the DB-API path even where a driver is available."""
    loaded = _load_arrow(store) if arrow else None
    if loaded is not None:
        return loaded
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(_seq_sql())
        seq = _as_seq(cursor.fetchone())
        block = _fetch_tuples(cursor, _query(store))
        cursor.close()
    finally:
        raw.close()
    return block, seq


def _changes_since(store: Any, since_seq: int) -> tuple[Block, int, int, int]:
    """The complaints changed after `since_seq`, the current marker, the rows in the store and
    meta columnar_rebuild_seq, all read in one snapshot."""
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.dialect == "sqlite":
            cursor.execute("BEGIN")  # a read transaction: one WAL snapshot for every read below
        else:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(_seq_sql())
        seq = _as_seq(cursor.fetchone())
        cursor.execute("SELECT value FROM meta WHERE key = 'columnar_rebuild_seq'")
        rebuild_seq = _as_seq(cursor.fetchone())
        cursor.execute("SELECT COUNT(*) FROM complaints")
        count = int(cursor.fetchone()[0])
        block = _fetch_tuples(cursor, _query(store, since_seq=since_seq))
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return block, seq, count, rebuild_seq


def _submitted_dates(store: Any, submitted_at: np.ndarray) -> np.ndarray:
    """The local submission date, as the store derives submitted_date (KPI.md "Time")."""
    submitted = pd.Series(pd.to_datetime(submitted_at, unit="us", utc=True))
    days = calendar_for(store.settings.kpi).local_dates(submitted).to_numpy()
    return days.astype("datetime64[D]").astype(np.int32)


def _finish(store: Any, block: Block) -> ComplaintColumns:
    values, labels = block
    ids = values["id"]
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
        order = np.argsort(ids, kind="stable")
        values = {name: array[order] for name, array in values.items()}
    values["flags"] = values["flags"].astype(np.int32)
    values["unknown"] = values["unknown"].astype(np.int8)
    values["submitted_date"] = _submitted_dates(store, values["submitted_at"])
    return ComplaintColumns(values=values, labels=labels)


def _canonical_labels(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes renumbered in order of first appearance, unused labels dropped (as a rebuild)."""
    order = pd.unique(codes)  # in order of appearance (a hash table, no sort)
    order = order[order >= 0]
    remap = np.full(len(labels) + 1, -1, dtype=np.int32)  # the last slot is code -1
    remap[order] = np.arange(len(order), dtype=np.int32)
    return remap[codes], np.asarray(labels, dtype=object)[order]


def _merge(store: Any, base: ComplaintColumns, block: Block) -> ComplaintColumns:
    """`base` with the changed rows of `block` replaced in place and the new ones added."""
    values, labels = block
    by_id = np.argsort(values["id"], kind="stable")
    values = {name: array[by_id] for name, array in values.items()}
    base_ids = np.asarray(base["id"])
    ids = values["id"]
    pos = np.searchsorted(base_ids, ids)
    known = pos < len(base_ids)
    known[known] = base_ids[pos[known]] == ids[known]
    at, fresh = pos[known], ~known
    merged: dict[str, np.ndarray] = {}
    merged_labels: dict[str, np.ndarray] = {}
    for name in LABELS:
        index = {str(v): i for i, v in enumerate(base.labels[name])}
        mapping = np.array(
            [index.setdefault(str(v), len(index)) for v in labels[name]] + [-1], dtype=np.int32
        )
        values[name] = mapping[values[name]]
        merged_labels[name] = np.array(list(index), dtype=object)
    values["flags"] = values["flags"].astype(np.int32)
    values["unknown"] = values["unknown"].astype(np.int8)
    values["submitted_date"] = _submitted_dates(store, values["submitted_at"])
    n_base, n_fresh = len(base_ids), int(fresh.sum())
    for name, changed in values.items():
        # One copy (the base may be memory-mapped read-only), the new rows after it.
        array = np.empty(n_base + n_fresh, dtype=changed.dtype)
        array[:n_base] = base[name]
        array[at] = changed[known]
        array[n_base:] = changed[fresh]
        merged[name] = array
    all_ids = merged["id"]
    if fresh.any() and len(base_ids) and ids[fresh].min() <= base_ids[-1]:
        order = np.argsort(all_ids, kind="stable")  # a new id below the copy's highest
        merged = {name: array[order] for name, array in merged.items()}
    for name in LABELS:
        merged[name], merged_labels[name] = _canonical_labels(merged[name], merged_labels[name])
    return ComplaintColumns(values=merged, labels=merged_labels)


def _refreshed(store: Any, base: ComplaintColumns) -> tuple[ComplaintColumns, int] | None:
    """`base` brought up to date from the rows changed since it, or None when it cannot be."""
    block, seq, count, rebuild_seq = _changes_since(store, base.seq)
    if seq < base.seq or base.seq < rebuild_seq:
        return None  # a store reset, or derived columns recomputed for every row
    columns = _merge(store, base, block)
    if len(columns) != count:
        return None  # complaints were deleted: rebuild
    return columns, seq


def _save(columns: ComplaintColumns, path: Path) -> None:
    # The copy holds every complaint: owner-only, like the store (0700 folders, 0600 files).
    umask = os.umask(0o077)
    try:
        _write(columns, path)
    finally:
        os.umask(umask)


def _write(columns: ComplaintColumns, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
    try:
        for name, array in columns.values.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        (tmp / "labels.json").write_text(
            json.dumps({k: [str(v) for v in arr] for k, arr in columns.labels.items()})
        )
        (tmp / "copy.json").write_text(json.dumps({"key": list(columns.key), "seq": columns.seq}))
        os.replace(tmp, path)  # atomic: a reader sees the whole folder or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not path.exists():
            raise
    prefix = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{prefix}-*"):
        if old != path and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _read(path: Path) -> ComplaintColumns:
    labels_raw = json.loads((path / "labels.json").read_text())
    labels = {name: np.array(labels_raw[name], dtype=object) for name in LABELS}
    copy = json.loads((path / "copy.json").read_text())
    values = {
        file.stem: np.load(file, mmap_mode="r", allow_pickle=False)
        for file in path.glob("*.npy")
    }
    missing = {*NUMERIC, *LABELS, "submitted_date"} - set(values)
    if missing:
        raise ValueError(f"cache folder lacks {sorted(missing)}")
    return ComplaintColumns(
        values=values, labels=labels, key=tuple(copy["key"]), seq=int(copy["seq"]), built="disk"
    )


def _base_for(store: Any, key: tuple) -> ComplaintColumns | None:
    """The newest copy of this store under the same settings, in memory or on disk."""
    with _lock:
        candidates = [c for c in _memory.values() if _same_lineage(key, c.key)]
    if candidates:  # the newest marker; of equal ones the latest made (a rebuild after deletes)
        return max(reversed(candidates), key=lambda c: c.seq)
    folder, prefix = _disk_prefix(store)
    for path in sorted(folder.glob(f"{prefix}-*")) if folder.is_dir() else ():
        try:
            columns = _read(path)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _same_lineage(key, columns.key):
            return columns
    return None


def complaint_columns(store: Any) -> ComplaintColumns:
    """The columnar copy of the store's complaints (all rows; the engine filters with masks)."""
    key = _cache_key(store)
    with _lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
    path = _disk_path(store, key)
    columns = None
    if path.is_dir():
        try:
            columns = _read(path)
        except (OSError, ValueError, KeyError, TypeError):
            columns = None  # a damaged cache is rebuilt, never trusted
    if columns is None:
        base = _base_for(store, key)
        refreshed = _refreshed(store, base) if base is not None else None
        if refreshed is not None:
            columns, seq = refreshed
            columns.built = "refresh"
        else:
            block, seq = _load_from_db(store)
            columns = _finish(store, block)
            columns.built = "rebuild"
        columns.key, columns.seq = key, seq
        if len(columns) >= DISK_CACHE_MIN_ROWS:
            try:
                _save(columns, path)
            except OSError:
                pass  # a read-only location only costs speed
    columns.key = key
    with _lock:
        _memory[key] = columns
        while len(_memory) > MEMORY_ENTRIES:
            _memory.popitem(last=False)
    return columns


def rebuild(store: Any, *, arrow: bool = True) -> ComplaintColumns:
    """A full rebuild from the database, bypassing every cached copy (tests, benchmarks)."""
    block, seq = _load_from_db(store, arrow=arrow)
    columns = _finish(store, block)
    columns.key, columns.seq, columns.built = _cache_key(store), seq, "rebuild"
    return columns


def distinct_labels(
    store: Any, column: str, region_codes: Iterable[str] = (), opd: str | None = None
) -> list[str]:
    """The distinct non-empty values of a label column (the filters' choices), sorted.

    With `region_codes` and/or `opd` (an OPD viewer's scope), only the values the complaints
    of those regions / of that OPD hold: a value only other OPDs' data holds is not offered.
    Read from the columnar copy rather than with SELECT DISTINCT: at a million complaints the
    four DISTINCT scans cost seconds on every first view, the copy answers in milliseconds.
    """
    columns = complaint_columns(store)
    labels = columns.labels[column]
    wanted_regions = tuple(region_codes)
    if wanted_regions or opd is not None:
        rows = np.ones(len(columns[column]), dtype=bool)
        if wanted_regions:
            region_ids = np.flatnonzero(np.isin(columns.labels["region_code"], wanted_regions))
            rows &= np.isin(columns["region_code"], region_ids)
        if opd is not None:
            opd_ids = np.flatnonzero(np.asarray(columns.labels["opd"], dtype=object) == opd)
            rows &= np.isin(columns["opd"], opd_ids)
        used = np.unique(columns[column][rows])
        values = [labels[i] for i in used if i >= 0]
    else:
        values = list(labels)
    return sorted(str(v) for v in values if str(v).strip())


def warm_cache(store: Any) -> int:
    """Build the columnar copy now (e.g. right after an import); returns the rows it holds."""
    return len(complaint_columns(store))
