"""The "Unduh PDF briefing" button: the PDF of metrics.briefing, built when clicked, for the
viewer valid then (ui.downloads), and audited."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.settings import Settings
from metrics.briefing import collect, file_name, render_pdf
from metrics.filters import Filters
from ui import downloads


def briefing_download_button(store: Any, settings: Settings, filters: Filters, username: str | None) -> None:
    """The "Unduh PDF briefing" button: the PDF is built only when clicked, for the viewer valid
    at that moment (a disabled or timed-out account gets nothing), and audited."""

    def build(scoped: Filters, _viewer: Any) -> bytes:
        return render_pdf(collect(store, scoped, settings), settings)

    st.download_button(
        "Unduh PDF briefing",
        data=downloads.for_viewer_now(
            store, settings, filters, build, f"briefing PDF {filters.date_from} s.d. {filters.date_to}"
        ),
        file_name=file_name(filters, settings.region_name),
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="rerun",  # a refused click then lands on the gate, which says why in Indonesian
        key="dl_briefing_pdf",
    )
