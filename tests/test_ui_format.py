"""Indonesian screen formats: thousands dot, decimal comma, Indonesian month names, dash for null."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from ui import format as fmt


def test_count_uses_dot_as_thousands_separator():
    assert fmt.number(1234) == "1.234"
    assert fmt.number(1234567) == "1.234.567"


def test_percentage_uses_decimal_comma_and_one_decimal():
    assert fmt.percent(12.5) == "12,5%"
    assert fmt.percent(100) == "100,0%"
    assert fmt.percent(66.66666) == "66,7%"


def test_null_figure_shows_a_dash_never_zero():
    for empty in (None, float("nan"), math.nan):
        assert fmt.number(empty) == "—"
        assert fmt.percent(empty) == "—"
        assert fmt.hours(empty) == "—"
        assert fmt.day(empty) == "—"


def test_pandas_missing_values_show_a_dash():
    import pandas as pd

    assert fmt.percent(pd.NA) == "—"
    assert fmt.day(pd.NaT) == "—"


def test_date_uses_indonesian_short_month_names():
    assert fmt.day(date(2026, 1, 3)) == "3 Jan 2026"
    assert fmt.day(date(2026, 5, 3)) == "3 Mei 2026"
    assert fmt.day(date(2026, 8, 17)) == "17 Agu 2026"
    assert fmt.day(date(2026, 12, 25)) == "25 Des 2026"


def test_moment_is_shown_in_local_zone_with_its_abbreviation():
    instant = datetime(2026, 1, 3, 6, 5, tzinfo=UTC)
    assert fmt.moment(instant, "Asia/Makassar") == "3 Jan 2026 14.05 WITA"
    assert fmt.moment(instant, "Asia/Jakarta") == "3 Jan 2026 13.05 WIB"


def test_change_is_signed_with_a_true_minus():
    assert fmt.signed_number(12) == "+12"
    assert fmt.signed_number(-1234) == "−1.234"
    assert fmt.signed_number(0) == "0"
    assert fmt.points(3.24) == "+3,2 poin"
    assert fmt.points(-0.04) == "0,0 poin"


def test_period_label_is_compact_within_a_month():
    assert fmt.period(date(2026, 11, 1), date(2026, 11, 22)) == "1 – 22 Nov 2026"
    assert fmt.period(date(2025, 12, 3), date(2026, 1, 5)) == "3 Des 2025 – 5 Jan 2026"
    assert fmt.period(date(2026, 3, 3), date(2026, 3, 3)) == "3 Mar 2026"


def test_hours_switch_to_days_beyond_three_days():
    assert fmt.hours(0.5) == "0,5 jam"
    assert fmt.hours(36) == "36 jam"
    assert fmt.hours(96) == "4,0 hari"


def test_machine_values_become_readable_labels():
    assert fmt.label("menunggu_tindak_lanjut") == "Menunggu tindak lanjut"
    assert fmt.label(None) == "—"


def test_figures_round_half_up_exactly_as_the_pdf_briefing_does():
    from metrics import text_format

    assert fmt.percent(82.45) == "82,5%" == text_format.fmt_pct(82.45)
    assert fmt.number(2.5) == "3"
    assert fmt.EMPTY == text_format.MISSING
