"""The backlog in the PDF briefing and the WhatsApp summary: the same counts as
`metrics.backlog.backlog_counts`, worded "saat ini" apart from the period's figures.

Early in a month (as of Friday 4 December 2026) the period's cohort is a handful of fresh
complaints with nothing overdue yet, while the demo data holds many late complaints from earlier
months: the old "Lewat tenggat" of the period said 0; the backlog must not.
"""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from metrics import text_format as tf
from metrics.backlog import backlog_complaints, backlog_counts
from metrics.briefing import DUE_SOON_LIMIT, OVERDUE_LIMIT, build_briefing_pdf, collect
from metrics.filters import Filters
from metrics.summary import whatsapp_summary
from tests.conftest import make_store

EARLY = Filters(date(2026, 12, 1), date(2026, 12, 31), datetime.fromisoformat("2026-12-04T08:00:00+08:00"))


@pytest.fixture
def demo_store(db_url):
    from data_sources.demo import load_demo

    store = make_store(db_url)
    load_demo(store, n=3000, seed=7, until=date(2026, 12, 4))
    yield store
    store.dispose()


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def page_with(texts: list[str], heading: str) -> str:
    """The page whose heading (a line of its own) is `heading`."""
    return next(t for t in texts if heading in t.splitlines())


def test_pdf_and_text_overdue_count_equal_backlog_counts_total_early_in_a_month(demo_store):
    total = backlog_counts(demo_store, EARLY).iloc[-1]
    overdue, due_soon = int(total["backlog_overdue"]), int(total["due_soon"])
    assert overdue > 0
    listed = backlog_complaints(demo_store, EARLY)
    assert (listed["submitted_at"].dt.tz_convert("Asia/Makassar").dt.date < EARLY.date_from).any()
    texts = pages(build_briefing_pdf(demo_store, EARLY))
    headline = page_with(texts, "Ringkasan kinerja")
    assert f"Lewat tenggat saat ini: {tf.fmt_int(overdue)} pengaduan" in headline
    assert f"Akan jatuh tempo s.d. 7 Des 2026: {tf.fmt_int(due_soon)}" in headline
    overdue_page = page_with(texts, "Pengaduan lewat tenggat saat ini")
    assert f"{tf.fmt_int(overdue)} pengaduan lewat tenggat saat ini" in overdue_page
    text = whatsapp_summary(demo_store, EARLY)
    assert f"Saat ini (semua periode): {tf.fmt_int(overdue)} pengaduan lewat tenggat" in text
    assert f"Akan jatuh tempo s.d. 7 Des 2026: {tf.fmt_int(due_soon)}" in text


def test_period_figures_and_the_backlog_are_worded_apart(demo_store):
    text = whatsapp_summary(demo_store, EARLY)
    lines = text.split("\n")
    kecepatan = next(line for line in lines if line.startswith("Kecepatan"))
    assert "saat ini" not in kecepatan.lower()
    backlog_line = next(line for line in lines if "lewat tenggat" in line and "Saat ini" in line)
    assert backlog_line.startswith("Saat ini (semua periode):")
    period_line = next(line for line in lines if line.startswith("Periode ini:"))
    assert "lewat tenggat 0" in period_line  # the period's own overdue, labelled as the period's
    headline = page_with(pages(build_briefing_pdf(demo_store, EARLY)), "Ringkasan kinerja")
    assert "Lewat tenggat (periode ini)" in headline
    assert "Saat ini, semua periode" in headline


def test_pdf_overdue_list_is_the_backlog_most_working_days_late_first(demo_store):
    expected = backlog_complaints(demo_store, EARLY, limit=OVERDUE_LIMIT)
    page = page_with(pages(build_briefing_pdf(demo_store, EARLY)), "Pengaduan lewat tenggat saat ini")
    positions = [page.index(f" {tid} ") for tid in expected["tracking_id"]]
    assert positions == sorted(positions)
    lines = page.splitlines()
    for tid, days in zip(expected["tracking_id"], expected["working_days_overdue"], strict=True):
        line = next(line for line in lines if f" {tid} " in line)
        assert line.rstrip(" *").endswith(f" {tf.fmt_int(days)}"), line
    assert list(expected["working_days_overdue"]) == sorted(expected["working_days_overdue"], reverse=True)


def test_pdf_due_soon_page_lists_the_due_soon_complaints_soonest_first(demo_store):
    expected = backlog_complaints(demo_store, EARLY, kind="due_soon", limit=DUE_SOON_LIMIT)
    assert not expected.empty
    page = page_with(pages(build_briefing_pdf(demo_store, EARLY)), "Akan jatuh tempo")
    positions = [page.index(f" {tid} ") for tid in expected["tracking_id"]]
    assert positions == sorted(positions)
    figures = collect(demo_store, EARLY)
    assert list(figures.due_soon["tracking_id"]) == list(expected["tracking_id"])
    assert figures.overdue_total == figures.backlog_total["backlog_overdue"]


def test_backlog_figures_format_as_whole_counts_labelled_saat_ini():
    assert tf.fmt_value("backlog_overdue", 1234) == "1.234"
    assert tf.fmt_value("due_soon", 3) == "3"
    assert "saat ini" in tf.KPI_LABELS["backlog_overdue"]
    assert tf.delta_is_good("backlog_overdue", 5) is False
