"""A real HTTP server on 127.0.0.1 with scripted answers and injectable faults, for sync tests.

Not a patched `requests`: a `ThreadingHTTPServer` on a free port answers every GET through an
`app(request) -> Reply` function, and faults injected with `server.inject(...)` take over a
matching request a given number of times: a status (500, 429 with Retry-After, 401), a
hanging answer (`delay` past the client's timeout), a truncated body, a repeated page.

    with FaultServer(app) as server:
        server.inject(Reply(status=500), when=lambda r: r.params.get("page") == "2")
        ... sync against server.url ...
        assert [r.params["page"] for r in server.requests] == [...]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the server received, as the app and the assertions see it."""

    method: str
    path: str
    params: dict[str, str]  # query parameters, last value wins
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: Any = None  # JSON-serialisable data; str or bytes are sent verbatim
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hanging server)
    truncate_to: int | None = None  # send only the first N bytes of the body
    short_body: bool = False  # with truncate_to: still declare the full Content-Length

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


App = Callable[[Request], Reply]
Fault = Reply | Callable[[Request], Reply]


@dataclass
class _Injected:
    fault: Fault
    when: Callable[[Request], bool]
    times: int


class FaultServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, answering through `app`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.requests: list[Request] = []
        self._faults: list[_Injected] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> FaultServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- scripting ----------------------------------------------------------------------
    def inject(
        self, fault: Fault, *, when: Callable[[Request], bool] = lambda r: True, times: int = 1
    ) -> None:
        """Answer the next `times` requests matching `when` with `fault` instead of the app."""
        with self._lock:
            self._faults.append(_Injected(fault, when, times))

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    # --- serving ------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(
            method="GET",
            path=parts.path,
            params=params,
            headers={k: v for k, v in handler.headers.items()},
            at=time.monotonic(),
        )
        fault: Fault | None = None
        with self._lock:
            self.requests.append(request)
            for injected in self._faults:
                if injected.times > 0 and injected.when(request):
                    injected.times -= 1
                    fault = injected.fault
                    break
        try:
            if fault is None:
                reply = self.app(request)
            elif isinstance(fault, Reply):
                reply = fault
            else:
                reply = fault(request)
        except Exception as exc:  # noqa: BLE001 - a broken test app answers 500, visibly
            reply = Reply(status=500, body={"message": f"test app error: {exc!r}"})
        self._send(handler, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.encoded()
        sent = body if reply.truncate_to is None else body[: reply.truncate_to]
        length = len(body) if reply.short_body else len(sent)
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(length))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(sent)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): exactly what a hanging fault is for
        handler.close_connection = True
