"""The page registry: one frozen record per page, handed to st.navigation in this order.

Pages written by other engineers (presentasi, akun, audit) are registered here too; a spec
whose file does not exist yet is skipped, so the app runs while they are being written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    key: str  # the access key (access.gate.allowed_pages)
    path: str  # relative to the project root
    title: str
    icon: str
    # Always the file's stem. A fresh server process starts in Streamlit's legacy pages/ directory
    # mode and resolves a deep link by file stem; any other url_path would pop up "Page not
    # found" on a shared link's first load. A page run bare that way hands over to dashboard.py
    # (ui.page.ensure_frame), so the gate still runs first.
    url_path: str
    default: bool = False

    @property
    def exists(self) -> bool:
        return (ROOT / self.path).is_file()


PAGES: tuple[PageSpec, ...] = (
    PageSpec("ringkasan", "pages/ringkasan.py", "Ringkasan", ":material/dashboard:", "ringkasan", default=True),
    PageSpec("peringkat", "pages/peringkat.py", "Peringkat OPD", ":material/leaderboard:", "peringkat"),
    PageSpec("detail_opd", "pages/detail_opd.py", "Detail OPD", ":material/apartment:", "detail_opd"),
    PageSpec("terlambat", "pages/terlambat.py", "Aduan Terlambat", ":material/alarm:", "terlambat"),
    PageSpec("tren", "pages/tren.py", "Tren", ":material/show_chart:", "tren"),
    PageSpec("topik", "pages/topik.py", "Topik Aduan", ":material/topic:", "topik"),
    PageSpec("presentasi", "pages/presentasi.py", "Presentasi", ":material/slideshow:", "presentasi"),
    PageSpec("data", "pages/data.py", "Data", ":material/database:", "data"),
    PageSpec("akun", "pages/akun.py", "Akun", ":material/manage_accounts:", "akun"),
    PageSpec("audit", "pages/audit.py", "Audit", ":material/history:", "audit"),
)
SPECS_BY_KEY = {spec.key: spec for spec in PAGES}


def visible_specs(allowed: Iterable[str]) -> list[PageSpec]:
    """The specs this viewer may open whose page file exists, in registry order."""
    allowed = set(allowed)
    specs = [spec for spec in PAGES if spec.key in allowed and spec.exists]
    if specs and not any(spec.default for spec in specs):
        # The first allowed page becomes home when Ringkasan is not allowed.
        from dataclasses import replace

        specs[0] = replace(specs[0], default=True)
    return specs


ALIAS_SUFFIX = ":alias"
_HOME_URL_PATH = "beranda"  # the default page's internal url_path: it is served at "/" anyway


def st_pages(specs: Iterable[PageSpec]) -> dict[str, st.Page]:
    """st.Page objects by key; keep them to switch pages (st.switch_page / st.page_link).

    Streamlit serves the default page at "/" and forgets its url_path, so a link to
    "/ringkasan" would pop up its English "Page not found". The default page therefore also
    gets a hidden alias at its own url_path (key "<key>:alias"), which runs the same file.
    """
    pages: dict[str, st.Page] = {}
    for spec in specs:
        pages[spec.key] = st.Page(
            str(ROOT / spec.path), title=spec.title, icon=spec.icon,
            url_path=_HOME_URL_PATH if spec.default else spec.url_path, default=spec.default,
        )
        if spec.default:
            pages[spec.key + ALIAS_SUFFIX] = st.Page(
                str(ROOT / spec.path), title=spec.title, icon=spec.icon, url_path=spec.url_path,
                visibility="hidden",
            )
    return pages


PAGES_STATE_KEY = "_registry_pages"


def page(key: str) -> st.Page | None:
    """The registered st.Page of a key in this run (None when the viewer may not open it)."""
    return st.session_state.get(PAGES_STATE_KEY, {}).get(key)
