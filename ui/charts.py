"""Plotly figure builders for the pages: calm, fixed heights, and touch-safe (no drag, no zoom).

A phone must scroll past a chart, never get stuck inside it, so every figure has
`dragmode=False`, fixed axes and no scroll zoom, and `show()` hides the mode bar. Builders take
metrics results (DataFrames/Series) and return figures; they never query anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import format as fmt
from ui import theme

CHART_CONFIG: dict[str, Any] = {
    "displayModeBar": False,
    "scrollZoom": False,
    "doubleClick": False,
    "showTips": False,
    "responsive": True,
}
SMALL_HEIGHT = 220
MEDIUM_HEIGHT = 300
BAR_ROW_HEIGHT = 26  # pixels per bar in horizontal bar charts, so names stay readable
# 5 working days span one weekend: about seven calendar days from disposition to the deadline.
RESPONSE_LINE_HOURS = 7 * 24

FIGURE_LABELS = {
    "received": "Aduan masuk",
    "response_on_time_pct": "Kecepatan",
    "accuracy_pct": "Ketepatan",
    "completion_pct": "Tuntas",
    "overdue": "Terlambat",
    "completed": "Selesai",
    "score": "Skor",
}
PCT_FIGURES = ("response_on_time_pct", "accuracy_pct", "completion_pct")


def _finish(fig: go.Figure, height: int, *, legend: bool = True) -> go.Figure:
    """Apply the theme and the touch rules every figure shares."""
    fig.update_layout(
        template=theme.register_plotly_template(),
        height=height,
        dragmode=False,
        showlegend=legend,
        hovermode="closest",
    )
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(fixedrange=True)
    return fig


def _period_labels(starts: Sequence[Any], freq: str) -> list[str]:
    if freq == "week":
        return [fmt.day(s) for s in starts]
    return [fmt.month(s) for s in starts]


def kpi_trend(series: pd.DataFrame, freq: str = "month", height: int = SMALL_HEIGHT) -> go.Figure:
    """Kecepatan, Ketepatan and Tuntas per period (0-100), the small trend of the home page."""
    fig = go.Figure()
    x = _period_labels(series["period_start"].tolist(), freq) if not series.empty else []
    styles = {"response_on_time_pct": theme.BLUE, "accuracy_pct": "#805ad5", "completion_pct": "#319795"}
    for column, color in styles.items():
        if column not in series:
            continue
        values = series[column].astype("float64")
        fig.add_trace(
            go.Scatter(
                x=x, y=values, name=FIGURE_LABELS[column], mode="lines+markers",
                line=dict(color=color, width=2), connectgaps=False,
                hovertext=[fmt.percent(v) for v in values], hoverinfo="text+name+x",
            )
        )
    fig.update_yaxes(range=[0, 105], ticksuffix="%")
    return _finish(fig, height)


def volume_trend(
    series: pd.DataFrame, freq: str = "month", last_year: pd.DataFrame | None = None,
    height: int = SMALL_HEIGHT,
) -> go.Figure:
    """Complaints received per period as bars, last year's same periods as a grey line."""
    fig = go.Figure()
    x = _period_labels(series["period_start"].tolist(), freq) if not series.empty else []
    fig.add_trace(
        go.Bar(x=x, y=series.get("received", []), name="Aduan masuk", marker_color=theme.BLUE,
               hovertext=[fmt.number(v) for v in series.get("received", [])], hoverinfo="text+x")
    )
    if last_year is not None and not last_year.empty and len(last_year) == len(series):
        fig.add_trace(
            go.Scatter(
                x=x, y=last_year["received"], name="Tahun lalu", mode="lines+markers",
                line=dict(color=theme.GREY, dash="dot"),
                hovertext=[fmt.number(v) for v in last_year["received"]], hoverinfo="text+name",
            )
        )
    return _finish(fig, height)


def figure_trend(
    series: pd.DataFrame,
    figure: str,
    freq: str = "month",
    by: str | None = None,
    last_year: pd.DataFrame | None = None,
    top: int = 6,
    height: int = MEDIUM_HEIGHT,
) -> go.Figure:
    """One figure over time: one line per `by` value (the `top` largest), or with last year's line."""
    fig = go.Figure()
    is_pct = figure in PCT_FIGURES
    text = fmt.percent if is_pct else fmt.number
    if series.empty:
        return _finish(fig, height)
    if by:
        volume = series.groupby(by, dropna=False)["received"].sum().sort_values(ascending=False)
        for index, name in enumerate(volume.index[:top]):
            part = series[series[by].isna()] if name is None or name != name else series[series[by] == name]
            label = fmt.label(name) if by == "channel" else (fmt.EMPTY if name is None or name != name else str(name))
            fig.add_trace(
                go.Scatter(
                    x=_period_labels(part["period_start"].tolist(), freq), y=part[figure],
                    name=label, mode="lines+markers",
                    line=dict(color=theme.SERIES_COLORS[index % len(theme.SERIES_COLORS)], width=2),
                    hovertext=[text(v) for v in part[figure]], hoverinfo="text+name+x",
                )
            )
    else:
        x = _period_labels(series["period_start"].tolist(), freq)
        fig.add_trace(
            go.Scatter(
                x=x, y=series[figure], name="Periode ini", mode="lines+markers",
                line=dict(color=theme.BLUE, width=2),
                hovertext=[text(v) for v in series[figure]], hoverinfo="text+name+x",
            )
        )
        if last_year is not None and len(last_year) == len(series):
            fig.add_trace(
                go.Scatter(
                    x=x, y=last_year[figure], name="Tahun lalu", mode="lines+markers",
                    line=dict(color=theme.GREY, dash="dot", width=2),
                    hovertext=[text(v) for v in last_year[figure]], hoverinfo="text+name",
                )
            )
    if is_pct:
        fig.update_yaxes(range=[0, 105], ticksuffix="%")
    return _finish(fig, height)


def score_bars(table: pd.DataFrame, grade_baik: float = 85.0, grade_cukup: float = 70.0) -> go.Figure:
    """Scores of ranked OPDs as horizontal bars coloured by grade, best on top."""
    ranked = table.dropna(subset=["score"]).sort_values("score", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=ranked["score"], y=ranked["opd"], orientation="h",
            marker_color=[theme.grade_color(g) for g in ranked["grade"]],
            hovertext=[f"{fmt.score(s)} · {theme.grade_label(g)}" for s, g in zip(ranked["score"], ranked["grade"], strict=True)],
            hoverinfo="text+y",
            text=[fmt.score(s) for s in ranked["score"]], textposition="auto",
        )
    )
    for threshold in (grade_cukup, grade_baik):
        fig.add_vline(x=threshold, line=dict(color=theme.GREY, dash="dot", width=1))
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(automargin=True, tickfont=dict(size=11))
    height = 60 + BAR_ROW_HEIGHT * max(1, len(ranked))
    return _finish(fig, height, legend=False)


def response_histogram(hours: pd.Series, height: int = MEDIUM_HEIGHT) -> go.Figure:
    """How many hours the first response took, with the ~5-working-day line."""
    values = pd.Series(hours, dtype="float64").dropna()
    cap = 30 * 24  # a month; slower responses pile up in the last bin instead of stretching the axis
    clipped = values.clip(upper=cap)
    late = int((values > RESPONSE_LINE_HOURS).sum())
    fig = go.Figure(
        go.Histogram(
            x=clipped, xbins=dict(start=0, end=cap + 12, size=12),
            marker_color=theme.BLUE, name="Aduan", hoverinfo="y",
        )
    )
    fig.add_vline(x=RESPONSE_LINE_HOURS, line=dict(color=theme.RED, width=2, dash="dash"))
    fig.add_annotation(
        x=RESPONSE_LINE_HOURS, y=1, yref="paper", text="± 5 hari kerja", showarrow=False,
        xanchor="left", font=dict(color=theme.RED, size=12),
    )
    fig.update_xaxes(title_text="Jam sampai tanggapan pertama", range=[0, cap + 12])
    fig.update_yaxes(title_text="Aduan")
    fig.update_layout(meta={"late": late})
    return _finish(fig, height, legend=False)


def breakdown_bars(frame: pd.DataFrame, by: str, top: int = 10, height: int | None = None) -> go.Figure:
    """Complaints received per category/kecamatan/channel, the largest `top`, bars coloured neutral."""
    part = frame.head(top).iloc[::-1]
    names = [fmt.label(n) if by == "channel" else (fmt.EMPTY if n is None or n != n else str(n)) for n in part[by]]
    fig = go.Figure(
        go.Bar(
            x=part["received"], y=names, orientation="h", marker_color=theme.BLUE,
            text=[fmt.number(v) for v in part["received"]], textposition="auto",
            hovertext=[f"Tuntas {fmt.percent(c)} · terlambat {fmt.number(o)}"
                       for c, o in zip(part["completion_pct"], part["overdue"], strict=True)],
            hoverinfo="text+y",
        )
    )
    fig.update_yaxes(automargin=True, tickfont=dict(size=11))
    return _finish(fig, height or 60 + BAR_ROW_HEIGHT * max(1, len(part)), legend=False)


def show(fig: go.Figure, key: str | None = None) -> None:
    """Render a figure full width with the touch-safe config and our own template."""
    st.plotly_chart(fig, width="stretch", theme=None, config=CHART_CONFIG, key=key)
