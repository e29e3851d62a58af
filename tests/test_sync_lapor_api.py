"""LAPOR! integration API sync against a real fault-injecting HTTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from data_sources.__main__ import main
from data_sources.sync import sync_source
from data_sources.sync.lapor_api import iso_utc
from tests.conftest import make_store
from tests.http_fixture import FaultServer, Reply

NOW = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
TOKEN = "good-token"
PER_PAGE = 4


def complaint(i: int, **changes) -> dict:
    record = {
        "tracking_id": f"{5_000_000 + i}",
        "submitted_at": (NOW - timedelta(days=20, hours=i)).isoformat(),
        "channel": "website",
        "classification": "pengaduan",
        "category": "Pekerjaan Umum dan Penataan Ruang",
        "opd": "Dinas PUPR",
        "status": "proses",
        "disposed_at": (NOW - timedelta(days=19, hours=i)).isoformat(),
        "reporter_name": "Warga Rahasia",
        "updated_at": (NOW - timedelta(days=1)).isoformat(),  # not canonical: the API's own field
    }
    record.update(changes)
    return record


def dataset(n: int = 13) -> list[dict]:
    records = [complaint(i) for i in range(n)]
    records[5].pop("submitted_at")  # a record missing a required field: quarantined
    return records


class LaporApp:
    """The documented default shape, filtering by updated_since like a real server would."""

    def __init__(self, records: list[dict], *, honour_since: bool = True, honour_page: bool = True):
        self.records = records
        self.honour_since = honour_since
        self.honour_page = honour_page

    def __call__(self, request) -> Reply:
        if request.path != "/api/complaints":
            return Reply(status=404, body={"message": "not found"})
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Reply(status=401, body={"message": "Token expired"})
        rows = self.records
        since = request.params.get("updated_since")
        if since and self.honour_since:
            cut = datetime.fromisoformat(since.replace("Z", "+00:00"))
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= cut]
        page = int(request.params.get("page", 1)) if self.honour_page else 1
        size = int(request.params.get("per_page", 100))
        chunk = rows[(page - 1) * size : page * size]
        more = page * size < len(rows)
        return Reply(body={"data": chunk, "next_page": page + 1 if more else None})


def config(server: FaultServer, **changes) -> dict:
    cfg = {
        "kind": "lapor-api",
        "base_url": f"{server.url}/api",
        "token": TOKEN,
        "per_page": PER_PAGE,
        "timeout_seconds": 0.4,
        "max_retries": 3,
        "backoff_seconds": 0.01,
    }
    cfg.update(changes)
    return cfg


def page_is(n: int):
    return lambda r: r.params.get("page") == str(n)


def stored_ids(store) -> list[str]:
    return [r[0] for r in store.execute("SELECT tracking_id FROM complaints ORDER BY tracking_id").rows]


def run_row(store, run_id: int) -> dict:
    return store.execute("SELECT * FROM runs WHERE id = :id", {"id": run_id}).dicts()[0]


def test_every_record_is_stored_once_through_500_429_hang_truncation_and_repeat(db_url):
    store = make_store(db_url)
    records = dataset()
    with FaultServer(LaporApp(records)) as server:
        server.inject(Reply(status=500, body={"message": "upstream"}), when=page_is(1))
        server.inject(Reply(status=429, headers={"Retry-After": "1"}), when=page_is(2))
        server.inject(Reply(body={"data": []}, delay=1.5), when=page_is(2))  # hangs past 0.4 s
        server.inject(Reply(body='{"data": [{"tracking_id": "50', truncate_to=40), when=page_is(3))
        # page 3 answered once with page 2's content: a repeat, fetched again, not looped on
        server.inject(
            lambda r: Reply(body={"data": records[PER_PAGE : 2 * PER_PAGE], "next_page": 3}),
            when=page_is(3),
        )
        report = sync_source(store, "lapor", config(server), now=NOW)
        page2 = server.requests_to("/api/complaints")
        assert server.pending_faults() == 0
    assert report.ok, report.error
    wanted = sorted(r["tracking_id"] for i, r in enumerate(records) if i != 5)
    assert stored_ids(store) == wanted
    assert (report.read, report.stored, report.quarantined) == (13, 12, 1)
    assert report.read == report.stored + report.quarantined
    assert report.pages == 4
    # the 429 said Retry-After: 1, and the next request for page 2 waited for it
    asked_2 = [r.at for r in page2 if r.params.get("page") == "2"]
    assert asked_2[1] - asked_2[0] >= 0.95
    run = run_row(store, report.run_id)
    assert (run["status"], run["rows_read"], run["rows_stored"], run["rows_quarantined"]) == ("ok", 13, 12, 1)
    store.dispose()


def test_record_missing_a_field_is_quarantined_with_record_number_and_reason(sqlite_url):
    store = make_store(sqlite_url)
    with FaultServer(LaporApp(dataset())) as server:
        report = sync_source(store, "lapor", config(server), now=NOW)
    assert report.ok
    rows = store.execute("SELECT record_no, tracking_id, reason, raw FROM quarantine").dicts()
    assert len(rows) == 1
    assert rows[0]["record_no"] == 6 and rows[0]["tracking_id"] == "5000005"
    assert "Tanggal laporan masuk kosong" in rows[0]["reason"]
    assert "Warga Rahasia" not in rows[0]["raw"]  # reporter identity never leaves the database
    store.dispose()


def test_expired_token_401_stops_the_run_with_its_message(db_url):
    store = make_store(db_url)
    with FaultServer(LaporApp(dataset())) as server:
        report = sync_source(store, "lapor", config(server, token="old-token"), now=NOW)
        assert len(server.requests) == 1  # no retry of a 401
    assert not report.ok
    assert "401" in report.error and "Token expired" in report.error
    run = run_row(store, report.run_id)
    assert run["status"] == "failed" and "Token expired" in run["error"]
    assert store.source_row("lapor")["watermark"] is None
    store.dispose()


def test_watermark_advances_and_second_sync_asks_only_for_records_updated_since_it(db_url):
    store = make_store(db_url)
    records = dataset()
    app = LaporApp(records)
    with FaultServer(app) as server:
        first = sync_source(store, "lapor", config(server), now=NOW)
        assert "updated_since" not in server.requests[0].params
        mark = store.source_row("lapor")["watermark"]
        assert mark == first.watermark == iso_utc(NOW - timedelta(minutes=5))
        # one complaint closes after the first sync
        records[2] = complaint(
            2,
            status="selesai",
            closed_at=(NOW + timedelta(hours=1)).isoformat(),
            updated_at=(NOW + timedelta(hours=1)).isoformat(),
        )
        server.requests.clear()
        second = sync_source(store, "lapor", config(server), now=NOW + timedelta(hours=2))
        asked = {r.params.get("updated_since") for r in server.requests}
    assert asked == {mark}
    assert second.ok and (second.read, second.stored) == (1, 1)
    assert store.source_row("lapor")["watermark"] == iso_utc(NOW + timedelta(hours=2) - timedelta(minutes=5))
    status = store.execute("SELECT status FROM complaints WHERE tracking_id = '5000002'").scalar()
    assert status == "selesai"
    store.dispose()


def test_run_killed_half_way_is_marked_failed_and_the_next_run_completes(db_url, monkeypatch):
    store = make_store(db_url)
    records = dataset()
    calls = {"n": 0}
    real_write = store.write_complaints

    def crash_on_second_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("process killed")
        return real_write(*args, **kwargs)

    with FaultServer(LaporApp(records)) as server:
        monkeypatch.setattr(store, "write_complaints", crash_on_second_page)
        failed = sync_source(store, "lapor", config(server), now=NOW)
        monkeypatch.setattr(store, "write_complaints", real_write)
        assert not failed.ok and "process killed" in failed.error
        assert run_row(store, failed.run_id)["status"] == "failed"
        assert store.source_row("lapor")["watermark"] is None  # not advanced by a failed run
        assert len(stored_ids(store)) == PER_PAGE  # the first page's batch stayed
        server.requests.clear()
        done = sync_source(store, "lapor", config(server), now=NOW)
        assert "updated_since" not in server.requests[0].params  # the whole span again
    assert done.ok
    assert len(stored_ids(store)) == 12
    assert store.execute("SELECT COUNT(*) FROM quarantine").scalar() == 1
    assert run_row(store, done.run_id)["status"] == "ok"
    store.dispose()


def _snapshot(store) -> tuple:
    complaints = store.execute(
        "SELECT tracking_id, status, submitted_at, disposed_at, closed_at, opd, response_deadline "
        "FROM complaints ORDER BY tracking_id"
    ).rows
    history = store.execute("SELECT COUNT(*) FROM status_history").scalar()
    quarantine = store.execute("SELECT COUNT(*) FROM quarantine").scalar()
    return complaints, history, quarantine


def test_syncing_the_same_data_again_changes_nothing(db_url):
    store = make_store(db_url)
    with FaultServer(LaporApp(dataset(), honour_since=False)) as server:
        first = sync_source(store, "lapor", config(server), now=NOW)
        before = _snapshot(store)
        again = sync_source(store, "lapor", config(server), now=NOW + timedelta(hours=1))
    assert first.ok and again.ok
    assert again.read == again.stored + again.quarantined == 13
    assert _snapshot(store) == before
    store.dispose()


def test_server_that_ignores_the_page_parameter_does_not_loop_forever(sqlite_store):
    with FaultServer(LaporApp(dataset(), honour_page=False)) as server:
        report = sync_source(sqlite_store, "lapor", config(server), now=NOW)
        assert len(server.requests) == 3  # page 1, page 2 (a repeat), page 2 once more
    assert report.ok and report.read == PER_PAGE
    assert any("repeats the previous page" in w for w in report.warnings)


def test_page_that_stays_invalid_json_fails_the_run_naming_the_page(sqlite_store):
    with FaultServer(LaporApp(dataset())) as server:
        server.inject(Reply(body='{"data": [', status=200), when=page_is(2), times=99)
        report = sync_source(sqlite_store, "lapor", config(server, max_retries=2), now=NOW)
    assert not report.ok
    assert "page 2" in report.error and "JSON" in report.error
    assert len(stored_ids(sqlite_store)) == PER_PAGE
    assert sqlite_store.source_row("lapor")["watermark"] is None


def test_field_map_status_table_and_custom_parameters_read_a_non_default_api(sqlite_store):
    def app(request):
        assert request.headers.get("X-Api-Key") == "k123"
        page = int(request.params["hal"])
        items = [
            {
                "id": 777,
                "waktu": {"masuk": "2026-01-05 09:00"},
                "kondisi": "Ditutup oleh Admin",
                "dinas": "Dinas Kesehatan",
                "rating": 4,
            },
            {"id": 778, "waktu": {"masuk": "2026-01-06 10:00"}, "kondisi": "Tidak Ada Di Tabel"},
        ]
        return Reply(body={"result": {"items": items if page == 1 else []}, "next": None})

    with FaultServer(app) as server:
        cfg = {
            "kind": "lapor-api",
            "base_url": server.url,
            "list_path": "/v2/laporan",
            "token": "k123",
            "token_header": "X-Api-Key",
            "token_prefix": "",
            "page_param": "hal",
            "per_page_param": "jumlah",
            "updated_since_param": "sejak",
            "data_key": "result.items",
            "next_page_key": "next",
            "field_map": {
                "tracking_id": "id",
                "submitted_at": "waktu.masuk",
                "status": "kondisi",
                "opd": "dinas",
            },
            "status": {"Ditutup oleh Admin": "selesai"},
            "timeout_seconds": 1,
            "backoff_seconds": 0.01,
        }
        report = sync_source(sqlite_store, "lapor2", cfg, now=NOW)
        assert server.requests[0].path == "/v2/laporan"
        assert {"hal", "jumlah"} <= set(server.requests[0].params)
    assert report.ok and (report.stored, report.quarantined) == (1, 1)
    row = sqlite_store.execute(
        "SELECT tracking_id, status, status_raw, opd, rating, submitted_at FROM complaints"
    ).dicts()[0]
    assert row["tracking_id"] == "777" and row["status"] == "selesai"
    assert row["status_raw"] == "Ditutup oleh Admin" and row["opd"] == "Dinas Kesehatan"
    # naive times are local (Asia/Makassar, UTC+8)
    assert row["submitted_at"] == int(datetime(2026, 1, 5, 1, 0, tzinfo=UTC).timestamp() * 1_000_000)
    reason = sqlite_store.execute("SELECT reason FROM quarantine").scalar()
    assert "Status tidak dikenal" in reason


def test_unknown_kind_is_reported_not_raised(sqlite_store):
    report = sync_source(sqlite_store, "x", {"kind": "ftp", "base_url": "http://127.0.0.1:9"})
    assert not report.ok and "ftp" in report.error


# --- the command line ---------------------------------------------------------------------


def write_secrets(tmp_path, monkeypatch, text: str) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    monkeypatch.setenv("DASHBOARD_SECRETS", str(path))


def test_cli_without_configured_sources_explains_and_exits_non_zero(tmp_path, capsys, sqlite_url):
    code = main(["sync", "--db", sqlite_url])
    err = capsys.readouterr().err
    assert code == 1
    assert "Tidak ada sumber API" in err and "No API source" in err
    assert "Traceback" not in err


def test_cli_unknown_source_name_exits_non_zero(tmp_path, monkeypatch, capsys, sqlite_url):
    write_secrets(
        tmp_path, monkeypatch, '[sources.lapor]\nkind = "lapor-api"\nbase_url = "http://127.0.0.1:9"\n'
    )
    code = main(["sync", "nope", "--db", sqlite_url])
    err = capsys.readouterr().err
    assert code == 2 and "nope" in err and "lapor" in err


def test_cli_prints_pages_read_stored_quarantined_and_fails_on_a_failed_source(
    tmp_path, monkeypatch, capsys, sqlite_url
):
    with FaultServer(LaporApp(dataset())) as server:
        write_secrets(
            tmp_path,
            monkeypatch,
            f"""
[sources.lapor]
kind = "lapor-api"
base_url = "{server.url}/api"
token = "{TOKEN}"
per_page = {PER_PAGE}
backoff_seconds = 0.01

[sources.expired]
kind = "lapor-api"
base_url = "{server.url}/api"
token = "stale"
backoff_seconds = 0.01
""",
        )
        assert main(["sync", "lapor", "--db", sqlite_url]) == 0
        out = capsys.readouterr().out
        assert (
            "lapor (lapor-api): 4 halaman/pages, 13 dibaca/read, 12 disimpan/stored, 1 dikarantina/quarantined"
            in out
        )
        assert main(["sync", "--db", sqlite_url]) == 1
        captured = capsys.readouterr()
    assert "expired (lapor-api)" in captured.out and "GAGAL/FAILED" in captured.out
    assert "Token expired" in captured.out and "Traceback" not in captured.out + captured.err
