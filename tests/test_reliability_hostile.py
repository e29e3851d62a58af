"""Hostile input never crashes the importer, the sync or the figures (issue 9, item 4).

Oversized uploads, an XLSX zip bomb, a CSV with a million columns or a 100 MB line, huge and
deeply nested JSON from an API, SQL-looking strings in filters, and Unicode, right-to-left
text and emoji in OPD names: each is refused with a clear Indonesian message or handled with
bounded memory. The command-line cases run `python -m data_sources` in a real subprocess and
read its peak memory from the kernel (the child's VmHWM), so "bounded" is measured, not assumed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from data_sources import readers
from data_sources.importer import import_file, list_quarantine, quarantine_count
from data_sources.readers import UnreadableFile
from data_sources.sync import sync_source
from metrics import kpi
from metrics.filters import Filters
from tests.conftest import ROOT, make_store
from tests.http_fixture import FaultServer, Reply
from ui import components
from ui import filters as ui_filters

MB = 1024 * 1024
HEADER = "tracking_id,submitted_at,status,opd,disposed_at,rating,title\n"


def _row(i: int, **changes: str) -> str:
    values = {
        "tracking_id": str(7_000_000 + i),
        "submitted_at": "2026-01-05T09:00:00+08:00",
        "status": "proses",
        "opd": "Dinas Kesehatan",
        "disposed_at": "2026-01-06T09:00:00+08:00",
        "rating": "",
        "title": f"aduan {i}",
    }
    values.update(changes)
    return ",".join(values.values()) + "\n"


def _run_cli(args: list[str], secrets: Path, tmp_path: Path) -> tuple[int, str, str, float]:
    """Run `python -m data_sources ARGS`; returns (exit status, stdout, stderr, peak RSS in MB)."""
    out, err, peak = tmp_path / "cli.out", tmp_path / "cli.err", tmp_path / "cli.peak"
    env = {**os.environ, "DASHBOARD_SECRETS": str(secrets)}
    env.pop("COMPLAINTS_DB_URL", None)
    # The child's own high-water mark (VmHWM of its process image). ru_maxrss is not used: after a
    # fork it also counts the pytest worker's memory copied before exec, whatever ran before.
    runner = (
        "import atexit, runpy, sys\n"
        "def _peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        f"            open({str(peak)!r}, 'w').write(line.split()[1])\n"
        "atexit.register(_peak)\n"
        "sys.argv = ['data_sources', *sys.argv[1:]]\n"
        "runpy.run_module('data_sources', run_name='__main__', alter_sys=True)\n"
    )
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.run([sys.executable, "-c", runner, *args], cwd=ROOT, env=env,
                                 stdout=stdout, stderr=stderr, timeout=600)
    peak_mb = int(peak.read_text()) / 1024 if peak.exists() else float("nan")
    return process.returncode, out.read_text(), err.read_text(), peak_mb


def _secrets(tmp_path: Path, max_upload_mb: int = 50) -> Path:
    """Settings with both size limits (app upload and server import) at `max_upload_mb`."""
    path = tmp_path / "secrets.toml"
    path.write_text(f"[app]\nmax_upload_mb = {max_upload_mb}\nmax_import_mb = {max_upload_mb}\n")
    return path


def _counts(url: str) -> tuple[int, int]:
    store = make_store(url)
    try:
        return int(store.execute("SELECT COUNT(*) FROM complaints").scalar()), quarantine_count(store)
    finally:
        store.dispose()


# --- files -----------------------------------------------------------------------------------
def test_file_over_the_upload_limit_is_refused_with_a_clear_message(tmp_path, sqlite_url):
    big = tmp_path / "besar.csv"
    with big.open("w") as fh:
        fh.write(HEADER)
        for i in range(25_000):  # about 2 MB
            fh.write(_row(i))
    code, _, err, _ = _run_cli(["import", str(big), "--db", sqlite_url], _secrets(tmp_path, 1), tmp_path)
    assert code == 1
    assert "terlalu besar" in err and "batasnya 1 MB" in err and "max_import_mb" in err
    assert "Traceback" not in err
    assert _counts(sqlite_url) == (0, 0)


def test_a_server_import_is_held_to_max_import_mb_not_the_upload_limit(tmp_path, sqlite_url):
    big = tmp_path / "besar.csv"
    with big.open("w") as fh:
        fh.write(HEADER)
        for i in range(25_000):  # about 2 MB: over a 1 MB upload limit, under the import limit
            fh.write(_row(i))
    secrets = tmp_path / "limits.toml"
    secrets.write_text("[app]\nmax_upload_mb = 1\nmax_import_mb = 10\n")
    code, _, err, _ = _run_cli(["import", str(big), "--db", sqlite_url], secrets, tmp_path)
    assert code == 0, err
    assert _counts(sqlite_url)[0] == 25_000


def test_upload_over_the_limit_is_refused_before_it_is_read(sqlite_store):
    settings = sqlite_store.settings
    too_big = io.BytesIO((HEADER + _row(1)).encode() + b" " * (settings.max_upload_mb * MB + 1))
    with pytest.raises(UnreadableFile, match="terlalu besar"):
        import_file(sqlite_store, too_big, filename="unggahan.csv")
    assert too_big.tell() == 0  # refused on its size: not a byte was read
    assert not sqlite_store.has_complaints()


def _workbook_parts() -> dict[str, bytes]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tracking_id", "submitted_at", "status"])
    sheet.append(["1", "2026-01-05T09:00:00+08:00", "proses"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip_bomb(path: Path, inflated_mb: int) -> None:
    """A real workbook whose shared-strings part inflates to `inflated_mb` MB (openpyxl loads
    that part whole, even in read-only mode)."""
    parts = _workbook_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                       b'spreadsheetml/2006/main">')
            # Millions of tiny strings: each becomes a Python object of ~60 bytes when loaded.
            block = b"<si><t>AB</t></si>" * 4096
            for _ in range(inflated_mb * MB // len(block)):
                part.write(block)
            part.write(b"</sst>")


def test_xlsx_zip_bomb_is_refused_from_its_zip_directory_without_inflating_it(tmp_path, sqlite_url):
    bomb = tmp_path / "bom.xlsx"
    _zip_bomb(bomb, inflated_mb=200)
    assert bomb.stat().st_size < 2 * MB
    started = time.monotonic()
    code, _, err, peak_mb = _run_cli(["import", str(bomb), "--db", sqlite_url], _secrets(tmp_path), tmp_path)
    assert code == 1
    assert "bukan tabel yang dapat dipakai" in err and "sharedStrings.xml" in err
    assert "Traceback" not in err
    assert _counts(sqlite_url) == (0, 0)  # nothing stored, nothing quarantined
    assert peak_mb < 400, f"the refused bomb still cost {peak_mb:.0f} MB"
    assert time.monotonic() - started < 30


def test_xlsx_declaring_more_than_the_uncompressed_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "besar.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _workbook_parts().items():
            archive.writestr(name, content)
    monkeypatch.setattr(readers, "XLSX_MAX_UNCOMPRESSED", 1024)  # the real limit is 2 GB
    with pytest.raises(UnreadableFile, match="bukan tabel yang dapat dipakai.*mengembang"):
        readers.open_table(path)


def test_csv_with_a_million_columns_is_refused_with_bounded_memory(tmp_path, sqlite_url):
    wide = tmp_path / "lebar.csv"
    with wide.open("w") as fh:
        fh.write("tracking_id,submitted_at,status," + ",".join(f"k{i}" for i in range(1_000_000)) + "\n")
        for i in range(3):
            fh.write(f"{i},2026-01-05,proses" + "," * 999_999 + "x\n")
    code, _, err, peak_mb = _run_cli(["import", str(wide), "--db", sqlite_url], _secrets(tmp_path), tmp_path)
    assert code == 1
    assert "1,000,003 sel, paling banyak 1,000" in err
    assert "Traceback" not in err
    assert _counts(sqlite_url) == (0, 0)
    assert peak_mb < 700, f"a refused wide file cost {peak_mb:.0f} MB"


def test_csv_with_a_100_mb_line_sets_that_line_aside_and_keeps_the_rest(tmp_path, sqlite_url):
    path = tmp_path / "baris_panjang.csv"
    with path.open("w") as fh:
        fh.write(HEADER)  # line 1
        fh.write(_row(1))  # line 2
        fh.write(_row(2, title="x" * (100 * MB)))  # line 3: one 100 MB line
        fh.write(_row(3))  # line 4
        fh.write(_row(4, rating="9"))  # line 5: a rule broken, quarantined with its exact line
    code, out, err, peak_mb = _run_cli(["import", str(path), "--db", sqlite_url], _secrets(tmp_path, 200),
                                       tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    assert "Baris dibaca (rows read):          4" in out
    assert _counts(sqlite_url) == (2, 2)
    store = make_store(sqlite_url)
    rows = list_quarantine(store).sort_values("record_no")
    store.dispose()
    assert rows["record_no"].tolist() == [3, 5]
    assert "lebih dari" in rows["reason"].iloc[0]
    assert peak_mb < 600, f"a 100 MB line cost {peak_mb:.0f} MB"


# --- API answers ---------------------------------------------------------------------------
def _lapor_config(server: FaultServer, **changes) -> dict:
    config = {"kind": "lapor-api", "base_url": f"{server.url}/api", "token": "t", "timeout_seconds": 5,
              "max_retries": 2, "backoff_seconds": 0.01}
    config.update(changes)
    return config


def test_api_answer_over_the_size_limit_fails_the_run_clearly_without_retrying(sqlite_store):
    huge = {"data": [{"tracking_id": str(i), "body": "x" * 1000} for i in range(3000)], "next_page": None}
    with FaultServer(lambda request: Reply(body=huge)) as server:
        report = sync_source(sqlite_store, "lapor", _lapor_config(server, max_response_mb=1))
        assert len(server.requests) == 1  # a bigger answer will not come smaller: no retry
    assert not report.ok
    assert "lebih dari 1 MB" in report.error
    assert not sqlite_store.has_complaints()
    assert sqlite_store.source_row("lapor")["watermark"] is None


def test_deeply_nested_api_json_is_refused_before_parsing(sqlite_store):
    depth = 200_000
    body = '{"data": [' + '{"a":[' * depth + "1" + "]}" * depth + "]}"
    with FaultServer(lambda request: Reply(body=body)) as server:
        report = sync_source(sqlite_store, "lapor", _lapor_config(server))
        assert len(server.requests) == 1
    assert not report.ok
    assert "bersarang" in report.error and "RecursionError" not in report.error
    assert not sqlite_store.has_complaints()


def test_json_nesting_is_measured_outside_strings():
    from data_sources.sync.http import json_depth

    assert json_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth("[]") == 1
    assert json_depth('"no brackets"') == 0


# --- filters and names ---------------------------------------------------------------------
SQLISH = ("' OR 1=1 --", "'; DROP TABLE complaints; --", "\" OR \"\"=\"", "%", "_", "\x00", "1; SELECT *")


def _records(opds: list[str], per_opd: int = 6) -> pd.DataFrame:
    rows = []
    for n, opd in enumerate(opds):
        for i in range(per_opd):
            rows.append({
                "tracking_id": f"{n}-{i}",
                "submitted_at": pd.Timestamp("2026-01-05 01:00", tz="UTC") + pd.Timedelta(hours=i),
                "status": "selesai",
                "opd": opd,
                "disposed_at": pd.Timestamp("2026-01-05 03:00", tz="UTC"),
                "first_response_at": pd.Timestamp("2026-01-06 03:00", tz="UTC"),
                "closed_at": pd.Timestamp("2026-01-07 03:00", tz="UTC"),
                "title": f"{opd} — judul 🚧",
            })
    return pd.DataFrame(rows)


def _january(**slices) -> Filters:
    return Filters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31),
                   as_of=datetime(2026, 2, 1, tzinfo=UTC), **slices)


def test_sql_looking_filter_values_match_nothing_and_harm_nothing(store):
    source = store.ensure_source("berkas", "canonical")
    store.write_complaints(source, _records(["Dinas Kesehatan"]), run_id=None, observed_at=datetime.now(UTC))
    for value in SQLISH:
        for field in ("opds", "categories", "kecamatan", "channels"):
            table = kpi.opd_table(store, _january(**{field: (value,)}), store.settings)
            total = table[table["opd"] == "TOTAL"].iloc[0]
            assert total["received"] == 0, (field, value)
    assert int(store.execute("SELECT COUNT(*) FROM complaints").scalar()) == 6


def test_junk_query_parameters_fall_back_to_default_filters():
    junk = {"periode": "' OR 1=1 --", "dari": "garbage", "sampai": "<script>", "asof": "<script>alert(1)</script>",
            "f_opd": ["' OR 1=1 --", "\u202e"]}
    choice = ui_filters.choice_from_params(junk, "Asia/Makassar")
    assert choice.preset == ui_filters.DEFAULT_PRESET
    assert choice.date_from is None and choice.date_to is None and choice.as_of is None


UNICODE_OPDS = [
    "دائرة الصحة",  # Arabic, right to left
    "Dinas 🏥 Kesehatan 👩🏽‍⚕️",  # emoji with a skin tone and zero-width joiners
    "\u202eDinas Terbalik\u202c",  # a right-to-left override
    "Dinas <script>alert(1)</script>",
    "Ṡẗṙäṅġë Ｕｎｉｃｏｄｅ",
]


def test_unicode_rtl_and_emoji_opd_names_round_trip_into_the_figures(store):
    source = store.ensure_source("berkas", "canonical")
    store.write_complaints(source, _records(UNICODE_OPDS), run_id=None, observed_at=datetime.now(UTC))
    table = kpi.opd_table(store, _january(), store.settings)
    assert set(UNICODE_OPDS) <= set(table["opd"])
    assert table[table["opd"] == "TOTAL"].iloc[0]["received"] == 6 * len(UNICODE_OPDS)
    one = kpi.opd_table(store, _january(opds=(UNICODE_OPDS[1],)), store.settings)
    assert one[one["opd"] == "TOTAL"].iloc[0]["received"] == 6
    titles = {r[0] for r in store.execute("SELECT title FROM complaints").rows}
    assert f"{UNICODE_OPDS[0]} — judul 🚧" in titles


def test_unicode_opd_names_import_from_a_file_and_show_escaped(sqlite_store, tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_text(HEADER + "".join(_row(i, opd=name) for i, name in enumerate(UNICODE_OPDS)), encoding="utf-8")
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (5, 5, 0)
    stored = {r[0] for r in sqlite_store.execute("SELECT opd FROM complaints").rows}
    assert set(UNICODE_OPDS) <= stored
    html = components.ranked_list_html([components.ListRow(name=UNICODE_OPDS[3], value="1")])
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_quarantined_junk_row_keeps_its_text_as_json(sqlite_store, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_text(HEADER + _row(1, status="\u202e💥 '; DROP TABLE x; --"), encoding="utf-8")
    report = import_file(sqlite_store, path)
    assert (report.rows_stored, report.rows_quarantined) == (0, 1)
    raw = sqlite_store.execute("SELECT raw FROM quarantine").scalar()
    assert json.loads(raw)["status"] == "\u202e💥 '; DROP TABLE x; --"


# --- XLSX bounded by its real content (issue 14, item 2) -------------------------------------
def _sparse_workbook(path: Path, last_row: int) -> None:
    """A workbook with a header, one row, and one more row numbered `last_row` (past Excel's
    1,048,576 rows: openpyxl will not write it, so the sheet's XML is renumbered)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tracking_id", "submitted_at", "status"])
    sheet.append(["1", "2026-01-05T09:00:00+08:00", "proses"])
    for column, value in enumerate(["2", "2026-01-06T09:00:00+08:00", "selesai"], start=1):
        sheet.cell(row=9999, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = "xl/worksheets/sheet1.xml"
    assert parts[name].count(b'9999"') == 5  # the dimension, the row and its three cells
    parts[name] = parts[name].replace(b'9999"', f'{last_row}"'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            archive.writestr(part, content)


def test_xlsx_whose_last_row_is_numbered_3_000_000_reads_only_its_rows(tmp_path, sqlite_url):
    path = tmp_path / "jarang.xlsx"
    _sparse_workbook(path, 3_000_000)
    assert path.stat().st_size < 10 * 1024
    # The reading itself, timed alone (the command's start-up dominates on a busy machine):
    # openpyxl's padded rows took 13 s here at load average 13, 151 s on a slower machine.
    started = time.monotonic()
    table = readers.open_table(path)
    numbers = [n for chunk in table.chunks for n in chunk.record_numbers]
    elapsed = time.monotonic() - started
    assert numbers == [2, 3_000_000]
    assert elapsed < 3, f"reading 2 rows took {elapsed:.1f} s"
    code, out, err, peak_mb = _run_cli(["import", str(path), "--db", sqlite_url], _secrets(tmp_path), tmp_path)
    assert code == 0, err
    assert "Baris dibaca (rows read):          2" in out
    assert _counts(sqlite_url) == (2, 0)
    assert peak_mb < 300, f"2 rows cost {peak_mb:.0f} MB"
    print(f"sparse xlsx (last row 3,000,000): read in {elapsed:.2f} s, CLI peak {peak_mb:.0f} MB")


def _shared_strings_workbook(path: Path, strings_mb: int) -> None:
    """A real workbook whose shared-strings part holds `strings_mb` MB of random text: it
    compresses only about twice, so neither the ratio nor the total size limit refuses it."""
    parts = _workbook_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                       b'spreadsheetml/2006/main">')
            written = 0
            while written < strings_mb * MB:
                block = b"".join(b"<si><t>" + os.urandom(24).hex().encode() + b"</t></si>" for _ in range(4096))
                part.write(block)
                written += len(block)
            part.write(b"</sst>")


def test_xlsx_shared_strings_over_the_budget_are_refused_before_loading(tmp_path, sqlite_url):
    path = tmp_path / "teks.xlsx"
    _shared_strings_workbook(path, 110)
    assert path.stat().st_size < 80 * MB
    started = time.monotonic()
    code, _, err, peak_mb = _run_cli(["import", str(path), "--db", sqlite_url], _secrets(tmp_path, 200), tmp_path)
    elapsed = time.monotonic() - started
    assert code == 1
    assert "teks bersama XLSX" in err and "batasnya 100 MB" in err and "CSV" in err
    assert "Traceback" not in err
    assert _counts(sqlite_url) == (0, 0)
    assert peak_mb < 250, f"the refused workbook still cost {peak_mb:.0f} MB"
    assert elapsed < 60  # refused from the zip directory: the command's start-up, nothing more
    print(f"xlsx with 110 MB of shared strings refused: {elapsed:.1f} s, peak {peak_mb:.0f} MB")


def test_xlsx_declared_dimension_is_ignored(tmp_path, sqlite_store):
    parts = _workbook_parts()
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert b'<dimension ref="A1:C2"' in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:XFD3"')
    path = tmp_path / "dimensi.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (1, 1, 0)
