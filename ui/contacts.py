"""Whom to call about a late OPD: its contact (data_sources.contacts) as "Hubungi" links.

The contacts module comes from another part of the project; while it is absent the accessor
returns no contacts and the pages simply offer no "Hubungi" link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import streamlit as st

MAX_IDS_IN_MESSAGE = 20  # a WhatsApp message stays readable; the rest are on the dashboard


@st.cache_data(ttl=60, show_spinner=False)
def _contacts(_store: Any, db: str, version: str) -> dict[str, Any]:
    try:
        from data_sources.contacts import list_contacts
    except ImportError:
        return {}
    try:
        return dict(list_contacts(_store))
    except Exception:  # noqa: BLE001 - a missing table (older schema) means: no contacts yet
        return {}


def contacts() -> dict[str, Any]:
    """OPD name -> OpdContact (frozen: opd, name, role, whatsapp, email); {} when none."""
    from ui import data

    store = data.store()
    return _contacts(store, data.settings().db_url, store.data_version())


def _digits(number: str | None) -> str:
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


def message(opd: str, tracking_ids: Sequence[str], public_url: str = "") -> str:
    """The pre-filled WhatsApp text: the OPD's overdue Tracking IDs and the dashboard link."""
    ids = list(tracking_ids)
    shown = ", ".join(ids[:MAX_IDS_IN_MESSAGE])
    more = f" dan {len(ids) - MAX_IDS_IN_MESSAGE} lainnya" if len(ids) > MAX_IDS_IN_MESSAGE else ""
    text = f"Yth. {opd}: mohon tindak lanjut aduan LAPOR! yang lewat batas waktu: {shown}{more}."
    if not ids:
        text = f"Yth. {opd}: mohon tindak lanjut aduan LAPOR! yang lewat batas waktu."
    if public_url:
        text += f" Dasbor: {public_url}"
    return text


def actions(
    opd: str, book: Mapping[str, Any], tracking_ids: Sequence[str] = (), public_url: str = "",
) -> list[tuple[str, str]]:
    """("Hubungi <name> (WhatsApp)", "https://wa.me/62...?text=..."), ("Telepon", "tel:+62...")
    for an OPD that has a contact with a number; [] otherwise."""
    contact = book.get(opd)
    number = _digits(getattr(contact, "whatsapp", None)) if contact is not None else ""
    if not number:
        return []
    who = getattr(contact, "name", None) or getattr(contact, "role", None) or "OPD"
    text = quote(message(opd, tracking_ids, public_url), safe="")
    return [(f"Hubungi {who} (WhatsApp)", f"https://wa.me/{number}?text={text}"), ("Telepon", f"tel:+{number}")]
