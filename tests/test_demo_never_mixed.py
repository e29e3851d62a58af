"""DATA.md "Demo data and real data": demo data is never counted with real data.

The first real import or sync into a store holding demo data removes the demo data in the
transaction of its first write and says so; `demo --remove` does it by hand; the demo source's
name cannot be chosen for a real import; and every document and message says "Data contoh"
whenever a demo complaint is counted. On SQLite and PostgreSQL, through the real commands.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from test_kpi_reference import load, wita

from data_sources.__main__ import main as data_cli
from data_sources.demo import DEMO_SOURCE, load_demo, seed_opds
from data_sources.importer import SourceRefused, import_file
from data_sources.sync import sync_source
from metrics.__main__ import main as metrics_cli
from metrics.briefing import build_briefing_pdf
from metrics.filters import Filters
from metrics.summary import whatsapp_summary
from tests.conftest import make_store
from tests.open311_server import Deviations, GeoReportServer, make_requests

DEMO_N = 1_500
PERIOD = ("2026-01-01", "2026-03-31")
AS_OF = "2026-04-10T08:00:00+08:00"
REMOVED_LINE = "Data contoh (1.500 aduan) dihapus karena data nyata pertama dimuat."

CANONICAL_CSV = """tracking_id,submitted_at,status,opd,classification,disposed_at,first_response_at,closed_at,category
REAL-1,2026-01-05T09:00:00,selesai,Dinas PUPR,pengaduan,2026-01-05T15:00:00,2026-01-06T09:00:00,2026-01-09T10:00:00,Jalan
REAL-2,2026-02-02T10:00:00,proses,Dinas PUPR,pengaduan,2026-02-02T14:00:00,2026-02-03T09:00:00,,Jalan
REAL-3,2026-03-02T08:00:00,menunggu_tindak_lanjut,Dinas Kesehatan,aspirasi,2026-03-02T13:00:00,,,Kesehatan
REAL-4,2025-10-01T08:00:00,menunggu_tindak_lanjut,Dinas Sosial,pengaduan,2025-10-01T13:00:00,,,Sosial
REAL-5,2026-03-20T08:00:00,menunggu_verifikasi,,,,,,
"""


@pytest.fixture
def real_file(tmp_path) -> Path:
    path = tmp_path / "aduan_nyata.csv"
    path.write_text(CANONICAL_CSV, encoding="utf-8")
    return path


@pytest.fixture
def demo_url(db_url) -> str:
    store = make_store(db_url)
    load_demo(store, n=DEMO_N, seed=7, until=date(2026, 3, 31))
    store.dispose()
    return db_url


def report_rows(url: str, tmp_path: Path, name: str) -> dict[str, dict]:
    out = tmp_path / f"{name}.json"
    code = metrics_cli(["report", "--from", PERIOD[0], "--to", PERIOD[1], "--as-of", AS_OF,
                        "--format", "json", "--output", str(out), "--db", url])
    assert code == 0
    return {row["opd"]: row for row in json.loads(out.read_text())}


# --- the first real import ----------------------------------------------------------------------
def test_first_real_import_into_a_demo_store_removes_the_demo_data_and_says_so(
    demo_url, real_file, tmp_path, capsys
):
    code = data_cli(["import", str(real_file), "--db", demo_url])
    out = capsys.readouterr().out
    assert code == 0
    assert REMOVED_LINE in out
    store = make_store(demo_url)
    try:
        assert not store.has_demo_data()
        assert store.demo_complaint_count() == 0
        assert store.source_row(DEMO_SOURCE)["last_success_at"] is None  # not "Data per" any more
        assert store.execute("SELECT COUNT(*) FROM complaints").scalar() == 5
    finally:
        store.dispose()
    # Afterwards no demo complaint is counted anywhere: the report is the file's alone, as in a
    # store that never held demo data (with the same OPD reference names, which stay).
    fresh_url = f"sqlite:///{tmp_path / 'only-the-file.db'}"
    fresh = make_store(fresh_url)
    seed_opds(fresh)
    fresh.dispose()
    assert data_cli(["import", str(real_file), "--db", fresh_url]) == 0
    assert "Data contoh" not in capsys.readouterr().out
    mixed, alone = report_rows(demo_url, tmp_path, "after"), report_rows(fresh_url, tmp_path, "alone")
    assert mixed == alone
    assert mixed["TOTAL"]["received"] == 3 and mixed["TOTAL"]["backlog_open"] == 3


def test_a_second_real_import_says_nothing_about_demo_data(demo_url, real_file, capsys):
    assert data_cli(["import", str(real_file), "--db", demo_url]) == 0
    capsys.readouterr()
    assert data_cli(["import", str(real_file), "--db", demo_url]) == 0
    assert "Data contoh" not in capsys.readouterr().out


def test_app_upload_result_says_the_demo_data_was_removed(demo_url, real_file):
    store = make_store(demo_url)
    try:
        with real_file.open("rb") as upload:
            report = import_file(store, upload, filename="aduan_nyata.csv")
        assert report.demo_removed == DEMO_N
        assert report.messages[0] == REMOVED_LINE
        assert not store.has_demo_data()
    finally:
        store.dispose()


def test_demo_removal_rolls_back_with_the_first_write_that_fails(demo_url):
    """The removal runs inside the first write's transaction: if that write fails, the demo
    data is still there and no real complaint was stored."""
    store = make_store(demo_url)
    try:
        source_id = store.ensure_source("nyata", "canonical")

        def remove_then_fail(conn) -> None:  # noqa: ANN001
            assert store.remove_demo_data(conn) == DEMO_N
            raise RuntimeError("the write fails after the removal")

        frame = pd.DataFrame([{
            "tracking_id": "X-1", "submitted_at": wita("2026-01-05T09:00:00"), "status": "proses",
            "opd": "Dinas PUPR", "disposed_at": wita("2026-01-05T15:00:00"),
        }])
        with pytest.raises(RuntimeError):
            store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC),
                                   in_transaction=remove_then_fail)
        assert store.demo_complaint_count() == DEMO_N
        assert store.execute("SELECT COUNT(*) FROM complaints WHERE tracking_id = 'X-1'").scalar() == 0
    finally:
        store.dispose()


def test_an_import_without_a_valid_row_keeps_the_demo_data(demo_url, tmp_path, capsys):
    bad = tmp_path / "rusak.csv"
    bad.write_text("tracking_id,submitted_at,status\nB-1,bukan tanggal,proses\n", encoding="utf-8")
    assert data_cli(["import", str(bad), "--db", demo_url]) == 0
    assert "Data contoh" not in capsys.readouterr().out
    store = make_store(demo_url)
    try:
        assert store.demo_complaint_count() == DEMO_N
    finally:
        store.dispose()


# --- the first real sync ------------------------------------------------------------------------
def test_first_real_sync_into_a_demo_store_removes_the_demo_data_and_says_so(demo_url):
    # A standard GeoReport v2 server (tests/open311_server.py) with three requests in March 2026.
    records = make_requests(3, first=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(days=1))

    store = make_store(demo_url)
    try:
        with GeoReportServer(records, Deviations()) as server:
            config = {"kind": "open311", "base_url": server.base_url, "per_page": 100,
                      "start_date": date(2026, 3, 1), "timeout_seconds": 2, "max_retries": 1}
            report = sync_source(store, "kota-311", config, now=datetime(2026, 3, 20, tzinfo=UTC))
        assert report.ok, report.error
        assert report.demo_removed == DEMO_N
        assert REMOVED_LINE in report.summary()
        assert not store.has_demo_data()
        assert store.execute("SELECT COUNT(*) FROM complaints").scalar() == 3
    finally:
        store.dispose()


def test_a_sync_source_named_like_the_demo_source_is_refused(demo_url):
    store = make_store(demo_url)
    try:
        report = sync_source(store, "demo", {"kind": "open311", "base_url": "http://127.0.0.1:9"})
        assert not report.ok and "data contoh" in report.error
        assert store.demo_complaint_count() == DEMO_N
    finally:
        store.dispose()


# --- demo --remove ------------------------------------------------------------------------------
def test_demo_remove_command_takes_every_demo_complaint_out(demo_url, capsys):
    assert data_cli(["demo", "--remove", "--db", demo_url]) == 0
    assert "Data contoh (1.500 aduan) dihapus." in capsys.readouterr().out
    store = make_store(demo_url)
    try:
        assert not store.has_demo_data() and not store.has_complaints()
        assert store.last_success() is None
        # The emptied demo source stays, so the app does not fill a fresh store with demo again.
        assert store.source_row(DEMO_SOURCE)["is_demo"] is True
    finally:
        store.dispose()
    assert data_cli(["demo", "--remove", "--db", demo_url]) == 0
    assert "Tidak ada data contoh" in capsys.readouterr().out


def test_demo_command_refuses_to_mix_demo_into_a_store_with_real_data(db_url, real_file, capsys):
    assert data_cli(["import", str(real_file), "--db", db_url]) == 0
    capsys.readouterr()
    code = data_cli(["demo", "--complaints", "100", "--db", db_url])
    err = capsys.readouterr().err
    assert code != 0 and "data nyata" in err and "Traceback" not in err
    store = make_store(db_url)
    try:
        assert not store.has_demo_data()
    finally:
        store.dispose()


# --- the demo source's name is not for real data ------------------------------------------------
@pytest.mark.parametrize("name", ["demo", "Demo", " demo "])
def test_import_with_the_demo_source_name_is_refused(demo_url, real_file, capsys, name):
    code = data_cli(["import", str(real_file), "--source", name, "--db", demo_url])
    err = capsys.readouterr().err
    assert code != 0
    assert "data contoh" in err and "Traceback" not in err
    store = make_store(demo_url)
    try:
        assert store.demo_complaint_count() == DEMO_N  # nothing read, nothing removed
        assert store.execute("SELECT COUNT(*) FROM complaints WHERE tracking_id LIKE 'REAL-%'").scalar() == 0
    finally:
        store.dispose()


def test_app_upload_with_the_demo_source_name_is_refused(sqlite_store):
    upload = io.BytesIO(CANONICAL_CSV.encode())
    with pytest.raises(SourceRefused, match="data contoh"):
        import_file(sqlite_store, upload, filename="aduan.csv", source="demo")
    assert not sqlite_store.has_complaints()
    assert sqlite_store.source_row("demo") is None


# --- "Data contoh" whenever a demo complaint is counted -----------------------------------------
def test_documents_say_data_contoh_whenever_any_demo_complaint_is_counted(sqlite_store):
    """A store written to before this rule (demo and real side by side): not only demo data,
    but demo complaints are counted, so the PDF and the message are labelled."""
    load_demo(sqlite_store, n=300, seed=3, until=date(2026, 3, 31))
    load(sqlite_store, [{
        "tracking_id": "REAL-1", "submitted_at": wita("2026-01-05T09:00:00"), "status": "proses",
        "opd": "Dinas PUPR", "disposed_at": wita("2026-01-05T15:00:00"),
    }], source="nyata")
    assert not sqlite_store.only_demo_data() and sqlite_store.has_demo_data()
    filters = Filters(date(2026, 1, 1), date(2026, 3, 31), datetime.fromisoformat(AS_OF))
    assert "[Data contoh]" in whatsapp_summary(sqlite_store, filters).split("\n")[0]
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(build_briefing_pdf(sqlite_store, filters)))
    assert all("DATA CONTOH" in page.extract_text() for page in pdf.pages)
    sqlite_store.remove_demo_data()
    assert "Data contoh" not in whatsapp_summary(sqlite_store, filters)
    pdf = PdfReader(io.BytesIO(build_briefing_pdf(sqlite_store, filters)))
    assert not any("DATA CONTOH" in page.extract_text() for page in pdf.pages)
