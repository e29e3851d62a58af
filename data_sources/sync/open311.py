"""The Open311 GeoReport v2 connector: `requests.json` in windows of at most 90 days onto canonical records.

GeoReport v2 filters by `requested_datetime` (`start_date`/`end_date`, at most 90 days apart)
and has no "updated since", so a sync has two parts:
1. new requests: windows from the watermark (first sync: `start_date`, default 90 days ago) to
   now, each paged with the common `page`/`page_size` extension;
2. open requests stored earlier: re-read by id (`service_request_id=a,b,c`, which the standard
   lets override every other filter) so their closing is seen. `refresh_open = false` skips it.

Mapping decisions (DATA.md leaves them to us, documented here and in the report):
- An Open311 request is routed to its agency when it is created and has no separate
  disposition step, so `disposed_at = submitted_at` (as in DATA.md's mapping example).
- `open` -> `proses` (the agency holds it; no follow-up time exists, so `first_response_at`
  stays empty and KPI.md counts a response only when it closes); `closed` -> `selesai` with
  `closed_at = updated_datetime` (left empty when the server leaves that field empty). Any
  other status is kept raw in `status_raw` and becomes `proses`; a `[sources.NAME.status]`
  table overrides all of these (keys are the server's words, case-insensitive).
- `opd` = the configured `service_opd_map[service_name]` when present, else `agency_responsible`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select

from core.settings import STATUSES
from data_sources import schema
from data_sources.canonical import CANONICAL_COLUMNS
from data_sources.sync.http import JsonClient, Page, RetryPolicy, SyncError, walk_pages
from data_sources.sync.lapor_api import iso_utc, required

KIND = "open311"
MAX_WINDOW_DAYS = 90  # GeoReport v2: start_date and end_date at most 90 days apart
DEFAULT_STATUS = {"open": "proses", "closed": "selesai"}


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


class Open311Connector:
    """Reads service requests from a GeoReport v2 server."""

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
        self.refresh_open = bool(config.get("refresh_open", True))
        self.refresh_batch = max(1, int(config.get("refresh_batch", 50)))
        self.refresh_max_days = int(config.get("refresh_max_days", 365))
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
        if config.get("jurisdiction_id"):
            self.base_params["jurisdiction_id"] = str(config["jurisdiction_id"])
        secret: tuple[str, ...] = ()
        if config.get("api_key"):
            self.base_params["api_key"] = str(config["api_key"])
            secret = ("api_key",)
        self.client = JsonClient(RetryPolicy.from_config(config), secret_params=secret)

    def describe(self) -> str:
        return f"{self.kind} {self.url}"

    def close(self) -> None:
        self.client.close()

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
    ) -> Iterator[Page]:
        since = since or self.first_since(until)
        for start, end in self.windows(since, until):
            yield from self._window_pages(start, end, warn)
        if self.refresh_open and store is not None and source_id is not None:
            yield from self._refresh_pages(store, source_id, since, until)

    def _window_pages(self, start: datetime, end: datetime, warn: Callable[[str], None]) -> Iterator[Page]:
        span = f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
        base = {**self.base_params, "start_date": iso_utc(start), "end_date": iso_utc(end)}

        def fetch(number: int) -> Page:
            label = f"{self.name} {span} halaman/page {number}"
            params = {**base, self.page_param: number, self.per_page_param: self.per_page}
            response = self.client.get_json(self.url, params, label=label)
            records = self._unpack(response.data, label)
            # No next-page pointer in GeoReport: read on until a page comes back empty.
            return Page(
                number, records, label, number + 1 if records else None, response.repaired, response.attempts
            )

        yield from walk_pages(fetch, 1, max_pages=self.max_pages, warn=warn)

    def _refresh_pages(self, store: Any, source_id: int, since: datetime, until: datetime) -> Iterator[Page]:
        """Stored requests still open, submitted before this sync's windows, re-read by id."""
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
        for index, start in enumerate(range(0, len(ids), self.refresh_batch), start=1):
            batch = ids[start : start + self.refresh_batch]
            label = f"{self.name} pembaruan/refresh {index} ({len(batch)} id)"
            params = {**self.base_params, "service_request_id": ",".join(batch)}
            response = self.client.get_json(self.url, params, label=label)
            yield Page(
                index, self._unpack(response.data, label), label, None, response.repaired, response.attempts
            )

    @staticmethod
    def _unpack(data: Any, label: str) -> list[Any]:
        if isinstance(data, Mapping) and isinstance(data.get("service_requests"), list):
            return data["service_requests"]  # some servers wrap the list
        if not isinstance(data, list):
            raise SyncError(f"{label}: jawaban bukan daftar JSON / answer is not a JSON list")
        return data

    # --- mapping ------------------------------------------------------------------------
    def tracking_key(self, record: Any) -> str | None:
        if not isinstance(record, Mapping) or _blank(record.get("service_request_id")):
            return None
        return str(record["service_request_id"]).strip()

    def to_raw_frame(self, records: list[Any]) -> tuple[pd.DataFrame, list[str | None]]:
        """Canonical-named raw values, one row per request, and a reason for unusable records."""
        rows: list[dict[str, Any]] = []
        reasons: list[str | None] = []
        for record in records:
            if not isinstance(record, Mapping):
                rows.append({})
                reasons.append(f"record bukan objek JSON / not a JSON object: {str(record)[:80]!r}")
                continue
            status_raw = None if _blank(record.get("status")) else str(record["status"]).strip()
            status = (
                None if status_raw is None else self.status_map.get(status_raw.lower(), self.unknown_status)
            )
            service = None if _blank(record.get("service_name")) else str(record["service_name"]).strip()
            opd = self.service_opd_map.get(service or "") or record.get("agency_responsible")
            updated = record.get("updated_datetime")
            rows.append(
                {
                    "tracking_id": self.tracking_key(record),
                    "submitted_at": record.get("requested_datetime"),
                    "disposed_at": record.get("requested_datetime"),
                    "opd": None if _blank(opd) else opd,
                    "category": service,
                    "status": status,
                    "status_raw": status_raw,
                    "closed_at": updated if status == "selesai" and not _blank(updated) else None,
                    "expected_at": None
                    if _blank(record.get("expected_datetime"))
                    else record["expected_datetime"],
                    "latitude": record.get("lat"),
                    "longitude": record.get("long"),
                    "address": None if _blank(record.get("address")) else record["address"],
                }
            )
            reasons.append(None)
        return pd.DataFrame.from_records(rows, columns=list(CANONICAL_COLUMNS)), reasons
