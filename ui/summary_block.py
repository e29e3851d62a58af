"""The "Salin ringkasan" block: the WhatsApp summary of metrics.summary, ready to copy."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.settings import Settings
from metrics.briefing import summary_figures
from metrics.filters import Filters
from metrics.summary import summary_text


def summary_block(
    store: Any, settings: Settings, filters: Filters, *, table: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None, admin: dict[str, Any] | None = None,
) -> None:
    """The "Salin ringkasan" block: the WhatsApp text in st.code, whose copy button copies it.

    `table`, `comparison` and `admin` are the page's own (cached) results for these filters, so
    the text repeats the figures on the page without computing them again."""
    fig = summary_figures(store, filters, settings, table=table, comparison=comparison, admin=admin)
    st.markdown("**Salin ringkasan** untuk grup WhatsApp pimpinan")
    st.code(summary_text(fig, settings.public_url), language=None, wrap_lines=True)
