"""Plotly figures are touch-safe: no drag, fixed axes, no mode bar, no scroll zoom, fixed height."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ui import charts, theme


def _series():
    return pd.DataFrame(
        {
            "period_start": [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)],
            "received": [10, 12, 0], "response_on_time_pct": [80.0, 90.0, None],
            "accuracy_pct": [70.0, 75.0, None], "completion_pct": [60.0, 65.0, None],
        }
    )


def _assert_touch_safe(fig):
    assert fig.layout.dragmode is False
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange
    assert isinstance(fig.layout.height, int | float)


def test_config_hides_mode_bar_and_disables_scroll_zoom():
    assert charts.CHART_CONFIG["displayModeBar"] is False
    assert charts.CHART_CONFIG["scrollZoom"] is False


def test_every_builder_returns_a_touch_safe_figure():
    table = pd.DataFrame({"opd": ["A", "B"], "score": [90.0, 60.0], "grade": ["baik", "perlu_perhatian"]})
    breakdown = pd.DataFrame({"category": ["X", "Y"], "received": [5, 3], "completion_pct": [50.0, None],
                              "overdue": [1, 0]})
    figures = [
        charts.kpi_trend(_series()),
        charts.volume_trend(_series(), last_year=_series()),
        charts.figure_trend(_series(), "completion_pct", last_year=_series()),
        charts.score_bars(table),
        charts.response_histogram(pd.Series([1.0, 50.0, 500.0])),
        charts.breakdown_bars(breakdown, "category"),
    ]
    for fig in figures:
        _assert_touch_safe(fig)


def test_score_bars_use_the_grade_colours():
    table = pd.DataFrame({"opd": ["A", "B", "C"], "score": [90.0, 75.0, 60.0],
                          "grade": ["baik", "cukup", "perlu_perhatian"]})
    fig = charts.score_bars(table)
    colours = dict(zip(fig.data[0].y, fig.data[0].marker.color, strict=True))
    assert colours == {"A": theme.GREEN, "B": theme.AMBER, "C": theme.RED}


def test_score_bars_grow_with_the_number_of_opds_so_names_stay_readable():
    small = pd.DataFrame({"opd": ["A"], "score": [90.0], "grade": ["baik"]})
    big = pd.DataFrame({"opd": [f"O{i}" for i in range(30)], "score": [50.0] * 30, "grade": ["cukup"] * 30})
    assert charts.score_bars(big).layout.height > charts.score_bars(small).layout.height


def test_response_histogram_marks_the_five_working_day_line():
    fig = charts.response_histogram(pd.Series([1.0, 200.0]))
    assert any(shape.x0 == charts.RESPONSE_LINE_HOURS / 24 for shape in fig.layout.shapes)  # in days
    assert fig.layout.meta["late"] == 1


def test_trend_by_slice_draws_one_line_per_value():
    frame = pd.concat([_series().assign(channel="sms"), _series().assign(channel="website")])
    fig = charts.figure_trend(frame, "received", by="channel")
    assert [trace.name for trace in fig.data] == ["Sms", "Website"]


def test_indonesian_separators_in_plotly():
    assert charts.kpi_trend(_series()).layout.template.layout.separators == ",."


def test_labels_from_data_are_plain_text_in_every_chart():
    hostile = ['<a href="http://x">Dinas</a>', "<b>Tebal</b>", "Dinas \u202eNIAGA"]
    table = pd.DataFrame({"opd": hostile, "score": [90.0, 80.0, 70.0], "grade": ["baik", "cukup", "cukup"]})
    breakdown = pd.DataFrame({"category": hostile, "received": [5, 3, 1], "completion_pct": [50.0, None, 1.0],
                              "overdue": [1, 0, 0]})
    trend = pd.concat([_series().assign(opd=name) for name in hostile])
    figures = [charts.score_bars(table), charts.breakdown_bars(breakdown, "category"),
               charts.figure_trend(trend, "received", by="opd")]
    for fig in figures:
        shown = fig.to_json()
        for raw in ("<a ", "<b>", "\u202e", "\\u202e"):
            assert raw not in shown, raw
        assert "&lt;b&gt;Tebal" in shown


def test_every_axis_grows_its_margin_to_fit_labels_and_counts_use_separators():
    figures = [charts.kpi_trend(_series()), charts.volume_trend(_series()),
               charts.response_histogram(pd.Series([1.0, 50.0])),
               charts.score_bars(pd.DataFrame({"opd": ["A"], "score": [90.0], "grade": ["baik"]}))]
    for fig in figures:
        assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin
        assert fig.layout.xaxis.exponentformat == "none" and fig.layout.yaxis.separatethousands


def test_a_month_not_over_yet_is_marked_and_not_joined_to_the_line():
    fig = charts.kpi_trend(_series(), partial=[False, False, True])
    assert fig.data[0].x[-1].endswith("*")
    line = fig.data[0]
    assert line.y[-1] is None  # the young month is no point of the line
    assert any(trace.name == f"* {charts.PARTIAL_LABEL}" for trace in fig.data)


def test_a_year_of_months_labels_at_most_six_so_a_phone_has_no_overlap():
    months = pd.DataFrame({"period_start": [date(2025, m, 1) for m in range(1, 13)], "received": range(12),
                           "response_on_time_pct": [50.0] * 12, "accuracy_pct": [50.0] * 12,
                           "completion_pct": [50.0] * 12})
    for fig in (charts.kpi_trend(months), charts.volume_trend(months), charts.figure_trend(months, "received")):
        assert len(fig.layout.xaxis.tickvals) <= charts.MAX_TIME_TICKS
        assert fig.layout.xaxis.tickvals[-1] == "Des 25"  # the newest month is always labelled
