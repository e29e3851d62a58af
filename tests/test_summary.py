"""The "Salin ringkasan" WhatsApp text, and the Indonesian formats it shares with the PDF and screen.

The summary's figures are checked against `python -m metrics report --format json` for the
same period and as-of moment (and the previous period's report for the deltas).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.settings import load_settings
from metrics import text_format as tf
from metrics.__main__ import main as metrics_cli
from metrics.filters import Filters, Scope
from metrics.summary import whatsapp_summary
from tests.conftest import make_store

AS_OF = "2026-04-10T08:00:00+08:00"
FILTERS = Filters(date(2026, 1, 1), date(2026, 3, 31), datetime.fromisoformat(AS_OF))
PREVIOUS = FILTERS.previous_period()
DASHBOARD_URL = "https://dasbor.hstkab.go.id/lapor"


def report(db_url: str, tmp_path: Path, filters: Filters) -> dict[str, dict]:
    """`python -m metrics report --format json`, rows by OPD name."""
    out = tmp_path / f"report-{filters.date_from}.json"
    code = metrics_cli(
        [
            "report",
            "--from",
            filters.date_from.isoformat(),
            "--to",
            filters.date_to.isoformat(),
            "--as-of",
            filters.as_of.isoformat(),
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


@pytest.fixture
def demo_store(db_url):
    from data_sources.demo import load_demo

    store = make_store(db_url)
    load_demo(store, n=3000, seed=7, until=date(2026, 3, 31))
    yield store
    store.dispose()


def test_summary_has_five_to_eight_plain_lines(demo_store):
    text = whatsapp_summary(demo_store, FILTERS)
    lines = text.split("\n")
    assert 5 <= len(lines) <= 8
    assert all(line.strip() for line in lines)
    assert "<" not in text and "](" not in text  # plain text: no HTML, no markdown links


def test_summary_figures_equal_the_report_total(demo_store, db_url, tmp_path):
    total = report(db_url, tmp_path, FILTERS)["TOTAL"]
    text = whatsapp_summary(demo_store, FILTERS)
    assert f"Masuk {tf.fmt_int(total['received'])} (" in text
    assert f"Skor wilayah {tf.fmt_number(total['score'])} (" in text
    assert f"Kecepatan {tf.fmt_pct(total['response_on_time_pct'])} (" in text
    assert f"Ketepatan {tf.fmt_pct(total['accuracy_pct'])} (" in text
    assert f"Tuntas {tf.fmt_pct(total['completion_pct'])} (" in text
    assert f"Periode ini: lewat tenggat {tf.fmt_int(total['overdue'])} (" in text


def test_summary_deltas_are_the_difference_to_the_previous_period_report(demo_store, db_url, tmp_path):
    now = report(db_url, tmp_path, FILTERS)["TOTAL"]
    before = report(db_url, tmp_path, PREVIOUS)["TOTAL"]
    text = whatsapp_summary(demo_store, FILTERS)
    for label, column in (
        ("Masuk", "received"),
        ("Kecepatan", "response_on_time_pct"),
        ("Ketepatan", "accuracy_pct"),
        ("Tuntas", "completion_pct"),
        ("Skor wilayah", "score"),
        ("Periode ini: lewat tenggat", "overdue"),
    ):
        expected = f"{label} {tf.fmt_value(column, now[column])} ({tf.fmt_delta(column, now[column] - before[column])})"
        assert expected in text, f"{expected!r} not in summary"


def test_summary_names_the_best_and_the_lowest_ranked_opd(demo_store, db_url, tmp_path):
    rows = report(db_url, tmp_path, FILTERS)
    ranked = sorted((r for r in rows.values() if r["rank"] is not None), key=lambda r: r["rank"])
    best, lowest = ranked[0], ranked[-1]
    text = whatsapp_summary(demo_store, FILTERS)
    assert f"Terbaik: {best['opd']} (skor {tf.fmt_number(best['score'])})" in text
    assert f"Terendah: {lowest['opd']} (skor {tf.fmt_number(lowest['score'])})" in text


def test_summary_states_period_and_as_of_and_ends_with_the_dashboard_link(demo_store, tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[app]\ndashboard_url = "{DASHBOARD_URL}"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    settings = load_settings(db_url=demo_store.settings.db_url)
    text = whatsapp_summary(demo_store, FILTERS, settings)
    assert "Periode 1 Jan – 31 Mar 2026" in text
    assert "10 Apr 2026 08.00 WITA" in text
    assert "[Data contoh]" in text.split("\n")[0]
    assert text.split("\n")[-1] == f"Dasbor: {DASHBOARD_URL}"


def test_summary_without_a_ranked_opd_says_none_qualifies(sqlite_store):
    text = whatsapp_summary(sqlite_store, FILTERS)
    assert "Belum ada OPD yang memenuhi syarat peringkat." in text
    assert "Masuk 0" in text
    assert "Kecepatan —" in text  # an empty figure is a dash, never 0%


def test_summary_for_an_opd_viewer_names_no_other_opd(demo_store, db_url, tmp_path):
    rows = report(db_url, tmp_path, FILTERS)
    own = next(r for r in rows.values() if r["rank"] == 2)
    scoped = Filters(FILTERS.date_from, FILTERS.date_to, FILTERS.as_of, scope=Scope(opd=own["opd"]))
    text = whatsapp_summary(demo_store, scoped)
    assert f"{own['opd']}: peringkat 2" in text
    others = [name for name in rows if name not in ("TOTAL", own["opd"])]
    assert not [name for name in others if name in text]


# --- the formats (metrics/text_format.py), shared with the PDF and the screen ---------------------
def test_counts_use_a_dot_between_thousands():
    assert tf.fmt_int(1234) == "1.234"
    assert tf.fmt_int(1234567) == "1.234.567"


def test_decimals_use_a_comma_and_round_half_up():
    assert tf.fmt_pct(12.5) == "12,5%"
    assert tf.fmt_number(12.25) == "12,3"  # half up, as a reader rounds by hand
    assert tf.fmt_number(0.05) == "0,1"
    assert tf.fmt_number(1234.56) == "1.234,6"


def test_an_empty_figure_is_a_dash_never_zero():
    for value in (None, float("nan")):
        assert tf.fmt_pct(value) == tf.MISSING
        assert tf.fmt_int(value) == tf.MISSING
    assert tf.fmt_int(0) == "0"


def test_deltas_carry_a_sign_and_percentages_are_points():
    assert tf.fmt_delta("received", 53) == "+53"
    assert tf.fmt_delta("received", -38) == "−38"
    assert tf.fmt_delta("completion_pct", -7.34) == "−7,3 poin"
    assert tf.fmt_delta("score", 0.04) == "0,0"


def test_a_rise_in_overdue_is_bad_news_and_in_received_is_neutral():
    assert tf.delta_is_good("overdue", 5) is False
    assert tf.delta_is_good("response_on_time_pct", 5) is True
    assert tf.delta_is_good("received", 5) is None


def test_dates_and_instants_read_the_indonesian_way():
    assert tf.fmt_date(date(2026, 8, 3)) == "3 Agu 2026"
    assert tf.fmt_datetime(datetime(2026, 1, 3, 6, 5, tzinfo=UTC), "Asia/Makassar") == "3 Jan 2026 14.05 WITA"
    assert tf.fmt_datetime(datetime(2026, 1, 3, 6, 5, tzinfo=UTC), "Asia/Jakarta") == "3 Jan 2026 13.05 WIB"
    assert tf.fmt_period(date(2026, 1, 1), date(2026, 1, 31)) == "1 – 31 Jan 2026"
    assert tf.fmt_period(date(2025, 12, 3), date(2026, 1, 5)) == "3 Des 2025 – 5 Jan 2026"


def test_formats_agree_with_the_screen():
    """The paper and the chat must read like the screen (ui/format.py)."""
    fmt = pytest.importorskip("ui.format")
    assert tf.fmt_period(date(2026, 11, 1), date(2026, 11, 22)) == fmt.period(
        date(2026, 11, 1), date(2026, 11, 22)
    )
    instant = datetime(2026, 1, 3, 6, 5, tzinfo=UTC)
    assert tf.fmt_datetime(instant, "Asia/Makassar") == fmt.moment(instant, "Asia/Makassar")
    assert tf.fmt_pct(83.61) == fmt.percent(83.61)
    assert tf.fmt_int(1234) == fmt.number(1234)
    assert tf.MISSING == fmt.EMPTY
    assert re.fullmatch(r"[+−]?\d+", tf.fmt_delta("received", -3)) and tf.fmt_delta(
        "received", -3
    ) == fmt.signed_number(-3)
