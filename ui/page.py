"""The one guard call every page starts with: viewer check, heading, period line, empty state.

`guard("peringkat", "Peringkat OPD")` returns the viewer, the settings and the run's Filters
(set by dashboard.py), after drawing the page heading with the period, the as-of moment and
the "Data per" freshness line. With an empty store it shows a helpful empty state and stops.
"""

from __future__ import annotations

import contextvars
import runpy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from access import gate
from core.settings import Settings
from metrics.filters import Filters
from ui import components, data
from ui import filters as ui_filters
from ui import format as fmt

FRAME_SCRIPT = Path(__file__).resolve().parent.parent / "dashboard.py"
_IN_FRAME: contextvars.ContextVar[bool] = contextvars.ContextVar("in_frame", default=False)

EMPTY_HINT = (
    "Impor berkas ekspor SP4N-LAPOR! atau CSV di halaman Data, atau jalankan "
    "`.venv/bin/python -m data_sources import BERKAS` di folder dasbor di server. Untuk mencoba dasbor dengan "
    "data contoh: `.venv/bin/python -m data_sources demo`."
)


@dataclass(frozen=True)
class PageContext:
    viewer: gate.Viewer
    settings: Settings
    filters: Filters


def subtitle(filters: Filters, timezone: str) -> str:
    """Periode 1 – 22 Nov 2026 · dihitung per 22 Nov 2026 19.35 WITA · 2 saringan aktif."""
    parts = [
        f"Periode {fmt.period(filters.date_from, filters.date_to)}",
        f"dihitung per {fmt.moment(filters.as_of, timezone)}",
    ]
    active = ui_filters.active_slice_count(filters)
    if active:
        parts.append(f"{active} saringan aktif")
    if filters.scope.opd:
        parts.append(f"OPD: {filters.scope.opd}")
    return " · ".join(parts)


def run_in_frame(page: st.Page) -> None:
    """dashboard.py runs the chosen page through this, so the page knows the frame ran first."""
    token = _IN_FRAME.set(True)
    try:
        page.run()
    finally:
        _IN_FRAME.reset(token)


def ensure_frame() -> None:
    """Run dashboard.py when Streamlit ran this page file bare, then end the bare run.

    Until the first st.navigation call of a server process, Streamlit treats `pages/` as a
    legacy multipage folder and runs a deep-linked page file without the entry script: no
    sign-in gate, no filters. Handing over to the frame makes the gate run first even then;
    the frame's own st.navigation resolves the same URL to this page and runs it properly.
    """
    if _IN_FRAME.get():
        return
    runpy.run_path(str(FRAME_SCRIPT), run_name="__main__")
    st.stop()


def guard(key: str, title: str, *, needs_data: bool = True) -> PageContext:
    """Check the viewer may open this page, draw its heading, and stop on an empty store."""
    ensure_frame()
    viewer = st.session_state.get("viewer")
    if viewer is None or key not in gate.allowed_pages(viewer):
        st.warning("Halaman ini tidak tersedia untuk akun Anda.")
        st.stop()
    settings = data.settings()
    filters = ui_filters.current_filters()
    st.title(title)
    st.caption(escape_markdown(subtitle(filters, settings.kpi.timezone)))
    target = data.store()
    components.freshness_line(
        target.last_success(), datetime.now(UTC), settings.kpi.timezone, settings.freshness_warning_hours
    )
    if needs_data and not target.has_complaints():
        components.empty_state("Belum ada data pengaduan", EMPTY_HINT)
        st.stop()
    return PageContext(viewer=viewer, settings=settings, filters=filters)


def escape_markdown(text: str) -> str:
    """Data values (OPD names) shown through markdown-rendering elements stay literal."""
    specials = "\\`*_{}[]()#+-.!|<>~$"
    return "".join("\\" + ch if ch in specials else ch for ch in str(text))
