"""Import a CSV or XLSX file into the store: canonical, LAPOR! admin export, or mapped.

One import is one run. The file is read in chunks; each chunk is translated into canonical rows,
validated (`canonical.validate_records`), written as one atomic batch, and its bad rows go to
the quarantine with their line numbers and reasons, so rows read = rows stored + rows
quarantined, always. Importing the same file again changes nothing: complaints are upserted
and a quarantined row already set aside with the same reason is not added twice.
"""

# ruff: noqa: E402 - Alembic must be quietened before the store (and so Alembic) is imported.
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError

# Alembic announces its plugins at import and migrations at open; that chatter is for
# developers, the operator of the command line sees the import summary only.
logging.getLogger("alembic").setLevel(logging.WARNING)

from data_sources import schema
from data_sources.ahead import can_run_ahead, run_ahead
from data_sources.canonical import AGAIN_FILE, CANONICAL_COLUMNS, REDACTED, validate_records
from data_sources.demo import DemoRemoval, demo_source_refused_message, is_demo_source_name
from data_sources.lapor_export import (
    check_header,
    snapshot_from_filename,
    snapshot_from_preamble,
)
from data_sources.lapor_export import translate as lapor_translate
from data_sources.mapping import Mapping, MappingError, load_mapping, missing_headers, unused_headers
from data_sources.mapping import translate as mapping_translate
from data_sources.readers import CHUNK_ROWS, RawChunk, Table, UnreadableFile, open_table
from data_sources.schema import from_micros
from data_sources.store import QuarantinedRow, Store, is_lock_timeout, utc_now

FORMATS = ("canonical", "lapor-export", "auto")
DEFAULT_SOURCE = {"canonical": "canonical", "lapor-export": "lapor-export"}

__all__ = [
    "ImportFailed", "ImportReport", "MappingError", "SourceRefused", "UnreadableFile", "import_file",
    "list_quarantine", "quarantine_once", "run_import_cli", "run_quarantine_cli",
]


class ImportFailed(Exception):
    """The import stopped before the whole file was stored (a database error, say)."""


class SourceRefused(ValueError):
    """The source name chosen for a real import is the demo source's (DATA.md): nothing is read."""


@dataclass
class ImportReport:
    source: str
    run_id: int | None
    rows_read: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    snapshot_at: datetime | None = None
    snapshot_origin: str | None = None  # "Tanggal Generate", "nama berkas", "waktu impor"
    messages: list[str] = field(default_factory=list)
    format: str = ""  # canonical, lapor-export, mapped
    filename: str = ""
    history_added: int = 0
    quarantine_added: int = 0  # new quarantine entries (the rest were set aside before)
    demo_removed: int = 0  # demo complaints removed by this first real import (DATA.md)

    @property
    def accounted(self) -> bool:
        return self.rows_read == self.rows_stored + self.rows_quarantined


# --- the import ----------------------------------------------------------------------------
def import_file(
    store: Store,
    path: str | Path | IO[bytes],
    *,
    fmt: str = "auto",
    source: str | None = None,
    mapping: str | Path | Mapping | None = None,
    filename: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    background: bool | None = None,
) -> ImportReport:
    """Import one file (a path, or a binary file-like object plus `filename`).

    Raises `UnreadableFile` or `MappingError` (messages for people) when nothing could be read;
    the run is then recorded as failed. Bad rows never raise: they are quarantined.
    `background` reads and validates in a reader process while this one writes
    (`data_sources.ahead`); by default only for a large file on disk imported by a
    single-threaded program such as the command line, never inside the app's server.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if source is not None and is_demo_source_name(store, source):
        raise SourceRefused(demo_source_refused_message(source))
    try:
        return _import_file(store, path, fmt=fmt, source=source, mapping=mapping, filename=filename,
                            chunk_rows=chunk_rows, background=background)
    except SQLAlchemyError as exc:  # outside a batch (the source, the run): a message, not a traceback
        raise ImportFailed(f"Impor tidak dapat dimulai: {database_problem(exc, store)}") from exc


def database_problem(exc: BaseException, store: Store) -> str:
    """A database error told for people: a lock wait that timed out says who to wait for."""
    if is_lock_timeout(exc):
        seconds = store.settings.db_lock_timeout_seconds
        return (
            f"Basis data sedang dikunci oleh proses lain (impor atau sinkronisasi lain yang belum "
            f"selesai) lebih dari {seconds:g} detik. Tidak ada yang setengah tersimpan: tunggu "
            "proses itu selesai, lalu impor ulang berkas ini."
        )
    return f"{exc.__class__.__name__}: {exc}"


def _import_file(
    store: Store,
    path: str | Path | IO[bytes],
    *,
    fmt: str,
    source: str | None,
    mapping: str | Path | Mapping | None,
    filename: str | None,
    chunk_rows: int,
    background: bool | None,
) -> ImportReport:
    name = filename or (str(path) if isinstance(path, str | Path) else getattr(path, "name", "") or "upload")
    timezone = store.settings.kpi.timezone
    started = utc_now()

    def fail(exc: Exception, source_name: str, kind: str) -> None:
        source_id = store.ensure_source(source_name, kind)
        run_id = store.start_run(source_id, "import", detail=_db_text(_short_name(name)))
        store.finish_run(run_id, status="failed", rows_read=0, rows_stored=0, rows_quarantined=0,
                         error=_db_text(str(exc)))

    try:
        the_mapping = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
    except MappingError as exc:
        fail(exc, source or "mapped", "mapped")
        raise
    try:
        # An upload through the app is held to max_upload_mb; a file an analyst imports on the
        # server (a path) to the much larger max_import_mb, so a million-row export still fits.
        limit_mb = store.settings.max_import_mb if isinstance(path, str | Path) else store.settings.max_upload_mb
        table = open_table(path, name, chunk_rows=chunk_rows, max_bytes=int(limit_mb * 1024 * 1024))
        layout = _layout(table, fmt, the_mapping)
    except UnreadableFile as exc:
        default = the_mapping.default_source if the_mapping else DEFAULT_SOURCE.get(fmt, "import")
        fail(exc, source or default, "mapped" if the_mapping else (fmt if fmt != "auto" else "file"))
        raise

    report = ImportReport(source=source or layout.default_source, run_id=None, format=layout.kind,
                          filename=_short_name(name))
    report.messages.extend(table.messages)
    report.messages.extend(layout.messages)
    if the_mapping and the_mapping.timezone:
        timezone = the_mapping.timezone
    if is_demo_source_name(store, report.source):  # a mapping's default source, say
        raise SourceRefused(demo_source_refused_message(report.source))
    source_id = store.ensure_source(report.source, layout.kind)
    demo_removal = DemoRemoval(store)

    observed_at = started
    newer_stored = False
    if layout.kind == "lapor-export":
        snap = (
            snapshot_from_preamble(table.preamble, timezone)
            or snapshot_from_filename(name, timezone, started)
        )
        if snap is None:
            report.snapshot_at, report.snapshot_origin = started, "waktu impor"
            report.messages.append(
                "Tanggal generate tidak ditemukan di berkas maupun nama berkas: snapshot dicatat "
                "pada waktu impor; perkiraan waktu tahap memakai waktu ini."
            )
        else:
            report.snapshot_at, report.snapshot_origin = snap.at, snap.origin
        observed_at = report.snapshot_at
        latest = _latest_snapshot(store, source_id)
        newer_stored = latest is not None and latest > observed_at
        if newer_stored:
            report.messages.append(
                f"Sudah ada snapshot lebih baru ({_local(latest, timezone)}): snapshot ini masuk ke "
                "riwayat status sesuai waktunya dan perkiraan waktu tahap dihitung ulang; data "
                "pengaduan yang sudah ada tidak ditimpa."
            )

    run_id = store.start_run(
        source_id, "import", detail=_run_detail(report, timezone), snapshot_at=report.snapshot_at
    )
    report.run_id = run_id
    older = 0
    if background is None:
        background = isinstance(path, str | Path) and can_run_ahead(path)
    chunks = _prepared_chunks(
        table, layout, timezone=timezone, background=background,
        date_format=the_mapping.date_format if the_mapping else None,
    )
    try:
        # closing(): a failed write stops the reader process at once, not when the frame is freed.
        with closing(chunks):
            for prepared in chunks:
                older += _store_chunk(
                    store, source_id, run_id, prepared, report, observed_at=observed_at,
                    estimate=layout.kind == "lapor-export",
                    demo_removal=demo_removal,
                )
    except UnreadableFile as exc:
        # Part of the file was read and stored; say where it stopped.
        report.messages.append(f"Pembacaan berhenti: {exc}")
        store.finish_run(run_id, status="failed" if report.rows_read == 0 else "ok",
                         rows_read=report.rows_read, rows_stored=report.rows_stored,
                         rows_quarantined=report.rows_quarantined, error=_db_text(str(exc)),
                         detail=_run_detail(report, timezone))
        if report.rows_read == 0:
            raise
        return report
    except Exception as exc:
        store.finish_run(run_id, status="failed", rows_read=report.rows_read,
                         rows_stored=report.rows_stored, rows_quarantined=report.rows_quarantined,
                         error=_db_text(f"{exc.__class__.__name__}: {exc}"))
        raise ImportFailed(
            f"Impor berhenti setelah {report.rows_read} baris "
            f"({report.rows_stored} tersimpan): {database_problem(exc, store)}"
        ) from exc
    if demo_removal.message:
        report.demo_removed = demo_removal.removed
        report.messages.insert(0, demo_removal.message)
    if older:
        report.messages.append(
            f"{older} baris sudah tersimpan dari snapshot yang lebih baru: hanya riwayat status dan "
            "perkiraan waktu tahapnya yang diperbarui."
        )
    already = report.rows_quarantined - report.quarantine_added
    if already:
        report.messages.append(f"{already} baris karantina sudah tercatat dari impor sebelumnya.")
    store.finish_run(run_id, status="ok", rows_read=report.rows_read,
                     rows_stored=report.rows_stored, rows_quarantined=report.rows_quarantined,
                     detail=_run_detail(report, timezone))
    return report


@dataclass
class _Layout:
    kind: str  # canonical, lapor-export, mapped
    default_source: str
    messages: list[str]
    private_headers: tuple[str, ...]  # source headers holding the reporter's identity
    lapor: Any = None
    mapping: Mapping | None = None
    canonical_names: dict[str, str] | None = None  # source header -> canonical column
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> the file's header


def _db_text(text: str) -> str:
    """Text fit for a database column: PostgreSQL text holds no NUL."""
    return text.replace("\x00", "\\x00")


def _headers(names: list[str], limit: int = 30) -> str:
    """Header names for a message: control characters escaped, long lists and names cut."""
    shown = [_printable(n if len(n) <= 60 else n[:59] + "…") for n in names[:limit]]
    more = f" (+{len(names) - limit} lagi)" if len(names) > limit else ""
    return ", ".join(shown) + more


# Words that mark a column as the reporter's identity or contact, whatever the spelling:
# "Nama Pelapor", "reporter name", "Reporter_Name", "Email Pelapor", "No. HP Pelapor".
_REPORTER_WORDS = frozenset({"pelapor", "reporter"})


def is_reporter_header(name: str) -> bool:
    """Whether a column header names the reporter (case, spaces, underscores and dots folded)."""
    words = re.sub(r"[^a-z0-9]+", " ", str(name).lower()).split()
    return any(w in _REPORTER_WORDS for w in words)


def _private(header: list[str], declared: tuple[str, ...]) -> tuple[str, ...]:
    """Every header to hide in the quarantine: those the layout maps to reporter_name, and any
    other that names the reporter (a second reporter column is hidden too)."""
    return tuple(dict.fromkeys([*declared, *(h for h in header if is_reporter_header(h))]))


def _layout(table: Table, fmt: str, mapping: Mapping | None) -> _Layout:
    layout = _layout_of(table, fmt, mapping)
    layout.private_headers = _private(table.header, layout.private_headers)
    return layout


def _layout_of(table: Table, fmt: str, mapping: Mapping | None) -> _Layout:
    header = table.header
    if mapping is not None:
        missing = missing_headers(mapping, header)
        if missing:
            raise UnreadableFile(
                "Kolom yang disebut pemetaan tidak ada di berkas: " + ", ".join(missing)
                + ". Judul kolom berkas: " + _headers(header)
            )
        messages = []
        unused = unused_headers(mapping, header)
        if unused:
            messages.append("Kolom tanpa pemetaan diabaikan: " + _headers(unused))
        private = tuple(h for c, h in mapping.columns.items() if c == "reporter_name")
        return _Layout("mapped", mapping.default_source, messages, private, mapping=mapping,
                       headers=dict(mapping.columns))
    if fmt == "lapor-export" or (fmt == "auto" and table.is_lapor_export):
        check = check_header(header)
        if check.missing:
            raise UnreadableFile(
                "Bukan ekspor LAPOR!: kolom wajib tidak ada: " + ", ".join(check.missing)
            )
        messages = []
        if check.unknown:
            messages.append("Kolom tidak dikenal diabaikan: " + _headers(check.unknown))
        private = tuple(h for h, target in check.columns.items() if target == "reporter_name")
        helpers = {"_date": "submitted_at", "_status": "status"}
        headers = {helpers.get(target, target): h for h, target in check.columns.items()}
        return _Layout("lapor-export", "lapor-export", messages, private, lapor=check, headers=headers)
    names: dict[str, str] = {}
    unknown: list[str] = []
    for h in header:
        key = h.strip().lower()
        if key in CANONICAL_COLUMNS and key not in names.values():
            names[h] = key
        elif not h.startswith("kolom_"):
            unknown.append(h)
    if "tracking_id" not in names.values():
        hint = "" if fmt == "canonical" else " Pakai --format lapor-export, atau --mapping FILE.toml untuk tata letak lain."
        raise UnreadableFile(
            "Judul kolom tidak dikenali (kolom tracking_id tidak ada). Judul kolom berkas: "
            + _headers(header) + "." + hint
        )
    messages = []
    if unknown:
        messages.append("Kolom tidak dikenal diabaikan: " + _headers(unknown))
    absent = [c for c in ("submitted_at", "status") if c not in names.values()]
    if absent:
        messages.append("Kolom wajib tidak ada (baris akan dikarantina): " + ", ".join(absent))
    private = tuple(h for h, c in names.items() if c == "reporter_name")
    return _Layout("canonical", "canonical", messages, private, canonical_names=names,
                   headers={c: h for h, c in names.items()})


@dataclass
class _Prepared:
    """One chunk read, translated and validated: what the store writes, what it quarantines."""

    valid: pd.DataFrame
    quarantined: list[QuarantinedRow]
    rows: int  # rows read (valid + quarantined)
    notes: list[str] = field(default_factory=list)  # what the reader noticed (for the report)


def _prepare_chunk(
    chunk: RawChunk, layout: _Layout, *, timezone: str, date_format: str | None
) -> _Prepared:
    """Translate and validate one chunk. Pure (no store), so it can run in a reader process."""
    frame = chunk.frame
    if layout.kind == "lapor-export":
        canon, extra = lapor_translate(frame, layout.lapor)
    elif layout.kind == "mapped":
        canon, extra = mapping_translate(frame, layout.mapping)
    else:
        names = layout.canonical_names or {}
        canon = frame[list(names)].rename(columns=names).reset_index(drop=True)
        extra = None
    valid, quarantined = validate_records(
        canon, timezone=timezone, record_numbers=chunk.record_numbers,
        date_format=date_format, extra_reasons=extra, headers=layout.headers, again=AGAIN_FILE,
    )
    # The quarantine shows the row as the file had it, with the reporter's identity hidden.
    position = {number: pos for pos, number in enumerate(chunk.record_numbers)}
    for row in quarantined:
        pos = position.get(row.record_no)
        if pos is not None:
            row.raw = _original_row(frame, pos, layout.private_headers)
    quarantined = [
        QuarantinedRow(b.record_no, b.reason, _redact(b.raw, layout.private_headers)) for b in chunk.bad_rows
    ] + quarantined
    return _Prepared(valid, quarantined, chunk.rows, list(chunk.notes))


def _store_chunk(
    store: Store, source_id: int, run_id: int, prepared: _Prepared, report: ImportReport, *,
    observed_at: datetime, estimate: bool,
    demo_removal: DemoRemoval | None = None,
) -> int:
    """Write one prepared chunk; returns how many of its rows were older than the stored
    snapshot of their complaint (their observation went into the history only)."""
    valid = prepared.valid
    older = 0
    if not valid.empty:
        result = store.write_complaints(
            source_id, valid, run_id=run_id, observed_at=observed_at,
            estimate_stage_times=estimate,
            in_transaction=demo_removal.hook() if demo_removal else None,
        )
        if demo_removal:
            demo_removal.committed()
        report.history_added += result.history_added
        older = result.older_observations
    report.quarantine_added += quarantine_once(store, source_id, run_id, prepared.quarantined)
    report.rows_read += prepared.rows
    report.messages.extend(prepared.notes)
    # A later row of the same complaint in one file updates it: every valid row was applied.
    report.rows_stored += len(valid)
    report.rows_quarantined += len(prepared.quarantined)
    return older


def _prepared_chunks(
    table: Table, layout: _Layout, *, timezone: str, date_format: str | None, background: bool
) -> Generator[_Prepared, None, None]:
    """The table's chunks, prepared; with `background`, read and validated in a reader process
    while this one writes the previous chunk (benchmarks/bench_import.py: a million rows in
    about 56 s instead of 80 s on two cores)."""
    prepared = (
        _prepare_chunk(chunk, layout, timezone=timezone, date_format=date_format)
        for chunk in table.chunks
    )
    return run_ahead(prepared) if background else prepared


def _original_row(frame: pd.DataFrame, pos: int, private: tuple[str, ...]) -> dict[str, Any]:
    row = {str(c): frame.iat[pos, i] for i, c in enumerate(frame.columns)}
    return _redact(row, private)


def _redact(row: dict[str, Any], private: tuple[str, ...]) -> dict[str, Any]:
    clean = {}
    for key, value in row.items():
        if value is not None and not isinstance(value, str | int | float | bool | list):
            value = str(value)
        if isinstance(value, float) and value != value:
            value = None
        clean[key] = REDACTED if key in private and value is not None else value
    return clean


def _latest_snapshot(store: Store, source_id: int) -> datetime | None:
    value = store.execute(
        select(func.max(schema.runs.c.snapshot_at).label("snap")).where(
            and_(schema.runs.c.source_id == source_id, schema.runs.c.status == "ok")
        )
    ).scalar()
    if value is None or isinstance(value, datetime):
        return value
    return from_micros(value)


def _raw_key(tracking_id: str | None, reason: str, raw: str) -> tuple[str | None, str, str]:
    return (tracking_id, reason, raw)


def quarantine_once(
    store: Store, source_id: int, run_id: int | None, rows: list[QuarantinedRow]
) -> int:
    """Quarantine rows not already set aside for this source with the same reason and content,
    so importing or syncing the same data again adds nothing. Returns how many were added."""
    if not rows:
        return 0
    rows = [
        QuarantinedRow(r.record_no, _db_text(r.reason), r.raw,
                       None if r.tracking_id is None else _db_text(str(r.tracking_id)))
        for r in rows
    ]
    q = schema.quarantine
    encoded = [json.dumps(r.raw, ensure_ascii=False, default=str) for r in rows]
    ids = sorted({str(r.tracking_id)[:200] for r in rows if r.tracking_id is not None})
    seen: set[tuple[str | None, str, str]] = set()
    for start in range(0, len(ids), 5000):
        part = ids[start:start + 5000]
        for tid, reason, raw in store.execute(
            select(q.c.tracking_id, q.c.reason, q.c.raw).where(
                q.c.source_id == source_id, q.c.tracking_id.in_(part)
            )
        ).rows:
            seen.add(_raw_key(tid, reason, raw))
    if any(r.tracking_id is None for r in rows):
        for tid, reason, raw in store.execute(
            select(q.c.tracking_id, q.c.reason, q.c.raw).where(
                q.c.source_id == source_id, q.c.tracking_id.is_(None)
            )
        ).rows:
            seen.add(_raw_key(tid, reason, raw))
    fresh = []
    for row, raw in zip(rows, encoded, strict=True):
        key = _raw_key(None if row.tracking_id is None else str(row.tracking_id)[:200], row.reason, raw)
        if key in seen:
            continue
        seen.add(key)
        fresh.append(row)
    return store.quarantine_rows(source_id, run_id, fresh)


# --- reading the quarantine ----------------------------------------------------------------
def list_quarantine(store: Store, source: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Quarantined rows, newest first: source, run, record_no, tracking_id, reason, created_at."""
    q, s = schema.quarantine, schema.sources
    stmt = (
        select(
            s.c.name.label("source"), q.c.run_id, q.c.record_no, q.c.tracking_id, q.c.reason,
            q.c.created_at,
        )
        .join(s, s.c.id == q.c.source_id)
        .order_by(q.c.created_at.desc(), q.c.id.desc())
        .limit(limit)
    )
    if source:
        stmt = stmt.where(s.c.name == source)
    return store.frame(stmt)


def quarantine_count(store: Store, source: str | None = None) -> int:
    q, s = schema.quarantine, schema.sources
    stmt = select(func.count()).select_from(q.join(s, s.c.id == q.c.source_id))
    if source:
        stmt = stmt.where(s.c.name == source)
    return int(store.execute(stmt).scalar() or 0)


# --- command line --------------------------------------------------------------------------
def _printable(text: str) -> str:
    """Text from a file, safe for a terminal: control characters shown escaped."""
    return text if text.isprintable() else repr(text)[1:-1]


def _short_name(name: str) -> str:
    return Path(name).name if name else "upload"


def _local(at: datetime | None, timezone: str) -> str:
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") + f" ({timezone})"


def _run_detail(report: ImportReport, timezone: str) -> str:
    detail = _db_text(f"{report.filename} [{report.format}]")
    if report.snapshot_at is not None:
        detail += f"; snapshot {_local(report.snapshot_at, timezone)} dari {report.snapshot_origin}"
    return detail


def _open_store(db: str | None) -> Store:
    return Store.open(db) if db else Store.open()


def run_import_cli(args: argparse.Namespace) -> int:
    """`python -m data_sources import FILE`: 0 when the file was read, 1 when nothing could be."""
    try:
        store = _open_store(getattr(args, "db", None))
    except Exception as exc:  # noqa: BLE001 - any connection failure: a message, not a traceback
        print(f"Gagal membuka basis data: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2
    try:
        report = import_file(
            store, args.file, fmt=getattr(args, "format", "auto") or "auto",
            source=getattr(args, "source", None), mapping=getattr(args, "mapping", None),
        )
    except (UnreadableFile, MappingError, SourceRefused) as exc:
        print(f"Gagal impor {args.file}: {exc}", file=sys.stderr)
        return 1
    except ImportFailed as exc:
        print(f"Gagal impor {args.file}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    timezone = store.settings.kpi.timezone
    print(f"Impor {report.filename}: format {report.format}, sumber '{report.source}', run #{report.run_id}")
    if report.snapshot_at is not None:
        print(f"Snapshot (observasi): {_local(report.snapshot_at, timezone)}, dari {report.snapshot_origin}")
    print(f"Baris dibaca (rows read):          {report.rows_read}")
    print(f"Baris disimpan (rows stored):      {report.rows_stored}")
    print(f"Baris dikarantina (quarantined):   {report.rows_quarantined}")
    if report.history_added:
        print(f"Perubahan status dicatat:          {report.history_added}")
    for message in report.messages:
        print(f"  - {message}")
    if report.rows_quarantined:
        db = f" --db {args.db}" if getattr(args, "db", None) else ""
        print(f"Lihat karantina: python -m data_sources quarantine --source {report.source}{db}")
    return 0


def run_quarantine_cli(args: argparse.Namespace) -> int:
    """`python -m data_sources quarantine [--source NAME]`: what was set aside, and why."""
    try:
        store = _open_store(getattr(args, "db", None))
    except Exception as exc:  # noqa: BLE001
        print(f"Gagal membuka basis data: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2
    try:
        source = getattr(args, "source", None)
        if source and store.source_row(source) is None:
            print(f"Sumber tidak dikenal: {source}", file=sys.stderr)
            return 1
        limit = max(1, int(getattr(args, "limit", 200) or 200))
        rows = list_quarantine(store, source, limit)
        total = quarantine_count(store, source)
        timezone = store.settings.kpi.timezone
    finally:
        store.dispose()
    where = f" sumber '{source}'" if source else ""
    if rows.empty:
        print(f"Karantina{where} kosong.")
        return 0
    print(f"Karantina{where}: {total} baris" + (f" (menampilkan {len(rows)} terbaru)" if total > len(rows) else ""))
    print("sumber\trun\tbaris\ttracking_id\tdicatat\talasan")
    for r in rows.itertuples(index=False):
        created = r.created_at if isinstance(r.created_at, datetime) else from_micros(int(r.created_at))
        record = "-" if pd.isna(r.record_no) else int(r.record_no)
        run = "-" if pd.isna(r.run_id) else int(r.run_id)
        tracking = _printable(r.tracking_id) if isinstance(r.tracking_id, str) else "-"
        print(f"{_printable(r.source)}\t{run}\t{record}\t{tracking}\t{_local(created, timezone)}\t{_printable(r.reason)}")
    return 0

