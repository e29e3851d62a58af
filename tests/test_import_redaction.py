"""The quarantine never keeps the reporter's identity, whatever the column is called (issue 14,
item 5): every column a header or a mapping marks as the reporter's is hidden in `quarantine.raw`."""

from __future__ import annotations

import json

from data_sources.canonical import REDACTED
from data_sources.importer import import_file, is_reporter_header


def _raws(store) -> list[dict]:
    return [json.loads(r[0]) for r in store.execute("SELECT raw FROM quarantine ORDER BY record_no").rows]


def test_every_reporter_column_is_hidden_in_the_quarantine(sqlite_store, tmp_path):
    path = tmp_path / "dua_pelapor.csv"
    path.write_text(
        "tracking_id,submitted_at,status,reporter_name,Reporter_Name,Nama Pelapor,reporter  name,title\n"
        "R-1,2026-01-05 09:00,entah,Siti Aminah,Siti A.,Ibu Siti,S. Aminah,jalan rusak\n"
    )
    report = import_file(sqlite_store, path)
    assert report.rows_quarantined == 1
    [raw] = _raws(sqlite_store)
    for column in ("reporter_name", "Reporter_Name", "Nama Pelapor", "reporter  name"):
        assert raw[column] == REDACTED, column
    assert raw["title"] == "jalan rusak"
    assert "Siti" not in json.dumps(raw)


def test_a_mapped_reporter_column_and_a_second_one_are_hidden(sqlite_store, tmp_path):
    mapping = tmp_path / "peta.toml"
    mapping.write_text(
        'source = "kota"\n[columns]\ntracking_id = "No"\nsubmitted_at = "Masuk"\nstatus = "Keadaan"\n'
        'reporter_name = "Warga"\n[status]\n"Buka" = "proses"\n'
    )
    path = tmp_path / "kota.csv"
    path.write_text("No,Masuk,Keadaan,Warga,NAMA_PELAPOR,Email Pelapor\n"
                    "K-1,2026-01-05 09:00,Tutup,Budi Santoso,Budi S.,budi@contoh.id\n")
    report = import_file(sqlite_store, path, mapping=mapping)
    assert report.rows_quarantined == 1
    [raw] = _raws(sqlite_store)
    assert raw["Warga"] == raw["NAMA_PELAPOR"] == raw["Email Pelapor"] == REDACTED
    assert "Budi" not in json.dumps(raw) and "budi@" not in json.dumps(raw)


def test_a_line_the_reader_set_aside_hides_the_reporter_too(sqlite_store, tmp_path):
    path = tmp_path / "kutip.csv"
    path.write_text(
        "tracking_id,submitted_at,status,Reporter_Name,title\n"
        'R-1,2026-01-05 09:00,proses,Siti Aminah,"tanpa penutup\n'
        "R-2,2026-01-05 09:00,proses,Dewi,judul\n"
        "R-3,2026-01-05 09:00,proses,Rina,judul,sel,berlebih\n"
    )
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (3, 1, 2)
    raws = _raws(sqlite_store)
    assert all(raw["Reporter_Name"] == REDACTED for raw in raws)
    assert "Siti" not in json.dumps(raws) and "Rina" not in json.dumps(raws)


def test_reporter_headers_are_recognised_whatever_their_spelling():
    for name in ("Nama Pelapor", "reporter name", "Reporter_Name", "NAMA  PELAPOR", "No. HP Pelapor",
                 "reporter_name"):
        assert is_reporter_header(name), name
    for name in ("title", "Nama OPD", "Kecamatan", "Status Laporan"):
        assert not is_reporter_header(name), name
