"""The PDF briefing: its pages, its title, and figures equal to the report command's.

The store is filled with the demo generator (3,000 complaints, seed 7, up to 31 Mar 2026) and
the figures are read back from the PDF with pypdf, then compared with what
`python -m metrics report --format json` writes for the same period and as-of moment.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from data_sources.schema import complaints
from data_sources.store import Store
from metrics import text_format as tf
from metrics.__main__ import main as metrics_cli
from metrics.backlog import backlog_complaints
from metrics.briefing import (
    OVERDUE_LIMIT,
    SCORECARD_ROWS_PER_PAGE,
    TITLE,
    build_briefing_pdf,
    collect,
    page_count,
)
from metrics.filters import Filters
from tests.conftest import ROOT, make_store

DATE_FROM, DATE_TO = "2026-01-01", "2026-03-31"
AS_OF = "2026-04-10T08:00:00+08:00"
FILTERS = Filters(date(2026, 1, 1), date(2026, 3, 31), datetime.fromisoformat(AS_OF))
PREVIOUS = FILTERS.previous_period()  # 3 Okt - 31 Des 2025, as of 90 days earlier
ARTIFACTS = ROOT / "artifacts" / "briefing"
A4_LANDSCAPE_PT = (841.89, 595.28)


def fill_demo(store: Store) -> None:
    from data_sources.demo import load_demo

    load_demo(store, n=3000, seed=7, until=date(2026, 3, 31))


def report(
    db_url: str, tmp_path: Path, date_from: str = DATE_FROM, date_to: str = DATE_TO, as_of: str = AS_OF
) -> dict[str, dict]:
    """`python -m metrics report --format json` for the period, rows by OPD name."""
    out = tmp_path / f"report-{date_from}.json"
    code = metrics_cli(
        [
            "report",
            "--from",
            date_from,
            "--to",
            date_to,
            "--as-of",
            as_of,
            "--format",
            "json",
            "--output",
            str(out),
            "--db",
            db_url,
        ]
    )
    assert code == 0
    return {row["opd"]: row for row in json.loads(out.read_text())}


def briefing_via_cli(db_url: str, output: Path) -> bytes:
    code = metrics_cli(
        [
            "briefing",
            "--from",
            DATE_FROM,
            "--to",
            DATE_TO,
            "--as-of",
            AS_OF,
            "--output",
            str(output),
            "--db",
            db_url,
        ]
    )
    assert code == 0
    return output.read_bytes()


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def scorecard_line(row: dict) -> str:
    """A scorecard row as the PDF prints it (the same formatting as the screen)."""
    rank = "" if row["opd"] == "TOTAL" else tf.fmt_int(row["rank"])
    name = "TOTAL wilayah" if row["opd"] == "TOTAL" else row["opd"]
    cells = [
        rank,
        name,
        tf.fmt_int(row["received"]),
        tf.fmt_pct(row["response_on_time_pct"]),
        tf.fmt_pct(row["accuracy_pct"]),
        tf.fmt_pct(row["completion_pct"]),
        tf.fmt_number(row["median_response_hours"]),
        tf.fmt_number(row["mean_rating"]),
        tf.fmt_int(row["overdue"]),
        tf.fmt_number(row["score"]),
        # An unranked OPD keeps its score and shows no grade (one wording with screen and Excel).
        "tidak diperingkat" if row["opd"] != "TOTAL" and tf.is_missing(row["rank"])
        else tf.fmt_value("grade", row["grade"]),
    ]
    return " ".join(c for c in cells if c)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One SQLite demo store for the layout tests: (url, store, pdf bytes, report rows)."""
    tmp = tmp_path_factory.mktemp("briefing")
    secrets = tmp / "none.toml"
    secrets.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        url = f"sqlite:///{tmp / 'complaints.db'}"
        store = make_store(url)
        fill_demo(store)
        pdf = briefing_via_cli(url, tmp / "briefing.pdf")
        rows = report(url, tmp)
        yield url, store, pdf, rows
        store.dispose()


def test_briefing_has_cover_headline_scorecard_overdue_and_two_chart_pages(demo):
    _, store, pdf, rows = demo
    opd_rows = len(rows) - 1  # without TOTAL
    expected = 1 + 1 + math.ceil(opd_rows / SCORECARD_ROWS_PER_PAGE) + 2 + 1 + 2  # + topics page
    assert len(PdfReader(BytesIO(pdf)).pages) == expected
    assert page_count(collect(store, FILTERS)) == expected
    texts = pages_text(pdf)
    assert "Ringkasan kinerja" in texts[1]
    assert all("Peringkat OPD" in t for t in texts[2 : 2 + math.ceil(opd_rows / SCORECARD_ROWS_PER_PAGE)])
    assert "Pengaduan lewat tenggat saat ini" in texts[-5]
    assert "Akan jatuh tempo" in texts[-4]
    assert "Yang paling banyak dikeluhkan warga" in texts[-3]
    assert "Grafik: skor per OPD" in texts[-2] and "Grafik: tren bulanan" in texts[-1]


def test_briefing_title_names_region_and_period(demo):
    _, store, pdf, _ = demo
    reader = PdfReader(BytesIO(pdf))
    region = store.settings.region_name
    assert reader.metadata.title == f"{TITLE} – {region} – 1 Jan – 31 Mar 2026"
    cover = reader.pages[0].extract_text()
    assert TITLE in cover and region in cover
    assert "1 Jan – 31 Mar 2026" in cover
    assert "10 Apr 2026 08.00 WITA" in cover  # as_of, in the region's zone
    assert "Data per " in cover  # data freshness
    assert "DATA CONTOH" in cover  # demo complaints are counted


def test_briefing_is_a4_landscape(demo):
    for page in PdfReader(BytesIO(demo[2])).pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 1), round(height, 1)) == (
            round(A4_LANDSCAPE_PT[0], 1),
            round(A4_LANDSCAPE_PT[1], 1),
        )


def test_scorecard_rows_equal_report_command_figures(db_url, tmp_path):
    """Every OPD row and TOTAL of the report appear, formatted, as one scorecard line."""
    store = make_store(db_url)
    try:
        fill_demo(store)
        rows = report(db_url, tmp_path)
        pdf = briefing_via_cli(db_url, tmp_path / "out" / "briefing.pdf")
    finally:
        store.dispose()
    text = "\n".join(pages_text(pdf))
    lines = set(text.splitlines())
    assert len(rows) > SCORECARD_ROWS_PER_PAGE  # the scorecard spans two pages
    for row in rows.values():
        assert scorecard_line(row) in lines, f"scorecard line of {row['opd']} differs from the report"


def test_headline_figures_equal_report_total_and_deltas_its_previous_period(demo, tmp_path):
    url, _, pdf, rows = demo
    total = rows["TOTAL"]
    previous = report(
        url,
        tmp_path,
        PREVIOUS.date_from.isoformat(),
        PREVIOUS.date_to.isoformat(),
        PREVIOUS.as_of.isoformat(),
    )["TOTAL"]
    headline = pages_text(pdf)[1]
    labels = {
        "received": "Pengaduan masuk",
        "response_on_time_pct": "Kecepatan",
        "accuracy_pct": "Ketepatan",
        "completion_pct": "Tuntas",
        "overdue": "Lewat tenggat (periode ini)",
        "score": "Skor wilayah",
    }
    for column, label in labels.items():
        value = tf.fmt_value(column, total[column])
        delta = tf.fmt_delta(column, total[column] - previous[column])
        assert f"{label}\n{value}\n" in headline, f"{label} is not the report's {value}"
        assert delta in headline.split(f"{label}\n{value}\n", 1)[1].split("\n")[0], (
            f"{label} delta is not {delta}"
        )
        assert f"Periode sebelumnya: {tf.fmt_value(column, previous[column])}" in headline


def test_overdue_page_lists_the_backlog_most_working_days_late_first_with_the_report_count(demo):
    _, store, pdf, rows = demo
    page = pages_text(pdf)[-5]
    assert f"{tf.fmt_int(rows['TOTAL']['backlog_overdue'])} pengaduan lewat tenggat saat ini" in page
    everything = backlog_complaints(store, FILTERS)
    assert len(everything) == rows["TOTAL"]["backlog_overdue"]
    most = everything.sort_values(["working_days_overdue", "tracking_id"], ascending=[False, True])
    shown = most.head(OVERDUE_LIMIT)
    for _, row in shown.iterrows():
        assert row["tracking_id"] in page
    cutoff = int(shown["working_days_overdue"].min())
    for _, row in most.iloc[OVERDUE_LIMIT:].iterrows():  # nothing more overdue was left out
        assert int(row["working_days_overdue"]) <= cutoff


def test_briefing_never_contains_reporter_names_or_complaint_texts(demo):
    _, store, pdf, _ = demo
    text = "\n".join(pages_text(pdf))
    rows = store.execute(
        select(complaints.c.reporter_name, complaints.c.title, complaints.c.body).where(
            complaints.c.submitted_date.between(FILTERS.date_from, FILTERS.date_to)
        )
    ).rows
    private = {v for row in rows for v in row if isinstance(v, str) and len(v.strip()) >= 8}
    assert private, "the demo data should carry names and texts for this check to mean anything"
    leaked = [v for v in private if v in text]
    assert leaked == []


def test_briefing_pages_render_to_png_artifacts(demo):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm not installed (Debian: apt-get install poppler-utils); PNG pages not rendered")
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    source = ARTIFACTS / "briefing.pdf"
    source.write_bytes(demo[2])
    subprocess.run(
        [pdftoppm, "-r", "80", "-png", str(source), str(ARTIFACTS / "page")], check=True, timeout=120
    )
    pngs = sorted(ARTIFACTS.glob("page-*.png"))
    assert len(pngs) == len(PdfReader(BytesIO(demo[2])).pages)
    for png in pngs:
        header = png.read_bytes()[:24]
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert width > height  # landscape
        assert png.stat().st_size > 10_000  # drawn, not blank


def test_briefing_of_an_empty_period_says_so_and_keeps_every_section(sqlite_store):
    pdf = build_briefing_pdf(sqlite_store, FILTERS)
    texts = pages_text(pdf)
    assert len(texts) == 8
    assert "Tidak ada pengaduan terdisposisi ke OPD dalam periode ini." in texts[2]
    assert "Tidak ada pengaduan yang melewati tenggat saat ini." in texts[3]
    assert "Tidak ada pengaduan yang akan jatuh tempo." in texts[4]
    assert "Belum ada kata yang muncul di sedikitnya 5 aduan." in texts[5]
    assert "Belum ada OPD yang memenuhi syarat peringkat." in texts[6]
    assert "Belum ada impor atau sinkronisasi yang berhasil" in texts[0]


def test_briefing_without_dejavu_falls_back_to_core_font(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_PDF_FONT_DIR", str(tmp_path))  # an empty folder: no TTF
    pdf = build_briefing_pdf(demo[1], FILTERS)
    reader = PdfReader(BytesIO(pdf))
    fonts = {str(f["/BaseFont"]) for f in reader.pages[2]["/Resources"]["/Font"].values()}
    assert fonts <= {"/Helvetica", "/Helvetica-Bold"}
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert scorecard_line(demo[3]["TOTAL"]) in text  # the TOTAL line has no dash to transliterate


def test_cli_briefing_to_an_unwritable_path_exits_nonzero_without_traceback(demo, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    code = metrics_cli(
        [
            "briefing",
            "--from",
            DATE_FROM,
            "--to",
            DATE_TO,
            "--as-of",
            AS_OF,
            "--output",
            str(blocker / "briefing.pdf"),
            "--db",
            demo[0],
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error:") and "Traceback" not in err


def test_morning_script_writes_a_dated_briefing_even_when_the_sync_fails(demo, tmp_path):
    url = demo[0]
    secrets = tmp_path / "none.toml"
    secrets.write_text("")  # no API source configured: the sync step fails
    folder = tmp_path / "briefings"
    env = {
        **os.environ,
        "COMPLAINTS_DB_URL": url,
        "DASHBOARD_SECRETS": str(secrets),
        "BRIEFING_DIR": str(folder),
        "BRIEFING_FROM": DATE_FROM,
        "BRIEFING_TO": DATE_TO,
        "PYTHON": sys.executable,
    }
    script = ROOT / "scripts" / "morning_briefing.sh"
    failed_sync = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert failed_sync.returncode == 1, failed_sync.stderr
    today = datetime.now(ZoneInfo("Asia/Makassar")).date().isoformat()
    written = folder / f"briefing-{today}.pdf"
    assert written.exists()
    assert PdfReader(written).metadata.title.endswith("1 Jan – 31 Mar 2026")
    written.unlink()
    no_sync = subprocess.run(
        ["bash", str(script)], env={**env, "BRIEFING_SYNC": "0"}, capture_output=True, text=True, timeout=300
    )
    assert no_sync.returncode == 0, no_sync.stderr
    assert written.exists()
