"""Tren: volume and the three KPIs over time, by OPD, category, channel or kecamatan, against last year."""

from dataclasses import replace
from datetime import timedelta

import streamlit as st

from ui import charts, components, data, page, views
from ui import filters as ui_filters
from ui import format as fmt

FREQS = {"week": "Mingguan", "month": "Bulanan"}
BY = {"wilayah": "Seluruh wilayah", "opd": "OPD", "category": "Kategori", "channel": "Kanal", "kecamatan": "Kecamatan"}
FIGURES = {
    "received": "Aduan masuk", "response_on_time_pct": "Kecepatan", "accuracy_pct": "Ketepatan",
    "completion_pct": "Tuntas",
}

ctx = page.guard("tren", "Tren")
filters = ctx.filters

ui_filters.page_param("satuan", list(FREQS), "tren_freq")
ui_filters.page_param("rincian", list(BY), "tren_by")
st.session_state.setdefault("tren_freq", "month")
st.session_state.setdefault("tren_by", "wilayah")
with st.container(horizontal=True):
    freq = st.segmented_control("Satuan waktu", list(FREQS), format_func=FREQS.__getitem__, key="tren_freq",
                                required=True)
    by_key = st.selectbox("Rincian", list(BY), format_func=BY.__getitem__, key="tren_by", width=220)
ui_filters.sync_query_params(
    {"satuan": [freq] if freq != "month" else [], "rincian": [by_key] if by_key != "wilayah" else []},
    ["satuan", "rincian"],
)
by = None if by_key == "wilayah" else by_key

# A trend needs several whole buckets: at least the last 6 months or 12 weeks, from a bucket's start.
if freq == "month":
    start = min(filters.date_from.replace(day=1), views.trend_window(filters.date_to, 6))
else:
    start = min(filters.date_from, filters.date_to - timedelta(weeks=11))
    start -= timedelta(days=start.weekday())
filters = replace(filters, date_from=start)
current = data.series(filters, freq=freq, by=by)
if current.empty or current["received"].sum() == 0:
    components.empty_state("Belum ada aduan pada periode ini", "Pilih periode yang lebih panjang di panel saring.")
    st.stop()
last_year = data.series(filters.same_period_last_year(), freq=freq) if by is None else None
starts = sorted(current["period_start"].unique().tolist())
partial = views.partial_buckets(starts, freq, filters.date_from, filters.date_to,
                                ui_filters.local_today(filters, ctx.settings))
unit = "bulan" if freq == "month" else "minggu"
notes = [f"Sejak {fmt.day(filters.date_from)}, per {unit} masuk."]
notes.append("Garis abu-abu titik-titik: periode yang sama tahun lalu." if by is None
             else "Enam nilai dengan aduan terbanyak ditampilkan.")
if any(partial):
    notes.append(f"\\* {unit} belum lengkap (masih berjalan): angkanya belum matang, bukan penurunan.")
st.caption(" ".join(notes))

for figure, label in FIGURES.items():
    st.subheader(label)
    charts.show(charts.figure_trend(current, figure, freq, by, last_year, partial=partial), key=f"tren_{figure}")
