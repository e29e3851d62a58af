"""The morning messages (DATA.md "Morning messages"), against a real SMTP server and a real
HTTP gateway on 127.0.0.1, on SQLite and PostgreSQL.

The example morning: Tuesday 10 November 2026, 07:00 WITA. Dinas PUPR has overdue and due-soon
complaints, Dinas Sosial one overdue, Dinas Kesehatan nothing late; an OPD whose name holds a
<script> tag has one overdue. Every complaint's title, body and reporter carry MARKER, which
must never reach a message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import ROOT, make_store
from notify_fixture import SmtpServer, WebhookServer
from test_kpi_reference import load, wita

from core.settings import (
    EmailChannelSettings,
    NotifyLeader,
    NotifySettings,
    WebhookChannelSettings,
    load_settings,
)
from data_sources import outbox
from data_sources.contacts import set_contact
from data_sources.store import Store
from metrics.__main__ import main as metrics_main
from metrics.backlog import backlog_complaints
from metrics.filters import Filters
from metrics.notify import run_notify

AS_OF = wita("2026-11-10T07:00:00")  # a Tuesday
AS_OF_TEXT = "2026-11-10T07:00:00+08:00"
HOLIDAY = wita("2026-08-17T07:00:00")  # Hari Kemerdekaan, a Monday
MARKER = "RAHASIA7731"
SCRIPT_OPD = "Dinas <script>alert(1)</script> *Uji*"
LEADER_EMAIL, LEADER_WA = "bupati@example.go.id", "6281100000001"
PUPR_EMAIL, PUPR_WA = "kadis.pupr@example.go.id", "6281100000002"
SOSIAL_WA = "6281100000003"
KESEHATAN_EMAIL = "kadis.dinkes@example.go.id"
SCRIPT_EMAIL = "uji@example.go.id"


def _complaint(tracking_id: str, opd: str, disposed: str, **fields) -> dict:
    base = {
        "tracking_id": tracking_id, "opd": opd, "status": "proses", "classification": "pengaduan",
        "category": "Pekerjaan Umum", "kecamatan": "Barabai", "channel": "website",
        "submitted_at": wita(disposed) - timedelta(hours=3), "disposed_at": wita(disposed),
        "title": f"Judul {MARKER}", "body": f"Isi aduan {MARKER}", "reporter_name": f"Pelapor {MARKER}",
    }
    return {**base, **fields}


def seed(store: Store) -> None:
    load(store, [
        # overdue: disposed weeks ago, never answered
        _complaint("PUPR-1", "Dinas PUPR", "2026-09-01T09:00:00", kecamatan="Batang Alai Utara"),
        _complaint("PUPR-2", "Dinas PUPR", "2026-10-01T09:00:00"),
        _complaint("PUPR-3", "Dinas PUPR", "2026-10-15T09:00:00", category="Jalan dan Jembatan"),
        # due soon: the response deadline (5 working days) is the end of Wednesday 11 November
        _complaint("PUPR-4", "Dinas PUPR", "2026-11-04T09:00:00"),
        # not late: disposed yesterday
        _complaint("PUPR-5", "Dinas PUPR", "2026-11-09T09:00:00"),
        _complaint("SOS-1", "Dinas Sosial", "2026-09-15T09:00:00", category="Sosial", kecamatan="Haruyan"),
        _complaint("KES-1", "Dinas Kesehatan", "2026-11-09T09:00:00", category="Kesehatan"),
        _complaint("KES-2", "Dinas Kesehatan", "2026-10-01T09:00:00", status="selesai",
                   first_response_at=wita("2026-10-02T09:00:00"), closed_at=wita("2026-10-05T09:00:00")),
        _complaint("XSS-1", SCRIPT_OPD, "2026-09-01T09:00:00"),
        # received in the headline period (1 - 9 November), answered
        _complaint("NOV-1", "Dinas Sosial", "2026-11-03T09:00:00", status="selesai",
                   first_response_at=wita("2026-11-03T12:00:00"), closed_at=wita("2026-11-05T12:00:00")),
    ])
    set_contact(store, "Dinas PUPR", name="Ir. Budi", role="Kepala Dinas", email=PUPR_EMAIL,
                whatsapp=PUPR_WA, actor="test")
    set_contact(store, "Dinas Sosial", name="Siti", whatsapp=SOSIAL_WA, actor="test")
    set_contact(store, "Dinas Kesehatan", name="dr. Ani", email=KESEHATAN_EMAIL, actor="test")
    set_contact(store, SCRIPT_OPD, name="Uji", email=SCRIPT_EMAIL, actor="test")


def notify_settings(smtp: SmtpServer | None, hook: WebhookServer | None, **changes) -> NotifySettings:
    base = NotifySettings(
        dashboard_url="https://dasbor.example.go.id",
        max_retries=2, backoff_seconds=0.05, max_backoff_seconds=0.2,
        email=EmailChannelSettings(host="127.0.0.1", port=smtp.port, starttls=False,
                                   sender="dasbor@example.go.id", timeout_seconds=5) if smtp else EmailChannelSettings(),
        webhook=WebhookChannelSettings(url=hook.url, token="rahasia-token", timeout_seconds=5)
        if hook else WebhookChannelSettings(),
        leaders=(NotifyLeader(name="Bupati", email=LEADER_EMAIL, whatsapp="0811-0000-0001"),),
    )
    return replace(base, **changes)


@pytest.fixture
def seeded(db_url):
    store = make_store(db_url)
    seed(store)
    yield store
    store.dispose()


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server


def run(store: Store, smtp, hook, as_of=AS_OF, dry_run=False, **changes):
    settings = replace(store.settings, notify=notify_settings(smtp, hook, **changes))
    lines: list[str] = []
    result = run_notify(store, as_of, settings, dry_run=dry_run, echo=lines.append)
    return result, "\n".join(lines)


def report_backlog(db_url: str, capsys) -> dict[str, dict]:
    """`python -m metrics report`'s rows for the same as-of, by OPD."""
    capsys.readouterr()
    code = metrics_main(["report", "--from", "2026-11-01", "--to", "2026-11-09", "--as-of", AS_OF_TEXT,
                         "--format", "json", "--db", db_url])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    return {row["opd"]: row for row in rows}


# --- what arrives -------------------------------------------------------------------------------
def test_the_leader_message_carries_the_reports_backlog_figures(seeded, db_url, smtp, hook, capsys):
    result, _ = run(seeded, smtp, hook)
    report = report_backlog(db_url, capsys)
    total = report["TOTAL"]
    assert total["backlog_overdue"] == 5 and total["due_soon"] == 1  # the example's precondition
    [mail] = smtp.to(LEADER_EMAIL)
    [chat] = hook.to(LEADER_WA)
    for text in (mail.plain, chat.body["text"]):
        assert f"Lewat tenggat: {total['backlog_overdue']} pengaduan" in text
        assert f"Jatuh tempo s.d. 11 Nov 2026: {total['due_soon']} pengaduan" in text
        assert f"Belum selesai: {total['backlog_open']} pengaduan" in text
        assert f"Masuk: {total['received']}" in text
        assert "1. Dinas PUPR: 3 lewat tenggat" in text
        assert "Dasbor: https://dasbor.example.go.id" in text
    assert "*Tunggakan saat ini (semua tanggal masuk)*" in chat.body["text"]  # WhatsApp bold
    assert "*Tunggakan" not in mail.plain  # no WhatsApp markup in an e-mail
    [opd_mail] = smtp.to(PUPR_EMAIL)
    assert "<strong>PUPR-1</strong>" in opd_mail.html and "<br>" in opd_mail.html
    assert result.failed == 0


def test_each_opd_contact_gets_only_its_own_complaints(seeded, smtp, hook):
    run(seeded, smtp, hook)
    filters = Filters(AS_OF.date(), AS_OF.date(), AS_OF)
    overdue = backlog_complaints(seeded, filters, kind="overdue", opd="Dinas PUPR")
    due = backlog_complaints(seeded, filters, kind="due_soon", opd="Dinas PUPR")
    [mail] = smtp.to(PUPR_EMAIL)
    [chat] = hook.to(PUPR_WA)
    for text, bold in ((mail.plain, ""), (chat.body["text"], "*")):
        for row in overdue.itertuples():
            assert f"• {bold}{row.tracking_id}{bold} · {row.working_days_overdue} hari kerja terlambat" in text
        assert "Pekerjaan Umum · Kec. Batang Alai Utara" in text and "Jalan dan Jembatan" in text
        assert [row.tracking_id for row in due.itertuples()] == ["PUPR-4"]
        assert f"• {bold}PUPR-4{bold} · tenggat 11 Nov 2026 23.59 WITA" in text
        assert "PUPR-5" not in text and "SOS-1" not in text and "XSS-1" not in text
    [sosial] = hook.to(SOSIAL_WA)
    assert "SOS-1" in sosial.body["text"] and "PUPR" not in sosial.body["text"]
    assert "Lewat tenggat: 1 pengaduan" in sosial.body["text"]


def test_an_opd_with_nothing_late_gets_no_message(seeded, smtp, hook):
    result, _ = run(seeded, smtp, hook)
    assert smtp.to(KESEHATAN_EMAIL) == []
    # leader: email + WhatsApp; PUPR: email + WhatsApp; Sosial: WhatsApp; <script> OPD: email
    assert result.sent == 6 and len(smtp.mails) == 3 and len(hook.accepted) == 3


def test_html_part_escapes_script_in_an_opd_name(seeded, smtp, hook):
    run(seeded, smtp, hook)
    [mail] = smtp.to(SCRIPT_EMAIL)
    assert "<script>" not in mail.html
    assert "Dinas &lt;script&gt;alert(1)&lt;/script&gt; *Uji*" in mail.html
    assert SCRIPT_OPD in mail.plain  # plain text stays the name as it is


def test_whatsapp_markup_in_a_data_value_stays_plain_text(seeded, smtp, hook):
    run(seeded, smtp, hook)
    [chat] = hook.to(LEADER_WA)
    assert "Dinas <script>alert(1)</script> ∗Uji∗: 1 lewat tenggat" in chat.body["text"]
    assert "*Uji*" not in chat.body["text"]


def test_no_title_body_or_reporter_name_reaches_any_message(seeded, smtp, hook, capsys):
    _, printed = run(seeded, smtp, hook, as_of=AS_OF, dry_run=True)
    assert MARKER not in printed
    run(seeded, smtp, hook)
    assert smtp.raw and hook.received
    for raw in smtp.raw:
        assert MARKER.encode() not in raw
    for posted in hook.received:
        assert MARKER.encode() not in posted.raw


def test_the_webhook_gets_the_configured_fields_and_token_header(seeded, hook):
    run(seeded, None, hook, webhook=WebhookChannelSettings(
        url=hook.url, token="t0k", token_header="X-Api-Key", token_prefix="", to_field="phone",
        text_field="message", timeout_seconds=5))
    posted = hook.accepted[0]
    assert set(posted.body) == {"phone", "message"}
    assert posted.headers["X-Api-Key"] == "t0k"


def test_demo_data_is_labelled_data_contoh(db_url, smtp, hook):
    store = make_store(db_url)
    try:
        source_id = store.ensure_source("demo", "demo", is_demo=True)
        import pandas as pd

        frame = pd.DataFrame([_complaint("D-1", "Dinas PUPR", "2026-09-01T09:00:00")])
        store.write_complaints(source_id, frame, run_id=None, observed_at=AS_OF)
        set_contact(store, "Dinas PUPR", email=PUPR_EMAIL, actor="test")
        run(store, smtp, hook)
    finally:
        store.dispose()
    for mail in smtp.mails:
        assert "Data contoh" in mail.plain and "Data contoh" in mail.html and "Data contoh" in mail.subject
    assert all("Data contoh" in p.body["text"] for p in hook.accepted)


def test_no_link_when_dashboard_url_is_unset(seeded, smtp):
    run(seeded, smtp, None, dashboard_url="")
    assert smtp.mails and all("Dasbor:" not in m.plain and "<a " not in m.html for m in smtp.mails)


# --- once per day, retries, failures ------------------------------------------------------------
def test_a_second_run_the_same_day_sends_nothing(seeded, smtp, hook):
    first, _ = run(seeded, smtp, hook)
    second, _ = run(seeded, smtp, hook, as_of=AS_OF + timedelta(hours=2))
    assert first.sent == 6
    assert (second.sent, second.skipped, second.failed) == (0, 6, 0)
    assert len(smtp.mails) == 3 and len(hook.accepted) == 3


def test_the_next_day_sends_again(seeded, smtp, hook):
    run(seeded, smtp, hook)
    next_day, _ = run(seeded, smtp, hook, as_of=AS_OF + timedelta(days=1))
    assert next_day.sent > 0


def test_a_500_then_200_is_retried_and_sent(seeded, hook):
    hook.script = [(500, 0.0)]
    result, _ = run(seeded, None, hook)
    assert result.failed == 0 and result.sent == 3
    assert len(hook.received) == 4 and len(hook.accepted) == 3
    rows = outbox.list_outbox(seeded)
    assert rows["status"].tolist() == ["sent"] * 3
    assert sorted(rows["attempts"].tolist()) == [1, 1, 2]


def test_a_4xx_is_recorded_failed_not_retried_and_sent_by_the_next_run(seeded, hook):
    hook.script = [(400, 0.0)]
    first, printed = run(seeded, None, hook)  # no e-mail server: the 3 e-mails are skipped
    assert (first.sent, first.skipped, first.failed) == (2, 3, 1)
    assert len(hook.received) == 3  # the 400 was not retried in the same run
    failed = outbox.list_outbox(seeded).query("status == 'failed'")
    assert len(failed) == 1 and "HTTP 400" in failed["last_error"].iloc[0]
    assert "gagal" in printed
    second, _ = run(seeded, None, hook, as_of=AS_OF + timedelta(minutes=30))
    assert (second.sent, second.skipped, second.failed) == (1, 5, 0)
    assert outbox.list_outbox(seeded)["status"].tolist() == ["sent"] * 3


def test_a_hanging_gateway_times_out_and_is_recorded_failed(seeded, hook):
    hook.script = [(200, 3.0), (200, 3.0)]  # the first message's two attempts both hang
    webhook = WebhookChannelSettings(url=hook.url, timeout_seconds=0.5)
    started = time.monotonic()
    result, _ = run(seeded, None, hook, webhook=webhook, max_retries=1)
    elapsed = time.monotonic() - started
    assert result.failed == 1 and result.sent == 2
    assert elapsed < 5  # two 0.5 s timeouts and a short wait, not two 3 s answers
    failed = outbox.list_outbox(seeded).query("status == 'failed'")
    assert "tidak menjawab dalam 0.5 detik" in failed["last_error"].iloc[0]
    assert failed["attempts"].iloc[0] == 2


def test_an_unreachable_smtp_server_is_recorded_failed(seeded):
    dead = EmailChannelSettings(host="127.0.0.1", port=_closed_port(), starttls=False,
                                sender="dasbor@example.go.id", timeout_seconds=1)
    result, _ = run(seeded, None, None, email=dead, max_retries=0)
    assert result.sent == 0 and result.failed == 3
    assert outbox.list_outbox(seeded)["last_error"].str.contains("SMTP").all()


def _closed_port() -> int:
    from notify_fixture import free_port

    return free_port()


def test_two_concurrent_notify_processes_send_each_message_once(seeded, db_url, tmp_path):
    with SmtpServer() as smtp, WebhookServer(delay=0.3) as hook:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(f"""
[notify]
dashboard_url = "https://dasbor.example.go.id"
backoff_seconds = 0.05
[notify.email]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
sender = "dasbor@example.go.id"
timeout_seconds = 5
[notify.webhook]
url = "{hook.url}"
timeout_seconds = 5
[[notify.leaders]]
name = "Bupati"
email = "{LEADER_EMAIL}"
whatsapp = "{LEADER_WA}"
""")
        env = {**os.environ, "DASHBOARD_SECRETS": str(secrets), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "metrics", "notify", "--as-of", AS_OF_TEXT, "--db", db_url]
        runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in runs]
        assert [p.returncode for p in runs] == [0, 0], outputs
        summaries = [out.strip().splitlines()[-1] for out, _ in outputs]
        sent = [int(s.split(",")[0].split()[1]) for s in summaries]
        assert sum(sent) == 6, summaries
        assert len(smtp.mails) == 3 and len(hook.received) == 3
        assert sorted(m.rcpt[0] for m in smtp.mails) == sorted([LEADER_EMAIL, PUPR_EMAIL, SCRIPT_EMAIL])
        assert sorted(p.body["to"] for p in hook.received) == sorted([LEADER_WA, PUPR_WA, SOSIAL_WA])


# --- holidays, dry run, audit -------------------------------------------------------------------
def test_a_holiday_sends_nothing_and_says_why(seeded, smtp, hook):
    result, printed = run(seeded, smtp, hook, as_of=HOLIDAY)
    assert (result.sent, result.skipped, result.failed) == (0, 0, 0)
    assert smtp.mails == [] and hook.received == []
    assert "bukan hari kerja" in printed and "send_on_holidays" in printed


def test_send_on_holidays_sends_on_a_holiday(seeded, smtp, hook):
    result, _ = run(seeded, smtp, hook, as_of=HOLIDAY, send_on_holidays=True)
    assert result.sent > 0 and smtp.mails


def test_dry_run_prints_every_message_and_sends_nothing(seeded, smtp, hook):
    result, printed = run(seeded, smtp, hook, dry_run=True)
    assert result.would_send == 6 and result.sent == 0
    assert smtp.mails == [] and hook.received == []
    assert outbox.list_outbox(seeded).empty
    for recipient in (LEADER_EMAIL, LEADER_WA, PUPR_EMAIL, PUPR_WA, SOSIAL_WA, SCRIPT_EMAIL):
        assert f" {recipient} (" in printed


def test_every_run_is_in_the_audit_log(seeded, smtp, hook):
    from access import audit

    run(seeded, smtp, hook)
    run(seeded, smtp, hook, dry_run=True)
    run(seeded, smtp, hook, as_of=HOLIDAY)
    entries = audit.recent(seeded, action="notify")
    assert len(entries) == 3
    details = " | ".join(entries["detail"])
    assert "sent 6, skipped 0, failed 0" in details and "uji coba" in details and "bukan hari kerja" in details


def test_the_cli_prints_sent_skipped_failed(seeded, db_url, smtp, tmp_path, monkeypatch, capsys):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[notify.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
                       'sender = "dasbor@example.go.id"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    assert load_settings().notify.email.port == smtp.port
    capsys.readouterr()
    code = metrics_main(["notify", "--as-of", AS_OF_TEXT, "--db", db_url])
    out = capsys.readouterr().out
    assert code == 0
    # no leader configured; PUPR and the <script> OPD by email; Sosial's WhatsApp has no gateway
    assert out.strip().splitlines()[-1] == "sent 2, skipped 2, failed 0"


def test_a_contact_without_an_address_is_named_in_the_output(seeded, smtp, hook):
    set_contact(seeded, "Dinas Sosial", whatsapp="", actor="test")  # only a name is left
    result, printed = run(seeded, smtp, hook)
    assert "kontak Dinas Sosial: tidak ada email atau nomor WhatsApp; dilewati." in printed
    assert hook.to(SOSIAL_WA) == [] and result.sent == 5
