"""The projector slides of the Presentasi page, with keyboard/remote navigation.

The slides are sized with viewport units so they fill a 1920x1080 projector and stay readable
from the back of a room: white on a dark navy, signal colours brightened for a washed-out
beam, one idea per slide. Figures come from `metrics.briefing.collect`, the same call the PDF
briefing and the WhatsApp summary use, so the room, the paper and the chat agree.

Complaint texts are never shown here: only tracking ids, OPD, category, kecamatan and days.
The overdue slide shows the backlog (KPI.md: what is late now, whatever the period), so its
count is the one on Ringkasan and Aduan Terlambat. Below 640 px (a phone) the slides reflow:
cards two by two, type in rem, the table without its widest columns.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.settings import Settings
from metrics import text_format as tf
from metrics.backlog import backlog_complaints, backlog_counts
from metrics.briefing import (
    HEADLINE_LABELS,
    BriefingFigures,
    collect,
    freshness_text,
)
from metrics.filters import Filters

RANKING_ROWS_PER_SLIDE = 10
OVERDUE_ON_SLIDE = 10
AUTO_CHOICES = (0, 10, 20, 30, 60)  # seconds per slide; 0 = off
SLIDE_STATE = "presentasi_slide"
CHANGED_STATE = "presentasi_changed_at"
AUTO_STATE = "presentasi_auto"
PARAM_SLIDE = "slide"  # 1-based slide number in the URL, so a reload keeps the place
PARAM_AUTO = "auto"  # seconds per slide in the URL, e.g. ?auto=20 on an unattended screen

# Projector palette: high contrast on dark; signal colours lightened to survive a dim beam.
BG = "#0b1220"
PANEL = "#16213a"
TEXT = "#ffffff"
MUTED = "#c9d3e3"
RULE = "#2d3b57"
GREEN = "#4ade80"
AMBER = "#fbbf24"
RED = "#f87171"
BLUE = "#60a5fa"
GRADE_COLOURS = {"baik": GREEN, "cukup": AMBER, "perlu_perhatian": RED}

PRESENTATION_CSS = f"""
<style>
/* Presentation page only: no sidebar, no toolbar, no header, the whole screen for the slide. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stSidebarNav"], [data-testid="collapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], footer, .lp-banner {{ display: none !important; }}
[data-testid="stAppViewContainer"], [data-testid="stMain"], .stApp {{ background: {BG} !important; }}
[data-testid="stMainBlockContainer"], .block-container {{
  max-width: 100% !important; padding: 1.6vh 3vw 0.6vh 3vw !important;
}}
.pz-slide {{ color: {TEXT}; font-family: 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  min-height: 84vh; display: flex; flex-direction: column; }}
.pz-compact {{ min-height: 0; }}
.pz-kicker {{ color: {MUTED}; font-size: 1.35vw; letter-spacing: 0.02em; }}
.pz-slide h1.pz-title {{ font-size: 3.1vw; font-weight: 800; line-height: 1.1; margin: 0.4vh 0 0.6vh 0;
  padding: 0; color: {TEXT}; font-family: inherit; letter-spacing: normal; }}
.pz-sub {{ color: {MUTED}; font-size: 1.3vw; margin-bottom: 2vh; }}
.pz-cards {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 2vw; flex: 1; }}
.pz-card {{ background: {PANEL}; border-radius: 1vw; padding: 2.2vh 1.8vw; border: 2px solid {RULE}; }}
.pz-card-label {{ font-size: 1.7vw; color: {MUTED}; }}
.pz-card-value {{ font-size: 5.2vw; font-weight: 800; line-height: 1.15; }}
.pz-card-delta {{ font-size: 1.9vw; font-weight: 700; }}
.pz-card-prev {{ font-size: 1.2vw; color: {MUTED}; margin-top: 0.6vh; }}
/* Sized by the smaller of width and height, so ten rows always fit a 16:9 or 16:10 screen. */
.pz-table {{ width: 100%; border-collapse: collapse; table-layout: fixed;
  font-size: min(1.5vw, 2.7vh); }}
.pz-table th {{ text-align: left; color: {MUTED}; font-weight: 600; font-size: min(1.15vw, 2.1vh);
  border-bottom: 3px solid {RULE}; padding: 0.8vh 0.7vw; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
.pz-table td {{ padding: 1.05vh 0.7vw; border-bottom: 1px solid {RULE}; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }}
.pz-table td.num, .pz-table th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.pz-table tr.pz-total td {{ font-weight: 800; border-top: 3px solid {MUTED}; }}
.pz-score {{ font-weight: 800; }}
.pz-badge {{ display: inline-block; padding: 0.2vh 0.7vw; border-radius: 0.5vw; font-weight: 700;
  font-size: 1.2vw; color: {BG}; }}
.pz-late {{ color: {RED}; font-weight: 800; }}
.pz-foot {{ margin-top: auto; padding-top: 1.2vh; color: {MUTED}; font-size: 1.05vw;
  display: flex; justify-content: space-between; }}
.pz-demo {{ color: {AMBER}; font-weight: 700; }}
.pz-empty {{ font-size: 2.2vw; color: {MUTED}; margin-top: 10vh; }}
.pz-note {{ color: {MUTED}; font-size: min(1.1vw, 2vh); margin-top: 1vh; }}
.pz-table th.pz-wrap {{ white-space: normal; }}
/* A phone: no 590 px cards, no 6 px type. */
@media (max-width: 640px) {{
  .pz-slide {{ min-height: 0; }}
  .pz-kicker {{ font-size: 0.8rem; }}
  .pz-slide h1.pz-title {{ font-size: 1.45rem; }}
  .pz-sub, .pz-note {{ font-size: 0.8rem; margin-bottom: 0.6rem; }}
  .pz-cards {{ grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.5rem; flex: none; }}
  .pz-card {{ padding: 0.6rem 0.7rem; border-radius: 0.6rem; }}
  .pz-card-label {{ font-size: 0.8rem; }}
  .pz-card-value {{ font-size: 1.6rem; }}
  .pz-card-delta {{ font-size: 0.85rem; }}
  .pz-card-prev {{ font-size: 0.72rem; }}
  .pz-table {{ font-size: 0.78rem; table-layout: auto; }}
  .pz-table th {{ font-size: 0.7rem; padding: 0.3rem 0.25rem; }}
  .pz-table td {{ padding: 0.35rem 0.25rem; white-space: normal; overflow-wrap: anywhere; }}
  .pz-table col {{ width: auto !important; }}
  .pz-table .pz-wide {{ display: none; }}
  .pz-badge {{ font-size: 0.7rem; padding: 0.05rem 0.35rem; border-radius: 0.4rem; }}
  .pz-foot {{ font-size: 0.72rem; }}
  .pz-empty {{ font-size: 1rem; margin-top: 1rem; }}
}}
/* The small control strip under the slide: quiet, so the room looks at the figures. */
.st-key-pz_controls {{ opacity: 0.55; }}
.st-key-pz_controls:hover {{ opacity: 1; }}
.st-key-pz_controls p, .st-key-pz_controls label, .st-key-pz_controls button {{ color: {MUTED} !important; }}
.st-key-pz_controls [data-baseweb="select"] > div {{ background: {PANEL} !important;
  border-color: {RULE} !important; color: {MUTED} !important; }}
</style>
"""

# Keyboard and presenter remote: remotes send PageDown/PageUp (most) or the arrow keys.
KEYS_JS = """
export default function(component) {
  const { setTriggerValue } = component;
  const actions = {
    ArrowRight: "next", ArrowDown: "next", PageDown: "next", " ": "next",
    ArrowLeft: "prev", ArrowUp: "prev", PageUp: "prev", Backspace: "prev",
    Home: "first", End: "last",
  };
  const handler = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const tag = target && target.tagName ? target.tagName : "";
    // Typing into a control or pressing Space on a focused button is not navigation.
    if (["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(tag) || (target && target.isContentEditable)) return;
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    setTriggerValue("nav", action);
  };
  // One listener per page, however often Streamlit re-mounts the component.
  if (window.__presentasiKeys) document.removeEventListener("keydown", window.__presentasiKeys);
  window.__presentasiKeys = handler;
  document.addEventListener("keydown", handler);
  return () => {
    document.removeEventListener("keydown", handler);
    if (window.__presentasiKeys === handler) window.__presentasiKeys = null;
  };
}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


# --- figures (cached like ui/data.py: per database, settings, data version and filters) ---------
@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _figures(
    _store: Any, _settings: Settings, db: str, version: str, fkey: str, _filters: Filters
) -> BriefingFigures:
    return collect(_store, _filters, _settings, overdue_limit=max(OVERDUE_ON_SLIDE, 20))


def figures(store: Any, settings: Settings, filters: Filters) -> BriefingFigures:
    """The briefing figures for these filters (one computation for slides, PDF and summary)."""
    return _figures(
        store, settings, settings.db_url + repr(settings.kpi), store.data_version(), repr(filters), filters
    )


@dataclass(frozen=True)
class Backlog:
    """The backlog's overdue count, due-soon count and its most overdue complaints."""

    overdue: int
    due_soon: int
    top: pd.DataFrame


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _backlog(_store: Any, _settings: Settings, db: str, version: str, fkey: str, _filters: Filters) -> Backlog:
    counts = backlog_counts(_store, _filters, _settings)
    total = counts[counts["opd"] == "TOTAL"]
    top = backlog_complaints(_store, _filters, _settings, kind="overdue", limit=OVERDUE_ON_SLIDE)
    if total.empty:
        return Backlog(0, 0, top)
    return Backlog(int(total["backlog_overdue"].iloc[0]), int(total["due_soon"].iloc[0]), top)


def backlog(store: Any, settings: Settings, filters: Filters) -> Backlog:
    return _backlog(
        store, settings, settings.db_url + repr(settings.kpi), store.data_version(), repr(filters), filters
    )


# --- slides ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slide:
    kind: str  # "ringkasan", "peringkat", "terlambat", "tren"
    title: str
    part: int = 0  # which chunk of a multi-slide section (ranking)


def build_slides(fig: BriefingFigures) -> list[Slide]:
    """Headline KPIs, the ranking (12 OPDs a slide), the ten most overdue, the trend."""
    slides = [Slide("ringkasan", "Kinerja pengelolaan pengaduan")]
    ranked = len(fig.ranked)
    parts = max(1, -(-ranked // RANKING_ROWS_PER_SLIDE))
    for part in range(parts):
        suffix = f" ({part + 1}/{parts})" if parts > 1 else ""
        slides.append(Slide("peringkat", f"Peringkat OPD{suffix}", part))
    slides.append(Slide("terlambat", "Pengaduan terlambat saat ini"))
    slides.append(Slide("tren", "Tren bulanan"))
    return slides


def _head(fig: BriefingFigures, slide: Slide, sub: str = "") -> str:
    kicker = f"{_esc(fig.region_name)} · {_esc(fig.period_label)}"
    sub_html = f'<div class="pz-sub">{_esc(sub)}</div>' if sub else ""
    return (
        f'<div class="pz-kicker">{kicker}</div>'
        f'<h1 class="pz-title" data-testid="pz-title">{_esc(slide.title)}</h1>{sub_html}'
    )


def _foot(fig: BriefingFigures, number: int, count: int) -> str:
    demo = '<span class="pz-demo">DATA CONTOH · </span>' if fig.has_demo else ""
    return (
        f'<div class="pz-foot"><span>{demo}Dihitung per {_esc(fig.as_of_label)}</span>'
        f'<span data-testid="pz-counter">{number} / {count}</span></div>'
    )


def _frame(fig: BriefingFigures, slide: Slide, number: int, count: int, body: str, sub: str = "") -> str:
    return (
        f'<div class="pz-slide" data-testid="pz-slide" data-slide="{number}" data-kind="{slide.kind}">'
        f"{_head(fig, slide, sub)}{body}{_foot(fig, number, count)}</div>"
    )


def _delta_html(column: str, delta: float | None) -> str:
    if delta is None:
        return f'<div class="pz-card-delta" style="color:{MUTED}">{tf.MISSING}</div>'
    text = tf.fmt_delta(column, delta)
    good = tf.delta_is_good(column, delta)
    colour = MUTED if good is None else (GREEN if good else RED)
    arrow = "▲ " if text.startswith("+") else ("▼ " if text.startswith(tf.MINUS) else "")
    return f'<div class="pz-card-delta" style="color:{colour}">{arrow}{_esc(text)}</div>'


# The period's overdue count beside the backlog's on the next slide: say which one it is.
HEADLINE_OVERRIDES = {"overdue": "Terlambat (aduan periode ini)"}


def headline_html(fig: BriefingFigures) -> str:
    total = fig.total
    cards = []
    for column, label in HEADLINE_LABELS.items():
        label = HEADLINE_OVERRIDES.get(column, label)
        cards.append(
            f'<div class="pz-card" data-testid="pz-card-{column}">'
            f'<div class="pz-card-label">{_esc(label)}</div>'
            f'<div class="pz-card-value">{_esc(tf.fmt_value(column, total[column]))}</div>'
            f"{_delta_html(column, fig.delta(column))}"
            f'<div class="pz-card-prev">Periode sebelumnya: '
            f"{_esc(tf.fmt_value(column, fig.previous(column)))}</div></div>"
        )
    return f'<div class="pz-cards">{"".join(cards)}</div>'


def _badge(grade: Any) -> str:
    if tf.is_missing(grade):
        return f'<span style="color:{MUTED}">{tf.MISSING}</span>'
    return (
        f'<span class="pz-badge" style="background:{GRADE_COLOURS.get(grade, MUTED)}">'
        f"{_esc(tf.GRADE_LABELS.get(grade, grade))}</span>"
    )


def ranking_html(fig: BriefingFigures, part: int, min_volume: int = 5) -> str:
    ranked = fig.ranked
    if ranked.empty:
        return '<div class="pz-empty">Belum ada OPD yang memenuhi syarat peringkat.</div>'
    chunk = ranked.iloc[part * RANKING_ROWS_PER_SLIDE : (part + 1) * RANKING_ROWS_PER_SLIDE]
    cols = "".join(f"<col style='width:{w}%'>" for w in (4, 36, 7, 13, 9, 9, 8, 8, 6))
    head = (
        f"<colgroup>{cols}</colgroup>"
        "<tr><th class='num'>#</th><th>OPD</th><th class='num'>Skor</th><th>Predikat</th>"
        "<th class='num pz-wide'>Kecepatan</th><th class='num pz-wide'>Ketepatan</th>"
        "<th class='num pz-wide'>Tuntas</th><th class='num pz-wide'>Terlambat</th>"
        "<th class='num pz-wide'>Masuk</th></tr>"
    )

    def row(r: pd.Series, css: str = "", rank_text: str | None = None, name: str | None = None) -> str:
        return (
            f"<tr class='{css}' data-testid='pz-rank-row'><td class='num'>{_esc(rank_text if rank_text is not None else tf.fmt_int(r['rank']))}</td>"
            f"<td>{_esc(name or r['opd'])}</td>"
            f"<td class='num pz-score'>{_esc(tf.fmt_number(r['score']))}</td><td>{_badge(r['grade'])}</td>"
            f"<td class='num pz-wide'>{_esc(tf.fmt_pct(r['response_on_time_pct']))}</td>"
            f"<td class='num pz-wide'>{_esc(tf.fmt_pct(r['accuracy_pct']))}</td>"
            f"<td class='num pz-wide'>{_esc(tf.fmt_pct(r['completion_pct']))}</td>"
            f"<td class='num pz-wide'>{_esc(tf.fmt_int(r['overdue']))}</td>"
            f"<td class='num pz-wide'>{_esc(tf.fmt_int(r['received']))}</td></tr>"
        )

    rows = [row(r) for _, r in chunk.iterrows()]
    last = (part + 1) * RANKING_ROWS_PER_SLIDE >= len(ranked)
    note = ""
    if last:
        rows.append(row(fig.total, "pz-total", rank_text="", name="Seluruh wilayah"))
        note = unranked_note(fig, min_volume)
    return f"<table class='pz-table'>{head}{''.join(rows)}</table>{note}"


def unranked_note(fig: BriefingFigures, min_volume: int) -> str:
    """The OPDs below min_volume under the last ranking slide: their score, and why no rank."""
    rows = fig.opd_rows
    unranked = rows[rows["rank"].isna()]
    if unranked.empty:
        return ""
    names = " · ".join(f"{_esc(r['opd'])} {_esc(tf.fmt_number(r['score']))}" for _, r in unranked.iterrows())
    return (f'<div class="pz-note" data-testid="pz-unranked">Tidak diperingkat (kurang dari '
            f"{_esc(tf.fmt_int(min_volume))} aduan): {names}</div>")


def overdue_html(rows: pd.DataFrame) -> str:
    """The backlog's most overdue complaints (metrics.backlog.backlog_complaints order)."""
    rows = rows.head(OVERDUE_ON_SLIDE)
    if rows.empty:
        return '<div class="pz-empty">Tidak ada pengaduan yang terlambat saat ini.</div>'
    cols = "".join(f"<col style='width:{w}%'>" for w in (10, 32, 22, 14, 12, 10))
    head = (
        f"<colgroup>{cols}</colgroup>"
        "<tr><th>Tracking ID</th><th>OPD</th><th class='pz-wide'>Kategori</th><th class='pz-wide'>Kecamatan</th>"
        "<th class='pz-wide'>Tenggat</th><th class='num pz-wrap'>Hari kerja terlambat</th></tr>"
    )
    body = []
    for _, r in rows.iterrows():
        estimated = " *" if bool(r["times_estimated"]) else ""
        body.append(
            f"<tr data-testid='pz-overdue-row'><td>{_esc(r['tracking_id'])}</td>"
            f"<td title='{_esc(r['opd'])}'>{_esc(r['opd'])}</td>"
            f"<td class='pz-wide'>{_esc(tf.MISSING if tf.is_missing(r['category']) else r['category'])}</td>"
            f"<td class='pz-wide'>{_esc(tf.MISSING if tf.is_missing(r['kecamatan']) else r['kecamatan'])}</td>"
            f"<td class='pz-wide'>{_esc(tf.OVERDUE_KIND_LABELS.get(r['overdue_kind'], r['overdue_kind']))}</td>"
            f"<td class='num pz-late'>{_esc(tf.fmt_int(r['working_days_overdue']))}{estimated}</td></tr>"
        )
    return f"<table class='pz-table' data-testid='pz-overdue'>{head}{''.join(body)}</table>"


def trend_figure(fig: BriefingFigures) -> go.Figure:
    """Received per month (bars) over the three percentages (lines), in projector type sizes.

    A month not over yet is marked "*" and drawn as an open marker off the line, never a fall."""
    from ui.format import short_month
    from ui.views import partial_buckets

    trend = fig.trend
    today = fig.filters.as_of.astimezone(ZoneInfo(fig.timezone)).date()
    partial = partial_buckets(trend["period_start"].tolist(), "month", fig.trend_from, fig.filters.date_to, today)
    labels = [short_month(d) + ("*" if young else "") for d, young in zip(trend["period_start"], partial, strict=True)]
    chart = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.42, 0.58],
        subplot_titles=("Pengaduan masuk", "Kecepatan, Ketepatan, Tuntas (%)"),
    )
    chart.add_bar(
        x=labels,
        y=trend["received"],
        marker_color=BLUE,
        name="Masuk",
        text=[tf.fmt_int(v) for v in trend["received"]],
        textposition="outside",
        textfont=dict(size=26, color=TEXT),
        showlegend=False,
        row=1,
        col=1,
    )
    for column, colour, dash in (
        ("response_on_time_pct", BLUE, "solid"),
        ("accuracy_pct", AMBER, "dash"),
        ("completion_pct", GREEN, "dot"),
    ):
        values = trend[column].tolist()
        young = [v if p else None for v, p in zip(values, partial, strict=True)]
        if any(v is not None and v == v for v in young):
            chart.add_scatter(x=labels, y=young, mode="markers", showlegend=False, row=2, col=1,
                              marker=dict(size=16, color=colour, symbol="circle-open", line=dict(width=4)))
        chart.add_scatter(
            x=labels,
            y=[None if p else v for v, p in zip(values, partial, strict=True)],
            name=tf.KPI_LABELS[column],
            mode="lines+markers",
            line=dict(color=colour, width=6, dash=dash),
            marker=dict(size=14),
            connectgaps=False,
            row=2,
            col=1,
        )
    peak = max(float(trend["received"].max() or 0), 1.0)
    chart.update_yaxes(range=[0, peak * 1.25], showgrid=False, showticklabels=False, row=1, col=1)
    chart.update_yaxes(range=[0, 105], gridcolor=RULE, tickvals=[0, 25, 50, 75, 100], row=2, col=1)
    chart.update_layout(
        height=700,
        margin=dict(l=60, r=30, t=60, b=40),
        paper_bgcolor=BG,
        plot_bgcolor=BG,
        font=dict(size=24, color=TEXT),
        dragmode=False,
        hovermode=False,
        legend=dict(orientation="h", y=-0.08, x=0, font=dict(size=24)),
    )
    chart.update_annotations(font=dict(size=24, color=MUTED))
    chart.update_xaxes(tickfont=dict(size=22, color=TEXT), showgrid=False)
    return chart


# --- navigation -----------------------------------------------------------------------------
# Registered once per process (module import); st.components.v2 runs the script in the page
# itself, not in an iframe, so the listener hears the keys wherever the focus is.
KEYS_COMPONENT = st.components.v2.component("presentasi_keys", js=KEYS_JS)


def _initial_slide(count: int) -> int:
    try:
        wanted = int(st.query_params.get(PARAM_SLIDE, "1")) - 1
    except ValueError:
        wanted = 0
    return min(max(wanted, 0), count - 1)


def _initial_auto() -> int:
    try:
        wanted = int(st.query_params.get(PARAM_AUTO, "0"))
    except ValueError:
        return 0
    return wanted if wanted in AUTO_CHOICES else 0


def _go(index: int) -> None:
    st.session_state[SLIDE_STATE] = index
    st.session_state[CHANGED_STATE] = time.monotonic()


def _step(action: str, count: int) -> None:
    """A key or button: next/prev stop at the ends (a remote pressed once too often stays put)."""
    index = st.session_state.get(SLIDE_STATE, 0)
    target = {"next": index + 1, "prev": index - 1, "first": 0, "last": count - 1}.get(action, index)
    _go(max(0, min(target, count - 1)))


def _mirror_url(index: int, auto: int) -> None:
    if st.query_params.get(PARAM_SLIDE) != str(index + 1):
        st.query_params[PARAM_SLIDE] = str(index + 1)
    if auto:
        if st.query_params.get(PARAM_AUTO) != str(auto):
            st.query_params[PARAM_AUTO] = str(auto)
    elif PARAM_AUTO in st.query_params:
        del st.query_params[PARAM_AUTO]


def render_slide(
    fig: BriefingFigures, slides: list[Slide], index: int, settings: Settings, store: Any = None,
) -> None:
    slide = slides[index]
    number, count = index + 1, len(slides)
    if slide.kind == "ringkasan":
        fresh, stale = freshness_text(fig, settings.freshness_warning_hours)
        sub = f"dibandingkan {fig.previous_period_label} · {fresh}"
        from ui.views import unknown_time_note

        note = unknown_time_note(fig.total)
        if note:
            sub += f" · {note}"
        st.html(_frame(fig, slide, number, count, headline_html(fig), sub))
    elif slide.kind == "peringkat":
        sub = (
            f"Skor = Kecepatan {tf.fmt_number(settings.kpi.weight_kecepatan * 100, 0)}% · Ketepatan "
            f"{tf.fmt_number(settings.kpi.weight_ketepatan * 100, 0)}% · Tuntas "
            f"{tf.fmt_number(settings.kpi.weight_tuntas * 100, 0)}%; diperingkat bila ≥ "
            f"{settings.kpi.min_volume} pengaduan"
        )
        st.html(_frame(fig, slide, number, count, ranking_html(fig, slide.part, settings.kpi.min_volume), sub))
    elif slide.kind == "terlambat":
        late = backlog(store, settings, fig.filters)
        sub = (
            f"{tf.fmt_int(late.overdue)} pengaduan terlambat saat ini (dari periode mana pun), "
            f"{tf.fmt_int(late.due_soon)} akan jatuh tempo; {tf.fmt_int(min(len(late.top), OVERDUE_ON_SLIDE))} "
            "yang paling lama (hari kerja sejak batas tanggapan atau penyelesaian terlewat)"
        )
        st.html(_frame(fig, slide, number, count, overdue_html(late.top), sub))
    else:
        sub = (f"{tf.fmt_month(fig.trend_from)} – {tf.fmt_date(fig.filters.date_to)}, menurut bulan masuk; "
               "* bulan belum lengkap (angkanya belum matang, bukan penurunan)")
        # A Plotly chart cannot live inside st.html, so heading, chart and footer are stacked.
        st.html(
            f'<div class="pz-slide pz-compact" data-testid="pz-slide" data-slide="{number}" '
            f'data-kind="{slide.kind}">{_head(fig, slide, sub)}</div>'
        )
        from ui import cards, charts
        from ui.views import partial_buckets

        cards.css()
        with cards.desktop_only("pz_trend"):
            st.plotly_chart(
                trend_figure(fig),
                config={"displayModeBar": False, "staticPlot": True},
                theme=None,
                key=f"pz_trend_{number}",
            )
        with cards.phone_only("pz_trend"):  # projector type does not fit a phone: the page's own charts
            today = fig.filters.as_of.astimezone(ZoneInfo(fig.timezone)).date()
            partial = partial_buckets(fig.trend["period_start"].tolist(), "month", fig.trend_from,
                                      fig.filters.date_to, today)
            charts.show(charts.volume_trend(fig.trend, partial=partial), key=f"pz_trend_volume_{number}")
            charts.show(charts.kpi_trend(fig.trend, partial=partial), key=f"pz_trend_kpi_{number}")
        st.html(f'<div class="pz-slide pz-compact">{_foot(fig, number, count)}</div>')


def show(store: Any, settings: Settings, filters: Filters, exit_page: Any = None) -> None:
    """The presentation: CSS, keys, the slide (auto-advancing in a fragment), quiet controls."""
    st.html(PRESENTATION_CSS)
    fig = figures(store, settings, filters)
    slides = build_slides(fig)
    count = len(slides)
    state = st.session_state
    if SLIDE_STATE not in state:
        _go(_initial_slide(count))
        state[AUTO_STATE] = _initial_auto()
    state[SLIDE_STATE] = min(state[SLIDE_STATE], count - 1)

    result = KEYS_COMPONENT(key="pz_keys", on_nav_change=lambda: None)
    action = getattr(result, "nav", None)
    if action:
        _step(action, count)

    auto = int(state.get(AUTO_STATE) or 0)
    full_run_at = time.monotonic()

    @st.fragment(run_every=auto if auto else None)
    def _slide_fragment() -> None:
        now = time.monotonic()
        # Only a timer tick (a fragment-only rerun, not this full run) advances, and only when
        # the slide has been up for the whole interval, so a key press just before a tick does
        # not skip a slide.
        timer_tick = now - full_run_at > 0.5
        if auto and timer_tick and now - state.get(CHANGED_STATE, now) >= auto - 0.5:
            _go((state[SLIDE_STATE] + 1) % count)  # an unattended screen loops
        index = state[SLIDE_STATE]
        _mirror_url(index, auto)
        render_slide(fig, slides, index, settings, store)

    _slide_fragment()

    with st.container(horizontal=True, key="pz_controls", vertical_alignment="center"):
        st.button(
            "Sebelumnya",
            icon=":material/chevron_left:",
            key="pz_prev",
            on_click=_step,
            args=("prev", count),
            type="tertiary",
        )
        st.button(
            "Berikutnya",
            icon=":material/chevron_right:",
            key="pz_next",
            on_click=_step,
            args=("next", count),
            type="tertiary",
        )
        st.selectbox(
            "Ganti otomatis",
            AUTO_CHOICES,
            key=AUTO_STATE,
            label_visibility="collapsed",
            width=190,
            format_func=lambda s: "Ganti otomatis: mati" if not s else f"Ganti otomatis: {s} detik",
        )
        st.caption("← → / PageUp PageDown untuk berpindah slide")
        if exit_page is not None:
            st.page_link(exit_page, label="Keluar dari presentasi", icon=":material/close:")
