"""Fuzzing the importer: whatever the bytes or cells, it never crashes and never loses a row."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from data_sources import schema
from data_sources.importer import import_file
from data_sources.mapping import MappingError
from data_sources.readers import UnreadableFile
from tests.conftest import make_store

FUZZ = settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CANONICAL_HEADER = [
    "tracking_id", "submitted_at", "status", "channel", "classification", "opd", "rating",
    "reopen_count", "is_anonymous", "closed_at", "title",
]
LAPOR_HEADER = [
    "Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Nama Pelapor",
    "Klasifikasi Laporan", "Sumber Laporan", "Instansi Terdisposisi", "Status Laporan", "Rating",
    "Tipe Laporan (Anonim/Rahasia)",
]
# Cells that look almost right are the interesting ones: mix them with arbitrary text.
PLAUSIBLE = st.sampled_from([
    "", "1", "0", "-1", "9", "4.0", "2.5", "ya", "tidak", "selesai", "proses", "arsip", "Selesai",
    "2026-01-05", "2026-01-05 08:00", "2026-01-05T08:00:00Z", "31 Feb 2026", "3 Des 2025",
    "14:05", "Terdisposisi ke Dinas Kesehatan", "Ditutup oleh Admin", "Tunda", "SMS",
    "Android - hstkab", "pengaduan", "Permintaan Informasi", "=1+1", "<b>x</b>", "x" * 250,
    "9999-12-31", "1900-01-01", "nan", "NULL", "\x00", "\t",
])
CELL = st.one_of(PLAUSIBLE, st.text(max_size=30))


def accounted(store, report) -> None:
    assert report.rows_read == report.rows_stored + report.rows_quarantined
    run = store.execute(
        select(schema.runs.c.rows_read, schema.runs.c.rows_stored, schema.runs.c.rows_quarantined)
        .where(schema.runs.c.id == report.run_id)
    ).first()
    assert tuple(run) == (report.rows_read, report.rows_stored, report.rows_quarantined)


@pytest.fixture
def fuzz_store(db_url):
    store = make_store(db_url)
    yield store
    store.dispose()


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
       fmt=st.sampled_from(["auto", "canonical", "lapor-export"]))
def test_random_bytes_never_crash_the_importer(fuzz_store, data, suffix, fmt):
    try:
        report = import_file(fuzz_store, io.BytesIO(data), filename=f"acak{suffix}", fmt=fmt,
                             source=f"fuzz-{uuid.uuid4().hex[:8]}")
    except (UnreadableFile, MappingError):
        return
    accounted(fuzz_store, report)


def _csv_bytes(header, rows, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=len(CANONICAL_HEADER) + 2), max_size=25),
       delimiter=st.sampled_from([",", ";"]))
def test_random_cells_under_a_canonical_header_are_stored_or_quarantined(fuzz_store, rows, delimiter):
    source = f"fuzz-{uuid.uuid4().hex[:8]}"
    try:
        data = _csv_bytes(CANONICAL_HEADER, rows, delimiter)
    except UnicodeEncodeError:
        return
    report = import_file(fuzz_store, io.BytesIO(data), filename="c.csv", source=source)
    accounted(fuzz_store, report)
    non_blank = sum(1 for r in rows if any(c.strip() for c in r))
    assert report.rows_read >= non_blank - sum(1 for r in rows if "\n" in "".join(r) or "\r" in "".join(r))
    stored = fuzz_store.execute(
        select(func.count()).select_from(schema.complaints)
        .join(schema.sources, schema.sources.c.id == schema.complaints.c.source_id)
        .where(schema.sources.c.name == source)
    ).scalar()
    assert stored <= report.rows_stored


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=len(LAPOR_HEADER), max_size=len(LAPOR_HEADER)), max_size=12))
def test_random_cells_under_a_lapor_header_are_stored_or_quarantined(fuzz_store, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Tanggal Generate", "15-01-2026 10:00"])
    sheet.append(LAPOR_HEADER)
    for row in rows:
        try:
            sheet.append(row)
        except Exception:  # noqa: BLE001 - openpyxl refuses control characters: not a file Excel can hold
            return
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    report = import_file(fuzz_store, buffer, filename="lapor.xlsx", source=f"fuzz-{uuid.uuid4().hex[:8]}")
    assert report.format == "lapor-export"
    accounted(fuzz_store, report)
    assert report.rows_read == sum(1 for r in rows if any(c.strip() for c in r))
