"""Importing SP4N-LAPOR! admin exports: the two sample snapshots, status history, estimates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from data_sources import schema
from data_sources.importer import import_file
from data_sources.lapor_export import lapor_status
from tests.conftest import SAMPLES

DAY1 = SAMPLES / "lapor_export_2026-01-15.xlsx"
DAY2 = SAMPLES / "lapor_export_2026-01-16.xlsx"
SNAP1 = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # 15-01-2026 10:00 WITA
SNAP2 = datetime(2026, 1, 16, 2, 0, tzinfo=UTC)


def counts(store) -> tuple[int, int, int]:
    return tuple(
        int(store.execute(select(func.count()).select_from(t)).scalar())
        for t in (schema.complaints, schema.status_history, schema.quarantine)
    )


def complaint(store, tracking_id: str) -> dict:
    rows = store.execute(
        select(schema.complaints).where(schema.complaints.c.tracking_id == tracking_id)
    ).dicts()
    assert rows, tracking_id
    return rows[0]


def history(store, tracking_id: str) -> list[tuple[str, datetime]]:
    c = schema.complaints
    h = schema.status_history
    return [
        tuple(r) for r in store.execute(
            select(h.c.status, h.c.observed_at).join(c, c.c.id == h.c.complaint_id)
            .where(c.c.tracking_id == tracking_id).order_by(h.c.observed_at)
        ).rows
    ]


@pytest.fixture
def both_days(store):
    first = import_file(store, DAY1)
    second = import_file(store, DAY2)
    return store, first, second


def test_every_sample_row_is_accounted_for(both_days):
    store, first, second = both_days
    assert (first.rows_read, first.rows_stored, first.rows_quarantined) == (60, 60, 0)
    assert (second.rows_read, second.rows_stored, second.rows_quarantined) == (71, 69, 2)
    assert first.format == second.format == "lapor-export"
    assert counts(store)[0] == 69


def test_non_numeric_tracking_id_and_impossible_date_are_quarantined_with_reasons(both_days):
    store, _, _ = both_days
    rows = store.execute(
        select(schema.quarantine.c.tracking_id, schema.quarantine.c.record_no, schema.quarantine.c.reason)
        .order_by(schema.quarantine.c.record_no)
    ).rows
    assert rows == [
        ("62X0001", 74, "Tracking ID bukan angka ('62X0001'): Tracking ID LAPOR! hanya berisi angka; perbaiki lalu impor ulang berkas ini"),
        ("6200901", 75, "Tanggal laporan masuk bukan tanggal yang dikenali ('31 Feb 2026 09:00'): "
                         "perbaiki tanggalnya (mis. 2026-01-31 14:05 atau 31/01/2026 14:05) lalu impor ulang berkas ini"),
    ]


def test_quarantine_keeps_the_row_as_exported_without_the_reporter_name(both_days):
    store, _, _ = both_days
    raw = store.execute(select(schema.quarantine.c.raw).where(schema.quarantine.c.tracking_id == "62X0001")).scalar()
    assert '"Judul Laporan": "ID bukan angka"' in raw
    assert '"Nama Pelapor": "[disembunyikan]"' in raw


def test_formula_and_script_texts_are_stored_as_plain_text_as_given(both_days):
    store, _, _ = both_days
    row = complaint(store, "6200902")
    assert row["title"] == '=HYPERLINK("http://contoh.invalid","klik")'
    assert row["body"] == "<script>alert('x')</script> bantuan belum diterima"
    assert (row["status"], row["status_raw"]) == ("menunggu_verifikasi", "Tunda")


def test_columns_are_mapped_to_the_canonical_record(both_days):
    store, _, _ = both_days
    row = complaint(store, "6100222")
    assert row["submitted_at"] == datetime(2025, 12, 6, 8, 40, tzinfo=UTC)  # 6 Des 2025 16:40 WITA
    assert (row["channel"], row["channel_raw"]) == ("android", "Android - hstkab")
    assert row["classification"] == "permintaan_informasi"
    assert row["category"] == "Pendidikan dan Kebudayaan"
    assert row["opd"] == "Dinas Pendidikan" and row["kecamatan"] == "Hantakan"
    assert row["is_confidential"] is True and row["is_anonymous"] is False
    assert row["rating"] == 5 and row["reporter_name"] == "Warga 222"
    assert complaint(store, "6100666")["is_anonymous"] is True
    assert (complaint(store, "6101073")["channel"], complaint(store, "6101073")["status"]) == ("twitter", "selesai")


def test_complaints_that_moved_have_two_history_entries_and_estimated_times(both_days):
    store, _, _ = both_days
    assert history(store, "6100074") == [("menunggu_verifikasi", SNAP1), ("menunggu_tindak_lanjut", SNAP2)]
    moved = complaint(store, "6100074")
    assert moved["disposed_at"] == SNAP2 and moved["first_response_at"] is None
    assert moved["times_estimated"] is True and moved["estimate_precision_hours"] == pytest.approx(24.0)

    assert history(store, "6100148") == [("proses", SNAP1), ("selesai", SNAP2)]
    closed = complaint(store, "6100148")
    assert closed["first_response_at"] == SNAP1 and closed["closed_at"] == SNAP2
    assert closed["times_estimated"] is True

    assert history(store, "6100185") == [("menunggu_tindak_lanjut", SNAP1), ("proses", SNAP2)]
    assert complaint(store, "6100185")["first_response_at"] == SNAP2


def test_unchanged_complaint_keeps_one_history_entry(both_days):
    store, _, _ = both_days
    assert history(store, "6100000") == [("selesai", SNAP1)]


def test_snapshot_time_is_read_from_tanggal_generate_and_recorded_on_the_run(both_days):
    store, first, second = both_days
    assert (first.snapshot_at, first.snapshot_origin) == (SNAP1, "Tanggal Generate")
    assert second.snapshot_at == SNAP2
    run = store.execute(select(schema.runs).where(schema.runs.c.id == second.run_id)).dicts()[0]
    assert run["snapshot_at"] == SNAP2 and run["status"] == "ok"
    assert (run["rows_read"], run["rows_stored"], run["rows_quarantined"]) == (71, 69, 2)
    assert store.source_row("lapor-export")["last_success_at"] is not None


def test_importing_both_files_again_changes_no_count(both_days):
    store, _, _ = both_days
    before = counts(store)
    estimates = store.execute(
        select(func.sum(schema.complaints.c.estimate_precision_hours))
    ).scalar()
    again1 = import_file(store, DAY1)
    again2 = import_file(store, DAY2)
    assert counts(store) == before
    assert store.execute(select(func.sum(schema.complaints.c.estimate_precision_hours))).scalar() == pytest.approx(estimates)
    assert again1.rows_read == again1.rows_stored + again1.rows_quarantined
    assert (again2.rows_read, again2.rows_stored, again2.rows_quarantined) == (71, 69, 2)
    assert again2.quarantine_added == 0


def test_an_older_snapshot_never_overwrites_a_newer_status(store):
    import_file(store, DAY2)
    report = import_file(store, DAY1)
    assert complaint(store, "6100148")["status"] == "selesai"
    assert report.rows_read == report.rows_stored + report.rows_quarantined
    assert any("snapshot lebih baru" in m for m in report.messages)


def test_an_older_snapshot_imported_late_enters_the_history_in_observation_order(store):
    """DATA.md: snapshots may arrive out of order; the history is kept in observation order."""
    import_file(store, DAY2)
    import_file(store, DAY1)
    assert history(store, "6100148") == [("proses", SNAP1), ("selesai", SNAP2)]
    assert history(store, "6100074") == [("menunggu_verifikasi", SNAP1), ("menunggu_tindak_lanjut", SNAP2)]
    assert history(store, "6100000") == [("selesai", SNAP1)]
    closed = complaint(store, "6100148")
    assert (closed["first_response_at"], closed["closed_at"]) == (SNAP1, SNAP2)
    assert closed["closed_lower_at"] == SNAP1
    assert closed["first_response_lower_at"] == closed["submitted_at"]


# --- synthetic exports: layouts the samples do not show -----------------------------------
HEADER = [
    "Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Nama Pelapor",
    "Klasifikasi Laporan", "Kategori", "Judul Laporan", "Isi Laporan Awal",
    "Tipe Laporan (Anonim/Rahasia)", "Sumber Laporan", "Instansi Terdisposisi", "Status Laporan",
    "Kecamatan", "Rating",
]


def write_export(path: Path, rows: list[list], *, info: list[list] | None = None, order=None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in info or []:
        sheet.append(row)
    order = order or list(range(len(HEADER)))
    sheet.append([HEADER[i] for i in order])
    for row in rows:
        sheet.append([row[i] for i in order])
    workbook.save(path)
    return path


def export_row(tracking_id="7000001", status="Ditindaklanjuti oleh Instansi", **over) -> list:
    values = {
        "Tracking ID": tracking_id, "Tanggal Laporan Masuk": "3 Agu 2025", "Waktu Laporan Masuk": "14:05:33",
        "Nama Pelapor": "Siti", "Klasifikasi Laporan": "Pengaduan", "Kategori": "Kesehatan",
        "Judul Laporan": "Obat kosong", "Isi Laporan Awal": "Stok obat kosong",
        "Tipe Laporan (Anonim/Rahasia)": "Anonim", "Sumber Laporan": "SMS",
        "Instansi Terdisposisi": "Dinas Kesehatan", "Status Laporan": status, "Kecamatan": "Barabai",
        "Rating": None,
    }
    values.update(over)
    return [values[h] for h in HEADER]


def test_columns_are_found_by_header_name_not_position(sqlite_store, tmp_path):
    order = list(reversed(range(len(HEADER))))
    path = write_export(tmp_path / "lapor_2025-08-10.xlsx", [export_row()], order=order)
    report = import_file(sqlite_store, path)
    assert report.rows_stored == 1
    row = complaint(sqlite_store, "7000001")
    assert row["submitted_at"] == datetime(2025, 8, 3, 6, 5, 33, tzinfo=UTC)
    assert (row["status"], row["opd"], row["channel"]) == ("proses", "Dinas Kesehatan", "sms")


def test_snapshot_date_comes_from_the_file_name_when_no_information_row(sqlite_store, tmp_path):
    path = write_export(tmp_path / "lapor_export_2025-08-10.xlsx", [export_row()])
    report = import_file(sqlite_store, path)
    assert report.snapshot_origin == "nama berkas"
    assert report.snapshot_at == datetime(2025, 8, 10, 15, 59, 59, tzinfo=UTC)  # end of the WITA day


def test_snapshot_falls_back_to_import_time_and_the_report_says_so(sqlite_store, tmp_path):
    path = write_export(tmp_path / "export.xlsx", [export_row()])
    before = datetime.now(UTC)
    report = import_file(sqlite_store, path)
    assert report.snapshot_origin == "waktu impor" and report.snapshot_at >= before
    assert any("waktu impor" in m for m in report.messages)


def test_unknown_status_laporan_is_quarantined_with_its_text(sqlite_store, tmp_path):
    path = write_export(
        tmp_path / "e.xlsx", [export_row(), export_row("7000002", status="Menunggu Konfirmasi")],
        info=[["Tanggal Generate", "10-08-2025 09:00"]],
    )
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (2, 1, 1)
    reason = sqlite_store.execute(select(schema.quarantine.c.reason)).scalar()
    assert reason == (
        "Status Laporan tidak dikenal ('Menunggu Konfirmasi'): dasbor belum mengenal status ini; "
        "sampaikan ke pengelola dasbor agar ditambahkan, lalu impor ulang berkas ini"
    )


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Terdisposisi ke Dinas Kesehatan", "menunggu_tindak_lanjut"),
        ("Ditindaklanjuti oleh Instansi", "proses"),
        ("Ditanggapi oleh Pelapor", "proses"),
        ("Ditutup oleh Admin", "selesai"),
        ("Ditutup oleh Sistem", "selesai"),
        ("Diarsipkan oleh Admin", "arsip"),
        ("Diarsipkan oleh Sistem", "arsip"),
        ("Belum Terverifikasi", "menunggu_verifikasi"),
        ("Tunda", "menunggu_verifikasi"),
        ("Bukan Wewenang", "arsip"),
        ("  ditutup  OLEH admin ", "selesai"),
        ("Dihapus", None),
    ],
)
def test_lapor_status_wording_maps_to_the_kpi_status_table(text, status):
    assert lapor_status(text) == status


def test_opd_taken_from_terdisposisi_ke_when_the_instansi_cell_is_empty(sqlite_store, tmp_path):
    row = export_row(status="Terdisposisi ke Dinas Perhubungan", **{"Instansi Terdisposisi": None})
    report = import_file(sqlite_store, write_export(tmp_path / "e.xlsx", [row]))
    assert report.rows_stored == 1
    assert complaint(sqlite_store, "7000001")["opd"] == "Dinas Perhubungan"


def test_a_lapor_export_saved_as_csv_is_read_the_same_way(sqlite_store, tmp_path):
    lines = ["Rekapitulasi Laporan SP4N-LAPOR!", "Tanggal Generate;10-08-2025 09:00", "",
             ";".join(HEADER), ";".join("" if v is None else str(v) for v in export_row())]
    path = tmp_path / "lapor.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(sqlite_store, path)
    assert (report.format, report.rows_stored) == ("lapor-export", 1)
    assert report.snapshot_at == datetime(2025, 8, 10, 1, 0, tzinfo=UTC)
