"""The LAPOR! integration API connector: a configurable paged JSON listing onto canonical records.

LAPOR! documents its integration API to registered developer accounts only, so nothing is
hard-wired: every name below is a key of the source's `[sources.NAME]` table. The default shape:

    GET {base_url}/complaints?updated_since=<ISO>&page=<n>&per_page=<m>
    Authorization: Bearer <token>
    -> {"data": [records with canonical field names], "next_page": <n or null>}

A `[sources.NAME.field_map]` maps canonical columns onto the API's field names (dotted paths
reach into nested objects), and an optional `[sources.NAME.status]` table translates the API's
status wording into canonical statuses (a status it does not name is quarantined by validation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from core.settings import STATUSES
from data_sources.canonical import CANONICAL_COLUMNS
from data_sources.sync.http import JsonClient, Page, RetryPolicy, SyncError, walk_pages

KIND = "lapor-api"


def iso_utc(moment: datetime) -> str:
    """`2026-01-15T03:00:00Z`: the form APIs agree on (a `+00:00` suffix needs URL escaping)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dig(record: Any, path: str) -> Any:
    """The value at a dotted path (`pelapor.nama`) of a JSON object; None when absent."""
    value = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def required(config: Mapping[str, Any], key: str, name: str) -> Any:
    value = config.get(key)
    if value in (None, ""):
        raise SyncError(
            f"sumber {name!r}: '{key}' belum diisi di [sources.{name}] / "
            f"'{key}' is not set in [sources.{name}]"
        )
    return value


def _page_number(value: Any, label: str) -> int | None:
    """A `next_page` value as a page number: an int, a numeric string, or a URL with `page=`."""
    if value in (None, "", False):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    query = parse_qs(urlsplit(text).query)
    for key in ("page", "p"):
        if query.get(key) and query[key][-1].isdigit():
            return int(query[key][-1])
    raise SyncError(f"{label}: next_page tidak dipahami / next_page not understood: {text[:100]!r}")


class LaporApiConnector:
    """Pages through the LAPOR! integration API and maps its records onto canonical columns."""

    kind = KIND

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.base_url = str(required(config, "base_url", name)).rstrip("/")
        list_path = str(config.get("list_path", "/complaints"))
        self.url = self.base_url + ("" if list_path.startswith("/") else "/") + list_path
        self.page_param = str(config.get("page_param", "page"))
        self.per_page_param = str(config.get("per_page_param", "per_page"))
        self.per_page = int(config.get("per_page", 100))
        self.first_page = int(config.get("first_page", 1))
        self.updated_since_param = str(config.get("updated_since_param", "updated_since"))
        self.data_key = str(config.get("data_key", "data"))
        self.next_page_key = str(config.get("next_page_key", "next_page"))
        self.max_pages = int(config.get("max_pages", 10_000))
        self.extra_params = dict(config.get("params", {}))
        self.field_map = {str(k): str(v) for k, v in dict(config.get("field_map", {})).items()}
        unknown = sorted(set(self.field_map) - set(CANONICAL_COLUMNS))
        if unknown:
            raise SyncError(
                f"sumber {name!r}: field_map memuat kolom yang bukan kanonik / field_map names "
                f"non-canonical columns: {', '.join(unknown)}"
            )
        self.status_map = {str(k).strip().lower(): str(v) for k, v in dict(config.get("status", {})).items()}
        bad = sorted({v for v in self.status_map.values() if v not in STATUSES})
        if bad:
            raise SyncError(
                f"sumber {name!r}: [status] memetakan ke status tak dikenal / unknown target status: {bad}"
            )
        headers: dict[str, str] = {}
        token = config.get("token")
        if token:
            header = str(config.get("token_header", "Authorization"))
            headers[header] = str(config.get("token_prefix", "Bearer ")) + str(token)
        self.client = JsonClient(RetryPolicy.from_config(config), headers=headers)

    def describe(self) -> str:
        return f"{self.kind} {self.url}"

    def close(self) -> None:
        self.client.close()

    # --- fetching -----------------------------------------------------------------------
    def pages(
        self, since: datetime | None, until: datetime, *, warn: Callable[[str], None], **_: Any
    ) -> Iterator[Page]:
        """Every page of complaints updated since `since` (all of them when None)."""
        base = dict(self.extra_params)
        if since is not None:
            base[self.updated_since_param] = iso_utc(since)

        def fetch(number: int) -> Page:
            label = f"{self.name} halaman/page {number}"
            params = {**base, self.page_param: number, self.per_page_param: self.per_page}
            response = self.client.get_json(self.url, params, label=label)
            records, next_page = self._unpack(response.data, number, label)
            return Page(number, records, label, next_page, response.repaired, response.attempts)

        yield from walk_pages(fetch, self.first_page, max_pages=self.max_pages, warn=warn)

    def _unpack(self, data: Any, number: int, label: str) -> tuple[list[Any], int | None]:
        if isinstance(data, list):
            return data, (number + 1 if data else None)
        if not isinstance(data, Mapping):
            raise SyncError(f"{label}: jawaban bukan objek JSON / answer is not a JSON object")
        records = dig(data, self.data_key)
        if not isinstance(records, list):
            raise SyncError(
                f"{label}: tidak ada daftar di '{self.data_key}' / no list under '{self.data_key}' "
                f"(keys: {', '.join(map(str, list(data)[:10]))})"
            )
        if self.next_page_key in data:
            return records, _page_number(data[self.next_page_key], label)
        return records, (number + 1 if records else None)

    # --- mapping ------------------------------------------------------------------------
    def tracking_key(self, record: Any) -> str | None:
        value = dig(record, self.field_map.get("tracking_id", "tracking_id"))
        return None if value in (None, "") else str(value)

    def to_raw_frame(self, records: list[Any]) -> tuple[pd.DataFrame, list[str | None]]:
        """Canonical-named raw values, one row per record, and a reason for records not usable."""
        rows: list[dict[str, Any]] = []
        reasons: list[str | None] = []
        for record in records:
            if not isinstance(record, Mapping):
                rows.append({"body": None})
                reasons.append(f"record bukan objek JSON / not a JSON object: {str(record)[:80]!r}")
                continue
            row = {col: dig(record, self.field_map.get(col, col)) for col in CANONICAL_COLUMNS}
            if self.status_map and row.get("status") not in (None, ""):
                raw = str(row["status"]).strip()
                mapped = self.status_map.get(raw.lower())
                if mapped is not None:
                    row["status_raw"] = row.get("status_raw") or raw
                    row["status"] = mapped
            rows.append(row)
            reasons.append(None)
        return pd.DataFrame.from_records(rows, columns=list(CANONICAL_COLUMNS)), reasons
