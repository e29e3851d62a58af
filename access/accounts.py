"""Local accounts: create, list, disable, change passwords and verify sign-ins (argon2, throttle).

Passwords are hashed with argon2id (argon2-cffi). Neither a password nor its hash is ever
logged, returned to a caller outside this module, or written to the audit log: `list_users`
and `Account` carry no hash. A weak password (zxcvbn score below 3, e.g. `password`,
`12345678`) is refused with an Indonesian reason.

Guessing is slowed, never locked out (see `throttle`): every attempt is one inserted row of
`signin_attempts` (so simultaneous attempts all count), and after `settings.lockout_attempts`
free failures an attempt must wait, per account (at most ACCOUNT_DELAY_CAP seconds, so the
owner always gets in soon, from any address) and per client address (doubling up to
`settings.lockout_minutes`, so one guesser is slowed hard). An attempt that comes too early is
refused without looking at the password, for a known and an unknown name alike.
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
from data_sources.schema import complaints, opds, signin_attempts, users

ROLES = ("pimpinan", "analis", "opd")
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 100
MIN_PASSWORD_SCORE = 3  # zxcvbn 0..4; 3 = "safely unguessable: moderate protection from offline attacks"
ACCOUNT_DELAY_CAP = 30  # seconds: the most an account's owner ever waits because of others' guesses
THROTTLE_WINDOW = timedelta(hours=24)  # failures older than this no longer slow anyone down
LOCAL_CLIENT = "lokal"  # the client address when none is known (a local connection)

_hasher = PasswordHasher()
_dummy_hash: list[str] = []  # made on first use, not at import (a hash costs a few hundred ms)


class AccountError(ValueError):
    """A request the accounts layer refuses; the message is Indonesian and safe to show."""


class SignInStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown user or wrong password (deliberately not told apart)
    THROTTLED = "throttled"  # too early after earlier failures: refused unchecked, retry_after says when
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


@dataclass(frozen=True)
class SignInResult:
    status: SignInStatus
    account: Account | None = None
    retry_after: float = 0.0  # seconds until the next attempt is allowed (0: at once)

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


def check_password(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse passwords too weak to stand a guessing attack: short, common or trivial ones.

    Strength is zxcvbn's estimate (dictionaries of common passwords, names and words,
    repeats, sequences, keyboard patterns, dates), offline; `user_inputs` (the username, the
    OPD) count as known words.
    """
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    if password != password.strip("\r\n"):
        raise AccountError("Kata sandi tidak boleh diawali atau diakhiri baris baru.")
    if not password.strip():
        raise AccountError("Kata sandi tidak boleh hanya berisi spasi.")
    from zxcvbn import zxcvbn

    # zxcvbn's cost grows with length; the first 100 characters decide (a longer one is strong).
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < MIN_PASSWORD_SCORE:
        raise AccountError(
            f"Kata sandi terlalu mudah ditebak ({_weakness(result)}). Pakai beberapa kata yang "
            "tidak umum, digabung angka atau tanda baca, mis. tiga kata acak."
        )


def _weakness(result: dict) -> str:
    """An Indonesian reason from zxcvbn's match sequence (its own feedback is English)."""
    patterns = {m.get("pattern") for m in result.get("sequence", [])}
    dictionaries = {m.get("dictionary_name") for m in result.get("sequence", [])}
    if "passwords" in dictionaries:
        return "termasuk kata sandi yang umum dipakai"
    if "user_inputs" in dictionaries:
        return "memuat nama pengguna atau nama OPD"
    if "repeat" in patterns:
        return "berisi karakter atau pola yang berulang"
    if "sequence" in patterns:
        return "berisi urutan seperti 1234 atau abcd"
    if "spatial" in patterns:
        return "berisi pola papan ketik seperti qwerty"
    if "date" in patterns:
        return "berisi tanggal"
    if "dictionary" in patterns:
        return "berisi kata atau nama yang umum"
    return "terlalu sederhana"


def hash_password(password: str, user_inputs: tuple[str, ...] = ()) -> str:
    check_password(password, user_inputs)
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
    password_hash = hash_password(password, (username, opd or ""))
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
    """Disable (or enable) an account; disabling also ends every session it has open."""
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
    if disabled:
        from access import sessions

        sessions.revoke_user(store, username)
    audit.record(store, actor, "user_disable" if disabled else "user_enable", username)
    return _require(store, username)


def disable_user(store, username: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    return set_disabled(store, username, True, actor=actor)


def enable_user(store, username: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    return set_disabled(store, username, False, actor=actor)


def set_password(store, username: str, password: str, *, actor: str | None = None) -> Account:  # noqa: ANN001
    """Replace the password; ends the account's open sessions and lifts its throttle (an
    analyst resetting it has vouched for the user)."""
    account = _require(store, username)
    password_hash = hash_password(password, (username, account.opd or ""))
    with store.engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.username == username).values(
                password_hash=password_hash, failed_attempts=0, locked_until=None
            )
        )
        conn.execute(insert(signin_attempts).values(
            at=_now(), username=username, client=LOCAL_CLIENT, outcome="reset"
        ))
    from access import sessions

    sessions.revoke_user(store, username)
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
@dataclass(frozen=True)
class Throttle:
    """How long the next attempt must wait, and why (the counts it was computed from)."""

    retry_after: float  # seconds from `now`; 0 = may try at once
    account_failures: int
    client_failures: int


def delay_after(failures: int, free: int, cap: float) -> float:
    """Seconds to wait after the last failure: none for the first `free`, then 1, 2, 4 ... up to `cap`."""
    if failures < max(1, free):
        return 0.0
    return float(min(cap, 2 ** min(failures - free, 30)))


def _failures(conn, column, value: str, now: datetime, resets: tuple[str, ...]) -> tuple[int, datetime | None]:  # noqa: ANN001
    """Wrong-password attempts of one account or client since its last success (or password
    reset, for an account) within THROTTLE_WINDOW, and the newest one's time. Throttled
    attempts do not count: hammering a throttled form extends nobody's wait."""
    t = signin_attempts.c
    since = now - THROTTLE_WINDOW
    last_ok = conn.execute(
        select(func.max(t.at)).where(column == value, t.outcome.in_(resets), t.at <= now)
    ).scalar()
    if last_ok is not None and last_ok > since:
        since = last_ok
    count, newest = conn.execute(
        select(func.count(), func.max(t.at)).where(
            column == value, t.outcome == "wrong", t.at > since, t.at <= now
        )
    ).one()
    return int(count or 0), newest


def throttle(store, username: str, client: str, settings, *, now: datetime | None = None) -> Throttle:  # noqa: ANN001
    """The wait before `username` may be tried again from `client` (same for unknown names).

    Per account: after `lockout_attempts` failures from anywhere, 1, 2, 4 ... seconds, at most
    ACCOUNT_DELAY_CAP, so its owner waits half a minute at worst. Per client address: after
    `lockout_attempts` failures for any names, 1, 2, 4 ... seconds up to `lockout_minutes`.
    """
    now = now or _now()
    free = int(settings.lockout_attempts)
    with store.engine.connect() as conn:
        account_n, account_last = _failures(conn, signin_attempts.c.username, username, now, ("ok", "reset"))
        client_n, client_last = _failures(conn, signin_attempts.c.client, client, now, ("ok",))
    wait = 0.0
    if account_last is not None:
        ready = account_last + timedelta(seconds=delay_after(account_n, free, ACCOUNT_DELAY_CAP))
        wait = max(wait, (ready - now).total_seconds())
    if client_last is not None:
        cap = max(1.0, float(settings.lockout_minutes) * 60)
        ready = client_last + timedelta(seconds=delay_after(client_n, free, cap))
        wait = max(wait, (ready - now).total_seconds())
    return Throttle(max(0.0, wait), account_n, client_n)


def _attempt(store, username: str, client: str, outcome: str, now: datetime) -> None:  # noqa: ANN001
    with store.engine.begin() as conn:
        conn.execute(insert(signin_attempts).values(at=now, username=username, client=client, outcome=outcome))


def clean_client(client: str | None) -> str:
    text = "".join(ch for ch in (client or "").strip() if ch.isprintable())[:100]
    return text or LOCAL_CLIENT


def authenticate(
    store, username: str, password: str, settings, *, now: datetime | None = None,  # noqa: ANN001
    channel: str = "form", client: str | None = None,
) -> SignInResult:
    """Check a sign-in attempt from `client` (an address), throttle guessing, and audit it.

    Every attempt is one INSERT into signin_attempts (no read-then-write count), and a wrong
    password also bumps users.failed_attempts with `failed_attempts + 1` in the database.
    """
    now = now or _now()
    name = (username or "").strip()[:MAX_USERNAME_LENGTH]
    client = clean_client(client)
    where = f"{channel} dari {client}"
    wait = throttle(store, name, client, settings, now=now)
    if wait.retry_after > 0:
        # Refused before the password is looked at, identically for known and unknown names.
        _attempt(store, name, client, "throttled", now)
        audit.record(
            store, name or None, "signin_failed",
            f"{where}: ditahan {wait.retry_after:.0f} detik (gagal {wait.account_failures}x untuk akun, "
            f"{wait.client_failures}x dari alamat ini)", ok=False,
        )
        return SignInResult(SignInStatus.THROTTLED, retry_after=wait.retry_after)

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
        _attempt(store, name, client, "wrong", now)
        audit.record(store, name or None, "signin_failed", f"{where}: akun tidak dikenal", ok=False)
        return SignInResult(SignInStatus.INVALID, retry_after=_next_wait(store, name, client, settings, now))

    if not _verify(row["password_hash"], password or ""):
        _attempt(store, name, client, "wrong", now)
        with store.engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.username == name).values(
                    failed_attempts=users.c.failed_attempts + 1
                )
            )
        audit.record(store, name, "signin_failed", f"{where}: kata sandi salah", ok=False)
        return SignInResult(SignInStatus.INVALID, retry_after=_next_wait(store, name, client, settings, now))

    account = _account(row)
    if account.disabled:
        _attempt(store, name, client, "disabled", now)
        audit.record(store, name, "signin_failed", f"{where}: akun nonaktif", ok=False)
        return SignInResult(SignInStatus.DISABLED)

    values: dict = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == name).values(**values))
    _attempt(store, name, client, "ok", now)
    audit.record(store, name, "signin", where)
    return SignInResult(SignInStatus.OK, account=_require(store, name))


def _next_wait(store, name: str, client: str, settings, now: datetime) -> float:  # noqa: ANN001
    return throttle(store, name, client, settings, now=now).retry_after


def _verify(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
