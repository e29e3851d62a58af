"""Topik: what citizens complain about this period, where, what is rising, and which problems recur."""

import streamlit as st

from ui import components, data, page
from ui import topics as ui_topics

ctx = page.guard("topik", "Topik Aduan")
filters = ctx.filters
store = data.store()

terms = ui_topics.terms(store, filters, ctx.viewer, limit=30)
groups = ui_topics.recurring(store, filters, ctx.viewer)
if terms.empty and groups.empty:
    components.empty_state(
        "Belum ada topik pada periode ini",
        "Kata ditampilkan bila muncul di sedikitnya 5 aduan. Pilih periode yang lebih panjang di panel saring.",
    )
    st.stop()

st.caption(
    "Kata dan frasa dari judul dan isi aduan, dihitung per aduan; dibandingkan dengan periode sebelumnya "
    "yang sama panjang. Hanya kata yang muncul di sedikitnya 5 aduan; nama pelapor, nomor dan alamat e-mail "
    "tidak pernah menjadi kata."
    + ("" if ctx.viewer.can("confidential") else " Aduan rahasia tidak dihitung.")
)
st.subheader("Yang paling banyak dikeluhkan")
st.html(ui_topics.terms_bars_html(terms.head(15)))

st.subheader("Per kecamatan")
st.caption("Jumlah aduan yang memuat kata, untuk enam kata teratas.")
ui_topics.kecamatan_view(store, filters, ctx.viewer, terms)

st.subheader("Masalah berulang")
st.caption("Tiga aduan serupa atau lebih di satu kecamatan dalam 30 hari. Buka kartu untuk melihat aduannya.")
ui_topics.recurring_cards(store, groups, ctx.viewer, ctx.settings.kpi.timezone)

ui_topics.downloads(store, terms, groups, ctx.viewer.username)
