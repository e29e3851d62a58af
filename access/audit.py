"""The audit log: who signed in (or failed to), exported, imported, synced or changed accounts.

Entries are written through `record` and read through `recent`; both go through the store, so
the log lives next to the data it is about (SQLite or PostgreSQL). A detail is a short plain
sentence; callers never put a password, a hash or a reporter's identity into it.
"""

from __future__ import annotations

import logging

import pandas as pd
from sqlalchemy import select

from data_sources.audit_log import audit_row
from data_sources.schema import audit_log

log = logging.getLogger(__name__)

# The actions the app and the command lines write; free text is allowed, these are the usual ones.
ACTIONS = (
    "signin", "signin_failed", "signout", "export", "import", "sync", "demo",
    "user_add", "user_disable", "user_enable", "user_passwd", "user_role",
)
COLUMNS = ["at", "username", "action", "detail", "ok"]


def record(store, username: str | None, action: str, detail: str | None = None, ok: bool = True) -> None:  # noqa: ANN001
    """Append one entry. Never raises: an audit failure must not break a sign-in or an export."""
    try:
        with store.engine.begin() as conn:
            audit_row(conn, username, action, detail, ok)  # the store layer's one writer of the log
    except Exception as exc:  # noqa: BLE001 - logged, never propagated (see docstring)
        log.warning("audit entry %s for %s not written: %s", action, username, exc.__class__.__name__)


def recent(
    store, limit: int = 200, *, action: str | None = None, username: str | None = None  # noqa: ANN001
) -> pd.DataFrame:
    """The newest entries first: columns at (aware UTC), username, action, detail, ok."""
    query = select(
        audit_log.c.at, audit_log.c.username, audit_log.c.action, audit_log.c.detail, audit_log.c.ok
    ).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    if action:
        query = query.where(audit_log.c.action == action)
    if username:
        query = query.where(audit_log.c.username == username)
    query = query.limit(max(1, int(limit)))
    frame = store.frame(query)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame["ok"] = frame["ok"].astype(bool)
    return frame[COLUMNS]
