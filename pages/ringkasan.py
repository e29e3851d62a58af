"""Ringkasan: the regent's phone view: how are we doing this period, and who is late."""

from dataclasses import replace

import streamlit as st

from ui import briefing_download, charts, components, data, page, registry, summary_block, views
from ui import filters as ui_filters
from ui import format as fmt

ctx = page.guard("ringkasan", "Ringkasan")
filters = ctx.filters

compare = data.compare_periods(filters)
previous = filters.previous_period()
components.kpi_cards(
    views.headline_cards(compare),
    caption=f"Perubahan dibanding {fmt.period(previous.date_from, previous.date_to)}",
)

table = data.opd_table(filters)
overdue_total = views.total_row(table)
total_overdue = 0 if overdue_total is None else overdue_total["overdue"]
if filters.scope.opd is not None:
    own = views.opd_rows(table)
    total_overdue = own["overdue"].sum() if not own.empty else 0

st.subheader("Perlu perhatian")
st.caption(f"{fmt.number(total_overdue)} aduan terlambat (belum selesai dan sudah lewat batas waktu)")
components.ranked_list(views.most_overdue(table), empty_text="Tidak ada aduan yang terlambat.")
terlambat_page = registry.page("terlambat")
if terlambat_page is not None:
    st.page_link(terlambat_page, label="Lihat daftar aduan terlambat", icon=":material/arrow_forward:",
                 query_params=ui_filters.global_params())

if filters.scope.opd is None:
    best, lowest = views.best_and_lowest(table)
    left, right = st.columns(2)
    with left:
        st.subheader("Terbaik")
        components.ranked_list(best, empty_text="Belum ada OPD dengan aduan yang cukup untuk diberi peringkat.")
    with right:
        st.subheader("Terendah")
        components.ranked_list(lowest, empty_text="—")
    peringkat_page = registry.page("peringkat")
    if peringkat_page is not None:
        st.page_link(peringkat_page, label="Lihat peringkat semua OPD", icon=":material/arrow_forward:",
                     query_params=ui_filters.global_params())

st.subheader("Tren 6 bulan")
trend_filters = replace(filters, date_from=min(filters.date_from, views.trend_window(filters.date_to)))
trend = data.series(trend_filters, freq="month")
if trend.empty or trend["received"].sum() == 0:
    components.empty_state("Belum ada tren", "Belum ada aduan yang diteruskan ke OPD dalam enam bulan terakhir.")
else:
    charts.show(charts.kpi_trend(trend, "month"), key="ringkasan_trend")

if filters.scope.opd is None:  # the briefing ranks every OPD: for leaders and analysts
    st.subheader("Briefing pimpinan")
    briefing_download.briefing_download_button(data.store(), ctx.settings, filters, ctx.viewer.username)
    summary_block.summary_block(data.store(), ctx.settings, filters, table=table, comparison=compare,
                               admin=data.admin_figures(filters))
