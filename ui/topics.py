"""What citizens complain about, on screen: ranked terms with rising/falling marks, kecamatan x term, recurring cards.

The figures come from metrics.topics for the signed-in viewer (confidential complaints count only
for analysts, an OPD viewer sees its own OPD). Terms, places and OPD names come from data: they
go into HTML only through `html.escape`, into markdown only escaped, into tables as plain cells.
"""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import streamlit as st

from access.privacy import complaint_text, show_complaint_text
from metrics import topics as metrics_topics
from metrics.filters import Filters
from ui import format as fmt
from ui import theme

_CSS = f"""
<style>
.lp-terms {{ list-style: none; padding: 0 !important; margin: 0 !important; max-width: 52rem; }}
.lp-terms li {{ padding: 0.35rem 0; margin: 0 !important; border-bottom: 1px solid {theme.LIGHT_GREY}; }}
.lp-term-row {{ display: flex; justify-content: space-between; gap: 0.5rem; align-items: baseline; }}
.lp-term-name {{ min-width: 0; overflow-wrap: anywhere; font-weight: 600; }}
.lp-term-value {{ white-space: nowrap; font-weight: 600; }}
.lp-term-bar {{ height: 0.4rem; border-radius: 0.2rem; background: {theme.LIGHT_GREY}; margin: 0.2rem 0; }}
.lp-term-bar span {{ display: block; height: 100%; border-radius: 0.2rem; background: {theme.BLUE}; }}
.lp-term-note {{ font-size: 0.78rem; color: {theme.MUTED_TEXT}; overflow-wrap: anywhere; }}
</style>
"""
MARKS = {"naik": ("▲ naik", theme.RED), "turun": ("▼ turun", theme.GREEN), "": ("", theme.MUTED_TEXT)}
CARDS_SHOWN = 12


def _viewer_reads_confidential(viewer) -> bool:  # noqa: ANN001
    return bool(viewer is not None and viewer.can("confidential"))


def terms(store, filters: Filters, viewer, limit: int | None = 30) -> pd.DataFrame:  # noqa: ANN001
    return metrics_topics.topic_terms(
        store, filters, viewer_may_read_confidential=_viewer_reads_confidential(viewer), limit=limit
    )


def recurring(store, filters: Filters, viewer) -> pd.DataFrame:  # noqa: ANN001
    return metrics_topics.recurring_problems(
        store, filters, viewer_may_read_confidential=_viewer_reads_confidential(viewer)
    )


def terms_bars_html(table: pd.DataFrame, *, show_places: bool = True) -> str:
    """A ranked bar list: term, complaints, a bar, the change mark and where (all escaped)."""
    if table.empty:
        return _CSS + '<p class="lp-term-note">Belum ada kata yang muncul di sedikitnya 5 aduan.</p>'
    top = max(int(table["complaints"].max()), 1)
    items = []
    for row in table.itertuples(index=False):
        mark, color = MARKS[metrics_topics.rising_mark(int(row.complaints), int(row.previous_complaints))]
        width = max(2.0, 100.0 * int(row.complaints) / top)
        change = f"sebelumnya {fmt.number(row.previous_complaints)}"
        mark_html = f' <span style="color:{color};font-weight:600">{html.escape(mark)}</span>' if mark else ""
        where = ""
        if show_places and row.kecamatan:
            where = f"<div class='lp-term-note'>Terbanyak di {html.escape(str(row.kecamatan))}</div>"
        items.append(
            f'<li data-term="{html.escape(str(row.term))}"><div class="lp-term-row">'
            f'<span class="lp-term-name">{html.escape(str(row.term))}</span>'
            f'<span class="lp-term-value">{html.escape(fmt.number(row.complaints))} aduan</span></div>'
            f'<div class="lp-term-bar"><span style="width:{width:.1f}%"></span></div>'
            f'<div class="lp-term-note">{html.escape(change)}{mark_html}</div>{where}</li>'
        )
    return _CSS + '<ul class="lp-terms">' + "".join(items) + "</ul>"


def summary_block(store, filters: Filters, viewer, page=None) -> None:  # noqa: ANN001
    """Ringkasan's "Yang paling banyak dikeluhkan": the five leading terms and the recurring count."""
    st.subheader("Yang paling banyak dikeluhkan")
    table = terms(store, filters, viewer, limit=5)
    st.html(terms_bars_html(table))
    groups = recurring(store, filters, viewer)
    if len(groups):
        st.caption(f"{fmt.number(len(groups))} masalah berulang (3 aduan serupa atau lebih di satu kecamatan "
                   "dalam 30 hari)")
    if page is None:
        from ui import registry

        page = registry.page("topik")
    if page is not None:
        from ui import filters as ui_filters

        st.page_link(page, label="Lihat topik aduan", icon=":material/arrow_forward:",
                     query_params=ui_filters.global_params())


def kecamatan_view(store, filters: Filters, viewer, table: pd.DataFrame, terms_shown: int = 6) -> None:  # noqa: ANN001
    """A kecamatan x term table of the leading terms (complaints holding each term)."""
    chosen = [str(t) for t in table["term"].head(terms_shown)]
    if not chosen:
        return
    grid = metrics_topics.term_kecamatan(
        store, filters, chosen, viewer_may_read_confidential=_viewer_reads_confidential(viewer)
    )
    if grid.empty:
        st.caption("Belum ada aduan dengan kecamatan.")
        return
    grid = grid.reset_index().rename(columns={"kecamatan": "Kecamatan"})
    st.dataframe(grid, hide_index=True, width="stretch",
                 column_config={t: st.column_config.NumberColumn(t, format="%d") for t in chosen})


def _date_text(iso: str, timezone: str) -> str:
    return fmt.day(datetime.fromisoformat(iso))


def recurring_cards(store, groups: pd.DataFrame, viewer, timezone: str) -> None:  # noqa: ANN001
    """One card per recurring problem (largest first), each opening its complaints."""
    if groups.empty:
        st.caption("Tidak ada masalah berulang pada periode ini.")
        return
    for row in groups.head(CARDS_SHOWN).itertuples(index=False):
        with st.container(border=True, key=f"topik_group_{row.group}"):
            st.markdown(f"**{_escape(row.label or 'masalah serupa')}**")
            place = " · ".join(str(v) for v in (row.kecamatan, row.opd) if v)
            st.text(place)
            st.caption(
                f"{fmt.number(row.complaints)} aduan, {fmt.number(row.open)} belum selesai · "
                f"{_date_text(row.first_submitted, timezone)} – {_date_text(row.last_submitted, timezone)}"
            )
            ids = str(row.tracking_ids).split("; ")
            with st.expander(f"Lihat {len(ids)} aduan"):
                for tracking_id in ids:
                    st.text(f"Tracking ID {tracking_id}")
                    text = complaint_text(store, viewer, tracking_id)
                    if text is not None:
                        show_complaint_text(text)
    if len(groups) > CARDS_SHOWN:
        st.caption(f"{fmt.number(len(groups) - CARDS_SHOWN)} masalah berulang lainnya ada di unduhan.")


def _escape(text: str) -> str:
    from ui.page import escape_markdown

    return escape_markdown(text)


def downloads(store, terms_table: pd.DataFrame, groups: pd.DataFrame, username: str | None) -> None:  # noqa: ANN001
    """CSV downloads of both tables, built when clicked, formula cells neutralised, audited."""
    from metrics.export import _csv_text

    def build(table: pd.DataFrame, what: str):  # noqa: ANN202
        def data() -> str:
            from access import audit

            audit.record(store, username, "export", f"topik {what} CSV")
            return _csv_text(table)

        return data

    left, right = st.columns(2)
    with left:
        st.download_button("Unduh kata (CSV)", build(terms_table, "kata"), file_name="topik_kata.csv",
                           mime="text/csv", width="stretch", key="topik_terms_csv", on_click="ignore")
    with right:
        st.download_button("Unduh masalah berulang (CSV)", build(groups, "berulang"),
                           file_name="topik_berulang.csv", mime="text/csv", width="stretch",
                           key="topik_groups_csv", on_click="ignore")
