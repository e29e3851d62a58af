"""The "Unduh PDF briefing" button: the PDF of metrics.briefing, built when clicked, audited."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from core.settings import Settings
from metrics.briefing import collect, file_name, render_pdf
from metrics.filters import Filters
from ui.export_audit import record_export

log = logging.getLogger(__name__)


def briefing_download_button(store: Any, settings: Settings, filters: Filters, username: str | None) -> None:
    """The "Unduh PDF briefing" button: the PDF is built only when clicked, and audited."""

    def build() -> bytes:
        try:
            data = render_pdf(collect(store, filters, settings), settings)
        except Exception:  # noqa: BLE001 - logged; the user gets no traceback
            log.exception("briefing PDF failed")
            raise
        record_export(store, username, f"briefing PDF {filters.date_from} s.d. {filters.date_to}")
        return data

    st.download_button(
        "Unduh PDF briefing",
        data=build,
        file_name=file_name(filters, settings.region_name),
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key="dl_briefing_pdf",
    )
