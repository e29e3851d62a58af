"""Detail OPD: one OPD against the region, its response times, trend, slices and open complaints."""

from dataclasses import replace

import streamlit as st

from ui import cards, charts, components, data, page, views
from ui import contacts as ui_contacts
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

if filters.scope.opd is not None:
    chosen = filters.scope.opd  # the own OPD: nothing to choose
else:
    ui_filters.page_param(PARAM, names, WIDGET)
    if WIDGET not in st.session_state and len(names) == 1:
        st.session_state[WIDGET] = names[0]
    chosen = st.selectbox("OPD", names, index=None, key=WIDGET, placeholder="Pilih OPD")
    ui_filters.sync_query_params({PARAM: [chosen] if chosen else []}, [PARAM])
if not chosen:
    components.empty_state("Pilih OPD", "Pilih OPD di atas, atau ketuk OPD di halaman Peringkat OPD.")
    st.stop()

matches = table[table["opd"] == chosen]
if matches.empty:
    components.empty_state("Belum ada aduan OPD ini pada periode ini", "Pilih periode lain di panel saring.")
    st.stop()
row = matches.iloc[0]
region = views.total_row(table) if filters.scope.opd is None else None  # an OPD viewer: no region figures
count = table.attrs.get("ranked_count")
if fmt.is_empty(row["rank"]):
    rank_text = views.unranked_text(ctx.settings.kpi.min_volume)
else:
    rank_text = f"peringkat {fmt.number(row['rank'])}" + (f" dari {fmt.number(count)}" if count else "")
grade = row["grade"] if not fmt.is_empty(row["rank"]) else None
st.html(cards.CSS + f'<div class="lp-c-top"><span class="lp-c-name">Skor {fmt.score(row["score"])} · '
        f'{cards.text(rank_text)}</span><span>{cards.badge_html(grade) if grade else ""}</span></div>')
counts = data.backlog_counts(filters)
own_counts = counts[counts["opd"] == chosen]
overdue_now = int(own_counts["backlog_overdue"].iloc[0]) if not own_counts.empty else 0
links = []
if overdue_now:
    late = data.backlog_complaints(filters, kind="overdue", opd=chosen)
    links = ui_contacts.actions(chosen, ui_contacts.contacts(), late["tracking_id"].astype(str).tolist(),
                                ctx.settings.public_url)
if links:
    st.html(cards.CSS + cards.actions_html(links))
for note in (views.empty_speed_reason(row), views.unknown_time_note(row)):
    if note:
        st.caption(note)
compare_rows = views.comparison_rows(row, region)
if region is None:
    compare_rows = compare_rows.drop(columns=["Seluruh wilayah"])
st.dataframe(compare_rows, hide_index=True, key="detail_compare")

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
trend_filters = replace(opd_filters, date_from=min(filters.date_from, views.trend_window(filters.date_to, 12)))
trend = data.series(trend_filters)
partial = views.partial_buckets(trend["period_start"].tolist(), "month", trend_filters.date_from,
                                trend_filters.date_to, ui_filters.local_today(filters, ctx.settings))
charts.show(charts.kpi_trend(trend, "month", partial=partial), key="detail_trend")
if any(partial):
    st.caption("\\* bulan belum lengkap (masih berjalan): angkanya belum matang, bukan penurunan.")

st.subheader("Rincian")
for tab, by in zip(st.tabs(["Kategori", "Kecamatan", "Kanal"]), ("category", "kecamatan", "channel"), strict=True):
    with tab:
        part = data.breakdown(opd_filters, by)
        if part.empty:
            st.caption("Tidak ada aduan.")
        else:
            charts.show(charts.breakdown_bars(part, by), key=f"detail_{by}")

settings = ctx.settings
options = {"opd": chosen, "with_title": True, "include_confidential": ctx.viewer.can("confidential")}
for kind, heading, empty in (("overdue", "Terlambat saat ini", "Tidak ada aduan OPD ini yang terlambat saat ini."),
                             ("due_soon", "Akan jatuh tempo", "Tidak ada aduan OPD ini yang akan jatuh tempo.")):
    st.subheader(heading)
    listed = data.backlog_complaints(filters, kind=kind, **options)
    st.caption(f"{fmt.number(len(listed))} aduan (belum selesai, dari periode mana pun)"
               + (", paling lama di atas." if kind == "overdue" else ", yang paling dekat di atas."))
    with cards.phone_only(f"detail_{kind}"):
        cards.complaint_cards(views.complaint_cards(listed, settings.complaint_url_template, kind=kind,
                                                    timezone=settings.kpi.timezone, show_opd=False),
                                empty_text=empty)
    if not listed.empty:
        with cards.desktop_only(f"detail_{kind}"):
            st.dataframe(
                views.backlog_table(listed, settings.kpi.timezone, settings.complaint_url_template, kind=kind,
                                    show_opd=False),
                hide_index=True, key=f"detail_{kind}_table",
                column_config={"Tautan": st.column_config.LinkColumn("Tautan", display_text="Buka di LAPOR!")},
            )
