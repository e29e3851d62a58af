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
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, case, func, select, type_coerce

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
FORMAT_VERSION = "3"
DISK_CACHE_MIN_ROWS = 50_000  # below this, loading from the database is quick enough
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


def _disk_path(store: Any, key: tuple) -> Path:
    url = store.settings.db_url
    if url.startswith("sqlite") and "///" in url:
        folder = Path(url.split("///", 1)[1]).resolve().parent / "cache"
    else:
        folder = PROJECT_ROOT / "data" / "cache"
    url_hash = hashlib.sha256(url.encode()).hexdigest()[:12]
    key_hash = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    return folder / f"kpi-{url_hash}-{key_hash}"


def _query(store: Any) -> tuple[str, list[str]]:
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
    columns = [func.coalesce(type_coerce(C[n], BigInteger), NEVER).label(n) for n in INSTANTS]
    columns += [flags.label("flags"), unknown.label("unknown")] + [C[n] for n in LABELS]
    stmt = select(*columns).order_by(C.id)
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    return sql, [*INSTANTS, "flags", "unknown", *LABELS]


def _load_from_db(store: Any) -> ComplaintColumns:
    sql, names = _query(store)
    n_numeric = len(INSTANTS) + 2
    numeric_parts: list[np.ndarray] = []
    label_codes: dict[str, list[np.ndarray]] = {n: [] for n in LABELS}
    label_index: dict[str, dict[str, int]] = {n: {} for n in LABELS}
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
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
        cursor.close()
    finally:
        raw.close()
    numeric = (
        np.concatenate(numeric_parts) if numeric_parts else np.zeros((0, n_numeric), np.int64)
    )
    values: dict[str, np.ndarray] = {
        name: np.ascontiguousarray(numeric[:, i]) for i, name in enumerate(names[:n_numeric])
    }
    values["flags"] = values["flags"].astype(np.int32)
    values["unknown"] = values["unknown"].astype(np.int8)
    for name in LABELS:
        parts = label_codes[name]
        values[name] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    # The local submission date, as the store derives submitted_date (KPI.md "Time").
    submitted = pd.Series(pd.to_datetime(values["submitted_at"], unit="us", utc=True))
    days = calendar_for(store.settings.kpi).local_dates(submitted).to_numpy()
    values["submitted_date"] = days.astype("datetime64[D]").astype(np.int32)
    labels = {
        name: np.array(list(label_index[name]), dtype=object) for name in LABELS
    }
    return ComplaintColumns(values=values, labels=labels)


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
    values = {
        file.stem: np.load(file, mmap_mode="r", allow_pickle=False)
        for file in path.glob("*.npy")
    }
    missing = {*INSTANTS, *LABELS, "flags", "unknown", "submitted_date"} - set(values)
    if missing:
        raise ValueError(f"cache folder lacks {sorted(missing)}")
    return ComplaintColumns(values=values, labels=labels)


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
        except (OSError, ValueError, KeyError):
            columns = None  # a damaged cache is rebuilt, never trusted
    if columns is None:
        columns = _load_from_db(store)
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
