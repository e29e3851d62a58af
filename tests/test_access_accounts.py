"""Local accounts: argon2 hashing, lockout, disable, password change, the CLI and the audit log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_store

from access import accounts, audit
from access.accounts import AccountError, SignInStatus
from data_sources.schema import users

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Rahasia-Kuat-123"
WRONG = "bukan-sandinya"


def _hash_of(store, username: str) -> str:
    return store.execute(users.select().where(users.c.username == username)).dicts()[0]["password_hash"]


def test_password_is_stored_as_argon2id_hash_never_plain(store):
    accounts.create_user(store, "admin", "analis", PASSWORD, actor="test")
    stored = _hash_of(store, "admin")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_right_password_signs_in_and_is_audited(store):
    accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
    result = accounts.authenticate(store, "bupati", PASSWORD, store.settings)
    assert result.ok and result.account.role == "pimpinan"
    assert accounts.get_user(store, "bupati").last_login_at is not None
    entry = audit.recent(store, 1).iloc[0]
    assert (entry["action"], entry["username"], bool(entry["ok"])) == ("signin", "bupati", True)


def test_wrong_password_and_unknown_user_get_the_same_answer_and_are_audited(store):
    accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
    wrong = accounts.authenticate(store, "bupati", WRONG, store.settings)
    unknown = accounts.authenticate(store, "siapa", PASSWORD, store.settings)
    assert wrong.status is SignInStatus.INVALID and unknown.status is SignInStatus.INVALID
    failures = audit.recent(store, 10, action="signin_failed")
    assert sorted(failures["username"]) == ["bupati", "siapa"]
    assert not failures["ok"].any()


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUESSER = "203.0.113.7"
OWNER = "198.51.100.20"


def _guess_until(store, settings, count: int, *, name: str = "sekda", client: str = GUESSER):  # noqa: ANN001, ANN202
    """`count` wrong passwords from one address, each sent as soon as the throttle allows;
    returns when the last one was sent and its result."""
    now, sent = T0, T0
    result = None
    for _ in range(count):
        sent = now
        result = accounts.authenticate(store, name, WRONG, settings, now=now, client=client)
        assert result.status is SignInStatus.INVALID
        now += timedelta(seconds=result.retry_after + 0.001)
    return sent, result


def test_eight_simultaneous_wrong_passwords_record_eight_failures(db_url):
    import threading

    store = make_store(db_url)
    try:
        settings = replace(store.settings, lockout_attempts=50)  # none of the eight is throttled
        accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
        start = threading.Barrier(8)
        results = []

        def attempt(number: int) -> None:
            start.wait()
            results.append(accounts.authenticate(store, "sekda", WRONG, settings, client=f"10.0.0.{number}"))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.status for r in results] == [SignInStatus.INVALID] * 8
        assert accounts.get_user(store, "sekda").failed_attempts == 8
        assert accounts.throttle(store, "sekda", "10.9.9.9", settings).account_failures == 8
        assert len(audit.recent(store, 100, action="signin_failed")) == 8
    finally:
        store.dispose()


def test_twenty_guesses_from_one_address_slow_it_but_the_owner_signs_in_from_another_within_60_s(store):
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    settings = store.settings
    last, twentieth = _guess_until(store, settings, 20)
    assert twentieth.retry_after >= 60  # the guessing address now waits long
    owner_at = last + timedelta(seconds=accounts.ACCOUNT_DELAY_CAP)
    assert (owner_at - last).total_seconds() <= 60
    assert accounts.authenticate(store, "sekda", PASSWORD, settings, now=owner_at, client=OWNER).ok
    guess = accounts.authenticate(store, "sekda", PASSWORD, settings, now=owner_at, client=GUESSER)
    assert guess.status is SignInStatus.THROTTLED and guess.retry_after > 60
    assert not guess.ok  # refused before the (right) password was even looked at


def test_the_first_lockout_attempts_failures_wait_nothing_then_the_wait_doubles():
    assert [accounts.delay_after(n, 5, 900) for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]
    assert accounts.delay_after(40, 5, 900) == 900
    assert accounts.delay_after(40, 5, accounts.ACCOUNT_DELAY_CAP) == 30


def test_a_throttled_attempt_is_refused_unchecked_audited_and_extends_no_wait(store):
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    now = T0
    for _ in range(5):
        accounts.authenticate(store, "sekda", WRONG, store.settings, now=now, client=GUESSER)
    early = accounts.authenticate(store, "sekda", PASSWORD, store.settings, now=now, client=GUESSER)
    assert early.status is SignInStatus.THROTTLED and early.retry_after == 1
    again = accounts.authenticate(store, "sekda", WRONG, store.settings, now=now, client=GUESSER)
    assert again.retry_after == 1  # hammering a throttled form does not lengthen the wait
    entry = audit.recent(store, 1).iloc[0]
    assert entry["action"] == "signin_failed" and "ditahan 1 detik" in entry["detail"] and GUESSER in entry["detail"]
    later = now + timedelta(seconds=1)
    assert accounts.authenticate(store, "sekda", PASSWORD, store.settings, now=later, client=GUESSER).ok


def test_an_unknown_name_gets_the_same_answers_and_waits_as_a_known_one(store):
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    known = [accounts.authenticate(store, "sekda", WRONG, store.settings, now=T0, client="10.1.1.1")
             for _ in range(7)]
    unknown = [accounts.authenticate(store, "siapa", WRONG, store.settings, now=T0, client="10.2.2.2")
               for _ in range(7)]
    assert [(r.status, r.retry_after) for r in known] == [(r.status, r.retry_after) for r in unknown]
    assert known[-1].status is SignInStatus.THROTTLED


def test_a_right_password_resets_the_account_count(store):
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    for _ in range(4):
        accounts.authenticate(store, "sekda", WRONG, store.settings, now=T0)
    assert accounts.authenticate(store, "sekda", PASSWORD, store.settings, now=T0).ok
    assert accounts.get_user(store, "sekda").failed_attempts == 0
    assert accounts.throttle(store, "sekda", "10.3.3.3", store.settings, now=T0).account_failures == 0


def test_free_attempts_and_the_address_cap_come_from_the_settings(sqlite_store):
    settings = replace(sqlite_store.settings, lockout_attempts=2, lockout_minutes=60)
    accounts.create_user(sqlite_store, "sekda", "pimpinan", PASSWORD)
    _, second = _guess_until(sqlite_store, settings, 2)
    assert second.retry_after == 1
    _, many = _guess_until(sqlite_store, settings, 14, name="lain", client="10.4.4.4")
    assert many.retry_after == 3600


def test_disabled_account_cannot_sign_in(store):
    accounts.create_user(store, "admin", "analis", PASSWORD)
    accounts.create_user(store, "budi", "opd", PASSWORD, opd="Dinas PUPR")
    accounts.disable_user(store, "budi", actor="admin")
    assert accounts.authenticate(store, "budi", PASSWORD, store.settings).status is SignInStatus.DISABLED
    accounts.enable_user(store, "budi", actor="admin")
    assert accounts.authenticate(store, "budi", PASSWORD, store.settings).ok


def test_last_active_analyst_cannot_be_disabled(store):
    accounts.create_user(store, "admin", "analis", PASSWORD)
    with pytest.raises(AccountError):
        accounts.disable_user(store, "admin")
    accounts.create_user(store, "admin2", "analis", PASSWORD)
    assert accounts.disable_user(store, "admin").disabled


def test_passwd_replaces_the_password_and_lifts_the_throttle(store):
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    now, _ = _guess_until(store, store.settings, 8)
    accounts.set_password(store, "sekda", "Sandi-Baru-456", actor="admin")
    assert accounts.throttle(store, "sekda", OWNER, store.settings).account_failures == 0
    assert accounts.authenticate(store, "sekda", PASSWORD, store.settings, client=OWNER).status is SignInStatus.INVALID
    assert accounts.authenticate(store, "sekda", "Sandi-Baru-456", store.settings, client=OWNER).ok


@pytest.mark.parametrize("weak", ["password", "12345678", "aaaaaaaa", " " * 8, "sekda12345"])
def test_common_and_trivial_passwords_are_refused_with_an_indonesian_reason(store, weak):
    with pytest.raises(AccountError, match="mudah ditebak|hanya berisi spasi") as refused:
        accounts.create_user(store, "sekda", "pimpinan", weak)
    assert "Kata sandi" in str(refused.value)
    assert accounts.user_count(store) == 0
    accounts.create_user(store, "sekda", "pimpinan", PASSWORD)
    with pytest.raises(AccountError):
        accounts.set_password(store, "sekda", weak)


def test_weak_password_duplicate_name_and_opd_without_opd_are_refused(store):
    with pytest.raises(AccountError, match="minimal"):
        accounts.create_user(store, "a", "analis", "pendek")
    with pytest.raises(AccountError, match="opd"):
        accounts.create_user(store, "b", "opd", PASSWORD)
    with pytest.raises(AccountError, match="Peran"):
        accounts.create_user(store, "c", "bupati", PASSWORD)
    accounts.create_user(store, "d", "analis", PASSWORD)
    with pytest.raises(AccountError, match="sudah dipakai"):
        accounts.create_user(store, "d", "pimpinan", PASSWORD)
    assert accounts.user_count(store) == 1


def test_opd_is_kept_only_for_opd_accounts(store):
    leader = accounts.create_user(store, "bupati", "pimpinan", PASSWORD, opd="Dinas PUPR")
    member = accounts.create_user(store, "budi", "opd", PASSWORD, opd="Dinas PUPR")
    assert leader.opd is None and member.opd == "Dinas PUPR"


def test_account_list_carries_no_password_hash(store):
    accounts.create_user(store, "admin", "analis", PASSWORD)
    frame = accounts.list_users(store)
    assert "password_hash" not in frame.columns
    assert not frame.astype(str).apply(lambda col: col.str.contains("argon2")).any().any()


def test_account_changes_are_audited_with_the_actor(store):
    accounts.create_user(store, "admin", "analis", PASSWORD, actor="cli")
    accounts.create_user(store, "budi", "opd", PASSWORD, opd="Dinas PUPR", actor="admin")
    accounts.set_password(store, "budi", "Sandi-Baru-456", actor="admin")
    accounts.disable_user(store, "budi", actor="admin")
    log = audit.recent(store, 10)
    assert list(log["action"]) == ["user_disable", "user_passwd", "user_add", "user_add"]
    assert list(log["username"]) == ["admin", "admin", "admin", "cli"]


def test_audit_recent_is_newest_first_limited_and_filterable(store):
    for i in range(5):
        audit.record(store, "admin", "export", f"laporan {i}.xlsx")
    audit.record(store, "admin", "import", "lapor_export.xlsx", ok=False)
    log = audit.recent(store, 3)
    assert list(log["detail"]) == ["lapor_export.xlsx", "laporan 4.xlsx", "laporan 3.xlsx"]
    assert list(audit.recent(store, 100, action="import")["ok"]) == [False]
    assert str(log["at"].iloc[0].tzinfo) == "UTC"


def test_no_password_or_hash_reaches_logs_output_or_audit_log(store, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    accounts.create_user(store, "admin", "analis", PASSWORD, actor="cli")
    accounts.authenticate(store, "admin", WRONG, store.settings)
    accounts.authenticate(store, "admin", PASSWORD, store.settings)
    accounts.set_password(store, "admin", "Sandi-Baru-456", actor="cli")
    stored_hash = _hash_of(store, "admin")
    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, audit.recent(store, 100).to_string()]
    for secret in (PASSWORD, WRONG, "Sandi-Baru-456", stored_hash, "$argon2"):
        assert not any(secret in text for text in texts), secret


# --- the command line ---------------------------------------------------------------------
def _cli(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "access", *args, "--db", db],
        input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )


def test_cli_manages_accounts_with_password_stdin(db_url):
    added = _cli(db_url, "user", "add", "admin", "--role", "analis", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    opd = _cli(
        db_url, "user", "add", "budi", "--role", "opd", "--opd", "Dinas PUPR", "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert opd.returncode == 0, opd.stderr
    listed = _cli(db_url, "user", "list")
    assert listed.returncode == 0
    assert "admin" in listed.stdout and "Dinas PUPR" in listed.stdout
    assert _cli(db_url, "user", "passwd", "budi", "--password-stdin", stdin="Sandi-Baru-456\n").returncode == 0
    assert _cli(db_url, "user", "disable", "budi").returncode == 0
    assert "nonaktif" in _cli(db_url, "user", "list").stdout

    store = make_store(db_url)
    try:
        assert accounts.authenticate(store, "admin", PASSWORD, store.settings).ok
        assert accounts.authenticate(store, "budi", "Sandi-Baru-456", store.settings).status is SignInStatus.DISABLED
        actions = set(audit.recent(store, 100)["action"])
        assert {"user_add", "user_passwd", "user_disable"} <= actions
    finally:
        store.dispose()


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("user", "add", "x", "--role", "analis", "--password-stdin"), "pendek\n", "minimal"),
        (("user", "add", "x", "--role", "analis", "--password-stdin"), "12345678\n", "mudah ditebak"),
        (("user", "add", "x", "--role", "opd", "--password-stdin"), PASSWORD + "\n", "--opd"),
        (("user", "add", "x", "--role", "analis", "--password-stdin"), "", "stdin"),
        (("user", "add", "x", "--role", "analis"), "", "--password-stdin"),  # no terminal to prompt
        (("user", "disable", "tidak-ada"), None, "tidak ada"),
        (("user", "passwd", "tidak-ada", "--password-stdin"), PASSWORD + "\n", "tidak ada"),
    ],
)
def test_cli_errors_exit_non_zero_with_a_message_and_no_traceback(sqlite_url, args, stdin, message):
    done = _cli(sqlite_url, *args, stdin=stdin)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert PASSWORD not in done.stderr + done.stdout


def test_cli_unreachable_database_is_one_line_not_a_traceback():
    done = _cli("postgresql://nobody@127.0.0.1:1/none", "user", "list")
    assert done.returncode != 0
    assert "Basis data tidak dapat dibuka" in done.stderr and "Traceback" not in done.stderr


def test_cli_output_never_shows_the_password_or_its_hash(sqlite_url):
    done = _cli(sqlite_url, "user", "add", "admin", "--role", "analis", "--password-stdin", stdin=PASSWORD + "\n")
    listed = _cli(sqlite_url, "user", "list")
    audit_out = _cli(sqlite_url, "audit")
    text = "".join(p.stdout + p.stderr for p in (done, listed, audit_out))
    assert PASSWORD not in text and "$argon2" not in text
    assert "user_add" in audit_out.stdout


def test_cli_audit_prints_a_control_character_in_a_sign_in_name_escaped(sqlite_url):
    store = make_store(sqlite_url)
    try:
        accounts.authenticate(store, "\x1b[2J\x1b]0;owned\x07admin\r", WRONG, store.settings)
    finally:
        store.dispose()
    shown = _cli(sqlite_url, "audit")
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "\r" not in shown.stdout
    assert "\\x1b[2J\\x1b]0;owned\\x07admin" in shown.stdout


def test_terminal_safe_escapes_controls_and_bidi_overrides_and_keeps_other_text():
    from core.terminal import terminal_safe

    assert terminal_safe("Dinas Kesehatan — ü") == "Dinas Kesehatan — ü"
    assert terminal_safe("a\x1b[31mb\nc\u202ed\x9b") == "a\\x1b[31mb\\x0ac\\u202ed\\x9b"


def test_data_sources_cli_prints_a_control_character_from_a_file_name_escaped(sqlite_url, tmp_path):
    bad = tmp_path / "aduan\x1b[2J.csv"
    bad.write_text("bukan,csv,kanonik\n1,2,3\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "data_sources", "import", str(bad), "--db", sqlite_url],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )
    printed = done.stdout + done.stderr
    assert "aduan" in printed and "\x1b" not in printed and "\\x1b[2J" in printed
