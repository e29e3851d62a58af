"""A GeoReport v2 server on 127.0.0.1 with a switch for every deviation real servers show.

A real `ThreadingHTTPServer` (no patched library) serving `requests.json`,
`requests/{id}.json` and `services.json` over a list of requests, standard by default:

    with GeoReportServer(make_requests(130), Deviations(dates="reversed", cap=50)) as server:
        ... sync against server.base_url ...
        server.calls  # every request received, with its raw query string

Switches (`Deviations`): paging honoured / refused (400) / ignored; dates honoured / reversed
(start read as "before", end as "after") / ignored; a cap on every reply; newest first;
service_code+service_name, service_name only, or agency_responsible (on citizen-entered
requests) dropped; nulls omitted instead of sent; a comma list in `status` answered with `[]`;
a `+` left unencoded (a space once decoded) breaking the date filter into `[]`; jurisdiction_id
required; FixMyStreet's shapes (jurisdiction required, agency as `[{"recipient": [...]}]`);
the spec's own `"service_code":006`; integer ids; `expected_datetime` never sent.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SERVICES = [
    ("006", "Pothole in Street"),
    ("011", "Street Light Out"),
    ("027", "Graffiti Removal"),
    ("042", "Sanitation Code Violation"),
]
AGENCIES = {"006": "CDOT", "011": "Division of Electrical Operations CDOT", "027": "Streets and Sanitation", "042": "Streets and Sanitation"}
FIRST = datetime(2014, 1, 1, tzinfo=UTC)
JURISDICTIONS = ("city.example.org", "county.example.org")


@dataclass(frozen=True)
class Deviations:
    paging: str = "honoured"  # honoured | refused | ignored
    dates: str = "honoured"  # honoured | reversed | ignored
    cap: int | None = None
    newest_first: bool = False
    drop_service: bool = False  # neither service_code nor service_name
    drop_service_name: bool = False  # service_code only (the name is in services.json)
    drop_agency: bool = False  # no agency_responsible on citizen-entered requests
    omit_nulls: bool = False
    comma_status_empty: bool = False
    plus_breaks_filter: bool = False
    jurisdiction_required: bool = False
    fixmystreet: bool = False
    leading_zero_code: bool = False
    integer_ids: bool = False
    no_expected: bool = False

    def switches(self) -> str:
        default = Deviations()
        on = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)]
        return ",".join(on) or "standard"


def make_requests(
    n: int, *, first: datetime = FIRST, step: timedelta = timedelta(hours=37), second_jurisdiction: int = 0
) -> list[dict[str, Any]]:
    """`n` requests `step` apart from `first` (ids 1000001...), open/closed mixed; every third
    entered by a citizen; the last `second_jurisdiction` ones belong to the second jurisdiction."""
    records = []
    for i in range(n):
        code, name = SERVICES[i % len(SERVICES)]
        requested = first + step * i
        closed = i % 3 == 1
        records.append(
            {
                "service_request_id": str(1_000_001 + i),
                "status": "closed" if closed else "open",
                "status_notes": None,
                "service_name": name,
                "service_code": code,
                "description": None if i % 4 == 0 else f"Laporan nomor {i}",
                "agency_responsible": AGENCIES[code],
                "service_notice": None,
                "requested_datetime": requested,
                "updated_datetime": requested + timedelta(hours=5) if closed else None,
                "expected_datetime": requested + timedelta(days=7) if i % 2 == 0 else None,
                "address": f"{100 + i} W Example St",
                "address_id": None,
                "zipcode": None,
                "lat": 41.8 + i / 10_000,
                "long": -87.6 - i / 10_000,
                "media_url": None,
                "_citizen": i % 3 == 0,
                "_jurisdiction": JURISDICTIONS[1] if i >= n - second_jurisdiction else JURISDICTIONS[0],
            }
        )
    return records


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Call:
    path: str
    query: str  # raw, as sent
    params: dict[str, str]


@dataclass
class GeoReportServer:
    records: list[dict[str, Any]]
    deviations: Deviations = field(default_factory=Deviations)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> GeoReportServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, body = owner.answer(self.path)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/open311/v2"

    # --- answering ----------------------------------------------------------------------
    def answer(self, raw_path: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.calls.append(Call(parts.path, parts.query, params))
        d = self.deviations
        path = parts.path.removeprefix("/open311/v2")
        jurisdiction = params.get("jurisdiction_id")
        if (d.jurisdiction_required or d.fixmystreet) and not jurisdiction:
            return 400, [{"code": 400, "description": "jurisdiction_id is required"}]
        if jurisdiction and jurisdiction not in JURISDICTIONS:
            return 404, [{"code": 404, "description": "unknown jurisdiction_id"}]
        pool = [r for r in self.records if r["_jurisdiction"] == (jurisdiction or JURISDICTIONS[0])]
        if path == "/services.json":
            return 200, [
                {"service_code": code, "service_name": name, "metadata": False, "type": "realtime"}
                for code, name in SERVICES
            ]
        single = re.fullmatch(r"/requests/([^/]+)\.json", path)
        if single:
            rid = unquote(single.group(1))
            found = [r for r in pool if r["service_request_id"] == rid]
            return (200, self.encode(found)) if found else (404, [{"code": 404, "description": "not found"}])
        if path != "/requests.json":
            return 404, [{"code": 404, "description": "not found"}]
        if "service_request_id" in params:  # overrides every other filter (the standard)
            wanted = set(params["service_request_id"].split(","))
            return 200, self.encode([r for r in pool if r["service_request_id"] in wanted])
        rows = pool
        if "status" in params:
            value = params["status"]
            if "," in value and d.comma_status_empty:
                return 200, self.encode([])
            rows = [r for r in rows if r["status"] in value.split(",")]
        for key in ("start_date", "end_date"):
            if key in params and d.plus_breaks_filter and " " in params[key]:
                return 200, self.encode([])  # a '+' sent unencoded arrives as a space: no match
        start = _when(params["start_date"]) if "start_date" in params else None
        end = _when(params["end_date"]) if "end_date" in params else None
        if (start or end) and d.dates != "ignored":
            if d.dates == "reversed":  # start_date = "before", end_date = "after"
                rows = [
                    r for r in rows
                    if (start is None or r["requested_datetime"] <= start)
                    and (end is None or r["requested_datetime"] >= end)
                ]
            else:
                rows = [
                    r for r in rows
                    if (start is None or r["requested_datetime"] >= start)
                    and (end is None or r["requested_datetime"] <= end)
                ]
        rows = sorted(rows, key=lambda r: r["requested_datetime"], reverse=d.newest_first)
        paging = "page" in params or "page_size" in params
        if paging and d.paging == "refused":
            return 400, [{"code": 400, "description": "Invalid parameter: page"}]
        if paging and d.paging == "honoured":
            page = int(params.get("page", 1))
            size = int(params.get("page_size", 1000))
            # The offset follows the size asked for, the reply is cut at the cap: a client
            # that pages with a size above the cap loses requests unless it finds the cap.
            rows = rows[(page - 1) * size : page * size]
        if d.cap is not None:
            rows = rows[: d.cap]
        return 200, self.encode(rows)

    def encode(self, rows: list[dict[str, Any]]) -> bytes:
        d = self.deviations
        offset = "+00:00" if d.plus_breaks_filter else "-05:00"
        out = []
        for r in rows:
            rec = {k: v for k, v in r.items() if not k.startswith("_")}
            for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
                if isinstance(rec.get(key), datetime):
                    moment = rec[key]
                    if offset == "-05:00":
                        moment = moment - timedelta(hours=5)
                    rec[key] = moment.strftime("%Y-%m-%dT%H:%M:%S") + offset
            if d.no_expected:
                rec.pop("expected_datetime", None)
            if d.drop_service:
                rec.pop("service_code", None)
                rec.pop("service_name", None)
            if d.drop_service_name:
                rec.pop("service_name", None)
            if d.drop_agency and r["_citizen"]:
                rec.pop("agency_responsible", None)
            if d.fixmystreet and rec.get("agency_responsible"):
                rec["agency_responsible"] = [{"recipient": [rec["agency_responsible"]]}]
            if d.integer_ids:
                rec["service_request_id"] = int(rec["service_request_id"])
            if d.omit_nulls:
                rec = {k: v for k, v in rec.items() if v is not None}
            out.append(rec)
        text = json.dumps(out)
        if d.leading_zero_code:
            text = re.sub(r'"service_code": "(0\d+)"', r'"service_code": \1', text)
        return text.encode()
