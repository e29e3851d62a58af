"""`python -m metrics report` as DATA.md specifies it: flags, formats, columns, nulls, errors."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from datetime import date

import pytest
from conftest import ROOT, make_store
from openpyxl import load_workbook
from test_kpi_reference import load, wita

from metrics.__main__ import main, parse_instant
from metrics.backlog import BACKLOG_COLUMNS, backlog_counts
from metrics.export import neutralise_cell
from metrics.filters import Filters
from metrics.kpi import KPI_COLUMNS, opd_table

HEADER = ["opd", *KPI_COLUMNS, *BACKLOG_COLUMNS]
ARGS = ["report", "--from", "2025-12-01", "--to", "2025-12-31", "--as-of", "2026-01-31T12:00:00+08:00"]


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    store = make_store(url)
    base = {"submitted_at": wita("2025-12-18T09:00:00"), "disposed_at": wita("2025-12-19T15:00:00"),
            "classification": "pengaduan", "reporter_name": "Nama Pelapor Rahasia"}
    records = [
        {**base, "tracking_id": f"A{i}", "opd": "Dinas PUPR", "status": "selesai",
         "first_response_at": wita("2025-12-22T10:00:00"), "closed_at": wita("2025-12-29T10:00:00"),
         "rating": 4}
        for i in range(5)
    ] + [
        {**base, "tracking_id": f"B{i}", "opd": "=HYPERLINK(\"x\")", "status": "proses",
         "first_response_at": wita("2025-12-31T10:00:00")}
        for i in range(2)
    ] + [{**base, "tracking_id": "C", "opd": "Dinas Sosial", "status": "menunggu_tindak_lanjut"}]
    load(store, records)
    store.dispose()
    return url


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_to_stdout_has_opd_then_kpi_columns_one_row_per_opd_and_total(db, capsys):
    code, out, _ = run([*ARGS, "--db", db], capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["Dinas PUPR", "'=HYPERLINK(\"x\")", "Dinas Sosial", "TOTAL"]


def test_csv_numbers_are_unrounded_and_null_is_an_empty_cell(db, capsys):
    _, out, _ = run([*ARGS, "--db", db], capsys)
    rows = {r["opd"]: r for r in csv.DictReader(io.StringIO(out))}
    total = rows["TOTAL"]
    assert float(total["completion_pct"]) == 100 * 5 / 8
    assert total["completion_pct"] == repr(100 * 5 / 8)  # 62.5 exactly, no rounding applied
    assert float(total["response_on_time_pct"]) == pytest.approx(100 * 5 / 8)
    assert total["rank"] == ""
    assert rows["Dinas Sosial"]["median_response_hours"] == ""
    assert rows["Dinas Sosial"]["accuracy_pct"] == ""
    assert rows["Dinas PUPR"]["received"] == "5"  # counts as integers


def test_report_equals_opd_table(db, capsys):
    _, out, _ = run([*ARGS, "--db", db], capsys)
    store = make_store(db)
    try:
        table = opd_table(store, Filters(date(2025, 12, 1), date(2025, 12, 31),
                                         parse_instant("2026-01-31T12:00:00+08:00", "Asia/Makassar")))
    finally:
        store.dispose()
    rows = list(csv.DictReader(io.StringIO(out)))
    for row, expected in zip(rows, table.to_dict("records"), strict=True):
        score = expected["score"]
        assert (row["score"] == "" and math.isnan(score)) or float(row["score"]) == score


def test_json_format_is_an_array_of_rows_with_null(db, capsys, tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run([*ARGS, "--db", db, "--format", "json", "--output", str(target)], capsys)
    assert code == 0 and out == ""
    rows = json.loads(target.read_text())
    assert list(rows[0]) == HEADER
    assert rows[-1]["opd"] == "TOTAL" and rows[-1]["rank"] is None
    assert rows[-1]["received"] == 8 and isinstance(rows[-1]["received"], int)
    sosial = next(r for r in rows if r["opd"] == "Dinas Sosial")
    assert sosial["median_response_hours"] is None


def test_xlsx_is_a_presentable_workbook_with_a_settings_sheet(db, capsys, tmp_path):
    target = tmp_path / "report.xlsx"
    code, _, _ = run([*ARGS, "--db", db, "--format", "xlsx", "--output", str(target)], capsys)
    assert code == 0
    book = load_workbook(target)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet[1][0].font.bold and sheet[1][0].fill.fgColor.rgb.endswith("1F4E78")
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["A"].width >= 12
    column = {name: i for i, name in enumerate(HEADER)}
    total = [c for c in sheet[sheet.max_row]]
    assert total[0].value == "TOTAL"
    assert total[column["completion_pct"]].value == 62.5
    assert total[column["completion_pct"]].number_format == '0.0"%"'
    assert total[column["received"]].number_format == "#,##0"
    assert total[column["rank"]].value is None
    pupr = sheet[2]
    assert pupr[0].value == "Dinas PUPR" and pupr[column["grade"]].value == "baik"
    assert pupr[column["grade"]].fill.fgColor.rgb.endswith("C6EFCE")
    assert sheet[3][0].value.startswith("'=")  # formula neutralised
    info = {row[0].value: row[1].value for row in book.worksheets[1].iter_rows(min_row=2)}
    assert info["period_from"] == "2025-12-01" and info["period_to"] == "2025-12-31"
    assert info["as_of"] == "2026-01-31T04:00:00+00:00"
    assert info["response_days"] == "5" and info["min_volume"] == "5"
    assert "awaiting_verification" in info


def test_as_of_with_plus0700_z_and_no_offset_give_the_same_report(db, capsys):
    outputs = []
    for as_of in ("2026-01-31T11:00:00+07:00", "2026-01-31T04:00:00Z", "2026-01-31T12:00:00"):
        _, out, _ = run([*ARGS[:-2], "--as-of", as_of, "--db", db], capsys)
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]


def test_reporter_name_never_appears_in_any_export(db, capsys, tmp_path):
    _, out, _ = run([*ARGS, "--db", db], capsys)
    target = tmp_path / "r.json"
    run([*ARGS, "--db", db, "--format", "json", "--output", str(target)], capsys)
    assert "Rahasia" not in out and "Rahasia" not in target.read_text()


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+62811", "'+62811"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("  =cmd", "'  =cmd"), ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"), ("Dinas", "Dinas"), (5, 5),
])
def test_export_neutralises_cells_starting_with_formula_characters(value, expected):
    assert neutralise_cell(value) == expected


@pytest.mark.parametrize("extra, message", [
    (["--as-of", "kemarin"], "--as-of"),
    (["--format", "xlsx"], "--output"),
])
def test_bad_arguments_print_a_clear_error_and_exit_non_zero(db, capsys, extra, message):
    code, _, err = run([*ARGS[:-2], *extra, "--db", db], capsys)
    assert code != 0 and message in err and "Traceback" not in err


def test_to_before_from_is_an_error(db, capsys):
    code, _, err = run(["report", "--from", "2025-12-31", "--to", "2025-12-01", "--db", db], capsys)
    assert code == 1 and "before" in err


def test_missing_database_is_a_clear_error_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "metrics", *ARGS, "--db", f"sqlite:///{tmp_path / 'none.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "no database" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_report_command_runs_as_a_module(db):
    result = subprocess.run(
        [sys.executable, "-m", "metrics", *ARGS, "--db", db],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(HEADER)
    assert result.stdout.splitlines()[-1].startswith("TOTAL,8,")


# --- the backlog columns (KPI.md "The backlog") ------------------------------------------------
def _add_old_late_complaint(db: str, opd: str = "Dinas Kesehatan") -> None:
    store = make_store(db)
    load(store, [{
        "tracking_id": "OLD-1", "opd": opd, "status": "menunggu_tindak_lanjut",
        "submitted_at": wita("2025-06-02T09:00:00"), "disposed_at": wita("2025-06-03T09:00:00"),
    }], source="older")
    store.dispose()


def test_report_ends_with_the_backlog_columns_in_csv_json_and_xlsx(db, capsys, tmp_path):
    _, out, _ = run([*ARGS, "--db", db], capsys)
    assert next(csv.reader(io.StringIO(out)))[-3:] == BACKLOG_COLUMNS
    run([*ARGS, "--db", db, "--format", "json", "--output", str(tmp_path / "r.json")], capsys)
    assert list(json.loads((tmp_path / "r.json").read_text())[0])[-3:] == BACKLOG_COLUMNS
    run([*ARGS, "--db", db, "--format", "xlsx", "--output", str(tmp_path / "r.xlsx")], capsys)
    sheet = load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert [c.value for c in sheet[1]][-3:] == BACKLOG_COLUMNS
    assert sheet[sheet.max_row][len(HEADER) - 1].number_format == "#,##0"


def test_report_backlog_columns_equal_backlog_counts(db, capsys):
    _add_old_late_complaint(db)
    _, out, _ = run([*ARGS, "--db", db], capsys)
    rows = {r["opd"]: r for r in csv.DictReader(io.StringIO(out))}
    store = make_store(db)
    try:
        as_of = parse_instant("2026-01-31T12:00:00+08:00", "Asia/Makassar")
        counts = backlog_counts(store, Filters(date(2025, 12, 1), date(2025, 12, 31), as_of))
    finally:
        store.dispose()
    for expected in counts.to_dict("records"):
        row = rows[neutralise_cell(expected["opd"])]
        assert [int(row[c]) for c in BACKLOG_COLUMNS] == [expected[c] for c in BACKLOG_COLUMNS]
    assert [int(rows["TOTAL"][c]) for c in BACKLOG_COLUMNS] == [4, 4, 0]
    assert rows["Dinas PUPR"]["backlog_open"] == "0"  # all five closed


def test_report_lists_an_opd_whose_only_complaints_are_old_and_late_with_received_0(db, capsys):
    _add_old_late_complaint(db)
    _, out, _ = run([*ARGS, "--db", db], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["opd"] for r in rows] == [
        "Dinas PUPR", "'=HYPERLINK(\"x\")", "Dinas Kesehatan", "Dinas Sosial", "TOTAL",
    ]
    old = rows[2]
    assert old["received"] == "0" and old["open"] == "0" and old["overdue"] == "0"
    for empty in ("response_on_time_pct", "completion_pct", "accuracy_pct", "median_response_hours",
                  "mean_rating", "redisposed_pct", "score", "rank", "grade"):
        assert old[empty] == "", empty
    assert (old["backlog_open"], old["backlog_overdue"]) == ("1", "1")
    assert rows[-1]["received"] == "8"  # the period's TOTAL is untouched by the old complaint


def test_report_for_an_opd_viewer_shows_its_backlog_only_row(db):
    from metrics.export import report_table
    from metrics.filters import Scope

    _add_old_late_complaint(db)
    store = make_store(db)
    try:
        as_of = parse_instant("2026-01-31T12:00:00+08:00", "Asia/Makassar")
        filters = Filters(date(2025, 12, 1), date(2025, 12, 31), as_of,
                          scope=Scope(opd="Dinas Kesehatan"))
        table = report_table(store, filters)
    finally:
        store.dispose()
    assert table["opd"].tolist() == ["Dinas Kesehatan", "TOTAL"]
    assert table.iloc[-1]["backlog_open"] == 1
