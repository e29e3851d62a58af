"""Writing the KPI table as CSV, JSON or a presentable Excel workbook (the report command's output).

Machine outputs carry unrounded numbers and empty cells (CSV), null (JSON) or blank cells
(Excel) for empty figures. Text cells that a spreadsheet could read as a formula are
neutralised (DATA.md "What may be shown").
"""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

import pandas as pd

from core.settings import KpiSettings, Settings
from metrics.backlog import BACKLOG_COLUMNS, backlog_counts
from metrics.filters import Filters
from metrics.kpi import COUNT_COLUMNS, KPI_COLUMNS, SQL_COUNTS, TOTAL, derive_figures, opd_table

FORMATS = ("csv", "json", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width ＝＋－＠
PERCENT_FORMAT = '0.0"%"'  # values are 0-100, shown with a percent sign, never multiplied
HOURS_FORMAT = "0.0"
RATING_FORMAT = "0.00"
SCORE_FORMAT = "0.0"
COUNT_FORMAT = "#,##0"
GRADE_FILLS = {"baik": "C6EFCE", "cukup": "FFEB9C", "perlu_perhatian": "FFC7CE"}
GRADE_FONTS = {"baik": "006100", "cukup": "9C5700", "perlu_perhatian": "9C0006"}
HEADER_FILL = "1F4E78"


def neutralise_cell(value: Any) -> Any:
    """Prefix `'` to a string a spreadsheet would read as a formula (also after leading blanks:
    spaces, tabs, line breaks, and any other Unicode space, such as the full-width one)."""
    if isinstance(value, str) and value.lstrip().startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any) -> Any:
    """A cell as a plain Python value: None for null, int for integral counts, float, str."""
    if _is_null(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return value


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain values, columns in the table's order."""
    columns = list(table.columns)
    return [
        {name: _plain(value) for name, value in zip(columns, row, strict=True)}
        for row in table.itertuples(index=False, name=None)
    ]


def report_columns() -> list[str]:
    """The report's columns (DATA.md): `opd`, KPI.md's per-OPD columns, then the backlog's."""
    return ["opd", *KPI_COLUMNS, *BACKLOG_COLUMNS]


def _empty_cohort_rows(names: list[str], kpi: KpiSettings) -> pd.DataFrame:
    """KPI.md's figures of OPDs with no complaint in the cohort: counts 0, the rest empty."""
    zeros = pd.DataFrame({"opd": pd.Series(names, dtype=object)})
    for name in SQL_COUNTS:
        zeros[name] = pd.Series([0] * len(names), dtype="int64")
    rows = derive_figures(zeros, kpi)
    for name in KPI_COLUMNS:
        if name not in rows.columns:
            rows[name] = 0 if name in COUNT_COLUMNS else None
    rows["rank"] = pd.array([pd.NA] * len(names), dtype="Int64")
    return rows[["opd", *KPI_COLUMNS]]


def report_table(store: Any, filters: Filters, settings: Settings | None = None) -> pd.DataFrame:
    """The report command's table: `metrics.kpi.opd_table` with the backlog columns appended.

    One row per OPD with a complaint in the period's cohort or in the backlog (KPI.md "The
    backlog"): an OPD whose only complaints are old and still late has `received` 0 and KPI.md's
    empty figures. Ranked OPDs first by rank, then the unranked by name, then TOTAL, whose
    backlog columns are `backlog_counts`' TOTAL.
    """
    settings = settings or store.settings
    table = opd_table(store, filters, settings)
    backlog = backlog_counts(store, filters, settings)
    body, total = table.iloc[:-1], table.iloc[[-1]]
    known = set(body["opd"])
    missing = [name for name in backlog["opd"].iloc[:-1] if name not in known]
    if missing:
        extra = _empty_cohort_rows(missing, settings.kpi)
        ranked = body[body["rank"].notna()]
        unranked = pd.concat([body[body["rank"].isna()], extra], ignore_index=True)
        unranked = unranked.sort_values("opd", kind="mergesort")
        body = pd.concat([ranked, unranked], ignore_index=True)
    out = pd.concat([body, total], ignore_index=True)
    figures = backlog.set_index("opd")
    for name in BACKLOG_COLUMNS:
        out[name] = out["opd"].map(figures[name]).fillna(0).astype("int64")
    for name in COUNT_COLUMNS:
        out[name] = out[name].astype("int64")
    out["rank"] = out["rank"].astype("Int64")
    return out[report_columns()]


def _csv_text(table: pd.DataFrame) -> str:
    safe = table.copy()
    for name in safe.columns:
        if safe[name].dtype == object or pd.api.types.is_string_dtype(safe[name].dtype):
            safe[name] = safe[name].map(neutralise_cell)
    buffer = io.StringIO()
    # Default float formatting is the shortest repr that round-trips: unrounded.
    safe.to_csv(buffer, index=False, na_rep="", lineterminator="\n")
    return buffer.getvalue()


def _json_text(table: pd.DataFrame) -> str:
    return json.dumps(table_records(table), ensure_ascii=False, indent=2) + "\n"


def _emit(text: str, output: str | Path | IO[str] | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
    elif hasattr(output, "write"):
        output.write(text)  # type: ignore[union-attr]
    else:
        Path(output).write_text(text, encoding="utf-8")


def write_report(
    table: pd.DataFrame,
    fmt: str,
    output: str | Path | IO[str] | None,
    filters: Filters,
    settings: Settings,
    admin: dict[str, Any] | None = None,
    *,
    scorecard: bool = False,
) -> None:
    """Write the report table (`report_table`, or a bare `opd_table`) as csv/json (to `output`,
    stdout if None) or xlsx.

    `output` is a path or an open file (text for csv/json, binary for xlsx).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        _emit(_csv_text(table), output)
    elif fmt == "json":
        _emit(_json_text(table), output)
    else:
        if output is None or output == "-":
            raise ValueError("an xlsx report needs --output FILE.xlsx")
        target = output if hasattr(output, "write") else Path(output)  # a path or a binary file
        write_workbook(table, target, filters, settings, admin, scorecard=scorecard)


def _number_format(column: str) -> str | None:
    if column.endswith("_pct"):
        return PERCENT_FORMAT
    if column in COUNT_COLUMNS or column in BACKLOG_COLUMNS or column == "rank":
        return COUNT_FORMAT
    if column == "median_response_hours":
        return HOURS_FORMAT
    if column == "mean_rating":
        return RATING_FORMAT
    if column == "score":
        return SCORE_FORMAT
    return None


def write_workbook(
    table: pd.DataFrame,
    path: Path | IO[bytes],
    filters: Filters,
    settings: Settings,
    admin: dict[str, Any] | None = None,
    *,
    scorecard: bool = False,
) -> None:
    """A presentable workbook: styled frozen header, number formats, grade colours, settings sheet.

    With `scorecard` (the app's "Unduh scorecard Excel"), a first sheet for people comes before
    the machine sheet: Indonesian headers, grade labels, and the unranked OPDs said in words."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Laporan KPI"
    columns = [name for name in report_columns() if name in table.columns]
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    thin = Side(style="thin", color="BFBFBF")
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=thin)
    sheet.row_dimensions[1].height = 32

    grade_col = columns.index("grade") + 1
    for record in table_records(table[columns]):
        sheet.append([neutralise_cell(record[name]) for name in columns])
        row = sheet.max_row
        for index, name in enumerate(columns, start=1):
            fmt = _number_format(name)
            if fmt:
                sheet.cell(row=row, column=index).number_format = fmt
        if record["opd"] == TOTAL:
            for cell in sheet[row]:
                cell.font = Font(bold=True)
                cell.border = Border(top=thin)
        grade = record["grade"]
        if grade in GRADE_FILLS:
            cell = sheet.cell(row=row, column=grade_col)
            cell.fill = PatternFill("solid", fgColor=GRADE_FILLS[grade])
            cell.font = Font(color=GRADE_FONTS[grade], bold=True)

    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{sheet.max_row}"
    opd_width = max([len(str(v)) for v in table["opd"].tolist()] + [12])
    sheet.column_dimensions["A"].width = min(opd_width + 2, 60)
    for index, name in enumerate(columns[1:], start=2):
        sheet.column_dimensions[get_column_letter(index)].width = max(11, min(len(name) + 2, 24))

    info = workbook.create_sheet("Pengaturan")
    info.append(["pengaturan", "nilai"])
    for cell in info[1]:
        cell.font = header_font
        cell.fill = header_fill
    rows: list[tuple[str, Any]] = [
        ("period_from", filters.date_from.isoformat()),
        ("period_to", filters.date_to.isoformat()),
        ("as_of", filters.as_of.isoformat()),
        ("region", f"{settings.region_code} {settings.region_name}"),
    ]
    if admin:
        rows += [(key, _plain(value)) for key, value in admin.items()]
    rows += list(settings.kpi.as_table())
    for key, value in rows:
        value = "" if value is None else value
        info.append([key, "—" if value == "-" else neutralise_cell(value)])  # "-" means none
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 60
    info.freeze_panes = "A2"
    if scorecard:
        _scorecard_sheet(workbook, table, settings)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


# The people's sheet of the scorecard: KPI.md column -> Indonesian header, in this order.
SCORECARD_HEADERS = {
    "rank": "Peringkat", "opd": "OPD", "grade": "Predikat", "score": "Skor",
    "response_on_time_pct": "Kecepatan", "accuracy_pct": "Ketepatan", "completion_pct": "Tuntas",
    "received": "Aduan masuk", "responded": "Ditanggapi", "responded_on_time": "Ditanggapi tepat waktu",
    "response_time_unknown": "Waktu tanggapan tidak diketahui", "median_response_hours": "Median tanggapan (jam)",
    "completed": "Selesai", "completed_on_time": "Selesai tepat waktu",
    "completion_time_unknown": "Waktu selesai tidak diketahui", "mean_rating": "Rata-rata rating",
    "open": "Belum selesai", "overdue": "Terlambat (aduan periode ini)", "redisposed_pct": "Didisposisi ulang",
    "backlog_open": "Belum selesai saat ini (semua periode)", "backlog_overdue": "Terlambat saat ini",
    "due_soon": "Akan jatuh tempo",
}
GRADE_WORDS = {"baik": "Baik", "cukup": "Cukup", "perlu_perhatian": "Perlu perhatian"}


def unranked_words(min_volume: int) -> str:
    """The one wording of an OPD below min_volume (screen, slides, PDF and this sheet)."""
    return f"tidak diperingkat (kurang dari {min_volume} aduan)"


def _scorecard_sheet(workbook: Any, table: pd.DataFrame, settings: Settings) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet("Scorecard", 0)
    workbook.active = 0
    columns = [name for name in SCORECARD_HEADERS if name in table.columns]
    sheet.append([SCORECARD_HEADERS[name] for name in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 45
    for record in table_records(table[columns]):
        total = record["opd"] == TOTAL
        values = []
        for name in columns:
            value = record[name]
            if name == "opd" and total:
                value = "Seluruh wilayah"
            elif name == "rank" and value is None and not total:
                value = unranked_words(settings.kpi.min_volume)
            elif name == "grade":
                ranked = total or record.get("rank") is not None
                value = GRADE_WORDS.get(value, "—") if ranked else "—"
            values.append(neutralise_cell(value))
        sheet.append(values)
        row = sheet.max_row
        for index, name in enumerate(columns, start=1):
            fmt = _number_format(name)
            if fmt and name != "rank":
                sheet.cell(row=row, column=index).number_format = fmt
        grade = record["grade"] if record.get("rank") is not None else None
        if grade in GRADE_FILLS:
            cell = sheet.cell(row=row, column=columns.index("grade") + 1)
            cell.fill = PatternFill("solid", fgColor=GRADE_FILLS[grade])
            cell.font = Font(color=GRADE_FONTS[grade], bold=True)
        if total:
            for cell in sheet[row]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = min(max([len(str(v)) for v in table["opd"]] + [14]) + 2, 60)
    for index in range(3, len(columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14

