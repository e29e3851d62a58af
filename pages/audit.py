"""Analyst page: the audit log (sign-ins, exports, imports and syncs, account changes)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access import audit
from access.gate import guard
from ui import format as fmt
from ui.page import ensure_frame

ACTION_LABELS = {
    "signin": "Masuk",
    "signin_failed": "Gagal masuk",
    "signout": "Keluar",
    "export": "Ekspor",
    "import": "Impor",
    "sync": "Sinkronisasi",
    "demo": "Data demo",
    "user_add": "Akun dibuat",
    "user_disable": "Akun dinonaktifkan",
    "user_enable": "Akun diaktifkan",
    "user_passwd": "Kata sandi diganti",
    "user_role": "Peran diubah",
    "opd_alias": "Alias OPD",
}

ensure_frame()  # a deep link on a fresh server: run the frame (and its gate) first
viewer, store, settings = guard("audit")

st.title("Log audit")
st.caption("Siapa masuk (dan gagal masuk), mengekspor, mengimpor, menyinkronkan, dan mengubah akun.")

left, right = st.columns([2, 1])
action = left.selectbox(
    "Tindakan", list(ACTION_LABELS), index=None, format_func=ACTION_LABELS.get,
    placeholder="Semua tindakan", key="audit_tindakan",
)
limit = right.number_input("Jumlah entri", min_value=10, max_value=5000, value=200, step=50, key="audit_jumlah")

entries = audit.recent(store, int(limit), action=action)
if entries.empty:
    st.info("Belum ada entri.")
else:
    zone = settings.kpi.timezone
    shown = pd.DataFrame({
        "Waktu": entries["at"].map(lambda v: fmt.moment(v, zone)),
        "Pengguna": entries["username"].where(entries["username"].notna(), "-"),
        "Tindakan": entries["action"].map(lambda a: ACTION_LABELS.get(a, a)),
        "Keterangan": entries["detail"].where(entries["detail"].notna(), ""),
        "Berhasil": entries["ok"].map({True: "Ya", False: "Tidak"}),
    })
    failed = int((~entries["ok"]).sum())
    if failed:
        st.caption(f"{fmt.number(failed)} entri gagal di antara {fmt.number(len(entries))} entri terbaru.")
    st.dataframe(shown, hide_index=True, width="stretch")
