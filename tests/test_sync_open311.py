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
            # Without dates: the whole listing (the probe and the completeness check ask so).
            start = _parse(params["start_date"]) if "start_date" in params else None
            end = _parse(params["end_date"]) if "end_date" in params else None
            assert start is None or end - start <= timedelta(days=90), "window wider than GeoReport allows"

            def in_window(r: dict) -> bool:
                if start is None:
                    return True
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
    """The sync's window reads (the probe's windows are not paged)."""
    return [r for r in server.requests if "start_date" in r.params and "page" in r.params]


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
            if r.params.get("page") == "2" and r.params.get("start_date", "")[5:7] == "01"
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
        # every call but the probe's one question "does jurisdiction_id change the answer?"
        without = [r for r in server.requests if "jurisdiction_id" not in r.params]
        assert len(without) == 1 and not {"page", "start_date"} & set(without[0].params)
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


# --- servers that misbehave (tests/open311_server.py) ----------------------------------------
import itertools  # noqa: E402

import pytest  # noqa: E402

from data_sources.__main__ import main  # noqa: E402
from data_sources.sync.open311 import (  # noqa: E402
    Open311Connector,
    agency_name,
    describe_profile,
    source_profile,
)
from tests.open311_server import JURISDICTIONS, Deviations, GeoReportServer, make_requests  # noqa: E402

N = 130  # over 200 days: three 90-day windows, more than a cap of 50
LAST = make_requests(N)[-1]["requested_datetime"]
SYNC_NOW = LAST + timedelta(days=6)
CAP_UNREADABLE = "paling banyak 50 permintaan per jawaban"


def server_config(server: GeoReportServer, **changes) -> dict:
    cfg = {
        "kind": "open311",
        "base_url": server.base_url,
        "start_date": "2013-12-15",
        "timeout_seconds": 2,
        "max_retries": 1,
        "backoff_seconds": 0.01,
    }
    cfg.update(changes)
    return cfg


def stored_ids(store) -> list[str]:
    return [r[0] for r in store.execute("SELECT tracking_id FROM complaints ORDER BY tracking_id").rows]


def unreadable(d: Deviations) -> bool:
    """A cap, no usable paging and no usable dates: only `cap` requests can ever be seen."""
    return d.cap is not None and d.paging != "honoured" and d.dates == "ignored"


def assert_fields_mapped(store, records: list[dict], d: Deviations) -> None:
    """Category, OPD, closing and deadline of every stored request, whatever the server dropped."""
    got = {
        r["tracking_id"]: r
        for r in store.execute("SELECT tracking_id, category, opd, status, closed_at, expected_at FROM complaints").dicts()
    }
    for r in records:
        row = got[r["service_request_id"]]
        assert row["category"] == (None if d.drop_service else r["service_name"])
        agency_dropped = d.drop_agency and r["_citizen"]
        assert row["opd"] == (None if agency_dropped else r["agency_responsible"])
        assert row["status"] == ("selesai" if r["status"] == "closed" else "proses")
        assert (row["closed_at"] is None) == (r["status"] != "closed")
        assert (row["expected_at"] is None) == (d.no_expected or r["expected_datetime"] is None)


STRUCTURAL = [
    Deviations(paging=p, dates=dt, cap=cap, newest_first=(i % 2 == 0))
    for i, (p, dt, cap) in enumerate(
        itertools.product(("honoured", "refused", "ignored"), ("honoured", "reversed", "ignored"), (None, 50))
    )
]
FIELD_SWITCHES = [
    Deviations(drop_service=True),
    Deviations(drop_service_name=True),
    Deviations(drop_agency=True),
    Deviations(omit_nulls=True),
    Deviations(newest_first=True),
    Deviations(comma_status_empty=True),
    Deviations(plus_breaks_filter=True),
    Deviations(jurisdiction_required=True),
    Deviations(fixmystreet=True),
    Deviations(leading_zero_code=True),
    Deviations(integer_ids=True),
    Deviations(no_expected=True),
]
# The independently written server of issue 18, and FixMyStreet on top of other trouble.
REAL_WORLD = [
    Deviations(
        paging="refused", dates="reversed", newest_first=True, drop_service=True, drop_agency=True,
        omit_nulls=True, comma_status_empty=True, plus_breaks_filter=True, no_expected=True,
    ),
    Deviations(paging="ignored", dates="reversed", cap=50, newest_first=True, drop_service_name=True),
    Deviations(dates="ignored", cap=50, newest_first=True, fixmystreet=True, leading_zero_code=True),
    Deviations(paging="refused", dates="ignored", cap=50, omit_nulls=True, integer_ids=True),
]


def test_the_independent_servers_deviations_sync_completely_on_both_databases(db_url):
    store = make_store(db_url)
    records = make_requests(N)
    with GeoReportServer(records, REAL_WORLD[0]) as server:
        report = sync_source(store, "city", server_config(server), now=SYNC_NOW)
    assert report.ok, report.summary()
    assert stored_ids(store) == sorted(r["service_request_id"] for r in records)
    assert f"lengkap: {N} dari {N} permintaan" in report.summary()
    assert_fields_mapped(store, records, REAL_WORLD[0])
    store.dispose()


@pytest.mark.parametrize("deviations", STRUCTURAL + FIELD_SWITCHES + REAL_WORLD, ids=Deviations.switches)
def test_every_request_is_stored_exactly_once_or_the_run_fails_with_the_reason(sqlite_store, deviations):
    records = make_requests(N)
    jurisdiction = JURISDICTIONS[0] if deviations.jurisdiction_required or deviations.fixmystreet else None
    with GeoReportServer(records, deviations) as server:
        cfg = server_config(server, jurisdiction_id=jurisdiction)
        first = sync_source(sqlite_store, "city", cfg, now=SYNC_NOW)
        if unreadable(deviations):
            assert not first.ok and CAP_UNREADABLE in first.error
            assert sqlite_store.source_row("city")["watermark"] is None
            status = sqlite_store.execute("SELECT status FROM runs").scalar()
            assert status == "failed"
            return
        assert first.ok, first.summary()
        assert stored_ids(sqlite_store) == sorted(r["service_request_id"] for r in records)
        assert (first.read, first.stored, first.quarantined) == (N, N, 0)
        assert f"lengkap: {N} dari {N} permintaan" in first.summary()
        assert_fields_mapped(sqlite_store, records, deviations)
        # a day later: one new request, and an old open one closed on the server
        records.append(
            {**make_requests(N + 1)[-1], "requested_datetime": SYNC_NOW + timedelta(hours=3),
             "status": "open", "updated_datetime": None}
        )
        records[0].update(status="closed", updated_datetime=SYNC_NOW + timedelta(hours=1))
        second = sync_source(sqlite_store, "city", cfg, now=SYNC_NOW + timedelta(days=1))
        raw_queries = [c.query for c in server.calls]
    assert second.ok, second.summary()
    assert stored_ids(sqlite_store) == sorted(r["service_request_id"] for r in records)
    assert sqlite_store.execute("SELECT COUNT(*) FROM complaints").scalar() == N + 1
    closed = sqlite_store.execute(
        "SELECT status FROM complaints WHERE tracking_id = :t", {"t": records[0]["service_request_id"]}
    ).scalar()
    assert closed == "selesai"
    assert not any("+" in q for q in raw_queries)  # every query value URL-encoded


def test_a_run_that_reads_nothing_while_the_unfiltered_listing_has_requests_fails(sqlite_store):
    """A server whose paged windows answer [] (the probe's unpaged questions look fine)."""
    records = dataset()
    app = Open311App(records)

    def silent_zero(request):
        if "page" in request.params and "start_date" in request.params:
            return Reply(body="[]")
        return app(request)

    with FaultServer(silent_zero) as server:
        report = sync_source(sqlite_store, "chicago", config(server), now=NOW)
    assert not report.ok
    assert "bila ditanya tanpa filter" in report.error and "mendapat 0" in report.error
    assert "server diperiksa ulang" in " ".join(report.warnings)
    run = sqlite_store.execute(f"SELECT status, error, detail FROM runs WHERE id = {report.run_id}").dicts()[0]
    assert run["status"] == "failed" and "tanpa filter" in run["error"]
    assert "server diperiksa (probe)" in run["detail"]
    assert sqlite_store.source_row("chicago")["watermark"] is None


def test_a_window_whose_replies_fall_outside_it_fails(sqlite_store):
    records = dataset()
    app = Open311App(records)

    def stray(request):
        if "page" in request.params and "start_date" in request.params:
            return Reply(body=json.dumps(records[-2:]) if request.params["page"] == "1" else "[]")
        return app(request)

    with FaultServer(stray) as server:
        report = sync_source(sqlite_store, "chicago", config(server), now=NOW)
    assert not report.ok and "di luar jendela" in report.error


def test_the_published_servers_paging_400_and_reversed_dates_are_overcome(sqlite_store):
    """probe = false trusts the standard: the 400 on paging makes it probe, then it reads all."""
    records = make_requests(N)
    with GeoReportServer(records, Deviations(paging="refused", dates="reversed", newest_first=True)) as server:
        report = sync_source(sqlite_store, "city", server_config(server, probe=False), now=SYNC_NOW)
    assert report.ok, report.summary()
    assert "HTTP 400" in report.warnings[0] and "diperiksa ulang" in report.warnings[0]
    assert len(stored_ids(sqlite_store)) == N
    profile = source_profile(sqlite_store, "city")
    assert (profile["paging"], profile["dates"]) == ("refused", "reversed")
    assert any("terbalik" in line for line in profile["summary"])


def test_reversed_dates_undetected_are_caught_by_the_unfiltered_listing_and_reprobed(sqlite_store):
    with GeoReportServer(make_requests(N), Deviations(dates="reversed")) as server:
        report = sync_source(sqlite_store, "city", server_config(server, probe=False), now=SYNC_NOW)
    assert report.ok and report.stored == N
    assert "bila ditanya tanpa filter" in report.warnings[0]


def test_the_run_records_what_it_asked_what_it_got_and_what_it_concluded(sqlite_store):
    with GeoReportServer(make_requests(N), Deviations(dates="ignored", cap=50)) as server:
        report = sync_source(sqlite_store, "city", server_config(server), now=SYNC_NOW)
    detail = sqlite_store.execute(f"SELECT detail FROM runs WHERE id = {report.run_id}").scalar()
    assert "server diperiksa (probe)" in detail and "filter tanggal diabaikan" in detail  # concluded
    assert "ditanyakan:" in detail and "panggilan" in detail  # asked
    assert f"didapat: {N} permintaan periode ini" in detail  # got
    assert f"lengkap: {N} dari {N} permintaan" in detail  # got, and complete
    assert "lengkap: 130 dari 130" in report.summary()


def test_a_quarantined_request_is_named_in_the_completeness_line(sqlite_store):
    records = make_requests(N)
    records[5]["status"] = None  # status is required
    with GeoReportServer(records, Deviations(omit_nulls=True)) as server:
        report = sync_source(sqlite_store, "city", server_config(server), now=SYNC_NOW)
    assert report.ok and report.quarantined == 1
    assert f"{N - 1} dari {N} permintaan" in report.summary()
    assert f"1 dikarantina ({records[5]['service_request_id']})" in report.summary()


def test_jurisdiction_required_but_not_configured_fails_with_a_hint(sqlite_store):
    with GeoReportServer(make_requests(10), Deviations(fixmystreet=True)) as server:
        report = sync_source(sqlite_store, "fms", server_config(server), now=SYNC_NOW)
    assert not report.ok and "jurisdiction_id" in report.error and "[sources.fms]" in report.error


def test_a_second_jurisdiction_is_read_with_its_jurisdiction_id(sqlite_store):
    records = make_requests(N, second_jurisdiction=40)
    with GeoReportServer(records) as server:
        report = sync_source(
            sqlite_store, "county", server_config(server, jurisdiction_id=JURISDICTIONS[1]), now=SYNC_NOW
        )
    assert report.ok
    assert stored_ids(sqlite_store) == sorted(r["service_request_id"] for r in records[-40:])
    assert source_profile(sqlite_store, "county")["jurisdiction"] == "narrows"


# --- mapping of missing and odd fields (record level) -----------------------------------------
def connector_for(server: GeoReportServer, **changes) -> Open311Connector:
    return Open311Connector("city", server_config(server, **changes))


def test_category_comes_from_services_json_when_service_name_is_absent():
    with GeoReportServer(make_requests(4)) as server:
        conn = connector_for(server)
        row = conn.to_record({"service_request_id": "1", "service_code": "011", "status": "open"})
        by_int = conn.to_record({"service_request_id": "2", "service_code": 11, "status": "open"})
        unknown = conn.to_record({"service_request_id": "3", "service_code": "999", "status": "open"})
        services_calls = [c for c in server.calls if c.path.endswith("services.json")]
    assert row["category"] == "Street Light Out"
    assert by_int["category"] is None  # 11 is not "011": not guessed
    assert unknown["category"] is None
    assert len(services_calls) == 1  # fetched once per run


def test_neither_service_name_nor_code_leaves_the_category_empty():
    with GeoReportServer(make_requests(4)) as server:
        row = connector_for(server).to_record({"service_request_id": "1", "status": "open"})
        assert not server.calls  # nothing to look up
    assert row["category"] is None


def test_agency_responsible_is_read_as_text_or_as_fixmystreets_list():
    assert agency_name("CDOT") == "CDOT"
    assert agency_name([{"recipient": ["Bromley Council"]}]) == "Bromley Council"
    assert agency_name([{"recipient": ["A", "B"]}, {"recipient": "A"}]) == "A, B"
    assert agency_name([]) is None and agency_name(None) is None and agency_name("  ") is None


def test_missing_agency_takes_the_service_opd_map_else_no_opd_and_the_service_is_listed(sqlite_store):
    records = make_requests(N)
    with GeoReportServer(records, Deviations(drop_agency=True, omit_nulls=True)) as server:
        cfg = server_config(server, service_opd_map={"Pothole in Street": "Dinas PUPR"})
        report = sync_source(sqlite_store, "city", cfg, now=SYNC_NOW)
    assert report.ok
    opd = dict(sqlite_store.execute("SELECT tracking_id, opd FROM complaints").rows)
    citizen = [r for r in records if r["_citizen"]]
    for r in citizen:
        expected = "Dinas PUPR" if r["service_name"] == "Pothole in Street" else None
        assert opd[r["service_request_id"]] == expected
    unmapped = [w for w in report.warnings if "tanpa OPD" in w]
    assert unmapped and "Street Light Out" in unmapped[0] and "Pothole" not in unmapped[0]
    assert "Street Light Out" in source_profile(sqlite_store, "city")["unmapped_services"]


def test_null_and_absent_fields_read_alike():
    with GeoReportServer(make_requests(4)) as server:
        conn = connector_for(server)
        base = {"service_request_id": "7", "status": "open", "service_name": "X",
                "requested_datetime": "2014-01-01T00:00:00+00:00"}
        nulls = {**base, "agency_responsible": None, "address": None, "expected_datetime": None,
                 "updated_datetime": None, "lat": None, "long": None}
        assert conn.to_record(base) == conn.to_record(nulls)


def test_integer_and_string_ids_are_the_same_request():
    from data_sources.sync.open311 import request_id

    assert request_id({"service_request_id": 1234}) == request_id({"service_request_id": "1234"}) == "1234"
    assert request_id({"service_request_id": " 1234 "}) == "1234"
    assert request_id({"service_request_id": None}) is None and request_id({}) is None


def test_expected_datetime_becomes_completion_due_at_on_the_record():
    with GeoReportServer(make_requests(4)) as server:
        conn = connector_for(server)
        record = {"service_request_id": "1", "status": "open", "service_name": "X",
                  "requested_datetime": "2014-01-01T00:00:00+00:00",
                  "expected_datetime": "2014-01-08T00:00:00+00:00"}
        mapped = conn.to_record(record)
        empty = conn.to_record({**record, "expected_datetime": ""})
        frame, _ = conn.to_raw_frame([record])
    assert mapped["completion_due_at"] == mapped["expected_at"] == "2014-01-08T00:00:00+00:00"
    assert empty["completion_due_at"] is None
    assert frame.loc[0, "completion_due_at"] == "2014-01-08T00:00:00+00:00"  # on the frame the store gets


def test_query_values_are_url_encoded(sqlite_store):
    with GeoReportServer(make_requests(10)) as server:
        cfg = server_config(server, params={"extra": "a+b c&d"})
        assert sync_source(sqlite_store, "city", cfg, now=SYNC_NOW).ok
        queries = [c.query for c in server.calls if c.path.endswith("requests.json")]
    assert queries and all("extra=a%2Bb+c%26d" in q for q in queries)
    assert all("start_date=" not in q or "%3A" in q for q in queries)


# --- the probe ---------------------------------------------------------------------------------
PROBE_CASES = [
    (Deviations(), {"paging": "honoured", "dates": "honoured", "cap": None, "order": "oldest_first"}),
    (Deviations(paging="refused"), {"paging": "refused"}),
    (Deviations(paging="ignored"), {"paging": "ignored"}),
    (Deviations(dates="reversed"), {"dates": "reversed"}),
    (Deviations(dates="ignored"), {"dates": "ignored"}),
    (Deviations(cap=50), {"paging": "honoured", "cap": 50, "cap_known": True}),
    # no paging: the suspected cap is settled by asking per status (the parts add up to more)
    (Deviations(paging="refused", cap=50), {"cap": 50, "cap_known": True}),
    (Deviations(paging="refused"), {"cap": None}),
    (Deviations(paging="ignored", cap=50, comma_status_empty=True), {"cap": 50, "status_list": "empty"}),
    (Deviations(newest_first=True), {"order": "newest_first"}),
    (Deviations(drop_service=True), {"fields_missing": ["service_code", "service_name"]}),
    (Deviations(drop_service_name=True), {"fields_missing": ["service_name"], "services": 4}),
    (Deviations(drop_agency=True, omit_nulls=True), {"fields_partial": ["agency_responsible",
                                                                         "expected_datetime",
                                                                         "updated_datetime"],
                                                      "nulls": "omitted"}),
    (Deviations(no_expected=True), {"fields_missing": ["expected_datetime"]}),
    (Deviations(comma_status_empty=True), {"status_filter": "honoured", "status_list": "empty"}),
    (Deviations(jurisdiction_required=True), {"jurisdiction": "required"}),
    (Deviations(fixmystreet=True), {"jurisdiction": "required", "agency_shape": "list"}),
    (Deviations(leading_zero_code=True), {"leading_zero_json": True}),
    (Deviations(integer_ids=True), {"id_type": "integer", "by_id_list": True, "by_id_path": True}),
    (Deviations(plus_breaks_filter=True), {"dates": "honoured"}),
]


@pytest.mark.parametrize(("deviations", "expected"), PROBE_CASES, ids=[d.switches() for d, _ in PROBE_CASES])
def test_probe_detects_what_the_server_honours(deviations, expected):
    jurisdiction = JURISDICTIONS[0] if deviations.jurisdiction_required or deviations.fixmystreet else None
    with GeoReportServer(make_requests(N), deviations) as server:
        conn = connector_for(server, jurisdiction_id=jurisdiction)
        profile = conn.probe(SYNC_NOW)
        conn.close()
    assert {k: profile.get(k) for k in expected} == expected
    assert conn.calls <= 16


PROBE_TEXT = {
    "standard": "paging (page/page_size) dihormati",
    "paging=refused": "paging ditolak",
    "paging=ignored": "paging diabaikan",
    "dates=reversed": "filter tanggal terbalik",
    "dates=ignored": "filter tanggal diabaikan",
    "cap=50": "batas jawaban 50 permintaan",
    "newest_first=True": "urutan: terbaru lebih dulu",
    "drop_service=True": "kolom tidak pernah dikirim: service_code, service_name",
    "omit_nulls=True": "nilai null dihilangkan",
    "comma_status_empty=True": "daftar status berkoma (open,closed) memberi []",
    "fixmystreet=True": "agency_responsible berbentuk daftar",
    "leading_zero_code=True": "angka berawalan nol",
}


@pytest.mark.parametrize("switch", list(PROBE_TEXT))
def test_sync_probe_prints_the_detected_profile_in_indonesian_and_stores_nothing(
    switch, tmp_path, monkeypatch, capsys
):
    deviations = Deviations(**({} if switch == "standard" else {
        k: (v == "True" if v in ("True", "False") else int(v) if v.isdigit() else v)
        for k, v in [switch.split("=")]
    }))
    db = tmp_path / "store.db"
    with GeoReportServer(make_requests(N), deviations) as server:
        jurisdiction = f'jurisdiction_id = "{JURISDICTIONS[0]}"\n' if deviations.fixmystreet else ""
        path = tmp_path / "secrets.toml"
        path.write_text(f'[sources.kota]\nkind = "open311"\nbase_url = "{server.base_url}"\n{jurisdiction}')
        monkeypatch.setenv("DASHBOARD_SECRETS", str(path))
        code = main(["sync", "--probe", "kota", "--db", f"sqlite:///{db}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert PROBE_TEXT[switch] in out
    assert "tidak ada yang disimpan" in out
    assert not db.exists()  # nothing stored: not even a database was opened


def test_sync_probe_of_a_source_that_is_not_open311_is_a_clear_message(tmp_path, monkeypatch, capsys):
    path = tmp_path / "secrets.toml"
    path.write_text('[sources.lapor]\nkind = "lapor-api"\nbase_url = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(path))
    assert main(["sync", "--probe", "lapor", "--db", f"sqlite:///{tmp_path}/s.db"]) == 2
    assert "bukan sumber Open311" in capsys.readouterr().err


def test_describe_profile_of_an_unprobed_source_is_empty(sqlite_store):
    assert source_profile(sqlite_store, "nothing") == {}
    assert describe_profile({"paging": "refused", "dates": "reversed"})[0].startswith("paging ditolak")


def test_bench_open311_small_mode_syncs_every_request():
    """benchmarks/bench_open311.py --small: cap 50, dates ignored; no timing asserted (a busy
    machine is slow, not wrong)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_open311.py"), "--small"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stored in all: 601 of 601" in done.stdout
    assert "lengkap: 600 dari 600 permintaan" in done.stdout


def test_the_data_page_shows_each_open311_servers_profile_as_plain_text(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.settings import load_settings
    from data_sources.demo import load_demo
    from data_sources.store import Store
    from data_sources.sync.open311 import save_profile
    from tests.conftest import ROOT

    secrets = tmp_path / "none.toml"
    secrets.write_text("")
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    url = f"sqlite:///{tmp_path / 'page.db'}"
    store = Store.open(url, load_settings(db_url=url))
    load_demo(store, n=200, seed=1)
    with GeoReportServer(make_requests(N), Deviations(paging="refused", dates="reversed")) as server:
        profile = connector_for(server).probe(SYNC_NOW)
    profile["notes"].append("<b>**bukan markdown**</b>")
    store.ensure_source("kota", "open311")
    save_profile(store, "kota", profile)
    store.ensure_source("belum", "open311")
    from access import accounts

    accounts.create_user(store, "admin", "analis", "Sandi-Uji-12345")  # the Data page is analysts'
    store.dispose()
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.text_input(key="access_username").input("admin")
    at.text_input(key="access_password").input("Sandi-Uji-12345")
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception and not at.error
    labels = [e.label for e in at.expander]
    assert "Server Open311 kota: yang dihormati" in labels and "Server Open311 belum: yang dihormati" in labels
    text = "\n".join(t.value for t in at.text)
    assert "filter tanggal terbalik" in text and "paging ditolak" in text
    assert "<b>**bukan markdown**</b>" in text  # data shown as text, never rendered
    assert any("Belum diperiksa" in c.value for c in at.caption)
    st.cache_data.clear()
    st.cache_resource.clear()
