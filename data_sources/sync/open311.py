"""The Open311 GeoReport v2 connector: probe what a server honours, read every request, prove it.

Real GeoReport servers deviate from the standard in ways that turn a naive sync into a silent
zero: paging refused (HTTP 400) or ignored, `start_date`/`end_date` read reversed or ignored,
a cap on the size of every reply, comma lists in `status` answered with `[]`, fields dropped.
So a sync never trusts the standard blindly:

1. Probe. On a source's first sync (and again when a call fails or a result looks wrong) a
   handful of calls find out what the server honours: paging and its real cap, date windows
   (are the returned `requested_datetime` values inside the window? does a window return fewer
   than no window? are start and end reversed?), `status` filters, reads by id, and
   `jurisdiction_id`. The profile is kept per source (`meta` row `open311.profile.NAME`),
   printed by `python -m data_sources sync --probe NAME` and shown on the Data page
   (`source_profile`).
2. Read with what works: server windows of at most 90 days (start/end swapped for a reversed
   server), paged with the real cap as page size, or unpaged with a window halved until its
   reply is below the cap; or, on a server that ignores dates, the whole listing paged (newest
   first: stopped once past the period) and windowed on our side.
3. Never a silent zero. After reading, the server is asked once without any filter: a request
   it lists inside the period that the read did not get means the read is wrong; the server is
   probed again and the period read again, and when that still misses requests the run FAILS
   with a message naming what the server did. A window whose replies fall outside it is
   treated the same way.
4. Completeness you can see: the ids stored for the period are compared with the ids the
   server listed for it; the run's notes say "N dari N permintaan" or what is missing.
5. Open requests stored earlier are re-read by id (a comma list of `service_request_id`, else
   `requests/{id}.json` one by one) so their closing is seen. `refresh_open = false` skips it.

Mapping decisions (DATA.md leaves them to us, documented here and in the report):
- An Open311 request is routed to its agency when it is created and has no separate
  disposition step, so `disposed_at = submitted_at`.
- `open` -> `proses` (no follow-up time exists, so `first_response_at` stays empty);
  `closed` -> `selesai` with `closed_at = updated_datetime` (empty when the server leaves it
  empty). Any other status is kept raw in `status_raw` and becomes `proses`; a
  `[sources.NAME.status]` table overrides these (keys are the server's words, case-insensitive).
- category = `service_name`, else the name `services.json` gives the `service_code`, else
  empty (never guessed).
- opd = the configured `service_opd_map[category or service_code]` when present, else
  `agency_responsible` (a string, or FixMyStreet's `[{"recipient": [...]}]`), else empty; the
  run notes list the service names left without an OPD.
- `expected_datetime` -> `completion_due_at` (the source's own deadline, DATA.md) and
  `expected_at`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import select

from core.settings import STATUSES
from data_sources import schema
from data_sources.canonical import CANONICAL_COLUMNS
from data_sources.sync.http import (
    AuthError,
    HttpStatusError,
    InvalidJsonError,
    JsonClient,
    Page,
    RetryPolicy,
    SyncError,
    walk_pages,
)
from data_sources.sync.lapor_api import iso_utc, required

KIND = "open311"
MAX_WINDOW_DAYS = 90  # GeoReport v2: start_date and end_date at most 90 days apart
DEFAULT_STATUS = {"open": "proses", "closed": "selesai"}
PROFILE_VERSION = 1
PROFILE_KEY = "open311.profile.{name}"
# Columns the store gains with the `estimates` branch; carried on the frame from now on.
EXTRA_COLUMNS = ("completion_due_at",)
FRAME_COLUMNS = list(dict.fromkeys([*CANONICAL_COLUMNS, *EXTRA_COLUMNS]))  # once, after the merge too
MIN_SPLIT = timedelta(seconds=1)  # a window is not halved below this
# A server that states times without an offset states them in its own zone: allow for it.
NAIVE_SLACK = timedelta(hours=14)
SAMPLE_IDS = 3  # ids named in a message


def windowed(profile: Mapping[str, Any]) -> bool:
    """Read with server date windows (a server with nothing to test them on: as the standard)."""
    return profile.get("dates") in ("honoured", "reversed", "unknown")


def paged(profile: Mapping[str, Any]) -> bool:
    return profile.get("paging") in ("honoured", "unknown")


class NotAListError(SyncError):
    """A 2xx answer that is JSON but not a list of requests (an error object, say)."""


class LooksWrong(SyncError):
    """A reply that contradicts the profile (requests outside the window, requests missed)."""


def _as_instant(value: Any, name: str, key: str) -> datetime:
    """A TOML date, datetime or ISO string as an aware UTC instant (a date = its UTC midnight)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise SyncError(f"sumber {name!r}: {key} bukan tanggal / is not a date: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def request_id(record: Any) -> str | None:
    """`service_request_id` as text: 123 and "123" are the same request."""
    if not isinstance(record, Mapping):
        return None
    value = record.get("service_request_id")
    if _blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def requested_at(record: Any) -> tuple[datetime | None, bool]:
    """`requested_datetime` as an aware instant, and whether the server gave an offset."""
    value = record.get("requested_datetime") if isinstance(record, Mapping) else None
    if _blank(value) or not isinstance(value, str):
        return None, False
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None, False
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), False
    return moment.astimezone(UTC), True


def inside(record: Any, start: datetime, end: datetime) -> bool | None:
    """Whether a request falls inside [start, end]; None when it states no usable time."""
    moment, aware = requested_at(record)
    if moment is None:
        return None
    slack = timedelta(seconds=1) if aware else NAIVE_SLACK
    return start - slack <= moment <= end + slack


def agency_name(value: Any) -> str | None:
    """`agency_responsible` as text: a string, or FixMyStreet's `[{"recipient": [...]}]`."""
    if _blank(value):
        return None
    if isinstance(value, str):
        return value.strip()
    names: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
        elif isinstance(item, Mapping):
            for key in ("recipient", "name", "agency"):
                if key in item:
                    collect(item[key])
        elif isinstance(item, list):
            for sub in item:
                collect(sub)

    collect(value)
    unique = list(dict.fromkeys(names))
    return ", ".join(unique) if unique else None


def services_map(services: list[Any]) -> dict[str, str]:
    """`services.json` as service_code -> service_name (integer and text codes alike)."""
    return {
        str(s["service_code"]).strip(): str(s["service_name"]).strip()
        for s in services
        if isinstance(s, Mapping) and not _blank(s.get("service_code")) and not _blank(s.get("service_name"))
    }


def _n(count: int) -> str:
    """A count as Indonesian writes it: 10.000."""
    return f"{count:,}".replace(",", ".")


def _sample(ids: Any) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:SAMPLE_IDS])
    return shown + (f" dan {len(ids) - SAMPLE_IDS} lainnya" if len(ids) > SAMPLE_IDS else "")


class Open311Connector:
    """Reads service requests from a GeoReport v2 server, as far as the server honours it."""

    kind = KIND

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.base_url = str(required(config, "base_url", name)).rstrip("/")
        list_path = str(config.get("list_path", "/requests.json"))
        self.url = self.base_url + ("" if list_path.startswith("/") else "/") + list_path
        self.page_param = str(config.get("page_param", "page"))
        self.per_page_param = str(config.get("per_page_param", "page_size"))
        self.per_page = int(config.get("per_page", 100))
        self.window_days = min(int(config.get("window_days", MAX_WINDOW_DAYS)), MAX_WINDOW_DAYS)
        if self.window_days < 1:
            raise SyncError(f"sumber {name!r}: window_days harus >= 1 / must be >= 1")
        self.start_date = (
            _as_instant(config["start_date"], name, "start_date") if config.get("start_date") else None
        )
        self.max_pages = int(config.get("max_pages", 10_000))
        self.max_calls = int(config.get("max_calls", 20_000))
        self.batch_size = max(1, int(config.get("batch_size", 2_000)))
        self.refresh_open = bool(config.get("refresh_open", True))
        self.refresh_batch = max(1, int(config.get("refresh_batch", 50)))
        self.refresh_max_days = int(config.get("refresh_max_days", 365))
        # probe = false trusts the standard (every feature honoured) until a result looks wrong.
        self.probe_first = bool(config.get("probe", True))
        self.service_opd_map = {str(k): str(v) for k, v in dict(config.get("service_opd_map", {})).items()}
        status = {k.lower(): v for k, v in DEFAULT_STATUS.items()}
        status |= {str(k).strip().lower(): str(v) for k, v in dict(config.get("status", {})).items()}
        self.status_map = status
        self.unknown_status = str(config.get("unknown_status", "proses"))
        bad = sorted({v for v in [*status.values(), self.unknown_status] if v not in STATUSES})
        if bad:
            raise SyncError(
                f"sumber {name!r}: [status] memetakan ke status tak dikenal / unknown target status: {bad}"
            )
        self.base_params: dict[str, Any] = dict(config.get("params", {}))
        self.jurisdiction = str(config["jurisdiction_id"]) if config.get("jurisdiction_id") else None
        if self.jurisdiction:
            self.base_params["jurisdiction_id"] = self.jurisdiction
        secret: tuple[str, ...] = ()
        if config.get("api_key"):
            self.base_params["api_key"] = str(config["api_key"])
            secret = ("api_key",)
        self.client = JsonClient(RetryPolicy.from_config(config), secret_params=secret)
        # per-run state
        self.calls = 0
        self.repaired = False
        self.last_repaired = False
        self.refreshed = 0
        self.services: dict[str, str] | None = None
        self.unmapped: Counter[str] = Counter()
        self.listed: dict[str, datetime | None] = {}  # ids the server listed for the period
        self._warn: Callable[[str], None] = lambda message: None

    def describe(self) -> str:
        return f"{self.kind} {self.url}"

    def close(self) -> None:
        self.client.close()

    # --- calls --------------------------------------------------------------------------
    def get(self, params: Mapping[str, Any], label: str, *, url: str | None = None) -> list[Any]:
        """One GET of a listing; the records, or SyncError (HttpStatusError for a refusal)."""
        self.calls += 1
        if self.calls > self.max_calls:
            raise SyncError(
                f"{self.name}: lebih dari {self.max_calls} panggilan dalam satu run; dihentikan "
                "(naikkan max_calls bila memang sebesar itu)"
            )
        response = self.client.get_json(url or self.url, {**self.base_params, **params}, label=label)
        self.last_repaired = response.repaired
        self.repaired = self.repaired or response.repaired
        return self._unpack(response.data, label)

    def page(self, number: int, records: list[Any], label: str, next_page: int | None = None) -> Page:
        """A page of the records of the last call (carrying whether its JSON needed repair)."""
        return Page(number, records, label, next_page, self.last_repaired)

    def try_get(self, params: Mapping[str, Any], label: str, *, url: str | None = None) -> list[Any] | str:
        """Like `get`, but a refusal (4xx other than 401/403) or invalid JSON comes back as text."""
        try:
            return self.get(params, label, url=url)
        except AuthError:
            raise
        except (HttpStatusError, InvalidJsonError, NotAListError) as exc:
            return str(exc)

    @property
    def services_url(self) -> str:
        return f"{self.base_url}/services.json"

    def by_id_url(self, rid: str) -> str:
        return f"{self.base_url}/requests/{quote(rid, safe='')}.json"

    @staticmethod
    def _unpack(data: Any, label: str) -> list[Any]:
        if isinstance(data, Mapping) and isinstance(data.get("service_requests"), list):
            return data["service_requests"]  # some servers wrap the list
        if not isinstance(data, list):
            raise NotAListError(f"{label}: jawaban bukan daftar JSON / answer is not a JSON list")
        return data

    def window_params(self, start: datetime, end: datetime, profile: Mapping[str, Any]) -> dict[str, str]:
        if profile.get("dates") == "reversed":  # the server reads start as "before", end as "after"
            start, end = end, start
        return {"start_date": iso_utc(start), "end_date": iso_utc(end)}

    def page_size(self, profile: Mapping[str, Any]) -> int:
        cap = profile.get("cap")
        return min(self.per_page, int(cap)) if cap and profile.get("cap_known") else self.per_page

    # --- the profile --------------------------------------------------------------------
    def probe(self, now: datetime) -> dict[str, Any]:
        """Find out what the server honours; see `describe_profile` for what each key means."""
        from data_sources.sync.open311_probe import probe_server

        return probe_server(self, now)

    # --- fetching -----------------------------------------------------------------------
    def first_since(self, until: datetime) -> datetime:
        return self.start_date or until - timedelta(days=MAX_WINDOW_DAYS)

    def windows(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """[since, until] cut into consecutive windows of at most `window_days`."""
        spans = []
        start = since
        while start < until:
            end = min(start + timedelta(days=self.window_days), until)
            spans.append((start, end))
            start = end
        return spans

    def pages(
        self,
        since: datetime | None,
        until: datetime,
        *,
        warn: Callable[[str], None],
        store: Any = None,
        source_id: int | None = None,
        note: Callable[[str], None] | None = None,
    ) -> Iterator[Page]:
        """Every request of [since, until], then the open ones stored earlier; checked complete.

        The consumer stores each page before asking for the next, so when the period has been
        read the store holds it and the completeness check can compare ids.
        """
        note = note or warn
        self._warn = warn
        since = since or self.first_since(until)
        profile = load_profile(store, self.name) if store is not None else None
        probed = False
        if profile is None or profile.get("base_url") != self.base_url:
            if self.probe_first:
                profile = self.probe(until)
                probed = True
                note("server diperiksa (probe): " + "; ".join(describe_profile(profile)))
            else:
                profile = standard_profile(self.base_url)
        for attempt in (1, 2):
            self.listed = {}
            try:
                yield from self._batched(self._read_period(profile, since, until))
                self._cross_check(profile, since, until)
                break
            except (HttpStatusError, InvalidJsonError, LooksWrong) as exc:
                if attempt == 2 or (probed and not isinstance(exc, LooksWrong)):
                    raise SyncError(self._failure(profile, exc)) from None
                warn(f"{exc}; server diperiksa ulang (probe) dan periode dibaca lagi")
                profile = self.probe(until)
                probed = True
                note("server diperiksa ulang (probe): " + "; ".join(describe_profile(profile)))
        period_calls, self.refreshed = self.calls, 0
        if self.refresh_open and store is not None and source_id is not None:
            yield from self._batched(self._refresh_pages(store, source_id, since, until, profile))
        line = f"ditanyakan: {period_calls} panggilan ({self._strategy(profile)})"
        if self.calls > period_calls:
            line += f" dan {self.calls - period_calls} panggilan per id"
        line += f"; didapat: {_n(len(self.listed))} permintaan periode ini"
        note(line + (f", {_n(self.refreshed)} permintaan terbuka lama diperbarui" if self.refreshed else ""))
        if self.repaired:
            profile["leading_zero_json"] = True
        if store is not None and source_id is not None:
            profile["completeness"] = self._completeness(store, source_id, since, until, note)
        if self.unmapped:
            listed = ", ".join(f"{name} ({count})" for name, count in self.unmapped.most_common(10))
            warn(
                f"{sum(self.unmapped.values())} permintaan tanpa OPD (agency_responsible kosong dan "
                f"layanan tidak ada di service_opd_map): {listed}"
            )
            profile["unmapped_services"] = dict(self.unmapped.most_common(50))
        if store is not None:
            save_profile(store, self.name, profile)

    def _batched(self, pages: Iterator[Page]) -> Iterator[Page]:
        """Pages joined into batches of about `batch_size` records: one validation and one write
        transaction per batch rather than per page of 50 (the fixed cost of each dominates)."""
        held: list[Page] = []
        count = 0

        def joined() -> Page:
            label = held[0].label if len(held) == 1 else f"{held[0].label} … {held[-1].label}"
            records = [r for p in held for r in p.records]
            return Page(held[0].number, records, label, None, any(p.repaired for p in held))

        for page in pages:
            held.append(page)
            count += len(page.records)
            if count >= self.batch_size:
                yield joined()
                held, count = [], 0
        if held:
            yield joined()

    def _strategy(self, profile: Mapping[str, Any]) -> str:
        size = self.page_size(profile)
        by_page = paged(profile)
        if windowed(profile):
            how = "jendela tanggal" + (" (start/end ditukar)" if profile.get("dates") == "reversed" else "")
            return how + (f", halaman {size}" if by_page else ", tanpa halaman, jendela dibelah di batas")
        return "daftar tanpa filter tanggal" + (f", halaman {size}" if by_page else ", satu jawaban") + (
            ", disaring di sisi kita"
        )

    def _read_period(self, profile: Mapping[str, Any], since: datetime, until: datetime) -> Iterator[Page]:
        if windowed(profile):
            for start, end in self.windows(since, until):
                yield from self._read_window(profile, start, end, since, until)
        else:
            yield from self._read_unwindowed(profile, since, until)

    def _take(self, records: list[Any], since: datetime, until: datetime) -> list[Any]:
        """The records of the period (and those stating no time: validation sets them aside)."""
        kept = []
        for record in records:
            if inside(record, since, until) is False:
                continue
            rid = request_id(record)
            if rid is not None:
                self.listed[rid] = requested_at(record)[0]
            kept.append(record)
        return kept

    def _check_window(self, records: list[Any], start: datetime, end: datetime, label: str) -> None:
        outside = [r for r in records if inside(r, start, end) is False]
        if outside:
            moment = outside[0].get("requested_datetime")
            raise LooksWrong(
                f"{label}: server mengembalikan {len(outside)} permintaan di luar jendela yang diminta "
                f"(mis. {request_id(outside[0])} pada {moment})"
            )

    def _read_window(
        self, profile: Mapping[str, Any], start: datetime, end: datetime, since: datetime, until: datetime
    ) -> Iterator[Page]:
        form = "%Y-%m-%d" if end - start >= timedelta(days=1) else "%Y-%m-%d %H:%M:%S"
        span = f"{start:{form}}..{end:{form}}"
        base = self.window_params(start, end, profile)
        if paged(profile):
            size = self.page_size(profile)

            def fetch(number: int) -> Page:
                label = f"{self.name} {span} halaman/page {number}"
                records = self.get({**base, self.page_param: number, self.per_page_param: size}, label)
                self._check_window(records, start, end, label)
                # No next-page pointer in GeoReport, and a short page may only be a cap the
                # probe could not see: read on until a page comes back empty.
                return self.page(number, self._take(records, since, until), label, number + 1 if records else None)

            yield from walk_pages(fetch, 1, max_pages=self.max_pages, warn=self._warn)
            return
        label = f"{self.name} {span}"
        records = self.get(base, label)
        self._check_window(records, start, end, label)
        cap = profile.get("cap")
        if cap and len(records) >= int(cap):
            if end - start > MIN_SPLIT:
                # The reply may be cut at the server's cap: read both halves instead.
                middle = start + (end - start) / 2
                yield from self._read_window(profile, start, middle, since, until)
                yield from self._read_window(profile, middle, end, since, until)
                return
            self._warn(
                f"{label}: {len(records)} permintaan dalam jendela satu detik, sama dengan batas "
                f"server {cap}; bisa ada yang terpotong"
            )
        yield self.page(1, self._take(records, since, until), label)

    def _read_unwindowed(self, profile: Mapping[str, Any], since: datetime, until: datetime) -> Iterator[Page]:
        """A server whose date filters cannot be used: its whole listing, windowed on our side."""
        newest_first = profile.get("order") == "newest_first"
        if paged(profile):
            size = self.page_size(profile)
            previous: set[str] | None = None
            for number in range(1, self.max_pages + 1):
                label = f"{self.name} daftar halaman/page {number}"
                records = self.get({self.page_param: number, self.per_page_param: size}, label)
                ids = {rid for rid in map(request_id, records) if rid is not None}
                if records and ids == previous:
                    self._warn(f"{label} mengulang halaman sebelumnya; paging dihentikan")
                    return
                # Records outside the period are dropped here, so an empty page of the period
                # is not the end of the listing: only an empty reply is.
                yield self.page(number, self._take(records, since, until), label)
                if not records:
                    return
                if newest_first and all((requested_at(r)[0] or until) < since for r in records):
                    return  # newest first: every later page is older than the period
                previous = ids
            raise SyncError(
                f"{self.name}: lebih dari {self.max_pages} halaman; naikkan max_pages bila memang sebanyak itu"
            )
        label = f"{self.name} daftar tanpa filter"
        records = self.get({}, label)
        cap = profile.get("cap")
        if cap and len(records) >= int(cap):
            times = [t for t in (requested_at(r)[0] for r in records) if t is not None]
            covered = newest_first and times and min(times) <= since
            if not covered:
                span = f"{min(times):%Y-%m-%d %H:%M}..{max(times):%Y-%m-%d %H:%M} UTC" if times else "?"
                raise SyncError(
                    f"{label}: server memberi paling banyak {cap} permintaan per jawaban (terbaca "
                    f"{span}) dan tidak menghormati halaman (page/page_size) maupun filter tanggal "
                    f"(start_date/end_date), jadi permintaan lain periode {since:%Y-%m-%d}.."
                    f"{until:%Y-%m-%d} tidak dapat dibaca. Minta pengelola server memperbaiki paging "
                    "atau filter tanggal."
                )
        yield self.page(1, self._take(records, since, until), label)

    def _cross_check(self, profile: Mapping[str, Any], since: datetime, until: datetime) -> None:
        """Requests the server lists without filters inside the period must have been read."""
        if not windowed(profile) and not paged(profile):
            return  # the period was read from that very listing
        listing = self.get({}, f"{self.name} pemeriksaan tanpa filter")
        expected = {
            request_id(r) for r in listing if inside(r, since, until) and request_id(r) is not None
        }
        missed = expected - set(self.listed)
        if not missed:
            return
        read = len(self.listed)
        how = "jendela tanggal" if windowed(profile) else "halaman"
        raise LooksWrong(
            f"server mencantumkan {len(expected)} permintaan pada periode {since:%Y-%m-%d}.."
            f"{until:%Y-%m-%d} bila ditanya tanpa filter, tetapi pembacaan per {how} mendapat "
            f"{read} dan melewatkan {len(missed)} ({_sample(missed)})"
        )

    def _failure(self, profile: Mapping[str, Any], exc: Exception) -> str:
        what = "; ".join(describe_profile(profile, short=True))
        return f"{exc}. Yang diketahui tentang server: {what}"

    def _refresh_pages(
        self, store: Any, source_id: int, since: datetime, until: datetime, profile: dict[str, Any]
    ) -> Iterator[Page]:
        """Stored requests still open, submitted before this sync's period, re-read by id."""
        c = schema.complaints.c
        oldest = until - timedelta(days=self.refresh_max_days)
        ids = [
            row[0]
            for row in store.execute(
                select(c.tracking_id)
                .where(
                    c.source_id == source_id,
                    c.status.not_in(("selesai", "arsip")),
                    c.submitted_at < since,
                    c.submitted_at >= oldest,
                )
                .order_by(c.tracking_id)
            ).rows
        ]
        if not ids:
            return
        if profile.get("by_id_list") is not False:
            for index, start in enumerate(range(0, len(ids), self.refresh_batch), start=1):
                batch = ids[start : start + self.refresh_batch]
                label = f"{self.name} pembaruan/refresh {index} ({len(batch)} id)"
                records = self.get({"service_request_id": ",".join(batch)}, label)
                strays = {request_id(r) for r in records} - set(batch)
                if strays:
                    # The server ignored the id list: learn it, and read one by one instead.
                    profile["by_id_list"] = False
                    self._warn(f"{label}: server mengabaikan daftar service_request_id; dibaca satu per satu")
                    ids = ids[start:]
                    break
                self.refreshed += len(records)
                yield self.page(index, records, label)
            else:
                return
        if profile.get("by_id_path") is False:
            self._warn(
                f"{len(ids)} permintaan terbuka lama tidak dapat diperbarui: server tidak mendukung "
                "baca per id (service_request_id maupun requests/{id}.json)"
            )
            return
        for index, rid in enumerate(ids, start=1):
            label = f"{self.name} pembaruan/refresh id {rid}"
            found = self.try_get({}, label, url=self.by_id_url(rid))
            if isinstance(found, str):
                if index == 1:
                    profile["by_id_path"] = False
                    self._warn(f"{label}: {found}; permintaan terbuka lama tidak diperbarui")
                    return
                continue  # one request gone from the server: nothing to update
            found = [r for r in found if request_id(r) == rid]
            self.refreshed += len(found)
            yield self.page(index, found, label)

    def _completeness(
        self, store: Any, source_id: int, since: datetime, until: datetime, note: Callable[[str], None]
    ) -> str:
        """Ids stored for the period against the ids the server listed for it; the line noted."""
        c = schema.complaints.c
        stored = {
            row[0]
            for row in store.execute(
                select(c.tracking_id).where(
                    c.source_id == source_id, c.submitted_at >= since, c.submitted_at <= until
                )
            ).rows
        }
        listed = set(self.listed)
        missing = listed - stored
        got = len(listed) - len(missing)
        line = f"lengkap: {_n(got)} dari {_n(len(listed))} permintaan yang dicantumkan server untuk periode ini tersimpan"
        if missing:
            q = schema.quarantine.c
            wanted = sorted(missing)
            quarantined = set()
            for start in range(0, len(wanted), 500):  # within every database's parameter limit
                chunk = wanted[start : start + 500]
                quarantined |= {
                    row[0]
                    for row in store.execute(
                        select(q.tracking_id).where(q.source_id == source_id, q.tracking_id.in_(chunk))
                    ).rows
                }
            lost = missing - quarantined
            line = f"{_n(got)} dari {_n(len(listed))} permintaan yang dicantumkan server untuk periode ini tersimpan"
            if quarantined & missing:
                line += f"; {len(quarantined & missing)} dikarantina ({_sample(quarantined & missing)})"
            if lost:
                note(line)
                raise SyncError(
                    f"{len(lost)} permintaan yang dicantumkan server tidak tersimpan dan tidak dikarantina "
                    f"({_sample(lost)})"
                )
        extra = stored - listed
        if extra:
            line += f"; {_n(len(extra))} tersimpan tetapi tidak lagi dicantumkan server ({_sample(extra)})"
        line = f"sinkronisasi {until:%Y-%m-%d %H:%M} UTC, periode {since:%Y-%m-%d}..{until:%Y-%m-%d}: " + line
        note(line)
        return line

    # --- mapping ------------------------------------------------------------------------
    def tracking_key(self, record: Any) -> str | None:
        return request_id(record)

    def service_names(self) -> dict[str, str]:
        """`services.json`: service_code -> service_name, fetched once per run (empty on failure)."""
        if self.services is None:
            found = self.try_get({}, f"{self.name} services.json", url=self.services_url)
            if isinstance(found, str):
                self._warn(f"kategori tidak dapat dilengkapi dari services.json: {found}")
                self.services = {}
            else:
                self.services = services_map(found)
        return self.services

    def to_raw_frame(self, records: list[Any]) -> tuple[pd.DataFrame, list[str | None]]:
        """Canonical-named raw values, one row per request, and a reason for unusable records."""
        rows: list[dict[str, Any]] = []
        reasons: list[str | None] = []
        for record in records:
            if not isinstance(record, Mapping):
                rows.append({})
                reasons.append(f"record bukan objek JSON / not a JSON object: {str(record)[:80]!r}")
                continue
            rows.append(self.to_record(record))
            reasons.append(None)
        return pd.DataFrame.from_records(rows, columns=FRAME_COLUMNS), reasons

    def to_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """One request as canonical raw values (absent and null fields read alike)."""
        status_raw = None if _blank(record.get("status")) else str(record["status"]).strip()
        status = None if status_raw is None else self.status_map.get(status_raw.lower(), self.unknown_status)
        code = None if _blank(record.get("service_code")) else str(record["service_code"]).strip()
        service = None if _blank(record.get("service_name")) else str(record["service_name"]).strip()
        if service is None and code is not None:
            service = self.service_names().get(code)
        opd = (
            self.service_opd_map.get(service or "")
            or self.service_opd_map.get(code or "")
            or agency_name(record.get("agency_responsible"))
        )
        if opd is None:
            self.unmapped[service or code or "(tanpa layanan)"] += 1
        updated = record.get("updated_datetime")
        expected = None if _blank(record.get("expected_datetime")) else record["expected_datetime"]
        return {
            "tracking_id": request_id(record),
            "submitted_at": record.get("requested_datetime"),
            "disposed_at": record.get("requested_datetime"),
            "opd": opd,
            "category": service,
            "status": status,
            "status_raw": status_raw,
            "closed_at": updated if status == "selesai" and not _blank(updated) else None,
            "expected_at": expected,
            "completion_due_at": expected,
            "latitude": record.get("lat"),
            "longitude": record.get("long"),
            "address": None if _blank(record.get("address")) else record["address"],
        }


# --- the stored profile -------------------------------------------------------------------
def standard_profile(base_url: str) -> dict[str, Any]:
    """What a server that follows the standard honours (used with `probe = false`)."""
    return {
        "version": PROFILE_VERSION,
        "base_url": base_url,
        "probed_at": None,
        "paging": "honoured",
        "dates": "honoured",
        "cap": None,
        "cap_known": False,
        "order": "unknown",
        "notes": ["belum diperiksa (probe = false): diasumsikan mengikuti standar"],
    }


def load_profile(store: Any, name: str) -> dict[str, Any] | None:
    value = store.meta_get(PROFILE_KEY.format(name=name))
    if not value:
        return None
    try:
        profile = json.loads(value)
    except ValueError:
        return None
    return profile if isinstance(profile, dict) and profile.get("version") == PROFILE_VERSION else None


def save_profile(store: Any, name: str, profile: Mapping[str, Any]) -> None:
    store.meta_set(PROFILE_KEY.format(name=name), json.dumps(profile, sort_keys=True, default=str))


def source_profile(store: Any, name: str) -> dict[str, Any]:
    """The detected profile of an Open311 source for the Data page: {} when never probed.

    Keys as `probe_server` writes them, plus `summary`: the Indonesian lines of
    `describe_profile`.
    """
    profile = load_profile(store, name)
    if profile is None:
        return {}
    return {**profile, "summary": describe_profile(profile)}


_PAGING = {
    "honoured": "paging (page/page_size) dihormati",
    "ignored": "paging diabaikan (halaman berapa pun memberi jawaban yang sama)",
    "refused": "paging ditolak (HTTP 4xx bila page/page_size dikirim)",
    "unknown": "paging tidak dapat diuji (terlalu sedikit permintaan); dipakai sesuai standar",
}
_DATES = {
    "honoured": "filter tanggal (start_date/end_date) dihormati",
    "reversed": "filter tanggal terbalik: start_date dibaca sebagai 'sebelum', end_date sebagai 'sesudah'",
    "ignored": "filter tanggal diabaikan (jawaban memuat permintaan di luar jendela)",
    "empty": "filter tanggal selalu memberi [] (juga bila ditukar)",
    "fewer": "jendela tanggal memberi lebih sedikit daripada tanpa jendela",
    "refused": "filter tanggal ditolak server",
    "unknown": "filter tanggal tidak dapat diuji (tanpa filter tidak ada permintaan); dipakai sesuai standar",
}
_STATUS = {
    "honoured": "filter status dihormati",
    "ignored": "filter status diabaikan",
    "empty": "filter status memberi []",
    "refused": "filter status ditolak",
}
_ORDER = {"newest_first": "terbaru lebih dulu", "oldest_first": "terlama lebih dulu"}
_JURISDICTION = {
    "required": "jurisdiction_id wajib (tanpa itu server menolak)",
    "narrows": "jurisdiction_id menentukan permintaan yang dicantumkan (tanpa itu daftarnya lain)",
    "optional": "jurisdiction_id tidak mengubah jawaban",
    "not_configured": "jurisdiction_id tidak diisi",
}


def describe_profile(profile: Mapping[str, Any], *, short: bool = False) -> list[str]:
    """The profile as Indonesian lines, for the probe command, run notes and the Data page."""
    lines = []
    if profile.get("listed_unfiltered") is not None:
        lines.append(f"tanpa filter server mencantumkan {profile['listed_unfiltered']} permintaan")
    lines.append(_PAGING.get(str(profile.get("paging")), f"paging: {profile.get('paging')}"))
    cap = profile.get("cap")
    if cap:
        lines.append(
            f"batas jawaban {cap} permintaan" + ("" if profile.get("cap_known") else " (dugaan)")
        )
    lines.append(_DATES.get(str(profile.get("dates")), f"tanggal: {profile.get('dates')}"))
    if short:
        return lines
    if profile.get("order") in _ORDER:
        lines.append("urutan: " + _ORDER[profile["order"]])
    if profile.get("status_filter") in _STATUS:
        lines.append(_STATUS[profile["status_filter"]])
    if profile.get("status_list") == "empty":
        lines.append("daftar status berkoma (open,closed) memberi []")
    if profile.get("by_id_list") is not None or profile.get("by_id_path") is not None:
        ways = []
        if profile.get("by_id_list"):
            ways.append("daftar service_request_id")
        if profile.get("by_id_path"):
            ways.append("requests/{id}.json")
        lines.append("baca per id: " + (", ".join(ways) if ways else "tidak didukung"))
    if profile.get("jurisdiction") in _JURISDICTION:
        lines.append(_JURISDICTION[profile["jurisdiction"]])
    if profile.get("fields_missing"):
        lines.append("kolom tidak pernah dikirim: " + ", ".join(profile["fields_missing"]))
    if profile.get("fields_partial"):
        lines.append("kolom kadang tidak ada: " + ", ".join(profile["fields_partial"]))
    if profile.get("nulls") == "omitted":
        lines.append("nilai null dihilangkan, bukan dikirim sebagai null")
    if profile.get("agency_shape") == "list":
        lines.append("agency_responsible berbentuk daftar (gaya FixMyStreet)")
    if profile.get("id_type") in ("integer", "mixed"):
        lines.append("service_request_id berupa angka")
    if profile.get("leading_zero_json"):
        lines.append("JSON tidak sah (angka berawalan nol, mis. service_code 006) diperbaiki")
    if profile.get("services") is not None:
        lines.append(f"services.json: {profile['services']} layanan")
    if profile.get("unmapped_services"):
        names = ", ".join(f"{k} ({v})" for k, v in list(profile["unmapped_services"].items())[:5])
        lines.append("layanan tanpa OPD: " + names)
    lines += [str(n) for n in profile.get("notes", [])]
    return lines
