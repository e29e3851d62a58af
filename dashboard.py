"""The dashboard's frame: store, first-start demo data, sign-in gate, navigation, global filters.

`streamlit run dashboard.py` on a fresh clone creates the SQLite store, fills it with demo
data on first start, and opens Ringkasan. Every run: open the store (once per process), let
the gate decide who is looking *before* any figure is read, register only the pages that
viewer may open, draw the global filters (mirrored in the URL), then run the chosen page.
"""

from __future__ import annotations

import logging

import streamlit as st

from access import gate
from ui import components, data, registry
from ui import filters as ui_filters
from ui import page as ui_page

log = logging.getLogger("dashboard")

VIEWER_STATE_KEY = "viewer"

st.set_page_config(
    page_title="Dasbor Pengaduan",
    page_icon=":material/campaign:",
    layout="wide",
    initial_sidebar_state="auto",
)


def database_unreachable(*, heading: bool = True) -> None:
    """The database did not answer: say so in plain Indonesian, offer a retry, end the run.

    The store is not cached while it cannot be opened, and a cached store reconnects on its
    next query, so "Coba lagi" (a rerun) is all a retry needs.
    """
    if heading:
        st.title("Dasbor Pengaduan")
    st.error(
        "Basis data tidak dapat dihubungi. Angka tidak ditampilkan agar tidak keliru. Coba lagi "
        "sebentar lagi; bila berulang, hubungi analis Diskominfo (periksa server basis data dan "
        "pengaturan `[connections.complaints]` di `.streamlit/secrets.toml` atau `COMPLAINTS_DB_URL`).",
        icon=":material/cloud_off:",
    )
    st.button("Coba lagi", type="primary", icon=":material/refresh:", key="db_retry")
    st.stop()


def _open_store():  # noqa: ANN202 - Store, imported lazily through ui.data
    settings = data.settings()
    try:
        store = data.store()
    except Exception:  # noqa: BLE001 - a broken database URL must not show a traceback
        log.exception("cannot open the complaint store")
        database_unreachable()
    if data.is_unconfigured(settings) and not store.has_complaints():
        with st.spinner("Menyiapkan data contoh..."):
            data.fill_demo_if_fresh(store, settings)
    return store, settings


try:
    store, settings = _open_store()
    viewer = gate.require_viewer(store, settings)  # stops the run at the sign-in screen
    st.session_state[VIEWER_STATE_KEY] = viewer

    specs = registry.visible_specs(gate.allowed_pages(viewer))
    pages = registry.st_pages(specs)
    st.session_state[registry.PAGES_STATE_KEY] = pages
    current_page = st.navigation(list(pages.values()), position="sidebar")
    wanted = gate.take_next_page()  # a deep link opened signed out: its page, after sign-in
    target = next((p for p in pages.values() if p.url_path == wanted), None)
    if target is not None and target.url_path != current_page.url_path:
        st.switch_page(target, query_params={k: st.query_params.get_all(k) for k in st.query_params})
    if st.query_params.get("mode") == "presentasi" and "presentasi" in pages:
        del st.query_params["mode"]  # the issue's `?mode=presentasi` link opens the slides page
        st.switch_page(pages["presentasi"])

    ui_filters.render_filters(
        settings, viewer.scope, data.filter_options(viewer.scope.region_codes, viewer.scope.opd)
    )
    if viewer.demo_open:
        gate.demo_notice()
    else:
        st.sidebar.caption(viewer.label)
    gate.sign_out_button(store)

    if store.has_demo_data():  # any demo complaint counted: every page says "Data contoh"
        components.demo_banner()
except Exception as exc:  # noqa: BLE001 - only database failures are handled here
    if not data.is_database_error(exc):
        raise
    log.warning("database unreachable: %s", exc)
    database_unreachable()

try:
    ui_page.run_in_frame(current_page)
except Exception as exc:  # noqa: BLE001 - no traceback may reach a user; the log keeps the details
    if data.is_database_error(exc):
        log.warning("database unreachable during page %s: %s", current_page.title, exc)
        database_unreachable(heading=False)
    log.exception("page %s failed", current_page.title)
    st.error("Halaman ini gagal dimuat. Coba muat ulang; bila berulang, hubungi analis Diskominfo.")
