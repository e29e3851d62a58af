"""The two ways a morning message leaves the server: e-mail over SMTP and a JSON webhook.

Both raise `SendError` with a short message for the outbox's "why" column. A transient
failure (a timeout, a refused connection, HTTP 5xx or 429, an SMTP 4xx reply) is retried with
doubling waits, a bounded number of times, by `send_with_retry`; a permanent one (HTTP 4xx,
SMTP 5xx, a refused login) fails at once and is left to the next run.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import requests

from core.settings import EmailChannelSettings, NotifySettings, WebhookChannelSettings

USER_AGENT = "complaint-dashboard-notify/1.0 (+SP4N-LAPOR! monitoring)"
MAX_ERROR_BODY = 300


class SendError(Exception):
    """A send that did not go through; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Delivery:
    """One message for one recipient over one channel, in every form the channel needs."""

    channel: str  # email, webhook
    recipient: str  # an e-mail address or a 62... number
    subject: str
    text: str  # the WhatsApp text (webhook) or the plain-text part (e-mail)
    html: str | None = None  # the HTML part of an e-mail


class Channel(Protocol):
    name: str

    def send(self, delivery: Delivery) -> None: ...


class EmailChannel:
    """SMTP with STARTTLS (unless turned off), an optional login and a timeout."""

    name = "email"

    def __init__(self, config: EmailChannelSettings) -> None:
        self.config = config

    def build(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = delivery.recipient
        message["Subject"] = delivery.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        message.set_content(delivery.text)
        if delivery.html is not None:
            message.add_alternative(delivery.html, subtype="html")
        return message

    def send(self, delivery: Delivery) -> None:
        cfg = self.config
        message = self.build(delivery)
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds) as smtp:
                smtp.ehlo()
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise SendError(f"SMTP menolak penerima ({code}: {_text(reply)})",
                            transient=400 <= int(code) < 500) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"login SMTP ditolak ({exc.smtp_code})", transient=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(f"server SMTP tidak mendukung: {exc}", transient=False) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                            transient=400 <= exc.smtp_code < 500) from None
        except (TimeoutError, socket.timeout):
            raise SendError(f"server SMTP tidak menjawab dalam {cfg.timeout_seconds:g} detik",
                            transient=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"tidak dapat terhubung ke server SMTP {cfg.host}:{cfg.port} "
                            f"({exc.__class__.__name__}: {exc})", transient=True) from None


class WebhookChannel:
    """A JSON POST {to_field: recipient, text_field: text} with an optional token header."""

    name = "webhook"

    def __init__(self, config: WebhookChannelSettings, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()

    def send(self, delivery: Delivery) -> None:
        cfg = self.config
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if cfg.token:
            headers[cfg.token_header] = f"{cfg.token_prefix}{cfg.token}"
        body = {cfg.to_field: delivery.recipient, cfg.text_field: delivery.text}
        try:
            response = self.session.post(cfg.url, json=body, headers=headers,
                                         timeout=(cfg.timeout_seconds, cfg.timeout_seconds))
        except requests.Timeout:
            raise SendError(f"gateway tidak menjawab dalam {cfg.timeout_seconds:g} detik",
                            transient=True) from None
        except requests.RequestException as exc:
            raise SendError(f"tidak dapat terhubung ke gateway ({exc.__class__.__name__})",
                            transient=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = _text(response.content)
        if status >= 500 or status == 429:
            raise SendError(f"gateway HTTP {status}: {detail}", transient=True)
        raise SendError(f"gateway menolak pesan, HTTP {status}: {detail}", transient=False)


def _text(raw: bytes | str | None) -> str:
    """A server's reply, short and on one line, for the outbox (never the secret token)."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = " ".join(text.split())
    return text[:MAX_ERROR_BODY] + ("…" if len(text) > MAX_ERROR_BODY else "")


def send_with_retry(
    channel: Channel, delivery: Delivery, settings: NotifySettings,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send, retrying transient failures with doubling waits; returns the attempts made.

    Raises the last SendError (its `attempts` attribute set) when the send did not go through.
    """
    wait = settings.backoff_seconds
    attempts = 0
    while True:
        attempts += 1
        try:
            channel.send(delivery)
            return attempts
        except SendError as exc:
            exc.attempts = attempts
            if not exc.transient or attempts > settings.max_retries:
                raise
        sleep(min(wait, settings.max_backoff_seconds))
        wait *= 2


def channels_for(settings: NotifySettings) -> dict[str, Channel]:
    """The channels configured in `[notify]`; a channel without its host or URL is absent."""
    found: dict[str, Channel] = {}
    if settings.email.configured:
        found["email"] = EmailChannel(settings.email)
    if settings.webhook.configured:
        found["webhook"] = WebhookChannel(settings.webhook)
    return found
