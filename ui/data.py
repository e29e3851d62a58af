"""The pages' one door to figures: the store, settings, and cached wrappers around metrics/.

Figures are cached per (database, settings, data version, filters) with the settings' TTL.
`Filters` carries the viewer's scope, so an OPD viewer's figures never share a cache entry
with anyone else's. The store is opened once per process (st.cache_resource).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import func, select

from core.settings import Settings, default_db_url, load_settings
from data_sources import schema
from data_sources.store import Store
from metrics import backlog as metrics_backlog
from metrics import complaints as metrics_complaints
from metrics import kpi as metrics_kpi
from metrics import trends as metrics_trends
from metrics.filters import Filters

_BOOT_SETTINGS = load_settings()
CACHE_TTL = _BOOT_SETTINGS.cache_ttl_seconds
MAX_ENTRIES = 512
DEMO_COMPLAINTS = 20_000
DEMO_SEED = 42
_demo_lock = threading.Lock()


# --- store and settings -------------------------------------------------------------------
def _database_error_types() -> tuple[type[BaseException], ...]:
    import sqlite3

    from sqlalchemy import exc as sa_exc

    types: list[type[BaseException]] = [
        sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
        sqlite3.OperationalError, sqlite3.InterfaceError,
    ]
    try:  # raw driver errors reach us from metrics.columnar's raw cursor
        import psycopg

        types += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:
        pass
    return tuple(types)


DATABASE_ERRORS = _database_error_types()


def is_database_error(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) means the database could not be reached or answer."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def settings() -> Settings:
    """The settings of this run (secrets.toml < environment), read fresh so edits apply."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _open_store(db_url: str, settings_key: str, _settings: Settings) -> Store:
    return Store.open(db_url, _settings)


def store() -> Store:
    """The store of the configured database, opened (and migrated) once per process."""
    current = settings()
    return _open_store(current.db_url, settings_key(current), current)


def settings_key(value: Settings) -> str:
    return hashlib.sha1(repr(value).encode()).hexdigest()[:16]


def is_unconfigured(current: Settings) -> bool:
    """Nothing configured: the embedded default SQLite file (a fresh clone)."""
    return current.db_url == default_db_url()


def fill_demo_if_fresh(target: Store, current: Settings, n: int = DEMO_COMPLAINTS) -> bool:
    """On a fresh clone (default database, no source ever loaded) fill the store with demo data.

    A configured database is never filled behind the user's back; it shows the empty state.
    """
    if not is_unconfigured(current):
        return False
    with _demo_lock:
        if target.execute(select(schema.sources.c.id).limit(1)).first() is not None:
            return False
        from data_sources.demo import load_demo

        load_demo(target, n=n, seed=DEMO_SEED)
        return True


def data_version(target: Store | None = None) -> str:
    return (target or store()).data_version()


def _key(filters: Filters) -> str:
    return repr(filters)


def _context() -> tuple[Store, Settings, str, str]:
    target = store()
    return target, target.settings, settings_key(target.settings), target.data_version()


# --- cached figures -----------------------------------------------------------------------
# One cache for every metrics call, keyed by the call's name, the database, the settings, the
# data version, the filters and the call's options; the store, settings and function object are
# not hashed (the leading underscore). Each public function below is one metrics call; the nine
# of them share the room each had in its own cache before (MAX_ENTRIES apiece).
@st.cache_data(ttl=CACHE_TTL, max_entries=MAX_ENTRIES * 9, show_spinner=False)
def _figure(name: str, db: str, skey: str, version: str, fkey: str, options: tuple,
            _compute: Callable[..., Any], _store: Store, _settings: Settings, _filters: Filters) -> Any:
    return _compute(_store, _filters, _settings, **dict(options))


def _cached(compute: Callable[..., Any], filters: Filters, **options: Any) -> Any:
    target, conf, skey, version = _context()
    name = f"{compute.__module__}.{compute.__qualname__}"
    return _figure(name, conf.db_url, skey, version, _key(filters), tuple(options.items()),
                   compute, target, conf, filters)


def opd_table(filters: Filters) -> pd.DataFrame:
    """metrics.kpi.opd_table: one row per OPD plus TOTAL (last)."""
    return _cached(metrics_kpi.opd_table, filters)


def region_table(filters: Filters) -> pd.DataFrame:
    """metrics.kpi.region_table: one row per region plus TOTAL (last)."""
    return _cached(metrics_kpi.region_table, filters)


def compare_periods(filters: Filters) -> pd.DataFrame:
    return _cached(metrics_kpi.compare_periods, filters)


def admin_figures(filters: Filters) -> dict[str, Any]:
    return _cached(metrics_kpi.admin_figures, filters)


def series(filters: Filters, freq: str = "month", by: str | None = None) -> pd.DataFrame:
    return _cached(metrics_trends.series, filters, freq=freq, by=by)


def breakdown(filters: Filters, by: str) -> pd.DataFrame:
    return _cached(metrics_trends.breakdown, filters, by=by)


def response_hours(filters: Filters, opd: str | None = None) -> pd.Series:
    return _cached(metrics_trends.response_hours, filters, opd=opd)


def overdue_complaints(filters: Filters, opd: str | None = None, limit: int | None = None) -> pd.DataFrame:
    return _cached(metrics_complaints.overdue_complaints, filters, opd=opd, limit=limit)


def open_complaints(filters: Filters, opd: str | None = None, limit: int | None = None) -> pd.DataFrame:
    return _cached(metrics_complaints.open_complaints, filters, opd=opd, limit=limit)


def backlog_counts(filters: Filters) -> pd.DataFrame:
    """metrics.backlog.backlog_counts: what is open and late now, per OPD plus TOTAL (no period)."""
    return _cached(metrics_backlog.backlog_counts, filters)


def backlog_complaints(filters: Filters, **options: Any) -> pd.DataFrame:
    """metrics.backlog.backlog_complaints: the overdue (kind="overdue") or due-soon complaints."""
    return _cached(metrics_backlog.backlog_complaints, filters, **options)


# --- filter options and analyst views (not figures: small, uncached or version-keyed) ------
@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner=False)
def _options(_store: Store, db: str, version: str, scope_regions: tuple[str, ...] = ()) -> dict[str, list[str]]:
    from metrics.columnar import distinct_labels

    # A region-limited viewer is offered only the values of its own regions.
    result: dict[str, list[str]] = {
        name: distinct_labels(_store, column, scope_regions)
        for name, column in (("opds", "opd"), ("categories", "category"), ("kecamatan", "kecamatan"),
                             ("channels", "channel"))
    }
    regions = _store.regions()
    regions = regions[regions["complaints"] > 0]
    if scope_regions:
        regions = regions[regions["code"].isin(scope_regions)]
    result["region_codes"] = [str(v) for v in regions["code"]]
    result["region_names"] = [str(v) for v in regions["name"]]
    return result


def filter_options(scope_regions: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The values each slicer offers (OPD, category, kecamatan, channel) present in the store,
    plus `region_codes` and the matching `region_names` of the regions holding complaints;
    with `scope_regions`, only what those regions hold."""
    target = store()
    return _options(target, target.settings.db_url, target.data_version(), tuple(scope_regions))


def region_count(scope_regions: tuple[str, ...] = ()) -> int:
    """How many regions holding complaints this viewer may see (the region comparison needs 2)."""
    return len(filter_options(scope_regions)["region_codes"])


def has_complaints() -> bool:
    return store().has_complaints()


def sources_overview() -> pd.DataFrame:
    """Each source with its kind, last success and its newest run's outcome (the Data page)."""
    target = store()
    s, r = schema.sources, schema.runs
    newest = select(r.c.source_id, func.max(r.c.id).label("run_id")).group_by(r.c.source_id).subquery()
    stmt = (
        select(
            s.c.name, s.c.kind, s.c.is_demo, s.c.last_success_at, r.c.kind.label("run_kind"),
            r.c.status, r.c.finished_at, r.c.rows_read, r.c.rows_stored, r.c.rows_quarantined, r.c.error,
        )
        .select_from(s.outerjoin(newest, newest.c.source_id == s.c.id).outerjoin(r, r.c.id == newest.c.run_id))
        .order_by(s.c.name)
    )
    return target.frame(stmt)


def quarantine_overview(limit: int = 500) -> pd.DataFrame:
    """Quarantined rows (source, line, reason), newest first; the raw row (it may name a reporter) stays out."""
    from data_sources.importer import list_quarantine

    return list_quarantine(store(), limit=limit)


def quarantine_count() -> int:
    from data_sources.importer import quarantine_count as count

    return count(store())


def import_upload(fileobj: Any, filename: str, fmt: str, source: str | None) -> Any:
    """Run the same importer as `python -m data_sources import` on an uploaded file."""
    from data_sources.importer import import_file

    return import_file(store(), fileobj, fmt=fmt, source=source or None, filename=filename)


def alias_table() -> pd.DataFrame:
    target = store()
    a, o = schema.opd_aliases, schema.opds
    stmt = select(a.c.alias, o.c.name.label("opd")).select_from(a.join(o, o.c.id == a.c.opd_id)).order_by(o.c.name, a.c.alias)
    return target.frame(stmt)


def reference_opds() -> list[str]:
    return [r[0] for r in store().execute(select(schema.opds.c.name).order_by(schema.opds.c.name)).rows]


def unmapped_opds() -> pd.DataFrame:
    return store().unmapped_opds()
