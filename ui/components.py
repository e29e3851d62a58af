"""Small display components: KPI cards, grade badges, ranked lists, freshness line, banners, empty state.

The cards and lists are plain HTML/CSS (a grid that keeps two cards side by side on a 390 px
phone, where Streamlit would stack columns). Only numbers, fixed labels and escaped OPD names
go into that HTML, never complaint text: the builders return strings so tests can read them,
and `html.escape` guards every value that comes from data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from ui import format as fmt
from ui import theme

_CSS = f"""
<style>
.lp-cards {{ display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.5rem; }}
@media (min-width: 720px) {{ .lp-cards {{ grid-template-columns: repeat(4, minmax(0, 1fr)); }} }}
.lp-card {{ background: {theme.CARD_BACKGROUND}; border: 1px solid {theme.LIGHT_GREY};
  border-radius: 0.6rem; padding: 0.6rem 0.75rem; min-width: 0; }}
.lp-card-label {{ font-size: 0.85rem; color: {theme.MUTED_TEXT}; margin: 0; }}
.lp-card-value {{ font-size: 1.6rem; font-weight: 650; color: {theme.TEXT}; margin: 0.1rem 0;
  line-height: 1.2; overflow-wrap: anywhere; }}
.lp-card-delta {{ font-size: 0.8rem; margin: 0; }}
.lp-card-note {{ font-size: 0.75rem; color: {theme.MUTED_TEXT}; margin: 0; }}
.lp-badge {{ display: inline-block; border-radius: 999px; padding: 0.05rem 0.55rem;
  font-size: 0.78rem; font-weight: 600; white-space: nowrap; }}
.lp-list {{ list-style: none; padding: 0; margin: 0; }}
.lp-list li {{ margin: 0; display: flex; justify-content: space-between; align-items: center; gap: 0.5rem;
  padding: 0.4rem 0; border-bottom: 1px solid {theme.LIGHT_GREY}; }}
.lp-list .lp-name {{ min-width: 0; overflow-wrap: anywhere; }}
.lp-list .lp-value {{ white-space: nowrap; font-weight: 600; }}
.lp-banner {{ border-radius: 0.5rem; padding: 0.45rem 0.75rem; font-size: 0.9rem; }}
</style>
"""


@dataclass(frozen=True)
class KpiCard:
    """One headline figure: its label, formatted value, and the change against the previous period."""

    key: str
    label: str
    value: str
    delta: str = ""
    delta_color: str = theme.GREY
    arrow: str = ""
    note: str = ""


def kpi_card(
    key: str, label: str, value: str, delta: float | None, delta_text: str,
    higher_is_better: bool | None, note: str = "",
) -> KpiCard:
    """Build a card; the arrow and colour follow the change and whether higher is better."""
    arrow = ""
    if not fmt.is_empty(delta) and delta_text not in ("", fmt.EMPTY):
        arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
    return KpiCard(
        key=key, label=label, value=value, delta=delta_text,
        delta_color=theme.delta_color(None if fmt.is_empty(delta) else float(delta), higher_is_better),
        arrow=arrow, note=note,
    )


def kpi_cards_html(cards: Sequence[KpiCard], caption: str = "") -> str:
    parts = ['<div class="lp-cards">']
    for card in cards:
        delta = ""
        if card.delta:
            delta = (
                f'<p class="lp-card-delta" style="color:{card.delta_color}">'
                f"{html.escape(card.arrow)} {html.escape(card.delta)}</p>"
            )
        note = f'<p class="lp-card-note">{html.escape(card.note)}</p>' if card.note else ""
        parts.append(
            f'<div class="lp-card" data-kpi="{html.escape(card.key)}">'
            f'<p class="lp-card-label">{html.escape(card.label)}</p>'
            f'<p class="lp-card-value">{html.escape(card.value)}</p>{delta}{note}</div>'
        )
    parts.append("</div>")
    if caption:
        parts.append(f'<p class="lp-card-note" style="margin-top:0.3rem">{html.escape(caption)}</p>')
    return _CSS + "".join(parts)


def kpi_cards(cards: Sequence[KpiCard], caption: str = "") -> None:
    st.html(kpi_cards_html(cards, caption))


def grade_badge_html(grade: str | None) -> str:
    color = theme.grade_color(grade)
    soft = theme.GRADE_SOFT_COLORS.get(grade or "", theme.LIGHT_GREY)
    return (
        f'<span class="lp-badge" style="color:{color};background:{soft};border:1px solid {color}">'
        f"{html.escape(theme.grade_label(grade))}</span>"
    )


@dataclass(frozen=True)
class ListRow:
    name: str
    value: str
    grade: str | None = None
    show_badge: bool = False


def ranked_list_html(rows: Sequence[ListRow], empty_text: str = "Tidak ada.") -> str:
    """A compact list of OPD name, value and optional grade badge (escaped), phone-friendly."""
    if not rows:
        return _CSS + f'<p class="lp-card-note">{html.escape(empty_text)}</p>'
    items = []
    for row in rows:
        badge = f" {grade_badge_html(row.grade)}" if row.show_badge else ""
        items.append(
            f'<li><span class="lp-name">{html.escape(row.name)}</span>'
            f'<span class="lp-value">{html.escape(row.value)}{badge}</span></li>'
        )
    return _CSS + '<ul class="lp-list">' + "".join(items) + "</ul>"


def ranked_list(rows: Sequence[ListRow], empty_text: str = "Tidak ada.") -> None:
    st.html(ranked_list_html(rows, empty_text))


def freshness_text(last_success: datetime | None, now: datetime, timezone: str, warning_hours: float) -> tuple[str, bool]:
    """("Data per 3 Jan 2026 14.05 WITA", is_stale): stale past `warning_hours` or never imported."""
    if last_success is None:
        return "Data per: belum ada impor atau sinkronisasi yang berhasil", True
    age_hours = max(0.0, (now - last_success).total_seconds() / 3600.0)
    text = f"Data per {fmt.moment(last_success, timezone)}"
    if age_hours > warning_hours:
        return f"{text} ({fmt.age(age_hours)} yang lalu, belum diperbarui)", True
    return text, False


def freshness_line(last_success: datetime | None, now: datetime, timezone: str, warning_hours: float) -> None:
    text, stale = freshness_text(last_success, now, timezone, warning_hours)
    if stale:
        st.warning(text, icon=":material/schedule:")
    else:
        st.caption(text)


def demo_banner() -> None:
    """The label every page carries while the store holds only demo data."""
    st.html(
        _CSS + f'<div class="lp-banner" data-testid="demo-banner" style="background:{theme.AMBER_SOFT};'
        f'border:1px solid {theme.AMBER};color:{theme.TEXT}"><strong>Data contoh</strong> — '
        "angka di dasbor ini berasal dari data demo, bukan aduan sebenarnya.</div>"
    )


def empty_state(title: str, hint: str) -> None:
    """A calm message instead of an empty chart or an error."""
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(hint)


def page_heading(title: str, subtitle: str) -> None:
    st.title(title)
    st.caption(subtitle)


def uploader_in_indonesian(max_mb: int, types: str) -> None:
    """Streamlit's file uploader speaks English ("Upload", "50MB per file"): replace its words."""
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,'
        '[data-testid="stFileUploaderDropzoneInstructions"] span { display: none; }'
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after'
        ' { content: "Pilih berkas"; }'
        '[data-testid="stFileUploaderDropzoneInstructions"] > div::after'
        f' {{ content: "Maks. {int(max_mb)} MB per berkas · {html.escape(types)}"; font-size: 0.85rem; }}'
        "</style>"
    )
