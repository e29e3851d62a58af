"""Ringkasan: the regent's phone view: how are we doing this period, and who is late now."""

from dataclasses import replace

import streamlit as st

from ui import briefing_download, cards, charts, components, data, page, registry, summary_block, views
from ui import contacts as ui_contacts
from ui import filters as ui_filters
from ui import format as fmt

ctx = page.guard("ringkasan", "Ringkasan")
filters = ctx.filters
settings = ctx.settings
params = ui_filters.global_params()

compare = data.compare_periods(filters)
previous = filters.previous_period()
table = data.opd_table(filters)
total = views.total_row(table)
st.subheader("Periode ini")
components.kpi_cards(
    views.headline_cards(compare),
    caption=f"Aduan masuk {fmt.period(filters.date_from, filters.date_to)}; perubahan dibanding "
    f"{fmt.period(previous.date_from, previous.date_to)}",
)
for note in (views.empty_speed_reason(total), views.unknown_time_note(total)):
    if note:
        st.caption(note)

# The backlog (KPI.md): what is open and late now, whatever the period it came in.
counts = data.backlog_counts(filters)
overdue_now = views.backlog_total(counts, "backlog_overdue")
due_soon_now = views.backlog_total(counts, "due_soon")
st.subheader("Perlu perhatian saat ini")
st.caption(
    f"{fmt.number(overdue_now)} aduan terlambat saat ini (belum selesai dan lewat batas waktu, dari periode "
    f"mana pun), {fmt.number(due_soon_now)} akan jatuh tempo sampai akhir hari kerja berikutnya."
)
book = ui_contacts.contacts()
late_rows = views.backlog_opd_rows(counts, top=5)
late_ids = {}
if book and not late_rows.empty:
    listed = data.backlog_complaints(filters, kind="overdue")
    late_ids = listed.groupby("opd")["tracking_id"].apply(lambda s: [str(v) for v in s]).to_dict()
terlambat_page = registry.page("terlambat")
late_cards = [
    cards.OpdCard(
        name=str(r.opd), value=f"{fmt.number(r.backlog_overdue)} terlambat",
        meta=f"{fmt.number(r.due_soon)} akan jatuh tempo · {fmt.number(r.backlog_open)} belum selesai",
        link_label="Lihat aduan terlambat", params={**params, "opd": str(r.opd)},
        actions=tuple(ui_contacts.actions(str(r.opd), book, late_ids.get(str(r.opd), ()), settings.public_url)),
    )
    for r in late_rows.itertuples()
]
cards.opd_cards(late_cards, terlambat_page, key="perlu", empty_text="Tidak ada aduan yang terlambat saat ini.")
if terlambat_page is not None:
    st.page_link(terlambat_page, label="Semua aduan terlambat",
                 icon=":material/arrow_forward:", query_params=params)

if filters.scope.opd is None:
    ranked, _ = views.split_ranked(table)
    top = ranked.head(3)
    bottom = ranked.iloc[len(top):].tail(3).iloc[::-1]
    detail_page = registry.page("detail_opd")

    def opd_params(name: str) -> dict:
        return {**params, "opd": name}

    left, right = st.columns(2)
    with left:
        st.subheader("Terbaik")
        cards.opd_cards(views.ranking_cards(top, opd_params, settings.kpi.min_volume), detail_page, key="best",
                        empty_text="Belum ada OPD dengan aduan yang cukup untuk diberi peringkat.")
    with right:
        st.subheader("Terendah")
        cards.opd_cards(views.ranking_cards(bottom, opd_params, settings.kpi.min_volume), detail_page,
                        key="lowest", empty_text="—")
    peringkat_page = registry.page("peringkat")
    if peringkat_page is not None:
        st.page_link(peringkat_page, label="Lihat peringkat semua OPD", icon=":material/arrow_forward:",
                     query_params=params)

from ui import topics as ui_topics  # noqa: E402 - kept beside its one call

ui_topics.summary_block(data.store(), filters, ctx.viewer)

st.subheader("Tren 6 bulan")
trend_filters = replace(filters, date_from=min(filters.date_from, views.trend_window(filters.date_to)))
trend = data.series(trend_filters, freq="month")
if trend.empty or trend["received"].sum() == 0:
    components.empty_state("Belum ada tren", "Belum ada aduan yang diteruskan ke OPD dalam enam bulan terakhir.")
else:
    partial = views.partial_buckets(trend["period_start"].tolist(), "month", trend_filters.date_from,
                                    trend_filters.date_to, ui_filters.local_today(filters, settings))
    charts.show(charts.kpi_trend(trend, "month", partial=partial), key="ringkasan_trend")
    if any(partial):
        st.caption("\\* bulan belum lengkap (masih berjalan): angkanya belum matang, bukan penurunan.")

if filters.scope.opd is None:  # the briefing ranks every OPD: for leaders and analysts
    st.subheader("Briefing pimpinan")
    briefing_download.briefing_download_button(data.store(), settings, filters, ctx.viewer.username)
    summary_block.summary_block(data.store(), settings, filters, table=table, comparison=compare,
                                admin=data.admin_figures(filters))
