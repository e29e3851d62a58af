"""Server-side sign-in sessions: what lets a reload or a new tab stay signed in.

A session is a random token (`secrets.token_urlsafe(32)`) that the browser keeps in a cookie
and the store keeps only as its SHA-256, with the account, when it was last used and when it
expires (last use + `settings.idle_timeout_hours`). A token is honoured only while its row is
not revoked, not expired and its account is still active; sign-out revokes one session,
disabling an account or changing its password revokes all of that account's sessions.
No Streamlit import: `access.gate` moves tokens in and out of the browser.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from data_sources.schema import sessions

TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(seconds=60)  # a session's last use is written at most once a minute


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    source: str
    last_seen_at: datetime
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def _lifetime(settings) -> timedelta:  # noqa: ANN001
    return timedelta(hours=float(settings.idle_timeout_hours))


def create(store, username: str, settings, *, source: str = "local", now: datetime | None = None) -> str:  # noqa: ANN001
    """Open a session for `username`; returns the token (the only time it exists in clear)."""
    now = now or _now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.engine.begin() as conn:
        conn.execute(insert(sessions).values(
            token_hash=hash_token(token), username=username, source=source, created_at=now,
            last_seen_at=now, expires_at=now + _lifetime(settings),
        ))
    return token


def find(store, token: str | None, *, now: datetime | None = None, hashed: bool = False) -> Session | None:  # noqa: ANN001
    """The live session of a token (or of its hash), or None: unknown, revoked or expired."""
    if not token:
        return None
    now = now or _now()
    key = token if hashed else hash_token(token)
    c = sessions.c
    rows = store.execute(
        select(c.token_hash, c.username, c.source, c.last_seen_at, c.expires_at).where(
            c.token_hash == key, c.revoked_at.is_(None), c.expires_at > now
        )
    ).dicts()
    if not rows:
        return None
    row = rows[0]
    return Session(row["token_hash"], row["username"], row["source"], row["last_seen_at"], row["expires_at"])


def touch(store, session: Session, settings, *, now: datetime | None = None) -> None:  # noqa: ANN001
    """Record a use: the idle timeout starts again (written at most once a minute)."""
    now = now or _now()
    if now - session.last_seen_at < TOUCH_EVERY:
        return
    with store.engine.begin() as conn:
        conn.execute(
            update(sessions).where(sessions.c.token_hash == session.token_hash, sessions.c.revoked_at.is_(None))
            .values(last_seen_at=now, expires_at=now + _lifetime(settings))
        )


def revoke(store, token: str | None, *, hashed: bool = False, now: datetime | None = None) -> None:  # noqa: ANN001
    if not token:
        return
    key = token if hashed else hash_token(token)
    with store.engine.begin() as conn:
        conn.execute(
            update(sessions).where(sessions.c.token_hash == key, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or _now())
        )


def revoke_user(store, username: str, *, now: datetime | None = None) -> int:  # noqa: ANN001
    """End every open session of an account (disable, password change); returns how many."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(sessions).where(sessions.c.username == username, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or _now())
        )
    return int(result.rowcount or 0)
