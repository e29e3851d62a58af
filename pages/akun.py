"""Analyst page: the dashboard's accounts (list, add, disable or enable, reset a password)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access import accounts
from access.gate import ROLE_LABELS, NotAllowed, guard, require_writer
from ui import format as fmt
from ui.page import ensure_frame

ensure_frame()  # a deep link on a fresh server: run the frame (and its gate) first
viewer, store, settings = guard("accounts")
zone = settings.kpi.timezone

st.title("Akun")
st.caption(
    "Akun lokal dasbor. Kata sandi disimpan sebagai hash argon2 dan tidak pernah ditampilkan; kata "
    f"sandi yang mudah ditebak ditolak. Setelah {settings.lockout_attempts} kali gagal masuk, percobaan "
    f"berikutnya harus menunggu (untuk satu akun paling lama {accounts.ACCOUNT_DELAY_CAP} detik, untuk "
    f"satu alamat paling lama {settings.lockout_minutes} menit); akun tidak pernah dikunci."
)

flash = st.session_state.pop("akun_flash", None)
if flash:
    st.success(flash)


def _status(row: pd.Series) -> str:
    return "Nonaktif" if row["disabled"] else "Aktif"


table = accounts.list_users(store)
if table.empty:
    st.info("Belum ada akun.")
else:
    shown = pd.DataFrame({
        "Nama pengguna": table["username"],
        "Peran": table["role"].map(ROLE_LABELS),
        "OPD": table["opd"].where(table["opd"].notna(), ""),
        "Status": table.apply(_status, axis=1),
        "Gagal masuk": table["failed_attempts"].astype(int),
        "Masuk terakhir": table["last_login_at"].map(lambda v: fmt.moment(v, zone)),
        "Dibuat": table["created_at"].map(lambda v: fmt.moment(v, zone)),
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def _done(message: str) -> None:
    st.session_state["akun_flash"] = message
    st.rerun()


def _writer() -> bool:
    """Re-check, right before a change, that an active analyst is signed in now."""
    try:
        require_writer(store)
    except NotAllowed as exc:
        st.error(str(exc))
        return False
    return True


tab_add, tab_status, tab_password = st.tabs(["Tambah akun", "Nonaktifkan / aktifkan", "Atur ulang kata sandi"])

with tab_add, st.form("akun_tambah", clear_on_submit=True):
    name = st.text_input("Nama pengguna", key="akun_nama")
    role = st.selectbox("Peran", accounts.ROLES, format_func=ROLE_LABELS.get, key="akun_peran")
    opd = st.selectbox(
        "OPD (hanya untuk peran OPD)", accounts.known_opds(store), index=None,
        accept_new_options=True, placeholder="Pilih atau ketik nama OPD", key="akun_opd",
    )
    email = st.text_input("E-mail (opsional)", key="akun_email")
    password = st.text_input("Kata sandi", type="password", key="akun_sandi", autocomplete="new-password")
    repeat = st.text_input("Ulangi kata sandi", type="password", key="akun_sandi2", autocomplete="new-password")
    if st.form_submit_button("Tambah", type="primary"):
        if password != repeat:
            st.error("Kedua kata sandi tidak sama.")
        elif _writer():
            try:
                made = accounts.create_user(
                    store, name, role, password, opd=opd, email=email or None, actor=viewer.username
                )
                _done(f"Akun {made.username} dibuat.")
            except accounts.AccountError as exc:
                st.error(str(exc))

names = table["username"].tolist() if not table.empty else []

with tab_status:
    who = st.selectbox("Akun", names, index=None, placeholder="Pilih akun", key="akun_status_nama")
    left, right = st.columns(2)
    if left.button("Nonaktifkan", disabled=who is None or who == viewer.username, key="akun_nonaktif") and _writer():
        try:
            accounts.disable_user(store, who, actor=viewer.username)
            _done(f"Akun {who} dinonaktifkan.")
        except accounts.AccountError as exc:
            st.error(str(exc))
    if right.button("Aktifkan", disabled=who is None, key="akun_aktif") and _writer():
        try:
            accounts.enable_user(store, who, actor=viewer.username)
            _done(f"Akun {who} diaktifkan kembali.")
        except accounts.AccountError as exc:
            st.error(str(exc))
    if who == viewer.username:
        st.caption("Akun Anda sendiri tidak dapat dinonaktifkan dari sini.")

with tab_password, st.form("akun_sandi_baru", clear_on_submit=True):
    who = st.selectbox("Akun", names, index=None, placeholder="Pilih akun", key="akun_sandi_nama")
    password = st.text_input("Kata sandi baru", type="password", key="akun_sandi_baru1", autocomplete="new-password")
    repeat = st.text_input("Ulangi kata sandi baru", type="password", key="akun_sandi_baru2", autocomplete="new-password")
    st.caption("Mengganti kata sandi juga mengakhiri sesi akun itu yang masih terbuka.")
    if st.form_submit_button("Ganti kata sandi", type="primary"):
        if who is None:
            st.error("Pilih akun lebih dulu.")
        elif password != repeat:
            st.error("Kedua kata sandi tidak sama.")
        elif _writer():
            try:
                accounts.set_password(store, who, password, actor=viewer.username)
                _done(f"Kata sandi {who} diganti.")
            except accounts.AccountError as exc:
                st.error(str(exc))
