"""The morning messages (DATA.md "Morning messages"): composed from metrics/, sent once per day.

Each leader of `[[notify.leaders]]` gets the region's headline figures for the month so far
(the morning briefing's period: the 1st of yesterday's month to yesterday), KPI.md's backlog
(`backlog_overdue`, `due_soon`) and the OPDs with the most overdue complaints. Each OPD
contact whose OPD has overdue or due-soon complaints gets that OPD's lists: Tracking ID,
working days late, category, kecamatan. Never a complaint's text or its reporter (DATA.md
"What may be shown"): the lists are read without titles, and only these columns are used.

A message is composed once as `Composed` (title, sections of lines) and rendered three ways:
WhatsApp text (*bold*, short lines), an e-mail's plain-text part and its HTML part, where
every value is escaped. A value that comes from data (an OPD, category or kecamatan name) is
plain text in every form: WhatsApp's formatting characters in it are replaced by lookalikes.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from core.calendar import calendar_for
from core.settings import NotifyLeader, Settings
from data_sources import outbox
from data_sources.audit_log import write_audit
from data_sources.contacts import ContactError, OpdContact, list_contacts, normalise_email, normalise_whatsapp
from metrics import text_format as tf
from metrics.backlog import backlog_complaints, backlog_counts
from metrics.channels import Channel, Delivery, SendError, channels_for, send_with_retry
from metrics.filters import Filters
from metrics.kpi import TOTAL, opd_table

DEMO_LABEL = "Data contoh"
LEADER_TOPIC = "leader"
CHANNEL_LABELS = {"email": "email", "webhook": "WhatsApp"}
_WHATSAPP_MARKUP = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ʹ"})


class Value(str):
    """A piece of text that comes from data: never markup in any rendering."""


class Strong(Value):
    """A data value shown in bold (*x* on WhatsApp, <strong> in HTML, as is in plain text)."""


def _value(text: Any) -> Value:
    """Data text on one line (a newline in an OPD name cannot break the message's layout)."""
    if tf.is_missing(text) or text is None or str(text).strip() == "":
        return Value(tf.MISSING)
    return Value(" ".join(str(text).split()))


Line = tuple[str, ...]  # literal text and Values, joined without separators; "\n" breaks the line


@dataclass(frozen=True)
class Section:
    heading: Line
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Composed:
    """One message, independent of the channel."""

    kind: str  # leader, opd
    topic: str  # "leader" or the OPD name
    recipient_name: str
    subject: str
    title: Line
    greeting: Line
    sections: tuple[Section, ...]
    link: str | None
    demo: bool


# --- rendering ----------------------------------------------------------------------------------
def _plain(line: Line) -> str:
    return "".join(line)


def _whatsapp(line: Line) -> str:
    def one(part: str) -> str:
        if isinstance(part, Strong):
            return f"*{part.translate(_WHATSAPP_MARKUP)}*"
        return part.translate(_WHATSAPP_MARKUP) if isinstance(part, Value) else part

    return "".join(one(part) for part in line)


def _escaped(line: Line) -> str:
    def one(part: str) -> str:
        text = html.escape(part, quote=True)
        return f"<strong>{text}</strong>" if isinstance(part, Strong) else text.replace("\n", "<br>")

    return "".join(one(part) for part in line)


def whatsapp_text(msg: Composed) -> str:
    """The WhatsApp form: *bold* title and headings, one fact per short line."""
    out = [f"*{_whatsapp(msg.title)}*"]
    if msg.demo:
        out.append(f"_{DEMO_LABEL}: angka ini berasal dari data demo, bukan aduan sebenarnya._")
    out += [_whatsapp(msg.greeting), ""]
    for section in msg.sections:
        out.append(f"*{_whatsapp(section.heading)}*")
        out += [_whatsapp(line) for line in section.lines]
        out.append("")
    if msg.link:
        out.append(f"Dasbor: {msg.link}")
    return "\n".join(out).rstrip() + "\n"


def plain_text(msg: Composed) -> str:
    """The e-mail's plain-text part: the same lines without WhatsApp markup."""
    out = [_plain(msg.title)]
    if msg.demo:
        out.append(f"[{DEMO_LABEL}] Angka ini berasal dari data demo, bukan aduan sebenarnya.")
    out += [_plain(msg.greeting), ""]
    for section in msg.sections:
        out.append(_plain(section.heading))
        out += [_plain(line) for line in section.lines]
        out.append("")
    if msg.link:
        out.append(f"Dasbor: {msg.link}")
    return "\n".join(out).rstrip() + "\n"


def html_text(msg: Composed) -> str:
    """The e-mail's HTML part; every value (and every literal) is escaped."""
    parts = [
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        f"<title>{html.escape(msg.subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#14181f">',
        f"<h2 style=\"font-size:18px\">{_escaped(msg.title)}</h2>",
    ]
    if msg.demo:
        parts.append(
            '<p style="background:#fff4d6;border:1px solid #b06e00;padding:6px">'
            f"<strong>{DEMO_LABEL}</strong> — angka ini berasal dari data demo, bukan aduan sebenarnya.</p>"
        )
    parts.append(f"<p>{_escaped(msg.greeting)}</p>")
    for section in msg.sections:
        parts.append(f"<h3 style=\"font-size:16px;margin-bottom:4px\">{_escaped(section.heading)}</h3>")
        if section.lines:
            items = "".join(f"<li>{_escaped(line)}</li>" for line in section.lines)
            parts.append(f'<ul style="margin-top:0;padding-left:20px">{items}</ul>')
    if msg.link:
        url = html.escape(msg.link, quote=True)
        parts.append(f'<p>Dasbor: <a href="{url}">{url}</a></p>')
    parts.append("</body></html>")
    return "".join(parts)


def delivery_for(msg: Composed, channel: str, recipient: str) -> Delivery:
    if channel == "email":
        return Delivery(channel, recipient, msg.subject, plain_text(msg), html_text(msg))
    return Delivery(channel, recipient, msg.subject, whatsapp_text(msg))


def content_hash(delivery: Delivery) -> str:
    digest = hashlib.sha256()
    for part in (delivery.subject, delivery.text, delivery.html or ""):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


# --- the figures --------------------------------------------------------------------------------
def headline_period(as_of: datetime, settings: Settings) -> tuple[date, date]:
    """The morning briefing's period: the 1st of yesterday's month to yesterday (local dates)."""
    yesterday = calendar_for(settings.kpi).local_date(as_of) - timedelta(days=1)
    return yesterday.replace(day=1), yesterday


@dataclass(frozen=True)
class MorningFigures:
    """Everything the morning's messages say, computed once for all recipients."""

    filters: Filters
    as_of_label: str
    period_label: str
    total: pd.Series  # opd_table's TOTAL row (the period's headline figures)
    backlog: pd.DataFrame  # backlog_counts: OPD rows then TOTAL
    due_soon_until: str  # "5 Des 2026": the end of the early-warning window
    demo: bool

    @property
    def backlog_total(self) -> pd.Series:
        return self.backlog[self.backlog["opd"] == TOTAL].iloc[0]

    def opd_backlog(self, opd: str) -> tuple[int, int]:
        rows = self.backlog[self.backlog["opd"] == opd]
        if rows.empty:
            return 0, 0
        return int(rows["backlog_overdue"].iloc[0]), int(rows["due_soon"].iloc[0])


def morning_figures(store: Any, as_of: datetime, settings: Settings) -> MorningFigures:
    date_from, date_to = headline_period(as_of, settings)
    filters = Filters(date_from=date_from, date_to=date_to, as_of=as_of)
    table = opd_table(store, filters, settings)
    calendar = calendar_for(settings.kpi)
    until = calendar.deadline_date(as_of, settings.kpi.due_soon_days)
    return MorningFigures(
        filters=filters,
        as_of_label=tf.fmt_datetime(as_of, settings.kpi.timezone),
        period_label=tf.fmt_period(date_from, date_to),
        total=table[table["opd"] == TOTAL].iloc[0],
        backlog=backlog_counts(store, filters, settings),
        due_soon_until=tf.fmt_date(until),
        demo=store.has_demo_data(),
    )


# --- composing ----------------------------------------------------------------------------------
def _count(n: Any) -> str:
    return f"{tf.fmt_int(n)} pengaduan"


def _link(settings: Settings) -> str | None:
    return settings.notify.dashboard_url.strip() or None


def _subject(text: str, demo: bool) -> str:
    return f"[{DEMO_LABEL}] {text}" if demo else text


def compose_leader(fig: MorningFigures, leader: NotifyLeader, settings: Settings) -> Composed:
    total, backlog = fig.total, fig.backlog_total
    region = _value(settings.region_name)
    opds = fig.backlog[(fig.backlog["opd"] != TOTAL) & (fig.backlog["backlog_overdue"] > 0)]
    opds = opds.sort_values(["backlog_overdue", "opd"], ascending=[False, True], kind="mergesort")
    top = opds.head(max(settings.notify.top_opds, 0))
    top_lines = tuple(
        (f"{i}. ", _value(row.opd), f": {tf.fmt_int(row.backlog_overdue)} lewat tenggat")
        for i, row in enumerate(top.itertuples(index=False), start=1)
    ) or (("Tidak ada pengaduan yang lewat tenggat.",),)
    sections = (
        Section(
            ("Periode ", fig.period_label),
            (
                ("Masuk: ", tf.fmt_int(total["received"])),
                ("Skor wilayah: ", tf.fmt_value("score", total["score"])),
                ("Kecepatan: ", tf.fmt_value("response_on_time_pct", total["response_on_time_pct"])),
                ("Ketepatan: ", tf.fmt_value("accuracy_pct", total["accuracy_pct"])),
                ("Tuntas: ", tf.fmt_value("completion_pct", total["completion_pct"])),
            ),
        ),
        Section(
            ("Tunggakan saat ini (semua tanggal masuk)",),
            (
                ("Lewat tenggat: ", _count(backlog["backlog_overdue"])),
                (f"Jatuh tempo s.d. {fig.due_soon_until}: ", _count(backlog["due_soon"])),
                ("Belum selesai: ", _count(backlog["backlog_open"])),
            ),
        ),
        Section(("OPD dengan lewat tenggat terbanyak",), top_lines),
    )
    return Composed(
        kind="leader", topic=LEADER_TOPIC, recipient_name=leader.name,
        subject=_subject(f"Laporan pagi pengaduan {_value(settings.region_name)} per {fig.as_of_label}", fig.demo),
        title=("Laporan pagi pengaduan ", region),
        greeting=("Selamat pagi, ", _value(leader.name), f". Angka per {fig.as_of_label}."),
        sections=sections, link=_link(settings), demo=fig.demo,
    )


def _complaint_line(row: Any, overdue: bool, timezone: str) -> Line:
    """Two short lines: the Tracking ID and how late (or when due); then category and kecamatan."""
    if overdue:
        kind = tf.OVERDUE_KIND_LABELS.get(row.overdue_kind, "").lower()
        when = f"{tf.fmt_int(row.working_days_overdue)} hari kerja terlambat" + (f" ({kind})" if kind else "")
    else:
        when = f"tenggat {tf.fmt_datetime(row.due_at.to_pydatetime(), timezone)}"
    kecamatan = tf.is_missing(row.kecamatan) or not str(row.kecamatan).strip()
    where = ("kecamatan ", tf.MISSING) if kecamatan else ("Kec. ", _value(row.kecamatan))
    return ("• ", Strong(_value(row.tracking_id)), f" · {when}", "\n", "   ", _value(row.category), " · ", *where)


def _listing(frame: pd.DataFrame, total: int, overdue: bool, settings: Settings) -> tuple[Line, ...]:
    limit = max(settings.notify.max_listed, 1)
    lines = [_complaint_line(row, overdue, settings.kpi.timezone)
             for row in frame.head(limit).itertuples(index=False)]
    if total > len(lines):
        lines.append((f"… dan {tf.fmt_int(total - len(lines))} lainnya (lihat dasbor)",))
    return tuple(lines)


def compose_opd(
    store: Any, fig: MorningFigures, contact: OpdContact, settings: Settings
) -> Composed | None:
    """The OPD's message, or None when it has nothing overdue or due soon."""
    n_overdue, n_due = fig.opd_backlog(contact.opd)
    if n_overdue == 0 and n_due == 0:
        return None
    limit = max(settings.notify.max_listed, 1)
    sections = []
    if n_overdue:
        late = backlog_complaints(store, fig.filters, settings, kind="overdue", opd=contact.opd, limit=limit)
        sections.append(Section((f"Lewat tenggat: {_count(n_overdue)}",), _listing(late, n_overdue, True, settings)))
    else:
        sections.append(Section(("Lewat tenggat: tidak ada",)))
    if n_due:
        soon = backlog_complaints(store, fig.filters, settings, kind="due_soon", opd=contact.opd, limit=limit)
        sections.append(Section((f"Jatuh tempo s.d. {fig.due_soon_until}: {_count(n_due)}",),
                                _listing(soon, n_due, False, settings)))
    else:
        sections.append(Section((f"Jatuh tempo s.d. {fig.due_soon_until}: tidak ada",)))
    who = contact.name or "Bapak/Ibu"
    greeting: Line = ("Selamat pagi, ", _value(who))
    if contact.role:
        greeting += (" (", _value(contact.role), ")")
    greeting += (f". Pengaduan yang perlu ditindaklanjuti per {fig.as_of_label}:",)
    return Composed(
        kind="opd", topic=contact.opd, recipient_name=contact.name or contact.opd,
        subject=_subject(f"Pengaduan perlu tindak lanjut {_value(contact.opd)} per {fig.as_of_label}", fig.demo),
        title=("Pengaduan ", _value(contact.opd)),
        greeting=greeting, sections=tuple(sections), link=_link(settings), demo=fig.demo,
    )


# --- sending ------------------------------------------------------------------------------------
@dataclass
class NotifyResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    would_send: int = 0  # --dry-run
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"


@dataclass(frozen=True)
class Outgoing:
    message: Composed
    channel: str
    recipient: str


def _addresses(email: str | None, whatsapp: str | None, who: str, notes: list[str]) -> list[tuple[str, str]]:
    """(channel, recipient) pairs of one person: e-mail, WhatsApp through the webhook."""
    found = []
    if email:
        try:
            found.append(("email", normalise_email(email)))
        except ContactError as exc:
            notes.append(f"{who}: {exc}")
    if whatsapp:
        try:
            found.append(("webhook", normalise_whatsapp(whatsapp)))
        except ContactError as exc:
            notes.append(f"{who}: {exc}")
    return found


def compose_all(store: Any, as_of: datetime, settings: Settings, notes: list[str]) -> list[Outgoing]:
    """Every message of the morning, leaders first, then the OPDs in name order."""
    fig = morning_figures(store, as_of, settings)
    outgoing: list[Outgoing] = []
    for leader in settings.notify.leaders:
        pairs = _addresses(leader.email, leader.whatsapp, f"pimpinan {leader.name}", notes)
        if not pairs:
            notes.append(f"pimpinan {leader.name}: tidak ada email atau nomor WhatsApp yang sah; dilewati.")
            continue
        message = compose_leader(fig, leader, settings)
        outgoing += [Outgoing(message, channel, recipient) for channel, recipient in pairs]
    for contact in list_contacts(store).values():
        message = compose_opd(store, fig, contact, settings)
        if message is None:
            continue
        pairs = _addresses(contact.email, contact.whatsapp, f"kontak {contact.opd}", notes)
        if not pairs:
            notes.append(f"kontak {contact.opd}: tidak ada email atau nomor WhatsApp; dilewati.")
        outgoing += [Outgoing(message, channel, recipient) for channel, recipient in pairs]
    return outgoing


def run_notify(
    store: Any, as_of: datetime, settings: Settings | None = None, *, dry_run: bool = False,
    echo: Callable[[str], None] = print, channels: dict[str, Channel] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> NotifyResult:
    """Send the morning's messages not yet sent today (local day of `as_of`); audit the run."""
    settings = settings or store.settings
    result = NotifyResult()
    calendar = calendar_for(settings.kpi)
    day = calendar.local_date(as_of)
    mode = " (uji coba)" if dry_run else ""
    if not calendar.is_working_day(day) and not settings.notify.send_on_holidays:
        echo(f"{tf.fmt_date(day, long_month=True)} bukan hari kerja: tidak ada pesan dikirim "
             "(atur [notify] send_on_holidays = true untuk tetap mengirim).")
        write_audit(store, "cli", "notify", f"{day}{mode}: bukan hari kerja, tidak ada pesan")
        return result
    channels = channels_for(settings.notify) if channels is None else channels
    outgoing = compose_all(store, as_of, settings, result.notes)
    if not outgoing and not result.notes:
        result.notes.append("Tidak ada penerima: atur [[notify.leaders]] atau kontak OPD "
                            "(python -m data_sources opd contact).")
    token = outbox.new_claim_token()
    stale = timedelta(minutes=settings.notify.stale_claim_minutes)
    for item in outgoing:
        msg = item.message
        label = f"{CHANNEL_LABELS[item.channel]} {item.recipient} ({msg.recipient_name}, {msg.kind})"
        if item.channel not in channels:
            result.skipped += 1
            result.notes.append(f"{label}: kanal {CHANNEL_LABELS[item.channel]} belum diatur di [notify]; dilewati.")
            continue
        delivery = delivery_for(msg, item.channel, item.recipient)
        digest = content_hash(delivery)
        key = outbox.OutboxKey(day=day, channel=item.channel, recipient=item.recipient, topic=msg.topic)
        if dry_run:
            if outbox.status_of(store, key) == outbox.SENT:
                result.skipped += 1
                continue
            result.would_send += 1
            echo(f"--- {label}\nSubjek: {delivery.subject}\n{delivery.text}")
            continue
        outbox.ensure_pending(store, key, kind=msg.kind, recipient_name=msg.recipient_name, content_hash=digest)
        if not outbox.claim(store, key, token, content_hash=digest, stale_after=stale):
            result.skipped += 1  # sent already today, or being sent by another run right now
            continue
        try:
            attempts = send_with_retry(channels[item.channel], delivery, settings.notify, sleep)
        except SendError as exc:
            outbox.finish(store, key, token, ok=False, error=str(exc), attempts=exc.attempts)
            result.failed += 1
            result.notes.append(f"{label}: gagal: {exc}")
        except Exception as exc:  # noqa: BLE001 - a broken message must not stop the others
            outbox.finish(store, key, token, ok=False, error=f"{exc.__class__.__name__}: {exc}")
            result.failed += 1
            result.notes.append(f"{label}: gagal: {exc.__class__.__name__}")
        else:
            outbox.finish(store, key, token, ok=True, attempts=attempts)
            result.sent += 1
    for note in result.notes:
        echo(note)
    detail = f"{day}{mode}: {result.summary()}"
    if dry_run:
        detail += f", akan dikirim {result.would_send}"
    write_audit(store, "cli", "notify", detail, ok=result.failed == 0)
    return result
