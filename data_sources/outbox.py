"""The outbox of the morning messages: one row per recipient, channel, local day and topic.

A message is written as `pending` (an insert that does nothing when the row exists), then
*claimed* by one atomic UPDATE that only matches a row still `pending` or `failed` (or left
`sending` by a run that died long ago). Only the run whose UPDATE changed the row sends it, so
two `notify` processes at once never send the same message twice, on SQLite (one writer at a
time) and on PostgreSQL (the second UPDATE waits for the first and then sees the row taken).
A row `sent` is never sent again that day; a `failed` one is retried by the next run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from data_sources.schema import notify_outbox as outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_ERROR = 1000
COLUMNS = ["day", "kind", "topic", "recipient_name", "channel", "recipient", "status", "attempts",
           "last_error", "updated_at", "sent_at"]


@dataclass(frozen=True)
class OutboxKey:
    """Which message: the recipient, over which channel, on which local day, about what."""

    day: date
    channel: str  # email, webhook
    recipient: str
    topic: str  # "leader" or an OPD name

    def where(self) -> Any:
        return and_(outbox.c.day == self.day, outbox.c.channel == self.channel,
                    outbox.c.recipient == self.recipient, outbox.c.topic == self.topic)


def new_claim_token() -> str:
    return uuid.uuid4().hex


def status_of(store: Any, key: OutboxKey) -> str | None:
    """The row's status, or None when the message was never written."""
    return store.execute(select(outbox.c.status).where(key.where())).scalar()


def ensure_pending(store: Any, key: OutboxKey, *, kind: str, recipient_name: str, content_hash: str) -> None:
    """Write the message's row as `pending` unless it exists (any status): one statement, so two
    runs writing the same row at once both succeed and leave one row."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(outbox)
        conn.execute(
            insert.values(
                day=key.day, channel=key.channel, recipient=key.recipient, topic=key.topic, kind=kind,
                recipient_name=(recipient_name or "")[:200] or None, status=PENDING, attempts=0,
                content_hash=content_hash, created_at=now, updated_at=now,
            ).on_conflict_do_nothing(
                index_elements=[outbox.c.recipient, outbox.c.channel, outbox.c.day, outbox.c.topic]
            )
        )


def claim(store: Any, key: OutboxKey, token: str, *, content_hash: str, stale_after: timedelta) -> bool:
    """Take the message for sending; True only for the one run whose UPDATE changed the row."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(
                key.where(),
                or_(
                    outbox.c.status.in_((PENDING, FAILED)),
                    and_(outbox.c.status == SENDING, outbox.c.claimed_at < now - stale_after),
                ),
            )
            .values(status=SENDING, claim_token=token, claimed_at=now, updated_at=now,
                    attempts=outbox.c.attempts + 1, content_hash=content_hash)
        )
        return result.rowcount == 1


def finish(store: Any, key: OutboxKey, token: str, *, ok: bool, error: str | None = None,
           attempts: int = 1) -> None:
    """Record the outcome of a claimed send (`attempts` HTTP/SMTP tries were made in this run;
    the claim already counted one)."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"status": SENT if ok else FAILED, "updated_at": now,
                              "last_error": None if ok else (error or "")[:MAX_ERROR] or None,
                              "attempts": outbox.c.attempts + max(attempts - 1, 0)}
    if ok:
        values["sent_at"] = now
    with store.engine.begin() as conn:
        conn.execute(update(outbox).where(key.where(), outbox.c.claim_token == token).values(**values))


def list_outbox(store: Any, limit: int = 500) -> pd.DataFrame:
    """The newest messages first (the Data page): COLUMNS, instants aware UTC."""
    query = (
        select(*(outbox.c[name] for name in COLUMNS))
        .order_by(outbox.c.day.desc(), outbox.c.updated_at.desc(), outbox.c.id.desc())
        .limit(max(1, int(limit)))
    )
    frame = store.frame(query)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    return frame[COLUMNS]


def day_counts(store: Any, day: date) -> dict[str, int]:
    """How many of the day's messages are in each status."""
    rows = store.execute(
        select(outbox.c.status, outbox.c.id).where(outbox.c.day == day)
    ).rows
    counts: dict[str, int] = {}
    for status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts
