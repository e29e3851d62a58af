"""Incremental sync of the configured API sources (LAPOR! integration API, Open311) into the store.

`python -m data_sources sync [SOURCE ...]` calls `run_sync_cli`; code calls `sync_source`. One
sync of one source is one run (`runs.kind = "sync"`): pages are fetched from the source's
watermark on, each page is mapped to canonical columns, validated by
`data_sources.canonical.validate_records`, and written as one atomic batch (valid records
upserted, the rest quarantined with their record number and reason), so rows read = rows
stored + rows quarantined on every page. The watermark moves only after a run that finished
without error; a run that fails or is killed half-way leaves it where it was, and the next run
fetches the same span again (the upsert makes that harmless).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import pandas as pd

from data_sources.canonical import validate_records
from data_sources.demo import DemoRemoval, demo_removed_message, is_demo_source_name
from data_sources.importer import quarantine_once
from data_sources.store import Store, utc_now
from data_sources.sync.http import Page, SyncError
from data_sources.sync.lapor_api import KIND as LAPOR_KIND
from data_sources.sync.lapor_api import LaporApiConnector, iso_utc
from data_sources.sync.open311 import KIND as OPEN311_KIND
from data_sources.sync.open311 import Open311Connector

logger = logging.getLogger(__name__)

SYNC_KINDS = (LAPOR_KIND, OPEN311_KIND)
# The stored watermark sits this far before the run's start: a record written on the server
# while our clock was slightly ahead is fetched again next time rather than missed.
DEFAULT_OVERLAP_SECONDS = 300


class Connector(Protocol):
    kind: str

    def describe(self) -> str: ...
    def close(self) -> None: ...
    def pages(self, since: datetime | None, until: datetime, **kwargs: Any) -> Any: ...
    def tracking_key(self, record: Any) -> str | None: ...
    def to_raw_frame(self, records: list[Any]) -> tuple[pd.DataFrame, list[str | None]]: ...


@dataclass
class SyncReport:
    """What one sync of one source did: the line the CLI prints and the run row holds."""

    source: str
    kind: str
    run_id: int | None = None
    pages: int = 0
    read: int = 0  # records handed to validation (= stored + quarantined)
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0  # identical records seen again on a later page, skipped
    watermark: str | None = None  # the watermark after the run
    warnings: list[str] = field(default_factory=list)
    # What the run asked, got and concluded (Open311: the probe, the calls, "N dari N").
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    demo_removed: int = 0  # demo complaints removed by this first real sync (DATA.md)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        line = (
            f"{self.source} ({self.kind}): {self.pages} halaman/pages, {self.read} dibaca/read, "
            f"{self.stored} disimpan/stored, {self.quarantined} dikarantina/quarantined"
        )
        if self.duplicates:
            line += f", {self.duplicates} duplikat dilewati/duplicates skipped"
        if self.demo_removed:
            line += f"\n  {demo_removed_message(self.demo_removed)}"
        for item in self.notes:
            line += f"\n  {item}"
        for warning in self.warnings:
            line += f"\n  peringatan/warning: {warning}"
        if self.error:
            line += f"\n  GAGAL/FAILED: {self.error}"
        return line

    def detail(self) -> str:
        parts = [f"pages={self.pages}", f"duplicates={self.duplicates}"]
        if self.watermark:
            parts.append(f"watermark={self.watermark}")
        parts += self.notes
        parts += [f"warning: {w}" for w in self.warnings]
        return "; ".join(parts)


def make_connector(name: str, config: dict[str, Any]) -> Connector:
    kind = str(config.get("kind", ""))
    if kind == LAPOR_KIND:
        return LaporApiConnector(name, config)
    if kind == OPEN311_KIND:
        return Open311Connector(name, config)
    raise SyncError(
        f"sumber {name!r}: kind {kind!r} tidak bisa disinkronkan / cannot be synced "
        f"(expected one of: {', '.join(SYNC_KINDS)})"
    )


def _parse_watermark(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("stored watermark %r is not an ISO instant; syncing from the start", value)
        return None


def _digest(record: Any) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


class _Run:
    """The per-run state of one sync: records seen, counts, and the store writes per page."""

    def __init__(
        self,
        store: Store,
        source_id: int,
        run_id: int,
        connector: Connector,
        timezone: str,
        report: SyncReport,
    ) -> None:
        self.store = store
        self.source_id = source_id
        self.run_id = run_id
        self.connector = connector
        self.timezone = timezone
        self.report = report
        self.seen: dict[str, str] = {}  # tracking key -> digest of the record last processed
        self.demo_removal = DemoRemoval(store)  # the first real write takes the demo data out

    def take(self, page: Page) -> None:
        report = self.report
        report.pages += 1
        if page.repaired:
            report.warnings.append(
                f"{page.label}: JSON diperbaiki (angka berawalan nol) / leading-zero numbers repaired"
            )
        fresh = []
        for record in page.records:
            key = self.connector.tracking_key(record)
            digest = _digest(record)
            if key is not None and self.seen.get(key) == digest:
                report.duplicates += 1
                continue
            if key is not None:
                self.seen[key] = digest
            fresh.append(record)
        if not fresh:
            return
        raw, reasons = self.connector.to_raw_frame(fresh)
        first = report.read + 1
        valid, bad = validate_records(
            raw,
            timezone=self.timezone,
            record_numbers=range(first, first + len(fresh)),
            extra_reasons=reasons,
        )
        if not valid.empty:
            self.store.write_complaints(
                self.source_id, valid, run_id=self.run_id, observed_at=utc_now(),
                in_transaction=self.demo_removal.hook(),
            )
            self.demo_removal.committed()
            report.demo_removed = self.demo_removal.removed
        # Set aside once: a failed run is fetched again by the next one, and syncing the same
        # data again must change nothing (the importer's rule).
        quarantine_once(self.store, self.source_id, self.run_id, bad)
        report.read += len(fresh)
        report.stored += len(valid)
        report.quarantined += len(bad)


def sync_source(
    store: Store, name: str, config: dict[str, Any], *, now: datetime | None = None
) -> SyncReport:
    """Sync one configured source incrementally; never raises for source trouble.

    Returns the report; `report.error` says why a run failed (the run row is marked failed and
    the watermark is left untouched). KeyboardInterrupt marks the run failed and propagates.
    """
    kind = str(config.get("kind", ""))
    report = SyncReport(source=name, kind=kind)
    if is_demo_source_name(store, name):
        report.error = (
            f"nama sumber {name!r} dipakai untuk data contoh; beri sumber API nama lain di "
            "[sources] / the demo source name cannot hold real data"
        )
        return report
    try:
        connector = make_connector(name, config)
    except (SyncError, TypeError, ValueError) as exc:
        report.error = (
            str(exc) if isinstance(exc, SyncError) else f"konfigurasi/config [sources.{name}]: {exc}"
        )
        return report
    existing = store.source_row(name)
    if existing is not None and existing["kind"] != kind:
        connector.close()
        report.error = (
            f"nama sumber {name!r} sudah dipakai sumber jenis {existing['kind']!r} / source name "
            f"already used by a {existing['kind']!r} source"
        )
        return report
    source_id = store.ensure_source(name, kind)
    stored_mark = store.source_row(name)["watermark"]
    since = _parse_watermark(stored_mark)
    until = now or utc_now()
    run_id = store.start_run(source_id, "sync", detail=connector.describe())
    report.run_id = run_id
    run = _Run(
        store,
        source_id,
        run_id,
        connector,
        str(config.get("timezone") or store.settings.kpi.timezone),
        report,
    )
    status = "failed"
    try:
        for page in connector.pages(
            since,
            until,
            warn=report.warnings.append,
            store=store,
            source_id=source_id,
            note=report.notes.append,
        ):
            run.take(page)
        overlap = timedelta(seconds=float(config.get("overlap_seconds", DEFAULT_OVERLAP_SECONDS)))
        mark = until - overlap
        if since is not None and since > mark:
            mark = since  # never move the watermark backwards
        report.watermark = iso_utc(mark)
        store.set_watermark(source_id, report.watermark)
        status = "ok"
    except SyncError as exc:
        report.error = str(exc)
    except KeyboardInterrupt:
        report.error = "dibatalkan/interrupted"
        raise
    except Exception as exc:  # noqa: BLE001 - the run must be recorded as failed, not left running
        # The message reaches the operator; the traceback only the debug log (no traceback
        # may reach a user).
        logger.debug("sync of %s failed", name, exc_info=True)
        report.error = f"{exc.__class__.__name__}: {exc}"
    finally:
        connector.close()
        if status != "ok":
            report.watermark = stored_mark
        _finish_run_patiently(
            store,
            run_id,
            report,
            status=status,
            rows_read=report.read,
            rows_stored=report.stored,
            rows_quarantined=report.quarantined,
            error=report.error,
            detail=report.detail(),
        )
    return report


FINISH_RUN_WAITS = (0.5, 1, 2, 4, 8, 15)  # seconds; about half a minute in all


def _finish_run_patiently(store: Store, run_id: int, report: SyncReport, **outcome: Any) -> None:
    """Record the run's outcome, waiting out a database that is restarting.

    The failure that ended a run is often the database itself going away (PostgreSQL
    restarted): recording "failed" right after it would hit the same outage and leave the run
    "running" with a traceback. The watermark only ever moves on success, so a run whose
    outcome cannot be recorded at all is still redone completely by the next run.
    """
    from sqlalchemy.exc import DBAPIError

    for wait in (*FINISH_RUN_WAITS, None):
        try:
            store.finish_run(run_id, **outcome)
            return
        except DBAPIError as exc:
            if wait is None:
                logger.warning("run %s: outcome not recorded: %s", run_id, exc)
                report.error = (report.error or "") + (
                    " (status run tidak dapat dicatat: basis data tidak menjawab / run status not recorded)"
                )
                return
            time.sleep(wait)


NO_SOURCES = (
    "Tidak ada sumber API yang dikonfigurasi. Tambahkan tabel [sources.NAMA] dengan "
    'kind = "lapor-api" atau kind = "open311" di .streamlit/secrets.toml '
    "(lihat .streamlit/secrets.example.toml).\n"
    'No API source is configured: add a [sources.NAME] table with kind = "lapor-api" or '
    'kind = "open311" to .streamlit/secrets.toml.'
)


def run_sync_cli(args: argparse.Namespace) -> int:
    """`python -m data_sources sync [SOURCE ...] [--db URL]`: exit 0 only when every source synced."""
    from access import audit
    from core.settings import load_settings

    try:
        settings = load_settings(db_url=getattr(args, "db", None))
    except Exception as exc:  # noqa: BLE001 - a broken secrets.toml is a message, not a traceback
        print(f"Pengaturan tidak dapat dibaca / cannot read settings: {exc}", file=sys.stderr)
        return 2
    configured = {name: settings.source_config(name) for name in settings.source_names()}
    syncable = [n for n, cfg in configured.items() if isinstance(cfg, dict) and cfg.get("kind") in SYNC_KINDS]
    if getattr(args, "probe", None):
        from data_sources.sync.open311_probe import run_probe_cli

        return run_probe_cli(args.probe, configured)
    wanted = list(dict.fromkeys(getattr(args, "sources", None) or []))
    if not wanted and not syncable:
        print(NO_SOURCES, file=sys.stderr)
        return 1
    unknown = [n for n in wanted if n not in syncable]
    if unknown:
        for n in unknown:
            if n in configured:
                print(
                    f"Sumber {n!r} bukan sumber API (kind = {configured[n].get('kind')!r}) / "
                    f"source {n!r} is not an API source.",
                    file=sys.stderr,
                )
            else:
                print(f"Sumber tidak dikenal / unknown source: {n!r}", file=sys.stderr)
        print(
            "Sumber API yang dikonfigurasi / configured API sources: "
            + (", ".join(syncable) or "(tidak ada/none)"),
            file=sys.stderr,
        )
        return 2
    try:
        store = Store.open(settings.db_url, settings)
    except Exception as exc:  # noqa: BLE001
        print(f"Basis data tidak dapat dibuka / cannot open the database: {exc}", file=sys.stderr)
        return 2
    failed = 0
    try:
        for name in wanted or syncable:
            report = sync_source(store, name, configured[name])
            print(report.summary())
            failed += not report.ok
            audit.record(store, "cli", "sync", report.summary(), ok=report.ok)
    finally:
        store.dispose()
    return 1 if failed else 0


__all__ = ["SYNC_KINDS", "SyncReport", "make_connector", "run_sync_cli", "sync_source"]
