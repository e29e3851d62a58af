"""Writing rows of the audit log, a table of the store: the store's layer writes, `access` reads.

`audit_row` adds an entry inside a caller's transaction, so a change and its entry land
together or not at all; `write_audit` adds one on its own and never raises (a failed entry
must not break the run it describes). A detail is a short plain sentence: no password, no
token, no reporter identity.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from data_sources.schema import audit_log

log = logging.getLogger(__name__)
MAX_DETAIL = 1000


def audit_row(
    conn: Connection, username: str | None, action: str, detail: str | None = None, ok: bool = True
) -> None:
    """Append one entry within the transaction of `conn`."""
    conn.execute(
        insert(audit_log).values(
            at=datetime.now(UTC),
            username=(username or "")[:100] or None,
            action=action[:50],
            detail=(detail or "")[:MAX_DETAIL] or None,
            ok=bool(ok),
        )
    )


def write_audit(
    store: Any, username: str | None, action: str, detail: str | None = None, ok: bool = True
) -> None:
    """Append one entry in its own transaction; logged, never raised, when it fails."""
    try:
        with store.engine.begin() as conn:
            audit_row(conn, username, action, detail, ok)
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        log.warning("audit entry %s not written: %s", action, exc.__class__.__name__)
