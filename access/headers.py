"""Security headers on every HTTP response of the dashboard (ASGI middleware for `serve.py`).

Streamlit 1.67 has no setting for response headers, so a page of the dashboard could be framed
by any site (clickjacking). `serve.py` runs the dashboard as `st.App` with this middleware;
the nginx block in docs/deployment.md sends the same headers for a proxied installation.
"""

from __future__ import annotations

from typing import Any

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds HEADERS to each HTTP response that does not set them itself."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
