"""The Data page's morning-message block: OPD contacts (add, edit, remove) and the outbox.

Only a signed-in analyst may change a contact; the open demo (no accounts yet) sees the table
and the outbox but no form. Every value from data is shown as plain text: tables through
st.dataframe, messages through escaped markdown.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from access import gate
from data_sources import contacts as contact_store
from data_sources import outbox
from metrics.export import neutralise_cell
from ui import data
from ui import format as fmt
from ui.page import escape_markdown

STATUS_LABELS = {outbox.SENT: "terkirim", outbox.FAILED: "gagal", outbox.PENDING: "menunggu",
                 outbox.SENDING: "sedang dikirim"}
KIND_LABELS = {"leader": "Pimpinan", "opd": "OPD"}
CHANNEL_LABELS = {"email": "Email", "webhook": "WhatsApp"}
NEW = "— pilih OPD —"


def _may_edit(viewer: gate.Viewer) -> bool:
    return viewer.role == "analis" and not viewer.demo_open


def _opd_options(existing: dict[str, contact_store.OpdContact]) -> list[str]:
    names = set(data.reference_opds()) | set(data.filter_options().get("opds", [])) | set(existing)
    return sorted(names, key=str.casefold)


def contacts_section(viewer: gate.Viewer, timezone: str) -> None:
    st.subheader("Kontak OPD")
    st.caption("Orang yang dihubungi untuk tiap OPD (kepala OPD atau admin LAPOR!): penerima pesan pagi "
               "tentang pengaduan lewat tenggat, dan tautan \"Hubungi\".")
    if _may_edit(viewer):
        _contact_form(viewer)  # before the table, so the table shows the change just made
    else:
        st.caption("Masuk sebagai analis untuk menambah atau mengubah kontak.")
    rows = pd.DataFrame(contact_store.contacts_overview(data.store()))
    if rows.empty:
        st.caption("Belum ada kontak OPD.")
        return
    rows["updated_at"] = [fmt.moment(v, timezone) for v in rows["updated_at"]]
    rows = rows.astype(object).where(rows.notna(), "").map(neutralise_cell)  # blank, never "None"
    st.dataframe(
        rows.rename(columns={"opd": "OPD", "name": "Nama", "role": "Jabatan", "whatsapp": "WhatsApp",
                             "email": "Email", "updated_at": "Diubah", "updated_by": "Oleh"}),
        hide_index=True, key="notify_contacts",
    )


def _contact_form(viewer: gate.Viewer) -> None:
    target = data.store()
    existing = contact_store.list_contacts(target)
    opd = st.selectbox("OPD", [NEW, *_opd_options(existing)], key="notify_contact_opd")
    if opd == NEW:
        return
    current = existing.get(opd) or contact_store.OpdContact(opd)
    # One form per OPD (keyed by its name's digest), so the fields show that OPD's contact.
    with st.form(f"notify_contact_form_{hashlib.sha1(opd.encode()).hexdigest()[:12]}"):
        name = st.text_input("Nama", value=current.name or "")
        role = st.text_input("Jabatan", value=current.role or "", placeholder="mis. Kepala Dinas, admin LAPOR!")
        whatsapp = st.text_input("Nomor WhatsApp", value=current.whatsapp or "", placeholder="08... atau +62...")
        email = st.text_input("Email", value=current.email or "")
        save = st.form_submit_button("Simpan kontak", type="primary")
        remove = st.form_submit_button("Hapus kontak", disabled=opd not in existing)
    if not (save or remove):
        return
    try:
        # Re-checked in the store right before writing (a stale page, a disabled analyst).
        viewer = gate.require_writer(target)
    except gate.NotAllowed as exc:
        st.error(escape_markdown(str(exc)))
        return
    try:
        if save:
            saved = contact_store.set_contact(target, opd, name=name, role=role, whatsapp=whatsapp,
                                              email=email, actor=viewer.username)
            st.success(escape_markdown(f"Kontak {saved.opd} disimpan."))
        elif remove:
            removed = contact_store.remove_contact(target, opd, actor=viewer.username)
            st.success(escape_markdown(f"Kontak {removed} dihapus."))
    except contact_store.ContactError as exc:
        st.error(escape_markdown(str(exc)))


def outbox_section(timezone: str) -> None:
    st.subheader("Pesan pagi")
    st.caption("Pesan `python -m metrics notify` kepada pimpinan dan kontak OPD (500 terbaru): satu per "
               "penerima per hari; yang gagal dikirim ulang pada jalankan berikutnya.")
    rows = outbox.list_outbox(data.store())
    if rows.empty:
        st.caption("Belum ada pesan yang dikirim.")
        return
    failed = int((rows["status"] == outbox.FAILED).sum())
    if failed:
        st.warning(f"{fmt.number(failed)} pesan gagal terkirim; lihat kolom Alasan.")
    shown = pd.DataFrame({
        "Tanggal": [fmt.day(pd.Timestamp(d).date()) for d in rows["day"]],
        "Untuk": rows["kind"].map(KIND_LABELS).fillna(rows["kind"]),
        "Perihal": rows["topic"].where(rows["kind"] != "leader", "Wilayah"),
        "Penerima": rows["recipient_name"].fillna(""),
        "Kanal": rows["channel"].map(CHANNEL_LABELS).fillna(rows["channel"]),
        "Alamat": rows["recipient"],
        "Status": rows["status"].map(STATUS_LABELS).fillna(rows["status"]),
        "Percobaan": rows["attempts"].astype(int),
        "Alasan": rows["last_error"].fillna(""),
        "Terkirim": [fmt.moment(v, timezone) for v in rows["sent_at"]],
    })
    # The table's download button writes CSV: a name that a spreadsheet reads as a formula is defused.
    st.dataframe(shown.map(neutralise_cell), hide_index=True, key="notify_outbox")


def render(viewer: gate.Viewer, timezone: str) -> None:
    """Both sections, in the Data page's order."""
    contacts_section(viewer, timezone)
    outbox_section(timezone)
