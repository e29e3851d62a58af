"""Open311 GeoReport v2 sync against a real fault-injecting HTTP server serving Chicago-shaped requests."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from data_sources.sync import sync_source
from data_sources.sync.lapor_api import iso_utc
from tests.conftest import SAMPLES, make_store
from tests.http_fixture import FaultServer, Reply

NOW = datetime(2014, 7, 20, 12, 0, tzinfo=UTC)
START = datetime(2014, 1, 1, tzinfo=UTC)
SAMPLE = json.loads((SAMPLES / "open311_chicago.json").read_text())
PAGE_SIZE = 3
BIG = 100  # one page per window: fewer write batches where paging is not the point


def micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def chicago(i: int, requested: datetime, **changes) -> dict:
    """A request shaped like the Chicago sample, with its own id and time."""
    record = copy.deepcopy(SAMPLE[i % 2])
    record["service_request_id"] = f"14-0{1100000 + i}"
    record["requested_datetime"] = requested.strftime("%Y-%m-%dT%H:%M:%S-05:00")
    record["updated_datetime"] = (requested + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    record.update(changes)
    return record


def dataset() -> list[dict]:
    """14 requests spread over Jan-Jul 2014 (three 90-day windows), with the awkward cases."""
    records = [chicago(i, START + timedelta(days=13 * i, hours=5)) for i in range(14)]
    records[1].update(status="closed")
    records[2].update(status="closed", updated_datetime="")  # closed, no update time given
    records[3].update(status="duplicate")  # a status beyond open/closed
    records[4]["service_code"] = "006"  # served as a bare 006, the spec's own invalid JSON
    records[6].pop("requested_datetime")  # missing a required field: quarantined
    return records


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Open311App:
    """`requests.json` with start_date/end_date over requested_datetime, page/page_size, ids."""

    def __init__(self, records: list[dict], *, api_key: str | None = None):
        self.records = records
        self.api_key = api_key

    def __call__(self, request) -> Reply:
        if request.path != "/open311/v2/requests.json":
            return Reply(status=404, body=[{"code": 404, "description": "not found"}])
        if self.api_key and request.params.get("api_key") != self.api_key:
            return Reply(status=403, body=[{"code": 403, "description": "Invalid api_key"}])
        params = request.params
        if "service_request_id" in params:
            wanted = set(params["service_request_id"].split(","))
            rows = [r for r in self.records if r["service_request_id"] in wanted]
        else:
            start, end = _parse(params["start_date"]), _parse(params["end_date"])
            assert end - start <= timedelta(days=90), "window wider than GeoReport allows"

            def in_window(r: dict) -> bool:
                if "requested_datetime" not in r:
                    return start == START  # a broken record, served with the first window only
                return start <= _parse(r["requested_datetime"]) <= end

            rows = [r for r in self.records if in_window(r)]
            page, size = int(params.get("page", 1)), int(params.get("page_size", 1000))
            rows = rows[(page - 1) * size : page * size]
        body = json.dumps(rows).replace('"service_code": "006"', '"service_code": 006')
        return Reply(body=body)


def config(server: FaultServer, **changes) -> dict:
    """Small pages (PAGE_SIZE) by default; tests not about paging pass per_page=BIG."""
    cfg = {
        "kind": "open311",
        "base_url": f"{server.url}/open311/v2",
        "per_page": PAGE_SIZE,
        "start_date": START.date(),
        "timeout_seconds": 0.4,
        "max_retries": 3,
        "backoff_seconds": 0.01,
    }
    cfg.update(changes)
    return cfg


def window_requests(server: FaultServer) -> list:
    return [r for r in server.requests if "start_date" in r.params]


def when(page: int, start_month: int):
    return lambda r: (
        r.params.get("page") == str(page) and r.params.get("start_date", "")[5:7] == f"{start_month:02d}"
    )


def rows(store, sql: str) -> list[dict]:
    return store.execute(sql).dicts()


def test_every_request_is_stored_once_through_500_429_hang_truncation_and_repeat(db_url):
    store = make_store(db_url)
    records = dataset()
    app = Open311App(records)
    with FaultServer(app) as server:
        server.inject(Reply(status=500), when=when(1, 1))
        server.inject(Reply(status=429, headers={"Retry-After": "1"}), when=when(2, 1))
        server.inject(Reply(body="[]", delay=1.5), when=when(1, 4))  # hangs past the 0.4 s timeout
        server.inject(Reply(body=json.dumps(records[:3]), truncate_to=50), when=when(2, 4))
        # page 3 of the first window answered once with page 2's requests
        server.inject(
            lambda r: app(type(r)(r.method, r.path, {**r.params, "page": "2"}, r.headers, r.at)),
            when=when(3, 1),
        )
        report = sync_source(store, "chicago", config(server), now=NOW)
        assert server.pending_faults() == 0
        page2 = [
            r.at
            for r in server.requests
            if r.params.get("page") == "2" and r.params["start_date"][5:7] == "01"
        ]
    assert report.ok, report.error
    assert page2[1] - page2[0] >= 0.95  # Retry-After: 1 honoured
    ids = [r["tracking_id"] for r in rows(store, "SELECT tracking_id FROM complaints ORDER BY tracking_id")]
    assert ids == sorted(r["service_request_id"] for i, r in enumerate(records) if i != 6)
    assert (report.read, report.stored, report.quarantined) == (14, 13, 1)
    quarantined = rows(store, "SELECT record_no, tracking_id, reason FROM quarantine")
    assert len(quarantined) == 1 and quarantined[0]["tracking_id"] == records[6]["service_request_id"]
    assert "Tanggal laporan masuk kosong" in quarantined[0]["reason"]
    run = rows(
        store, f"SELECT status, rows_read, rows_stored, rows_quarantined FROM runs WHERE id = {report.run_id}"
    )[0]
    assert run == {"status": "ok", "rows_read": 14, "rows_stored": 13, "rows_quarantined": 1}
    store.dispose()


def test_windows_are_at_most_90_days_and_cover_start_date_to_now(sqlite_store):
    with FaultServer(Open311App(dataset())) as server:
        report = sync_source(sqlite_store, "chicago", config(server, per_page=BIG), now=NOW)
        spans = sorted({(r.params["start_date"], r.params["end_date"]) for r in window_requests(server)})
    assert report.ok
    assert spans[0][0] == "2014-01-01T00:00:00Z" and spans[-1][1] == iso_utc(NOW)
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert end == next_start
    assert all(_parse(e) - _parse(s) <= timedelta(days=90) for s, e in spans)
    assert len(spans) == 3


def test_open_closed_and_unknown_statuses_map_as_documented(sqlite_store):
    records = dataset()
    with FaultServer(Open311App(records)) as server:
        assert sync_source(sqlite_store, "chicago", config(server, per_page=BIG), now=NOW).ok
    got = {
        r["tracking_id"]: r
        for r in rows(
            sqlite_store,
            "SELECT tracking_id, status, status_raw, submitted_at, disposed_at, "
            "closed_at, opd, category, latitude, address FROM complaints",
        )
    }
    open_one, closed, closed_no_time, duplicate = (
        got[records[i]["service_request_id"]] for i in (0, 1, 2, 3)
    )
    assert (open_one["status"], open_one["status_raw"], open_one["closed_at"]) == ("proses", "open", None)
    assert open_one["disposed_at"] == open_one["submitted_at"]  # no separate disposition in Open311
    assert open_one["opd"] == records[0]["agency_responsible"] and open_one["category"] == "Alley Light Out"
    assert open_one["latitude"] == records[0]["lat"] and open_one["address"] == records[0]["address"]
    assert closed["status"] == "selesai"
    assert closed["closed_at"] == micros(_parse(records[1]["updated_datetime"]))
    assert (closed_no_time["status"], closed_no_time["closed_at"]) == ("selesai", None)
    assert (duplicate["status"], duplicate["status_raw"]) == ("proses", "duplicate")


def test_status_table_overrides_the_default_mapping(sqlite_store):
    records = dataset()
    with FaultServer(Open311App(records)) as server:
        cfg = config(server, per_page=BIG, status={"duplicate": "arsip", "open": "menunggu_tindak_lanjut"})
        assert sync_source(sqlite_store, "chicago", cfg, now=NOW).ok
    status = dict(sqlite_store.execute("SELECT tracking_id, status FROM complaints").rows)
    assert status[records[3]["service_request_id"]] == "arsip"
    assert status[records[0]["service_request_id"]] == "menunggu_tindak_lanjut"


def test_leading_zero_service_code_is_repaired_not_failed(sqlite_store):
    records = dataset()
    with FaultServer(Open311App(records)) as server:
        report = sync_source(sqlite_store, "chicago", config(server, per_page=BIG), now=NOW)
    assert report.ok
    assert any("leading-zero" in w for w in report.warnings)
    stored = sqlite_store.execute(
        "SELECT COUNT(*) FROM complaints WHERE tracking_id = :t", {"t": records[4]["service_request_id"]}
    ).scalar()
    assert stored == 1


def test_service_opd_map_names_the_opd(sqlite_store):
    with FaultServer(Open311App(dataset())) as server:
        cfg = config(server, per_page=BIG, service_opd_map={"Alley Light Out": "Dinas Perhubungan"})
        assert sync_source(sqlite_store, "chicago", cfg, now=NOW).ok
    opds = dict(sqlite_store.execute("SELECT category, opd FROM complaints GROUP BY category, opd").rows)
    assert opds["Alley Light Out"] == "Dinas Perhubungan"
    assert opds["Building Violation"] == "DOB - Conservation"  # not in the map: agency_responsible


def test_jurisdiction_and_api_key_are_sent_and_a_403_stops_without_leaking_the_key(sqlite_store):
    with FaultServer(Open311App(dataset(), api_key="right-key")) as server:
        ok = sync_source(
            sqlite_store,
            "chicago",
            config(server, api_key="right-key", jurisdiction_id="cityofchicago.org"),
            now=NOW,
        )
        assert {r.params.get("jurisdiction_id") for r in server.requests} == {"cityofchicago.org"}
        server.requests.clear()
        bad = sync_source(
            sqlite_store, "chicago", config(server, api_key="wrong-key"), now=NOW + timedelta(days=1)
        )
        assert len(server.requests) == 1
    assert ok.ok
    assert not bad.ok and "403" in bad.error and "Invalid api_key" in bad.error
    assert "wrong-key" not in bad.error


def test_second_sync_starts_at_the_watermark_and_refreshes_open_requests(db_url):
    store = make_store(db_url)
    records = dataset()
    with FaultServer(Open311App(records)) as server:
        first = sync_source(store, "chicago", config(server), now=NOW)
        mark = store.source_row("chicago")["watermark"]
        assert mark == first.watermark == iso_utc(NOW - timedelta(minutes=5))
        # request 0 (open, from January) is closed on the server after the first sync
        records[0].update(status="closed", updated_datetime="2014-07-21T09:00:00-05:00")
        server.requests.clear()
        second = sync_source(store, "chicago", config(server), now=NOW + timedelta(days=1))
        windows = window_requests(server)
        refresh = [r for r in server.requests if "service_request_id" in r.params]
    assert second.ok
    assert {r.params["start_date"] for r in windows} == {mark}
    assert refresh and records[0]["service_request_id"] in refresh[0].params["service_request_id"].split(",")
    closed = store.execute(
        "SELECT status, closed_at FROM complaints WHERE tracking_id = :t",
        {"t": records[0]["service_request_id"]},
    ).dicts()[0]
    assert closed == {"status": "selesai", "closed_at": micros(datetime(2014, 7, 21, 14, 0, tzinfo=UTC))}
    assert store.source_row("chicago")["watermark"] == iso_utc(NOW + timedelta(days=1) - timedelta(minutes=5))
    store.dispose()


def test_failed_window_leaves_the_watermark_and_the_next_run_completes(sqlite_store):
    records = dataset()
    with FaultServer(Open311App(records)) as server:
        server.inject(
            Reply(status=503), when=lambda r: r.params.get("start_date", "").startswith("2014-04"), times=99
        )
        failed = sync_source(sqlite_store, "chicago", config(server, max_retries=1), now=NOW)
        assert not failed.ok and "503" in failed.error and "2014-04-01..2014-06-30" in failed.error
        assert sqlite_store.source_row("chicago")["watermark"] is None
        server._faults.clear()
        done = sync_source(sqlite_store, "chicago", config(server), now=NOW)
    assert done.ok
    assert sqlite_store.execute("SELECT COUNT(*) FROM complaints").scalar() == 13
    assert sqlite_store.execute("SELECT COUNT(*) FROM quarantine").scalar() == 1
    statuses = [r[0] for r in sqlite_store.execute("SELECT status FROM runs ORDER BY id").rows]
    assert statuses == ["failed", "ok"]


def test_the_real_chicago_sample_maps_onto_canonical_records(sqlite_store):
    def app(request):
        return Reply(
            body=(SAMPLES / "open311_chicago.json").read_bytes()
            if request.params.get("page") == "1"
            else b"[]"
        )

    with FaultServer(app) as server:
        cfg = config(server, start_date="2014-07-01", timezone="America/Chicago")
        report = sync_source(sqlite_store, "chicago", cfg, now=NOW)
    assert report.ok and (report.read, report.stored) == (2, 2)
    row = sqlite_store.execute(
        "SELECT status, opd, submitted_at FROM complaints WHERE tracking_id = '14-01100669'"
    ).dicts()[0]
    assert row["status"] == "proses" and row["opd"] == "Division of Electrical Operations CDOT"
    assert row["submitted_at"] == micros(datetime(2014, 7, 12, 15, 58, 43, tzinfo=UTC))
