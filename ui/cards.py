"""Phone-first lists: OPDs and complaints as tappable cards below 640 px, tables above.

A table of nine columns cannot be read on a 390 px phone, so the ranking, the overdue list,
the early warning and an OPD's open complaints are cards there: one card per row, worst first,
each a link (an OPD card opens Detail OPD, a complaint card its entry in LAPOR!). `phone_only`
and `desktop_only` are containers a CSS media query shows or hides, so the page draws both and
the screen width decides. Every label from data is escaped (html.escape for card HTML,
escape_markdown for a link label); nothing from data is ever read as markdown or HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui import format as fmt
from ui import theme

PHONE_MAX_PX = 640
_PHONE_KEY = "lpphone"
_DESKTOP_KEY = "lpdesk"
_CARD_KEY = "lpcard"

CSS = f"""
<style>
@media (max-width: {PHONE_MAX_PX}px) {{ [class*="st-key-{_DESKTOP_KEY}"] {{ display: none !important; }} }}
@media (min-width: {PHONE_MAX_PX + 1}px) {{ [class*="st-key-{_PHONE_KEY}"] {{ display: none !important; }} }}
[class*="st-key-{_CARD_KEY}"] {{ position: relative; gap: 0.15rem !important; padding: 0.55rem 0.7rem !important; }}
/* The card's one link covers the whole card, so a tap anywhere opens it. */
[class*="st-key-{_CARD_KEY}"] [data-testid="stPageLink"] a::after {{ content: ""; position: absolute; inset: 0; }}
[class*="st-key-{_CARD_KEY}"] [data-testid="stPageLink"] a {{ padding: 0; min-height: 0; }}
[class*="st-key-{_CARD_KEY}"] [data-testid="stPageLink"] p {{ font-size: 0.85rem; color: {theme.BLUE}; }}
.lp-c-top {{ display: flex; justify-content: space-between; gap: 0.5rem; align-items: baseline; }}
.lp-c-name {{ font-weight: 650; min-width: 0; overflow-wrap: anywhere; }}
.lp-c-value {{ white-space: nowrap; font-weight: 700; }}
.lp-c-meta {{ font-size: 0.82rem; color: {theme.MUTED_TEXT}; overflow-wrap: anywhere; margin: 0.1rem 0 0 0; }}
.lp-c-badge {{ display: inline-block; border-radius: 999px; padding: 0 0.5rem; font-size: 0.76rem;
  font-weight: 600; white-space: nowrap; }}
.lp-clist {{ display: flex; flex-direction: column; gap: 0.45rem; margin: 0; padding: 0; }}
.lp-ccard {{ position: relative; display: block; border: 1px solid {theme.LIGHT_GREY}; border-radius: 0.6rem;
  padding: 0.55rem 0.7rem; background: {theme.BACKGROUND}; color: {theme.TEXT}; min-width: 0; }}
.lp-ccard a.lp-c-main {{ color: inherit; text-decoration: none; }}
.lp-ccard a.lp-c-main::after {{ content: ""; position: absolute; inset: 0; }}
.lp-ccard .lp-c-late {{ color: {theme.RED}; }}
.lp-ccard .lp-c-soon {{ color: {theme.AMBER}; }}
.lp-c-actions {{ display: flex; flex-wrap: wrap; gap: 0.4rem; margin: 0.35rem 0 0.5rem 0; }}
.lp-c-actions a {{ position: relative; z-index: 1; font-size: 0.82rem; border: 1px solid {theme.LIGHT_GREY};
  border-radius: 999px; padding: 0.1rem 0.6rem; text-decoration: none; color: {theme.BLUE}; white-space: nowrap; }}
</style>
"""


def text(value: Any) -> str:
    """A value from data as HTML text: controls stripped, escaped."""
    return html.escape(fmt.plain_text(value))


def badge_html(grade: str | None, label: str | None = None) -> str:
    color = theme.grade_color(grade)
    soft = theme.GRADE_SOFT_COLORS.get(grade or "", theme.LIGHT_GREY)
    return (
        f'<span class="lp-c-badge" style="color:{color};background:{soft};border:1px solid {color}">'
        f"{html.escape(label or theme.grade_label(grade))}</span>"
    )


def css() -> None:
    st.html(CSS)


def phone_only(name: str) -> Any:
    """A container shown only below PHONE_MAX_PX."""
    return st.container(key=f"{_PHONE_KEY}_{name}")


def desktop_only(name: str) -> Any:
    """A container shown only above PHONE_MAX_PX."""
    return st.container(key=f"{_DESKTOP_KEY}_{name}")


@dataclass(frozen=True)
class OpdCard:
    """One OPD as a card: "7. Dinas X  63,2  [Perlu perhatian]", a line of detail, a link."""

    name: str
    value: str
    rank: str = ""
    grade: str | None = None
    grade_text: str | None = None  # e.g. "tidak diperingkat" for an OPD below min_volume
    meta: str = ""
    link_label: str = "Buka detail OPD"
    params: Mapping[str, Any] = field(default_factory=dict)
    actions: Sequence[tuple[str, str]] = ()  # (label, href): "Hubungi" links


def opd_card_html(card: OpdCard) -> str:
    rank = f"{html.escape(card.rank)}. " if card.rank else ""
    grade = badge_html(card.grade, card.grade_text) if (card.grade or card.grade_text) else ""
    meta = f'<p class="lp-c-meta">{html.escape(card.meta)}</p>' if card.meta else ""
    return (
        f'<div class="lp-c-top" data-testid="lp-opd-card"><span class="lp-c-name">{rank}{text(card.name)}</span>'
        f'<span class="lp-c-value">{html.escape(card.value)} {grade}</span></div>{meta}{actions_html(card.actions)}'
    )


def actions_html(actions: Sequence[tuple[str, str]]) -> str:
    """"Hubungi" links (wa.me, tel:), above the card's own link so they can be tapped."""
    if not actions:
        return ""
    links = "".join(
        f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer" '
        f'data-testid="lp-contact">{html.escape(label)}</a>'
        for label, href in actions
    )
    return f'<div class="lp-c-actions">{links}</div>'



def opd_cards(cards: Sequence[OpdCard], page: Any, key: str, empty_text: str = "Tidak ada.") -> None:
    """OPD cards, each a link to `page` with its params (st.page_link: the session, and with it
    the sign-in, survives the tap)."""
    css()
    if not cards:
        st.caption(empty_text)
        return
    from ui.page import escape_markdown

    for index, card in enumerate(cards):
        with st.container(border=True, key=f"{_CARD_KEY}_{key}_{index}"):
            st.html(opd_card_html(card))
            if page is not None:
                st.page_link(page, label=escape_markdown(card.link_label), query_params=dict(card.params))


@dataclass(frozen=True)
class ComplaintCard:
    """One complaint as a card: Tracking ID, OPD, days late, category, kecamatan, subject."""

    tracking_id: str
    opd: str
    headline: str  # "12 hari kerja terlambat" or "jatuh tempo 5 Des 2026"
    url: str | None = None
    category: Any = None
    kecamatan: Any = None
    subject: Any = None  # only where the viewer may read complaint titles
    soon: bool = False
    actions: Sequence[tuple[str, str]] = ()  # (label, href): "Hubungi" links


def complaint_cards_html(cards: Sequence[ComplaintCard], empty_text: str = "Tidak ada.") -> str:
    """Complaint cards in one block; a card with a URL opens the complaint in LAPOR! (new tab)."""
    if not cards:
        return CSS + f'<p class="lp-c-meta">{html.escape(empty_text)}</p>'
    parts = [CSS, '<div class="lp-clist">']
    for card in cards:
        late_class = "lp-c-soon" if card.soon else "lp-c-late"
        name = text(card.tracking_id)
        if card.url:
            name = (f'<a class="lp-c-main" href="{html.escape(card.url, quote=True)}" target="_blank" '
                    f'rel="noopener noreferrer">{name}</a>')
        where = " · ".join(text(v) for v in (card.opd or None, card.category, card.kecamatan) if not fmt.is_empty(v))
        subject = f'<p class="lp-c-meta">{text(card.subject)}</p>' if not fmt.is_empty(card.subject) else ""
        actions = actions_html(card.actions)
        parts.append(
            f'<div class="lp-ccard" data-testid="lp-complaint-card">'
            f'<div class="lp-c-top"><span class="lp-c-name">{name}</span>'
            f'<span class="lp-c-value {late_class}">{html.escape(card.headline)}</span></div>'
            f'<p class="lp-c-meta">{where}</p>{subject}{actions}</div>'
        )
    parts.append("</div>")
    return "".join(parts)


def complaint_cards(cards: Sequence[ComplaintCard], empty_text: str = "Tidak ada.") -> None:
    st.html(complaint_cards_html(cards, empty_text))

