"""Aduan Terlambat: the overdue watchlist across OPDs, most overdue first: the leader's action list."""

import streamlit as st

from ui import components, data, page, views
from ui import filters as ui_filters
from ui import format as fmt

PARAM = "opd"
WIDGET = "terlambat_opd"
ALL = "Semua OPD"

ctx = page.guard("terlambat", "Aduan Terlambat")
filters = ctx.filters
overdue = data.overdue_complaints(filters)

names = [ALL, *sorted(overdue["opd"].dropna().astype(str).unique())]
ui_filters.page_param(PARAM, names, WIDGET)
chosen = st.selectbox("OPD", names, key=WIDGET)
ui_filters.sync_query_params({PARAM: [chosen] if chosen and chosen != ALL else []}, [PARAM])
if chosen and chosen != ALL:
    overdue = overdue[overdue["opd"] == chosen]

if overdue.empty:
    components.empty_state("Tidak ada aduan terlambat", "Semua aduan pada periode dan saringan ini masih dalam batas waktu.")
    st.stop()

per_opd = overdue.groupby("opd").size().sort_values(ascending=False)
st.caption(
    f"{fmt.number(len(overdue))} aduan terlambat di {fmt.number(len(per_opd))} OPD, paling lama di atas. "
    "Hari kerja terlambat dihitung dari batas yang terlewat sampai saat perhitungan."
)
shown = views.complaint_list(overdue, ctx.settings.kpi.timezone, ctx.settings.complaint_url_template)
st.dataframe(
    shown, hide_index=True, key="terlambat_table",
    column_config={
        "Tracking ID": st.column_config.TextColumn("Tracking ID", pinned=True),
        "Tautan": st.column_config.LinkColumn("Tautan", display_text="Buka"),
    },
)
