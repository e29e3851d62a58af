"""Local accounts: create, list, disable, change passwords and verify sign-ins (argon2, lockout).

Passwords are hashed with argon2id (argon2-cffi). Neither a password nor its hash is ever
logged, returned to a caller outside this module, or written to the audit log: `list_users`
and `Account` carry no hash. After `settings.lockout_attempts` consecutive failures an account
is locked for `settings.lockout_minutes`; while locked even the right password is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from access import audit
from data_sources.schema import complaints, opds, users

ROLES = ("pimpinan", "analis", "opd")
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 100

_hasher = PasswordHasher()
_dummy_hash: list[str] = []  # made on first use, not at import (a hash costs a few hundred ms)


class AccountError(ValueError):
    """A request the accounts layer refuses; the message is Indonesian and safe to show."""


class SignInStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown user or wrong password (deliberately not told apart)
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Account:
    """An account as the rest of the app sees it: no password hash."""

    username: str
    role: str
    opd: str | None = None
    email: str | None = None
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    regions: tuple[str, ...] = ()  # region codes the account is limited to; empty = all

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or _now())


@dataclass(frozen=True)
class SignInResult:
    status: SignInStatus
    account: Account | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None  # known only for an existing account's wrong password

    @property
    def ok(self) -> bool:
        return self.status is SignInStatus.OK


_PUBLIC_COLUMNS = (
    users.c.username, users.c.role, users.c.opd, users.c.email, users.c.disabled,
    users.c.failed_attempts, users.c.locked_until, users.c.created_at, users.c.last_login_at,
    users.c.regions,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _account(row: dict) -> Account:
    return Account(
        username=row["username"], role=row["role"], opd=row["opd"] or None, email=row["email"],
        disabled=bool(row["disabled"]), failed_attempts=int(row["failed_attempts"] or 0),
        locked_until=row["locked_until"], created_at=row["created_at"],
        last_login_at=row["last_login_at"], regions=parse_regions(row.get("regions")),
    )


def parse_regions(text: str | None) -> tuple[str, ...]:
    """Comma-separated region codes ("63.07, 63.08") as a tuple without blanks or repeats."""
    codes = [part.strip() for part in (text or "").split(",")]
    return tuple(dict.fromkeys(code for code in codes if code))


def _regions_text(regions: str | tuple[str, ...] | list[str] | None) -> str | None:
    codes = parse_regions(regions) if isinstance(regions, str | None) else parse_regions(",".join(regions))
    text = ",".join(codes)
    if len(text) > users.c.regions.type.length:
        raise AccountError("Daftar wilayah terlalu panjang.")
    return text or None


def clean_username(username: str) -> str:
    name = (username or "").strip()
    if not name:
        raise AccountError("Nama pengguna kosong.")
    if len(name) > MAX_USERNAME_LENGTH or any(ch.isspace() for ch in name):
        raise AccountError(
            f"Nama pengguna tidak sah: tanpa spasi, paling panjang {MAX_USERNAME_LENGTH} karakter."
        )
    return name


def check_password(password: str) -> None:
    """Refuse passwords too weak to stand a guessing attack behind the lockout."""
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    if password != password.strip("\r\n"):
        raise AccountError("Kata sandi tidak boleh diawali atau diakhiri baris baru.")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def _check_role(role: str, opd: str | None) -> str | None:
    if role not in ROLES:
        raise AccountError(f"Peran tidak dikenal: {role!r}. Pilih salah satu: {', '.join(ROLES)}.")
    opd = (opd or "").strip() or None
    if role == "opd" and not opd:
        raise AccountError("Akun peran opd harus menyebut OPD-nya (--opd).")
    if role != "opd":
        # Only an OPD user is tied to an OPD; a stray --opd on a leader account would mislead.
        opd = None
    return opd


# --- reading ------------------------------------------------------------------------------
def user_count(store, *, active_only: bool = False) -> int:  # noqa: ANN001
    query = select(func.count()).select_from(users)
    if active_only:
        query = query.where(users.c.disabled.is_(False))
    return int(store.execute(query).scalar() or 0)


def get_user(store, username: str) -> Account | None:  # noqa: ANN001
    rows = store.execute(select(*_PUBLIC_COLUMNS).where(users.c.username == username)).dicts()
    return _account(rows[0]) if rows else None


def list_users(store) -> pd.DataFrame:  # noqa: ANN001
    """Every account (no hash): username, role, opd, email, disabled, failed_attempts,
    locked_until, created_at, last_login_at; sorted by name."""
    frame = store.frame(select(*_PUBLIC_COLUMNS).order_by(users.c.username))
    if frame.empty:
        return pd.DataFrame(columns=[c.name for c in _PUBLIC_COLUMNS])
    frame["disabled"] = frame["disabled"].astype(bool)
    return frame


def known_opds(store) -> list[str]:  # noqa: ANN001
    """OPD names an OPD account can be tied to: the reference table and the names in the data."""
    names = {r[0] for r in store.execute(select(opds.c.name)).rows}
    names |= {
        r[0] for r in store.execute(select(complaints.c.opd).where(complaints.c.opd.is_not(None)).distinct()).rows
    }
    return sorted(n for n in names if n)


# --- changing -----------------------------------------------------------------------------
def create_user(
    store, username: str, role: str, password: str, *, opd: str | None = None,  # noqa: ANN001
    email: str | None = None, actor: str | None = None,
    regions: str | tuple[str, ...] | list[str] | None = None,
) -> Account:
    """Add an account; `actor` is who did it (for the audit log), e.g. "cli" or an analyst.

    `regions` (codes, or one comma-separated text) limits the account to those regions.
    """
    username = clean_username(username)
    opd = _check_role(role, opd)
    region_text = _regions_text(regions)
    password_hash = hash_password(password)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    username=username, role=role, opd=opd, email=(email or None),
                    password_hash=password_hash, disabled=False, failed_attempts=0,
                    created_at=_now(), regions=region_text,
                )
            )
    except IntegrityError:
        raise AccountError(f"Nama pengguna {username!r} sudah dipakai.") from None
    where = (", " + opd if opd else "") + (", wilayah " + region_text if region_text else "")
    audit.record(store, actor, "user_add", f"{username} ({role}{where})")
    return get_user(store, username)  # type: ignore[return-value]


def _require(store, username: str) -> Account:  # noqa: ANN001
    account = get_user(store, username)
    if account is None:
        raise AccountError(f"Akun {username!r} tidak ada.")
    return account


def set_disabled(store, username: str, disabled: bool = True, *, actor: str | None = None) -> Account:  # noqa: ANN001
    account = _require(store, username)
    if disabled and account.role == "analis" and not account.disabled:
        active_analysts = int(
            store.execute(
                select(func.count()).select_from(users).where(
                    users.c.role == "analis", users.c.disabled.is_(False)
                )
            ).scalar() or 0
        )
        # Someone must remain able to manage accounts from the app.
        if active_analysts <= 1:
            raise AccountError("Akun analis aktif terakhir tidak dapat dinonaktifkan.")
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == username).values(disabled=disabled))
    audit.record(store, actor, "user_disable" if disabled else "user_enable", username)
    return _require(store, username)


def disable_user(store, username: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    return set_disabled(store, username, True, actor=actor)


def enable_user(store, username: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    return set_disabled(store, username, False, actor=actor)


def set_password(store, username: str, password: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    """Replace the password; also lifts a lockout (an analyst resetting it has vouched for the user)."""
    _require(store, username)
    password_hash = hash_password(password)
    with store.engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.username == username).values(
                password_hash=password_hash, failed_attempts=0, locked_until=None
            )
        )
    audit.record(store, actor, "user_passwd", username)
    return _require(store, username)


def set_role(
    store, username: str, role: str, *, opd: str | None = None, actor: str | None = None  # noqa: ANN001
) -> Account:
    opd = _check_role(role, opd)
    _require(store, username)
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == username).values(role=role, opd=opd))
    audit.record(store, actor, "user_role", f"{username} ({role}{', ' + opd if opd else ''})")
    return _require(store, username)


# --- signing in ---------------------------------------------------------------------------
def authenticate(
    store, username: str, password: str, settings, *, now: datetime | None = None,  # noqa: ANN001
    channel: str = "form",
) -> SignInResult:
    """Check a sign-in attempt, count failures, lock after too many, and audit the outcome."""
    now = now or _now()
    name = (username or "").strip()
    row = None
    if name:
        rows = store.execute(
            select(*_PUBLIC_COLUMNS, users.c.password_hash).where(users.c.username == name)
        ).dicts()
        row = rows[0] if rows else None
    if row is None:
        # Verify anyway, so an unknown name takes as long to refuse as a wrong password.
        if not _dummy_hash:
            _dummy_hash.append(_hasher.hash("not-a-real-password-for-timing"))
        _verify(_dummy_hash[0], password or "")
        audit.record(store, name[:100] or None, "signin_failed", f"{channel}: akun tidak dikenal", ok=False)
        return SignInResult(SignInStatus.INVALID)

    account = _account(row)
    if account.is_locked(now):
        audit.record(store, name, "signin_failed", f"{channel}: akun terkunci", ok=False)
        return SignInResult(SignInStatus.LOCKED, locked_until=account.locked_until)

    if not _verify(row["password_hash"], password or ""):
        attempts = account.failed_attempts + 1
        # A lock that has expired starts a fresh count: the user waited out the penalty.
        if account.locked_until is not None:
            attempts = 1
        locked_until = None
        if attempts >= settings.lockout_attempts:
            locked_until = now + timedelta(minutes=settings.lockout_minutes)
        with store.engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.username == name).values(
                    failed_attempts=attempts, locked_until=locked_until
                )
            )
        detail = f"{channel}: kata sandi salah ({attempts}x)"
        if locked_until is not None:
            detail += f"; dikunci {settings.lockout_minutes} menit"
        audit.record(store, name, "signin_failed", detail, ok=False)
        # This attempt failed on its password (INVALID); `locked_until` tells the form that it
        # was the last one allowed, and every attempt from the next one on answers LOCKED.
        return SignInResult(
            SignInStatus.INVALID, locked_until=locked_until,
            attempts_left=max(0, settings.lockout_attempts - attempts),
        )

    if account.disabled:
        audit.record(store, name, "signin_failed", f"{channel}: akun nonaktif", ok=False)
        return SignInResult(SignInStatus.DISABLED)

    values: dict = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == name).values(**values))
    audit.record(store, name, "signin", channel)
    return SignInResult(SignInStatus.OK, account=_require(store, name))


def _verify(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
