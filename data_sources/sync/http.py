"""The retrying JSON client of the API syncs: timeouts, backoff, Retry-After, lenient JSON, paging.

Real complaint APIs time out, answer 429 and 5xx, expire tokens, cut pages short, repeat
pages and emit JSON that is not quite JSON (Open311's own example has `"service_code":006`).
`JsonClient.get_json` turns all of that into either a parsed document or one `SyncError`
whose message names the page and says what to do; `walk_pages` pages through a listing
without ever looping on a server that repeats itself. A hostile or broken server cannot
exhaust memory or the stack: a body over `max_response_mb` and JSON nested deeper than
`max_json_depth` are refused with a clear error before (or instead of) being parsed.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
import requests

logger = logging.getLogger(__name__)

# A response that trickles in for longer than this many timeouts is abandoned: the socket
# timeout alone only bounds the gap between two bytes, not the whole answer.
TOTAL_TIMEOUT_FACTOR = 6
USER_AGENT = "complaint-dashboard-sync/1.0 (+SP4N-LAPOR! monitoring)"


class SyncError(Exception):
    """A sync failure with a message fit for the operator (no traceback needed)."""


class AuthError(SyncError):
    """401/403: the token or API key is missing, wrong or expired; retrying cannot help."""


class InvalidJsonError(SyncError):
    """A page stayed invalid JSON through every retry."""


class RetriesExhaustedError(SyncError):
    """Timeouts, 429 or 5xx on every attempt."""


class HttpStatusError(SyncError):
    """Any other 4xx: the request itself is wrong (path, parameters); retrying cannot help."""


class ResponseTooLargeError(SyncError):
    """A body over the size limit, or JSON nested deeper than the depth limit; never retried."""


@dataclass(frozen=True)
class RetryPolicy:
    """How patient a sync is with one source (keys of its `[sources.NAME]` table)."""

    timeout_seconds: float = 20.0  # connect and read timeout of every call
    max_retries: int = 4  # retries after the first attempt (5 attempts in all)
    backoff_seconds: float = 1.0  # first wait; doubles on every retry
    max_backoff_seconds: float = 60.0  # cap of the doubling
    max_retry_after_seconds: float = 300.0  # a longer Retry-After is cut to this
    # A page of a few hundred complaints is a few MB; far more is a broken or hostile server.
    max_response_mb: float = 50.0
    max_json_depth: int = 64  # a complaint record nests 2-4 levels; json's C parser recurses

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        kwargs = {
            name: type(getattr(cls, name))(config[name])
            for name in (
                "timeout_seconds",
                "max_retries",
                "backoff_seconds",
                "max_backoff_seconds",
                "max_retry_after_seconds",
                "max_response_mb",
                "max_json_depth",
            )
            if name in config
        }
        return cls(**kwargs)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (0-based): exponential, capped."""
        return min(self.backoff_seconds * (2**attempt), self.max_backoff_seconds)


@dataclass
class JsonResponse:
    data: Any
    attempts: int
    repaired: bool = False  # the body needed the lenient leading-zero repair


@dataclass
class _Transient(Exception):
    """One failed attempt worth retrying."""

    reason: str
    retry_after: float | None = None
    invalid_json: bool = False


# A JSON string, or a number with a superfluous leading zero outside any string (`006`, `-01.5`).
_LEADING_ZERO = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.])-?0\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')


def repair_leading_zero_numbers(text: str) -> str:
    """Quote numbers written with leading zeros (`006` -> `"006"`), leaving strings untouched.

    Such values are identifiers (service codes), so they are kept as text with their zeros
    rather than turned into the number 6.
    """

    def _quote(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith('"') else f'"{token}"'

    return _LEADING_ZERO.sub(_quote, text)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings ignored).

    Computed with regular expressions and numpy rather than a parser, so a hostile document
    nested a million levels deep costs a few milliseconds and no recursion.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_json_lenient(body: bytes, max_depth: int | None = None) -> tuple[Any, bool]:
    """Parse a JSON body; on failure try the leading-zero repair once. Returns (data, repaired).

    With `max_depth`, a document nested deeper raises `ResponseTooLargeError` unparsed.
    """
    text = body.decode("utf-8-sig", errors="replace")
    if max_depth is not None:
        depth = json_depth(text)
        if depth > max_depth:
            raise ResponseTooLargeError(
                f"JSON bersarang {depth} tingkat, batasnya {max_depth} / JSON nested {depth} "
                f"levels deep, the limit is {max_depth} (max_json_depth)"
            )
    try:
        return json.loads(text), False
    except RecursionError:
        raise ResponseTooLargeError("JSON terlalu dalam bersarang / JSON nested too deeply") from None
    except ValueError as first_error:
        repaired = repair_leading_zero_numbers(text)
        if repaired == text:
            raise first_error from None
        try:
            return json.loads(repaired), True
        except ValueError:
            raise first_error from None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _server_message(body: bytes, limit: int = 200) -> str:
    """The short human message of an error body (a JSON `message`/`error` field, else text)."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error_description", "error", "detail", "description"):
            if isinstance(data.get(key), str) and data[key].strip():
                text = data[key].strip()
                break
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        # Open311 answers errors as [{"code": 403, "description": "..."}]
        text = str(data[0].get("description") or text)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


class JsonClient:
    """GETs JSON documents with timeouts on every call and retries on what may pass."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        secret_params: tuple[str, ...] = (),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        self.secret_params = set(secret_params)
        self.session = session or requests.Session()
        self.sleep = sleep

    def close(self) -> None:
        self.session.close()

    def describe(self, url: str, params: Mapping[str, Any] | None) -> str:
        """The request as text for messages and logs, with secret parameters masked."""
        if not params:
            return url
        shown = {k: ("***" if k in self.secret_params else v) for k, v in params.items()}
        return f"{url}?{urlencode(shown)}"

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, *, label: str = "request"
    ) -> JsonResponse:
        """GET `url` and parse its JSON, retrying timeouts, 429, 5xx and invalid JSON.

        Raises `AuthError` on 401/403 at once, `HttpStatusError` on other 4xx at once, and
        `RetriesExhaustedError` / `InvalidJsonError` when every attempt failed.
        """
        policy = self.policy
        attempts = policy.max_retries + 1
        last: _Transient | None = None
        for attempt in range(attempts):
            try:
                try:
                    body = self._fetch(url, params, label)
                    data, repaired = parse_json_lenient(body, policy.max_json_depth)
                except ResponseTooLargeError as exc:
                    # Retrying cannot shrink the answer; say which page, secrets masked.
                    raise ResponseTooLargeError(f"{label}: {exc} [{self.describe(url, params)}]") from None
                except ValueError as exc:
                    raise _Transient(f"not valid JSON ({exc})", invalid_json=True) from None
                return JsonResponse(data, attempt + 1, repaired)
            except _Transient as exc:
                last = exc
            if attempt == attempts - 1:
                break
            wait = policy.backoff(attempt)
            if last.retry_after is not None:
                wait = max(wait, min(last.retry_after, policy.max_retry_after_seconds))
            logger.warning(
                "%s: %s; retry %d/%d in %.2f s",
                label,
                last.reason,
                attempt + 1,
                policy.max_retries,
                wait,
            )
            self.sleep(wait)
        assert last is not None
        where = self.describe(url, params)
        if last.invalid_json:
            raise InvalidJsonError(
                f"{label}: bukan JSON yang sah setelah {attempts} percobaan / "
                f"not valid JSON after {attempts} attempts: {last.reason} [{where}]"
            )
        raise RetriesExhaustedError(
            f"{label}: gagal setelah {attempts} percobaan / failed after {attempts} attempts: "
            f"{last.reason} [{where}]"
        )

    def _fetch(self, url: str, params: Mapping[str, Any] | None, label: str) -> bytes:
        """One attempt: the body bytes of a 2xx answer, or an exception saying what happened."""
        timeout = self.policy.timeout_seconds
        started = time.monotonic()
        try:
            with self.session.get(
                url,
                params=params,
                headers=self.headers,
                timeout=(timeout, timeout),
                stream=True,
                allow_redirects=True,
            ) as response:
                status = response.status_code
                if status in (401, 403):
                    message = _server_message(self._read(response, started))
                    what = "token/API key ditolak atau kedaluwarsa" if status == 401 else "akses ditolak"
                    raise AuthError(
                        f"{label}: HTTP {status} — {what}; perbarui kredensial di "
                        f".streamlit/secrets.toml / {'token or API key rejected or expired' if status == 401 else 'access forbidden'}; "
                        f"update the credentials. Server: {message or '-'} [{self.describe(url, params)}]"
                    )
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    raise _Transient(f"HTTP {status}", retry_after=retry_after)
                if status >= 400:
                    message = _server_message(self._read(response, started))
                    raise HttpStatusError(
                        f"{label}: HTTP {status} — permintaan ditolak server / request refused: "
                        f"{message or '-'} [{self.describe(url, params)}]"
                    )
                return self._read(response, started)
        except (
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidURL,
        ) as exc:
            raise SyncError(f"{label}: URL tidak sah / invalid URL {url!r}: {exc}") from None
        except requests.Timeout:
            raise _Transient(f"timeout after {timeout:g} s") from None
        except requests.RequestException as exc:
            # A read timeout inside the body surfaces as a ConnectionError wrapping urllib3's.
            reason = "timeout" if "timed out" in str(exc).lower() else "connection error"
            raise _Transient(f"{reason} ({exc.__class__.__name__})") from None

    def _read(self, response: requests.Response, started: float) -> bytes:
        limit = self.policy.timeout_seconds * TOTAL_TIMEOUT_FACTOR
        max_bytes = int(self.policy.max_response_mb * 1024 * 1024)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise self._too_large(int(declared))
        chunks = []
        size = 0
        # Counted while streaming: a server that omits or lies about Content-Length (or
        # compresses a bomb) is cut off at the limit, not after it filled the memory.
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise self._too_large(size)
            chunks.append(chunk)
            if time.monotonic() - started > limit:
                raise _Transient(f"response still incomplete after {limit:g} s")
        return b"".join(chunks)

    def _too_large(self, size: int) -> ResponseTooLargeError:
        limit = self.policy.max_response_mb
        return ResponseTooLargeError(
            f"jawaban server lebih dari {limit:g} MB ({size / 1024 / 1024:.1f} MB terbaca), ditolak / "
            f"response over {limit:g} MB refused (max_response_mb)"
        )


@dataclass
class Page:
    """One page of a listing as a connector fetched it."""

    number: int
    records: list[Any]
    label: str
    next_page: int | None = None
    repaired: bool = False
    attempts: int = 1


def _fingerprint(records: list[Any]) -> str:
    payload = json.dumps(records, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()


def walk_pages(
    fetch: Callable[[int], Page],
    first_page: int,
    *,
    max_pages: int = 10_000,
    warn: Callable[[str], None] = lambda message: None,
) -> Iterator[Page]:
    """Yield pages from `first_page` on, following each page's `next_page`, until none is left.

    Paging stops at an empty page, at a `next_page` already fetched, and at a page that repeats
    the previous one: such a page is fetched once more (a stale cache may return a repeat once)
    and, when it is still the same, taken as the end of the listing. `max_pages` guards against
    a server that invents pages forever.
    """
    requested: set[int] = set()
    previous: str | None = None
    page_no: int | None = first_page
    while page_no is not None:
        if page_no in requested:
            warn(f"page {page_no} was already fetched; paging stopped (server loops)")
            return
        if len(requested) >= max_pages:
            raise SyncError(
                f"lebih dari {max_pages} halaman / more than {max_pages} pages; "
                "raise max_pages if this is real"
            )
        requested.add(page_no)
        page = fetch(page_no)
        current = _fingerprint(page.records)
        if page.records and current == previous:
            logger.warning("%s repeats the previous page; fetching it once more", page.label)
            page = fetch(page_no)
            current = _fingerprint(page.records)
            if current == previous:
                warn(f"{page.label} repeats the previous page; paging stopped")
                return
        yield page
        if not page.records:
            return
        previous = current
        page_no = page.next_page
