"""The audit line every download of the app writes (who exported what, for which period)."""

from __future__ import annotations

from typing import Any


def record_export(store: Any, username: str | None, detail: str) -> None:
    """One "export" row in the audit log; nothing when access/ is not installed."""
    try:
        from access import audit
    except ImportError:  # access/ is optional in a minimal install
        return
    audit.record(store, username, "export", detail)
