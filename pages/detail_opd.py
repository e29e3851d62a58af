"""Detail OPD: one OPD against the region, its response times, trend, slices and open complaints."""

from dataclasses import replace

import streamlit as st

from ui import charts, components, data, page, views
from ui import filters as ui_filters
from ui import format as fmt

PARAM = "opd"
WIDGET = "detail_opd_pilih"

ctx = page.guard("detail_opd", "Detail OPD")
filters = ctx.filters
region_filters = replace(filters, opds=())  # the comparison is the whole region, not the slicer
table = data.opd_table(region_filters)
names = views.opd_rows(table)["opd"].astype(str).tolist()
if filters.scope.opd is not None:
    names = [filters.scope.opd]

ui_filters.page_param(PARAM, names, WIDGET)
chosen = st.selectbox("OPD", names, index=None, key=WIDGET, placeholder="Pilih OPD")
ui_filters.sync_query_params({PARAM: [chosen] if chosen else []}, [PARAM])
if not chosen:
    components.empty_state("Pilih OPD", "Pilih OPD di atas, atau ketuk OPD di halaman Peringkat OPD.")
    st.stop()

row = table[table["opd"] == chosen].iloc[0]
region = views.total_row(table) if filters.scope.opd is None else None  # an OPD viewer: no region figure
rank_text = views.place_text(row["rank"], table)
st.html(components.ranked_list_html([components.ListRow(f"Skor {fmt.score(row['score'])} · {rank_text}", "",
                                                          row["grade"], show_badge=True)]))
st.dataframe(views.comparison_rows(row, region), hide_index=True, key="detail_compare")

opd_filters = replace(filters, opds=(chosen,))
st.subheader("Waktu sampai tanggapan pertama")
hours = data.response_hours(region_filters, opd=chosen)
if hours.empty:
    st.caption("Belum ada aduan yang ditanggapi pada periode ini.")
else:
    charts.show(charts.response_histogram(hours), key="detail_hours")
    st.caption(
        f"Median {fmt.hours(row['median_response_hours'])}. Garis merah: sekitar 5 hari kerja (satu "
        "minggu kalender); ketepatan waktu tiap aduan dihitung dengan kalender hari kerja."
    )

st.subheader("Tren bulanan")
trend = data.series(replace(opd_filters, date_from=min(filters.date_from, views.trend_window(filters.date_to, 12))))
charts.show(charts.kpi_trend(trend, "month"), key="detail_trend")

st.subheader("Rincian")
for tab, by in zip(st.tabs(["Kategori", "Kecamatan", "Kanal"]), ("category", "kecamatan", "channel"), strict=True):
    with tab:
        part = data.breakdown(opd_filters, by)
        if part.empty:
            st.caption("Tidak ada aduan.")
        else:
            charts.show(charts.breakdown_bars(part, by), key=f"detail_{by}")

st.subheader("Aduan belum selesai")
open_list = data.open_complaints(region_filters, opd=chosen)
overdue_count = int(open_list["is_overdue"].sum()) if not open_list.empty else 0
st.caption(f"{fmt.number(len(open_list))} belum selesai, {fmt.number(overdue_count)} di antaranya terlambat.")
if not open_list.empty:
    shown = views.complaint_list(open_list, ctx.settings.kpi.timezone, ctx.settings.complaint_url_template)
    st.dataframe(
        shown.drop(columns=["OPD"]), hide_index=True, key="detail_open",
        column_config={"Tautan": st.column_config.LinkColumn("Tautan", display_text="Buka")},
    )
