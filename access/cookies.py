"""The HttpOnly session cookie, for the dashboard run as `st.App` (`serve.py`).

Streamlit cannot set a cookie from a script run, and a cookie written by page script cannot be
HttpOnly. Under `serve.py` the dashboard has one extra route, `POST /_dasbor/sesi`: the gate
hands the browser a one-time code (valid 60 s, useless to anyone else), the page posts it, and
the route answers with `Set-Cookie: dasbor_sesi=TOKEN; HttpOnly; SameSite=Strict` (+ Secure over
HTTPS). The token itself never reaches page script. Posting "-" deletes the cookie (sign-out).
Run as plain `streamlit run dashboard.py`, `active()` is False and the gate falls back to a
script-written cookie (not HttpOnly).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

COOKIE_NAME = "dasbor_sesi"
ROUTE = "/_dasbor/sesi"
CODE_SECONDS = 60.0
DELETE = "-"

_lock = threading.Lock()
_codes: dict[str, tuple[str, int, float]] = {}  # code -> (token, max_age, valid until monotonic)
_mounted: list[bool] = []


def active() -> bool:
    """True when this process serves ROUTE (started through serve.py)."""
    return bool(_mounted)


def offer(token: str, max_age: int) -> str:
    """A one-time code the browser exchanges at ROUTE for the cookie holding `token`."""
    code = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (_, _, until) in _codes.items() if until < now]:
            del _codes[old]
        _codes[code] = (token, int(max_age), now + CODE_SECONDS)
    return code


def _take(code: str) -> tuple[str, int] | None:
    with _lock:
        entry = _codes.pop(code, None)
    if entry is None or entry[2] < time.monotonic():
        return None
    return entry[0], entry[1]


async def _exchange(request: Any) -> Any:
    from starlette.responses import Response

    code = (await request.body()).decode("utf-8", "replace").strip()[:100]
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if code == DELETE:
        response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="strict")
        return response
    found = _take(code)
    if found is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    token, max_age = found
    response.set_cookie(
        COOKIE_NAME, token, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
    )
    return response


def routes() -> list:
    """The Starlette route for `st.App(routes=...)`; mounting it switches the gate to HttpOnly."""
    from starlette.routing import Route

    _mounted.append(True)
    return [Route(ROUTE, _exchange, methods=["POST"])]
