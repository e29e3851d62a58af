"""Importing any other spreadsheet through a TOML mapping (DATA.md), including the shipped example."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from data_sources import schema
from data_sources.importer import import_file
from data_sources.mapping import MappingError, load_mapping

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_example_mapping_reads_the_example_csv(store):
    report = import_file(store, EXAMPLES / "city_311_sample.csv", mapping=EXAMPLES / "mapping.example.toml")
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (8, 5, 3)
    assert report.source == "city-311" and report.format == "mapped"
    assert report.messages == ["Kolom tanpa pemetaan diabaikan: Priority"]
    c = schema.complaints
    row = store.execute(select(c).where(c.c.tracking_id == "311-0001")).dicts()[0]
    assert row["submitted_at"] == datetime(2026, 1, 5, 0, 15, tzinfo=UTC)  # 05/01/2026 08:15 WITA
    assert row["disposed_at"] == row["submitted_at"]  # [defaults] disposed_at = "submitted_at"
    assert row["classification"] == "pengaduan"  # [defaults] literal
    assert (row["status"], row["status_raw"]) == ("selesai", "Closed")
    assert (row["channel"], row["channel_raw"]) == ("telepon", "Phone")
    assert row["opd"] == "Dinas Pekerjaan Umum" and row["kecamatan"] == "Barabai"
    reasons = dict(store.execute(select(schema.quarantine.c.tracking_id, schema.quarantine.c.reason)).rows)
    assert reasons == {
        "311-0006": "Tanggal laporan masuk (kolom Opened) bukan tanggal yang dikenali ('31/02/2026 10:00'): "
                    "perbaiki tanggalnya (mis. 2026-01-31 14:05 atau 31/01/2026 14:05) lalu impor ulang berkas ini; "
                    "Waktu disposisi bukan tanggal yang dikenali ('31/02/2026 10:00'): "
                    "perbaiki tanggalnya (mis. 2026-01-31 14:05 atau 31/01/2026 14:05) lalu impor ulang berkas ini",
        "311-0007": "Status (Case Status) 'Escalated' tidak ada di tabel [status] berkas pemetaan: tambahkan "
                    'baris "Escalated" = "<status>" di [status], lalu impor ulang berkas ini',
        "311-0008": "Waktu selesai (kolom Closed) lebih awal dari Tanggal laporan masuk (kolom Opened): "
                    "periksa kedua tanggalnya lalu impor ulang berkas ini",
    }


def test_mapping_timezone_is_used_for_timestamps_without_offset(sqlite_store, tmp_path):
    (tmp_path / "m.toml").write_text(
        'timezone = "America/Chicago"\n[columns]\ntracking_id = "id"\nsubmitted_at = "opened"\n'
        'status = "state"\n[status]\n"open" = "proses"\n'
    )
    (tmp_path / "f.csv").write_text("id,opened,state\n1,2026-01-05 08:00,open\n2,2026-07-05T08:00:00Z,OPEN\n")
    report = import_file(sqlite_store, tmp_path / "f.csv", mapping=tmp_path / "m.toml")
    assert report.rows_stored == 2  # status values match case-insensitively too
    c = schema.complaints
    rows = dict(sqlite_store.execute(select(c.c.tracking_id, c.c.submitted_at)).rows)
    assert rows == {"1": datetime(2026, 1, 5, 14, 0, tzinfo=UTC), "2": datetime(2026, 7, 5, 8, 0, tzinfo=UTC)}
    assert report.source == "m"


def test_a_mapped_header_missing_from_the_file_fails_clearly(sqlite_store, tmp_path):
    (tmp_path / "f.csv").write_text("Case,When\n1,2026-01-05\n")
    with pytest.raises(Exception, match="Kolom yang disebut pemetaan tidak ada di berkas: Case Number"):
        import_file(sqlite_store, tmp_path / "f.csv", mapping=EXAMPLES / "mapping.example.toml")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[columns\n", "bukan TOML yang valid"),
        ('title = "x"\n', "tidak punya tabel \\[columns\\]"),
        ('[columns]\ntracking_id = "a"\nsubmitted_at = "b"\nwarna = "c"\n', "kolom kanonik tidak dikenal"),
        ('[columns]\ntracking_id = "a"\nsubmitted_at = "b"\n[status]\n"Open" = "buka"\n', "status kanonik tidak dikenal"),
        ('timezone = "Mars/Olympus"\n[columns]\ntracking_id = "a"\nsubmitted_at = "b"\n', "zona waktu tidak dikenal"),
        ('[columns]\nsubmitted_at = "b"\n', "harus menyebut tracking_id"),
    ],
)
def test_an_impossible_mapping_is_refused_with_a_message(tmp_path, toml, message):
    path = tmp_path / "m.toml"
    path.write_text(toml)
    with pytest.raises(MappingError, match=message):
        load_mapping(path)


def test_a_missing_mapping_file_fails_and_records_a_failed_run(sqlite_store, tmp_path):
    with pytest.raises(MappingError, match="tidak ditemukan"):
        import_file(sqlite_store, EXAMPLES / "city_311_sample.csv", mapping=tmp_path / "nope.toml")
    assert sqlite_store.execute(select(schema.runs.c.status)).scalar() == "failed"
