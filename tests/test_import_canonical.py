"""Importing canonical CSV/XLSX files: accounting, idempotence, history, readers' edge cases."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from data_sources import schema
from data_sources.importer import UnreadableFile, import_file

HEADER = "tracking_id,submitted_at,status,opd,channel,rating,closed_at,reporter_name,title"
ROWS = [
    "A-1,2026-01-05 08:00,proses,Dinas Kesehatan,SMS,,,Budi,Jalan rusak",
    "A-2,2026-01-05T09:00:00Z,selesai,Dinas Pendidikan,Website,4,2026-01-07 10:00,Sari,Sekolah",
    "A-3,2026-01-06 10:00,selesai,Dinas Pendidikan,Kantor Pos,9,,Ani,Rating sembilan",
    ",2026-01-06 11:00,proses,Dinas Sosial,SMS,,,Ali,Tanpa ID",
    "A-5,kemarin,proses,Dinas Sosial,SMS,,,Eko,Tanggal aneh",
]


def write_csv(path, lines, encoding="utf-8"):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def counts(store) -> tuple[int, int, int]:
    return tuple(
        int(store.execute(select(func.count()).select_from(t)).scalar())
        for t in (schema.complaints, schema.status_history, schema.quarantine)
    )


def test_rows_read_equal_rows_stored_plus_quarantined(store, tmp_path):
    report = import_file(store, write_csv(tmp_path / "c.csv", [HEADER, *ROWS]))
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (5, 2, 3)
    assert report.format == "canonical" and report.source == "canonical"
    reasons = store.execute(
        select(schema.quarantine.c.record_no, schema.quarantine.c.reason).order_by(schema.quarantine.c.record_no)
    ).rows
    assert reasons == [
        (4, "Rating harus bilangan bulat 1 sampai 5 ('9'): perbaiki atau kosongkan lalu impor ulang berkas ini"),
        (5, "Tracking ID kosong: isi Tracking ID laporan ini lalu impor ulang berkas ini"),
        (6, "Tanggal laporan masuk (kolom submitted_at) bukan tanggal yang dikenali ('kemarin'): "
            "perbaiki tanggalnya (mis. 2026-01-31 14:05 atau 31/01/2026 14:05) lalu impor ulang berkas ini"),
    ]


def test_importing_the_same_file_twice_changes_nothing(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [HEADER, *ROWS])
    import_file(store, path)
    before = counts(store)
    again = import_file(store, path)
    assert counts(store) == before
    assert (again.rows_stored, again.rows_quarantined, again.quarantine_added) == (2, 3, 0)


def test_a_later_row_updates_the_complaint_and_records_the_status_change(store, tmp_path):
    import_file(store, write_csv(tmp_path / "a.csv", [HEADER, ROWS[0]]))
    later = "A-1,2026-01-05 08:00,selesai,Dinas Kesehatan,SMS,5,2026-01-08 09:00,Budi,Jalan rusak"
    report = import_file(store, write_csv(tmp_path / "b.csv", [HEADER, later]))
    assert report.history_added == 1
    c, h = schema.complaints, schema.status_history
    statuses = [r[0] for r in store.execute(
        select(h.c.status).join(c, c.c.id == h.c.complaint_id).where(c.c.tracking_id == "A-1").order_by(h.c.id)
    ).rows]
    assert statuses == ["proses", "selesai"]
    row = store.execute(select(c.c.status, c.c.closed_at, c.c.times_estimated).where(c.c.tracking_id == "A-1")).first()
    assert row == ("selesai", datetime(2026, 1, 8, 1, 0, tzinfo=UTC), False)


def test_unknown_columns_are_ignored_with_one_warning(sqlite_store, tmp_path):
    lines = [HEADER + ",warna,ukuran", *(r + ",merah,besar" for r in ROWS[:2])]
    report = import_file(sqlite_store, write_csv(tmp_path / "c.csv", lines))
    assert report.rows_stored == 2
    warnings = [m for m in report.messages if "tidak dikenal" in m]
    assert warnings == ["Kolom tidak dikenal diabaikan: warna, ukuran"]


def test_timestamps_are_stored_as_utc_from_local_time(sqlite_store, tmp_path):
    import_file(sqlite_store, write_csv(tmp_path / "c.csv", [HEADER, *ROWS[:2]]))
    c = schema.complaints
    rows = dict(sqlite_store.execute(select(c.c.tracking_id, c.c.submitted_at)).rows)
    assert rows == {"A-1": datetime(2026, 1, 5, 0, 0, tzinfo=UTC), "A-2": datetime(2026, 1, 5, 9, 0, tzinfo=UTC)}


def test_semicolon_delimiter_and_windows_encoding_are_read(sqlite_store, tmp_path):
    lines = ["tracking_id;submitted_at;status;kecamatan", "B-1;05/01/2026 08:00;proses;Batang Alai Selatan",
             "B-2;05/01/2026 08:00;arsip;Pandawan – Utara"]
    report = import_file(sqlite_store, write_csv(tmp_path / "c.csv", lines, encoding="cp1252"))
    assert report.rows_stored == 2
    kec = sqlite_store.execute(select(schema.complaints.c.kecamatan).where(schema.complaints.c.tracking_id == "B-2")).scalar()
    assert kec == "Pandawan – Utara"


def test_a_row_with_more_cells_than_headers_is_quarantined(sqlite_store, tmp_path):
    lines = ["tracking_id,submitted_at,status", "C-1,2026-01-05,proses", "C-2,2026-01-05,proses,extra", "C-3,2026-01-05"]
    report = import_file(sqlite_store, write_csv(tmp_path / "c.csv", lines))
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (3, 1, 2)
    reasons = [r[0] for r in sqlite_store.execute(select(schema.quarantine.c.reason).order_by(schema.quarantine.c.record_no)).rows]
    assert reasons == [
        "Baris ini punya 4 sel, padahal judul kolom hanya 3: biasanya ada koma atau titik koma di dalam "
        "sel yang tidak diapit tanda kutip. Perbaiki baris ini lalu impor ulang berkas ini",
        "Status kosong: isi status laporan lalu impor ulang berkas ini",
    ]


def test_quoted_newlines_keep_line_numbers_right(sqlite_store, tmp_path):
    lines = ["tracking_id,submitted_at,status,body", 'D-1,2026-01-05,proses,"baris satu\nbaris dua"',
             "D-2,2026-01-05,ditutup,x"]
    import_file(sqlite_store, write_csv(tmp_path / "c.csv", lines))
    assert sqlite_store.execute(select(schema.quarantine.c.record_no)).scalar() == 4


def test_blank_lines_and_header_only_files_are_fine(sqlite_store, tmp_path):
    report = import_file(sqlite_store, write_csv(tmp_path / "h.csv", ["tracking_id,submitted_at,status", "", ""]))
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (0, 0, 0)


def test_canonical_xlsx_is_read(sqlite_store, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["tracking_id", "submitted_at", "status", "rating"])
    sheet.append([9001, datetime(2026, 1, 5, 8, 0), "selesai", 5])
    sheet.append([9002.0, "2026-01-06", "proses", None])
    path = tmp_path / "c.xlsx"
    workbook.save(path)
    report = import_file(sqlite_store, path)
    assert report.rows_stored == 2
    rows = dict(sqlite_store.execute(select(schema.complaints.c.tracking_id, schema.complaints.c.rating)).rows)
    assert rows == {"9001": 5, "9002": None}


def test_a_file_like_object_with_a_filename_is_accepted(sqlite_store):
    data = ("\n".join([HEADER, *ROWS[:2]]) + "\n").encode()
    report = import_file(sqlite_store, io.BytesIO(data), filename="unggahan.csv")
    assert report.rows_stored == 2 and report.filename == "unggahan.csv"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "hilang.csv", "Berkas tidak ditemukan"),
        (b"", "kosong.csv", "Berkas kosong"),
        (b"PK\x03\x04 not really a zip", "rusak.xlsx", "Berkas XLSX tidak dapat dibuka"),
        (b"nama,umur\nBudi,30\n", "lain.csv", "kolom tracking_id tidak ada"),
    ],
)
def test_nothing_readable_fails_with_a_message_and_a_failed_run(sqlite_store, tmp_path, content, name, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        import_file(sqlite_store, path, fmt="canonical")
    run = sqlite_store.execute(select(schema.runs.c.status, schema.runs.c.error)).first()
    assert run[0] == "failed" and message in run[1]
    assert sqlite_store.last_success() is None


def test_the_last_successful_import_is_stored_per_source(sqlite_store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [HEADER, *ROWS[:2]])
    import_file(sqlite_store, path, source="rsud")
    assert sqlite_store.source_row("rsud")["last_success_at"] is not None
    assert sqlite_store.source_row("canonical") is None
    assert sqlite_store.last_success() is not None
