"""Downloads built for the viewer who is valid at the moment of the click, never before.

A download button (`st.download_button(data=callable)`) runs its callable when clicked, outside
the script run, possibly hours after the page was drawn. `for_viewer_now` wraps the file's
builder: at click time it re-reads the session's account in the store (disabled, demoted,
signed out or idle past the timeout = nothing is built), builds the file with the scope of
the viewer as they are now, and writes the export to the audit log. A refused click is
audited too; the click also reruns the page, whose gate then tells the user in Indonesian.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from access import audit, gate
from metrics.filters import Filters

log = logging.getLogger(__name__)

REFUSED = "Unduhan ditolak: akun Anda tidak lagi aktif atau sesi sudah berakhir. Silakan masuk kembali."


class DownloadRefused(PermissionError):
    """The viewer of the session is no longer valid; the message is Indonesian."""


def for_viewer_now(
    store: Any, settings: Any, filters: Filters, build: Callable[[Filters, gate.Viewer], bytes], what: str,
) -> Callable[[], bytes]:
    """The `data=` callable of a download button: `build(filters, viewer)` for the viewer valid
    at click time, with `filters.scope` set to that viewer's scope; refuses (DownloadRefused)
    when the session's account is no longer valid."""
    key = gate.session_key()

    def _build() -> bytes:
        viewer = gate.viewer_now(store, settings, key)
        if viewer is None:
            audit.record(store, key[0] or None, "export", f"{what}: ditolak, akun tidak lagi berlaku", ok=False)
            raise DownloadRefused(REFUSED)
        try:
            data = build(replace(filters, scope=viewer.scope), viewer)
        except Exception:
            log.exception("download %s failed", what)
            raise
        audit.record(store, viewer.username, "export", what)
        return data

    return _build
