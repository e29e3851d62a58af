"""Real servers on 127.0.0.1 for the morning-message tests: SMTP (aiosmtpd) and a JSON webhook.

Not patched libraries: `python -m metrics notify` talks to these over TCP exactly as it talks to
a mail server and a WhatsApp gateway. The webhook answers from a script of (status, delay)
replies, then 200; both servers count what they received.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    rcpt: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def plain(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class SmtpServer:
    """An SMTP server keeping every message it accepted."""

    def __init__(self, refuse: str | None = None, **controller: Any) -> None:
        """`refuse`: an SMTP reply (e.g. "550 5.1.1 no such user") for every recipient;
        `controller`: aiosmtpd Controller options (tls_context, require_starttls, authenticator)."""
        self.mails: list[Mail] = []
        self.raw: list[bytes] = []
        self.refuse = refuse
        self.rcpt_attempts = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **controller)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        with self._lock:
            self.rcpt_attempts += 1
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.raw.append(envelope.content)
            self.mails.append(Mail(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.mails if address in m.rcpt]

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass
class Posted:
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes


@dataclass
class WebhookServer:
    """A gateway answering POSTs from `script` ((status, delay) pairs), then 200."""

    script: list[tuple[int, float]] = field(default_factory=list)
    delay: float = 0.0  # every answer waits this long (to make concurrent runs overlap)
    received: list[Posted] = field(default_factory=list)  # every request, answered or not
    accepted: list[Posted] = field(default_factory=list)  # those answered 2xx

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                posted = Posted(json.loads(raw or b"{}"), dict(self.headers.items()), raw)
                with owner._lock:
                    owner.received.append(posted)
                    status, delay = owner.script.pop(0) if owner.script else (200, 0.0)
                time.sleep(delay + owner.delay)
                if 200 <= status < 300:
                    with owner._lock:
                        owner.accepted.append(posted)
                body = json.dumps({"ok": status < 300, "message": f"status {status}"}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/send"

    def to(self, number: str) -> list[Posted]:
        with self._lock:
            return [p for p in self.accepted if p.body.get("to") == number]

    def __enter__(self) -> WebhookServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
