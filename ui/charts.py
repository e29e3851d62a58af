"""Plotly figure builders for the pages: calm, fixed heights, and touch-safe (no drag, no zoom).

A phone must scroll past a chart, never get stuck inside it, so every figure has
`dragmode=False`, fixed axes and no scroll zoom, and `show()` hides the mode bar. Builders take
metrics results (DataFrames/Series) and return figures; they never query anything.
"""

from __future__ import annotations

import html
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
PCT_TICKS = (0, 25, 50, 75, 100)
PARTIAL_LABEL = "belum lengkap"  # the legend entry of a bucket that is not over yet
TICK_NAME_CHARS = 24  # OPD/category names on an axis are cut here (the hover has the whole name)


def plain(value: Any, limit: int | None = None) -> str:
    """A label from data as Plotly text: no tags (<b>, <a href>), no bidi overrides, escaped.

    Plotly renders a subset of HTML in every text, tick, legend and hover; escaping `<>&`
    makes a name like `<a href=...>` show as typed (Plotly decodes the entities back)."""
    text = fmt.plain_text(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return html.escape(text, quote=False)


def _finish(fig: go.Figure, height: int, *, legend: bool = True) -> go.Figure:
    """Apply the theme and the rules every figure shares: touch-safe, every label inside the box.

    `automargin` grows the margins until tick labels and axis titles fit, so nothing is cut at
    390 px; tick labels are never rotated (Plotly thins them on a narrow screen instead);
    counts carry Indonesian thousands separators (20.000), never "20k"."""
    fig.update_layout(
        template=theme.register_plotly_template(),
        height=height,
        dragmode=False,
        showlegend=legend,
        hovermode="closest",
        margin=dict(l=8, r=12, t=40 if legend else 12, b=8, autoexpand=True),
    )
    fig.update_xaxes(fixedrange=True, automargin=True, tickangle=0, separatethousands=True,
                     exponentformat="none", title_standoff=6)
    fig.update_yaxes(fixedrange=True, automargin=True, separatethousands=True, exponentformat="none",
                     title_standoff=6)
    return fig


def _period_labels(starts: Sequence[Any], freq: str, partial: Sequence[bool] | None = None) -> list[str]:
    """Short axis labels ("Nov 26", "16 Nov"); a bucket not over yet is marked with "*"."""
    if freq == "week":
        labels = [fmt.short_day(s) for s in starts]
    else:
        labels = [fmt.short_month(s) for s in starts]
    flags = list(partial or [])
    return [f"{label}*" if index < len(flags) and flags[index] else label for index, label in enumerate(labels)]


def _count_axis(fig: go.Figure, peak: Any, axis: str = "y") -> None:
    """A count axis with whole-number ticks only (no "0 1 1 2 2" from rounding halves)."""
    top = float(peak) if peak is not None and peak == peak else 0.0
    step = max(1, int(-(-top // 4)))
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickformat=",d", rangemode="tozero", tick0=0, dtick=step)


MAX_TIME_TICKS = 6  # labels on a time axis: six fit a 390 px phone without overlapping


def _thin_time_ticks(fig: go.Figure, labels: Sequence[str]) -> None:
    """Label at most MAX_TIME_TICKS periods (every k-th, counted back from the newest), so the
    labels of a year of months never overlap on a phone; the hover still names each period."""
    labels = list(dict.fromkeys(labels))
    if len(labels) <= MAX_TIME_TICKS:
        return
    step = -(-len(labels) // MAX_TIME_TICKS)
    shown = labels[::-1][::step][::-1]
    fig.update_xaxes(tickmode="array", tickvals=shown, ticktext=shown)


def _split_partial(values: Sequence[Any], partial: Sequence[bool] | None) -> tuple[list[Any], list[Any]]:
    """(values of whole buckets, values of buckets not over yet), None elsewhere, so a young
    bucket is drawn as a lone open marker, never joined to the line as a fall."""
    flags = list(partial or [False] * len(values))
    whole = [None if flags[i] else v for i, v in enumerate(values)]
    young = [v if flags[i] else None for i, v in enumerate(values)]
    return whole, young


def _partial_legend(fig: go.Figure, partial: Sequence[bool] | None) -> None:
    if partial is not None and any(partial):
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=f"* {PARTIAL_LABEL}",
            marker=dict(symbol="circle-open", size=9, color=theme.GREY), hoverinfo="skip",
        ))


def kpi_trend(
    series: pd.DataFrame, freq: str = "month", height: int = SMALL_HEIGHT, partial: Sequence[bool] | None = None,
) -> go.Figure:
    """Kecepatan, Ketepatan and Tuntas per period (0-100), the small trend of the home page.

    `partial` flags the buckets that are not over yet (views.partial_buckets): drawn as open
    markers off the line and labelled "*", so a young month never looks like a fall."""
    fig = go.Figure()
    x = _period_labels(series["period_start"].tolist(), freq, partial) if not series.empty else []
    styles = {"response_on_time_pct": theme.BLUE, "accuracy_pct": "#805ad5", "completion_pct": "#319795"}
    for column, color in styles.items():
        if column not in series:
            continue
        values = series[column].astype("float64").tolist()
        whole, young = _split_partial(values, partial)
        fig.add_trace(
            go.Scatter(
                x=x, y=whole, name=FIGURE_LABELS[column], mode="lines+markers", legendgroup=column,
                line=dict(color=color, width=2), connectgaps=False,
                hovertext=[fmt.percent(v) for v in whole], hoverinfo="text+name+x",
            )
        )
        if any(v is not None and v == v for v in young):
            fig.add_trace(
                go.Scatter(
                    x=x, y=young, name=FIGURE_LABELS[column], mode="markers", legendgroup=column,
                    showlegend=False, marker=dict(symbol="circle-open", size=9, color=color),
                    hovertext=[f"{fmt.percent(v)} ({PARTIAL_LABEL})" for v in young], hoverinfo="text+name+x",
                )
            )
    _partial_legend(fig, partial)
    _thin_time_ticks(fig, x)
    fig.update_yaxes(range=[0, 105], tickvals=PCT_TICKS, ticktext=[f"{v}%" for v in PCT_TICKS])
    return _finish(fig, height)


def volume_trend(
    series: pd.DataFrame, freq: str = "month", last_year: pd.DataFrame | None = None,
    height: int = SMALL_HEIGHT, partial: Sequence[bool] | None = None,
) -> go.Figure:
    """Complaints received per period as bars, last year's same periods as a grey line."""
    fig = go.Figure()
    x = _period_labels(series["period_start"].tolist(), freq, partial) if not series.empty else []
    received = list(series.get("received", []))
    flags = list(partial or [False] * len(received))
    fig.add_trace(
        go.Bar(x=x, y=received, name="Aduan masuk", marker_color=theme.BLUE,
               marker_opacity=[0.45 if f else 1.0 for f in flags],
               hovertext=[fmt.number(v) for v in received], hoverinfo="text+x")
    )
    if last_year is not None and not last_year.empty and len(last_year) == len(series):
        whole, _ = _split_partial(last_year["received"].tolist(), flags)
        fig.add_trace(
            go.Scatter(
                x=x, y=whole, name="Tahun lalu", mode="lines+markers", connectgaps=False,
                line=dict(color=theme.GREY, dash="dot"),
                hovertext=[fmt.number(v) for v in whole], hoverinfo="text+name",
            )
        )
    _thin_time_ticks(fig, x)
    peaks = [max(received, default=0)]
    if last_year is not None and not last_year.empty:
        peaks.append(last_year["received"].max())
    _count_axis(fig, max(peaks))
    return _finish(fig, height)


def figure_trend(
    series: pd.DataFrame,
    figure: str,
    freq: str = "month",
    by: str | None = None,
    last_year: pd.DataFrame | None = None,
    top: int = 6,
    height: int = MEDIUM_HEIGHT,
    partial: Sequence[bool] | None = None,
) -> go.Figure:
    """One figure over time: one line per `by` value (the `top` largest), or with last year's line.

    `partial` (one flag per period of the whole-region series) marks the periods not over yet."""
    fig = go.Figure()
    is_pct = figure in PCT_FIGURES
    text = fmt.percent if is_pct else fmt.number
    if series.empty:
        return _finish(fig, height)
    starts = sorted(series["period_start"].unique().tolist())
    flags_by_start = dict(zip(starts, list(partial or [False] * len(starts)), strict=False))
    if by:
        volume = series.groupby(by, dropna=False)["received"].sum().sort_values(ascending=False)
        for index, name in enumerate(volume.index[:top]):
            part = series[series[by].isna()] if name is None or name != name else series[series[by] == name]
            label = fmt.label(name) if by == "channel" else (fmt.EMPTY if name is None or name != name else name)
            flags = [flags_by_start.get(s, False) for s in part["period_start"]]
            color = theme.SERIES_COLORS[index % len(theme.SERIES_COLORS)]
            _line_with_partial(fig, _period_labels(part["period_start"].tolist(), freq, flags),
                               part[figure].tolist(), flags, plain(label, TICK_NAME_CHARS), color, text)
    else:
        flags = [flags_by_start.get(s, False) for s in series["period_start"]]
        x = _period_labels(series["period_start"].tolist(), freq, flags)
        _line_with_partial(fig, x, series[figure].tolist(), flags, "Periode ini", theme.BLUE, text)
        if last_year is not None and len(last_year) == len(series):
            # last year's same span: its bucket beside a young one is as short, so marked alike
            whole, young = _split_partial(last_year[figure].tolist(), flags)
            fig.add_trace(
                go.Scatter(
                    x=x, y=whole, name="Tahun lalu", mode="lines+markers", legendgroup="Tahun lalu",
                    line=dict(color=theme.GREY, dash="dot", width=2), connectgaps=False,
                    hovertext=[text(v) for v in whole], hoverinfo="text+name",
                )
            )
            if any(v is not None and v == v for v in young):
                fig.add_trace(go.Scatter(
                    x=x, y=young, name="Tahun lalu", mode="markers", legendgroup="Tahun lalu", showlegend=False,
                    marker=dict(symbol="circle-open", size=9, color=theme.GREY),
                    hovertext=[f"{text(v)} ({PARTIAL_LABEL})" for v in young], hoverinfo="text+name",
                ))
    _partial_legend(fig, [flags_by_start.get(s, False) for s in starts])
    all_flags = [flags_by_start.get(s, False) for s in starts]
    _thin_time_ticks(fig, _period_labels(starts, freq, all_flags))
    if is_pct:
        fig.update_yaxes(range=[0, 105], tickvals=PCT_TICKS, ticktext=[f"{v}%" for v in PCT_TICKS])
    else:
        _count_axis(fig, pd.to_numeric(series[figure], errors="coerce").max())
    return _finish(fig, height)


def _line_with_partial(
    fig: go.Figure, x: list[str], values: list[Any], flags: list[bool], name: str, color: str, text: Any,
) -> None:
    whole, young = _split_partial(values, flags)
    fig.add_trace(go.Scatter(
        x=x, y=whole, name=name, mode="lines+markers", legendgroup=name, line=dict(color=color, width=2),
        connectgaps=False, hovertext=[text(v) for v in whole], hoverinfo="text+name+x",
    ))
    if any(v is not None and v == v for v in young):
        fig.add_trace(go.Scatter(
            x=x, y=young, name=name, mode="markers", legendgroup=name, showlegend=False,
            marker=dict(symbol="circle-open", size=9, color=color),
            hovertext=[f"{text(v)} ({PARTIAL_LABEL})" for v in young], hoverinfo="text+name+x",
        ))


def score_bars(table: pd.DataFrame, grade_baik: float = 85.0, grade_cukup: float = 70.0) -> go.Figure:
    """Scores of ranked OPDs as horizontal bars coloured by grade, best on top.

    The axis shows names cut to TICK_NAME_CHARS (a phone keeps room for the bars); the hover
    has the whole name. Every name is plain text (`plain`)."""
    ranked = table.dropna(subset=["score"]).sort_values("score", ascending=True)
    names = [plain(n) for n in ranked["opd"]]
    fig = go.Figure(
        go.Bar(
            x=ranked["score"], y=names, orientation="h",
            marker_color=[theme.grade_color(g) for g in ranked["grade"]],
            hovertext=[f"{n} · {fmt.score(s)} · {theme.grade_label(g)}"
                       for n, s, g in zip(names, ranked["score"], ranked["grade"], strict=True)],
            hoverinfo="text",
            text=[fmt.score(s) for s in ranked["score"]], textposition="auto",
        )
    )
    for threshold in (grade_cukup, grade_baik):
        fig.add_vline(x=threshold, line=dict(color=theme.GREY, dash="dot", width=1))
    fig.update_xaxes(range=[0, 100], tickvals=[0, 25, 50, 75, 100])
    fig.update_yaxes(
        tickfont=dict(size=11), tickmode="array", tickvals=names,
        ticktext=[plain(n, TICK_NAME_CHARS) for n in ranked["opd"]],
    )
    height = 70 + BAR_ROW_HEIGHT * max(1, len(ranked))
    return _finish(fig, height, legend=False)


def response_histogram(hours: pd.Series, height: int = MEDIUM_HEIGHT) -> go.Figure:
    """How many days the first response took, with the ~5-working-day line.

    Days, not hours, on the axis: 0-30 fits a phone's width without crowding."""
    values = pd.Series(hours, dtype="float64").dropna()
    cap = 30 * 24  # a month; slower responses pile up in the last bin instead of stretching the axis
    clipped = values.clip(upper=cap) / 24.0
    late = int((values > RESPONSE_LINE_HOURS).sum())
    line_days = RESPONSE_LINE_HOURS / 24.0
    fig = go.Figure(
        go.Histogram(
            x=clipped, xbins=dict(start=0, end=30.5, size=0.5),
            marker_color=theme.BLUE, name="Aduan", hovertemplate="%{y:,d} aduan<extra></extra>",
        )
    )
    fig.add_vline(x=line_days, line=dict(color=theme.RED, width=2, dash="dash"))
    fig.add_annotation(
        x=line_days, y=1, yref="paper", text="± 5 hari kerja", showarrow=False,
        xanchor="left", yanchor="bottom", font=dict(color=theme.RED, size=12),
    )
    fig.update_xaxes(title_text="Hari sampai tanggapan pertama", range=[0, 30.5], tickvals=[0, 7, 14, 21, 28])
    fig.update_yaxes(title_text="Aduan")
    import numpy as np

    counts, _ = np.histogram(clipped, bins=np.arange(0, 31, 0.5)) if len(clipped) else ([0], None)
    _count_axis(fig, int(max(counts)))
    fig.update_layout(meta={"late": late})
    fig = _finish(fig, height, legend=False)
    fig.update_layout(margin=dict(t=28))
    return fig


def breakdown_bars(frame: pd.DataFrame, by: str, top: int = 10, height: int | None = None) -> go.Figure:
    """Complaints received per category/kecamatan/channel, the largest `top`, bars coloured neutral."""
    part = frame.head(top).iloc[::-1]
    full = [fmt.label(n) if by == "channel" else (fmt.EMPTY if n is None or n != n else n) for n in part[by]]
    names = [plain(n) for n in full]
    fig = go.Figure(
        go.Bar(
            x=part["received"], y=names, orientation="h", marker_color=theme.BLUE,
            text=[fmt.number(v) for v in part["received"]], textposition="auto",
            hovertext=[f"{n} · Tuntas {fmt.percent(c)} · terlambat {fmt.number(o)}"
                       for n, c, o in zip(names, part["completion_pct"], part["overdue"], strict=True)],
            hoverinfo="text",
        )
    )
    _count_axis(fig, pd.to_numeric(part["received"], errors="coerce").max(), axis="x")
    fig.update_yaxes(tickfont=dict(size=11), tickmode="array", tickvals=names,
                     ticktext=[plain(n, TICK_NAME_CHARS) for n in full])
    return _finish(fig, height or 70 + BAR_ROW_HEIGHT * max(1, len(part)), legend=False)


def show(fig: go.Figure, key: str | None = None) -> None:
    """Render a figure full width with the touch-safe config and our own template."""
    st.plotly_chart(fig, width="stretch", theme=None, config=CHART_CONFIG, key=key)
