"""The command-line contract of `python -m data_sources import` and `quarantine` (DATA.md "Commands")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from data_sources.__main__ import main
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent


def test_import_prints_read_stored_quarantined_and_where_to_look(sqlite_url, capsys):
    assert main(["import", str(SAMPLES / "lapor_export_2026-01-16.xlsx"), "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "Baris dibaca (rows read):          71" in out
    assert "Baris disimpan (rows stored):      69" in out
    assert "Baris dikarantina (quarantined):   2" in out
    assert "Snapshot (observasi): 2026-01-16 10:00 (Asia/Makassar), dari Tanggal Generate" in out
    assert "python -m data_sources quarantine --source lapor-export" in out


def test_quarantine_lists_what_was_set_aside_and_why(sqlite_url, capsys):
    main(["import", str(SAMPLES / "lapor_export_2026-01-16.xlsx"), "--db", sqlite_url])
    capsys.readouterr()
    assert main(["quarantine", "--source", "lapor-export", "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "Karantina sumber 'lapor-export': 2 baris" in out
    assert "Tracking ID bukan angka ('62X0001')" in out
    assert "Tanggal laporan masuk bukan tanggal yang dikenali ('31 Feb 2026 09:00')" in out
    assert "Warga" not in out  # the reporter's name never leaves the database


def test_quarantine_of_an_unknown_source_is_an_error(sqlite_url, capsys):
    assert main(["quarantine", "--source", "tidak-ada", "--db", sqlite_url]) == 1
    assert "Sumber tidak dikenal" in capsys.readouterr().err


def test_missing_file_exits_non_zero_with_a_message_and_no_traceback(sqlite_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "data_sources", "import", str(tmp_path / "tidak-ada.csv"), "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert "Berkas tidak ditemukan" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_random_bytes_exit_non_zero_with_a_message_and_no_traceback(sqlite_url, tmp_path):
    path = tmp_path / "acak.xlsx"
    path.write_bytes(bytes(range(256)) * 10)
    done = subprocess.run(
        [sys.executable, "-m", "data_sources", "import", str(path), "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert "Gagal impor" in done.stderr and "Traceback" not in done.stderr


def test_a_file_with_quarantined_rows_still_exits_zero(sqlite_url, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text("tracking_id,submitted_at,status\n1,2026-01-05,proses\n,2026-01-05,proses\n")
    assert main(["import", str(path), "--format", "canonical", "--source", "uji", "--db", sqlite_url]) == 0
    assert "Baris dikarantina (quarantined):   1" in capsys.readouterr().out


def test_an_unusable_database_url_is_a_message_not_a_traceback(tmp_path, capsys):
    code = main(["import", str(SAMPLES / "lapor_export_2026-01-15.xlsx"), "--db", "nosuchdb://x"])
    assert code == 2
    assert "Gagal membuka basis data" in capsys.readouterr().err
