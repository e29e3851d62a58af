"""Presentation mode: one full-screen slide at a time for the projector in the leaders' meeting.

Headline KPIs with deltas, the OPD ranking, the ten most overdue complaints and the trend;
arrow keys or a presenter's remote (PageUp/PageDown) move between slides, `?slide=N` keeps the
place on reload, `?auto=20` advances every 20 seconds on an unattended screen.
"""

from __future__ import annotations

import streamlit as st

from access import gate
from ui import filters as ui_filters
from ui import registry, slides
from ui.page import ensure_frame

ensure_frame()  # a deep link on a fresh server: run the frame (and its gate) first
viewer, store, settings = gate.guard()
if "presentasi" not in gate.allowed_pages(viewer):
    st.warning("Halaman ini tidak tersedia untuk akun Anda.")
    st.stop()

filters = ui_filters.current_filters()
if not store.has_complaints():
    st.info("Belum ada data pengaduan untuk dipresentasikan. Impor data di halaman Data terlebih dahulu.")
    st.stop()

slides.show(store, settings, filters, exit_page=registry.page("ringkasan"))
