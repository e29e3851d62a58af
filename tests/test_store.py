"""The complaint store on SQLite and PostgreSQL: upserts, history, migrations, WAL, derived deadlines."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import make_store
from sqlalchemy import func, inspect, select, text

from core.calendar import calendar_for
from core.settings import load_settings, with_kpi
from data_sources import schema
from data_sources.demo import generate_frame
from data_sources.store import SCHEMA_HEAD, Store, _alembic_config

WITA = ZoneInfo("Asia/Makassar")
C = schema.complaints.c
# KPI.md's example: disposed Friday 2025-12-19 15:00 WITA; with Christmas (Thu 25) and cuti
# bersama (Fri 26) the 5th working day after it is Tue 2025-12-30.
DISPOSED = datetime(2025, 12, 19, 15, 0, tzinfo=WITA)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WITA)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=WITA).astimezone(UTC)


def record(tracking_id: str = "1001", **fields) -> dict:
    base = {
        "tracking_id": tracking_id,
        "submitted_at": local(2025, 12, 18, 9, 30),
        "channel": "website",
        "classification": "pengaduan",
        "category": "Kesehatan",
        "opd": "Dinas Kesehatan",
        "kecamatan": "Barabai",
        "status": "menunggu_tindak_lanjut",
        "verified_at": DISPOSED - timedelta(minutes=10),
        "disposed_at": DISPOSED,
        "first_response_at": None,
        "closed_at": None,
        "rating": None,
        "is_anonymous": False,
        "is_confidential": False,
        "reporter_name": "Siti Pelapor",
        "title": "Antrean IGD lama",
        "body": "Antrean di IGD sangat lama.",
    }
    base.update(fields)
    return base


def frame_of(*records: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(records))
    for col in ("submitted_at", "verified_at", "disposed_at", "first_response_at", "closed_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[us, UTC]")
    frame["rating"] = pd.to_numeric(frame["rating"]).astype("float64")
    return frame


def write(store: Store, *records: dict, source: str = "test", observed_at: datetime | None = None):
    source_id = store.ensure_source(source, "canonical")
    run_id = store.start_run(source_id, "import")
    return store.write_complaints(
        source_id, frame_of(*records), run_id=run_id, observed_at=observed_at or datetime.now(UTC)
    )


def stored(store: Store, tracking_id: str = "1001") -> dict:
    rows = store.execute(select(schema.complaints).where(C.tracking_id == tracking_id)).dicts()
    assert len(rows) == 1
    return rows[0]


def count(store: Store, table) -> int:  # noqa: ANN001
    return store.execute(select(func.count()).select_from(table)).scalar()


# --- writing ----------------------------------------------------------------------------
def test_insert_stores_the_canonical_record(store):
    result = write(store, record())
    assert (result.stored, result.inserted, result.updated, result.history_added) == (1, 1, 0, 1)
    row = stored(store)
    assert row["opd"] == "Dinas Kesehatan" and row["status"] == "menunggu_tindak_lanjut"
    assert row["disposed_at"] == DISPOSED.astimezone(UTC)
    assert row["disposed_at"].tzinfo is not None
    assert row["first_response_at"] is None and row["rating"] is None
    assert row["region_code"] == store.settings.region_code
    history = store.execute(select(schema.status_history.c.complaint_id, schema.status_history.c.status)).rows
    assert history == [(row["id"], "menunggu_tindak_lanjut")]


def test_instants_are_stored_as_utc_microseconds(store):
    write(store, record())
    raw = store.execute(text("SELECT disposed_at FROM complaints")).scalar()
    assert isinstance(raw, int)
    assert raw == int(DISPOSED.timestamp()) * 1_000_000


def test_upsert_of_the_same_source_and_tracking_id_twice_leaves_one_row(store):
    write(store, record(title="Pertama"))
    again = write(store, record(title="Kedua"))
    assert (again.inserted, again.updated) == (0, 1)
    assert count(store, schema.complaints) == 1
    assert stored(store)["title"] == "Kedua"


def test_every_new_complaint_of_a_large_batch_gets_its_own_history_row(store):
    # More rows than one insert chunk (5,000), so ids are looked up across chunks.
    frame = generate_frame(6_500, 1, date(2026, 1, 31), store.settings)
    source_id = store.ensure_source("big", "canonical")
    result = store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC))
    assert (result.inserted, result.history_added) == (6_500, 6_500)
    joined = store.frame(
        select(C.tracking_id, C.status, schema.status_history.c.status.label("history_status")).join(
            schema.status_history, schema.status_history.c.complaint_id == C.id
        )
    )
    assert len(joined) == 6_500 and joined["tracking_id"].is_unique
    assert (joined["status"] == joined["history_status"]).all()


def test_a_batch_of_new_and_known_complaints_links_each_history_row_to_its_complaint(store):
    write(store, record("1"), record("2", status="proses"))
    closed = DISPOSED + timedelta(days=2)
    result = write(store, record("2", status="selesai", closed_at=closed), record("3"), record("1"))
    assert (result.inserted, result.updated, result.history_added) == (1, 2, 2)
    H = schema.status_history
    history = store.execute(
        select(C.tracking_id, H.c.status).join(schema.complaints, C.id == H.c.complaint_id).order_by(C.tracking_id, H.c.id)
    ).rows
    assert history == [
        ("1", "menunggu_tindak_lanjut"), ("2", "proses"), ("2", "selesai"), ("3", "menunggu_tindak_lanjut"),
    ]
    assert stored(store, "2")["closed_at"] == closed.astimezone(UTC)


def test_two_writers_at_once_both_land_whole(db_url):
    """A sync and an import writing at the same time: each batch waits for the other's commit
    (the ids a batch takes are read under its write lock), none fails and none mixes."""
    store = make_store(db_url)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for k in range(5):
                write(store, *[record(f"{name}-{k}-{i}") for i in range(400)], source=name)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("sync", "impor")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(store, schema.complaints) == 2 * 5 * 400
    H = schema.status_history
    linked = store.execute(
        select(func.count()).select_from(H.join(schema.complaints, C.id == H.c.complaint_id)).where(H.c.source_id == C.source_id)
    ).scalar()
    assert linked == count(store, H) == 2 * 5 * 400
    store.dispose()


def test_same_tracking_id_in_another_source_is_another_complaint(store):
    write(store, record(), source="a")
    write(store, record(), source="b")
    assert count(store, schema.complaints) == 2


def test_duplicate_tracking_ids_in_one_batch_keep_the_last(store):
    result = write(store, record(title="lama"), record(title="baru"))
    assert result.stored == 1
    assert stored(store)["title"] == "baru"


def test_a_status_change_adds_a_history_row(store):
    first_seen = datetime(2025, 12, 20, 1, 0, tzinfo=UTC)
    later = datetime(2025, 12, 23, 1, 0, tzinfo=UTC)
    write(store, record(), observed_at=first_seen)
    result = write(
        store,
        record(status="proses", first_response_at=local(2025, 12, 22, 10)),
        observed_at=later,
    )
    assert result.history_added == 1
    history = store.execute(
        select(schema.status_history.c.status, schema.status_history.c.observed_at).order_by(
            schema.status_history.c.observed_at
        )
    ).rows
    assert history == [("menunggu_tindak_lanjut", first_seen), ("proses", later)]


def test_the_same_status_again_adds_no_history_row(store):
    write(store, record())
    result = write(store, record(title="diperbarui"))
    assert result.history_added == 0
    assert count(store, schema.status_history) == 1


def test_writing_bumps_the_data_version(store):
    before = store.data_version()
    write(store, record())
    assert store.data_version() != before


# --- schema -----------------------------------------------------------------------------
def test_the_schema_head_constant_is_alembics_head():
    """Store.open skips Alembic when the database is at SCHEMA_HEAD: a new migration must move it."""
    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == SCHEMA_HEAD


def test_migration_from_an_empty_database_reaches_head_with_all_tables(db_url):
    fresh = make_store(db_url)
    try:
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        with fresh.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        tables = set(inspect(fresh.engine).get_table_names())
        assert set(schema.metadata.tables) <= tables
        assert "alembic_version" in tables
    finally:
        fresh.dispose()


def test_opening_an_up_to_date_database_again_keeps_its_data(db_url):
    first = make_store(db_url)
    write(first, record())
    first.dispose()
    second = make_store(db_url)
    try:
        assert count(second, schema.complaints) == 1
    finally:
        second.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_store):
    assert sqlite_store.execute("PRAGMA journal_mode").scalar().lower() == "wal"


# --- derived columns --------------------------------------------------------------------
def test_derived_deadlines_match_the_calendar(store):
    write(store, record())
    row = stored(store)
    cal = calendar_for(store.settings.kpi)
    assert row["response_deadline"] == cal.deadline(DISPOSED, 5) == end_of(date(2025, 12, 30))
    assert row["completion_deadline"] == cal.deadline(DISPOSED, 14)
    assert row["verification_deadline"] == cal.deadline(local(2025, 12, 18, 9, 30), 3)


@pytest.mark.parametrize(
    ("classification", "days"),
    [("pengaduan", 14), ("aspirasi", 5), ("permintaan_informasi", 5), ("pengawasan", 60), (None, 14)],
)
def test_completion_deadline_follows_the_classification(store, classification, days):
    write(store, record(classification=classification))
    cal = calendar_for(store.settings.kpi)
    assert stored(store)["completion_deadline"] == cal.deadline(DISPOSED, days)


def test_submitted_date_is_the_local_date(store):
    # 23:30 UTC on the 17th is 07:30 WITA on the 18th.
    write(store, record(submitted_at=datetime(2025, 12, 17, 23, 30, tzinfo=UTC)))
    assert stored(store)["submitted_date"] == date(2025, 12, 18)


def test_response_at_is_the_first_response_else_the_closure(store):
    responded = local(2025, 12, 22, 10)
    closed = local(2025, 12, 24, 11)
    write(
        store,
        record("1", status="selesai", first_response_at=responded, closed_at=closed),
        record("2", status="selesai", closed_at=closed),
        record("3"),
    )
    assert stored(store, "1")["response_at"] == responded.astimezone(UTC)
    assert stored(store, "2")["response_at"] == closed.astimezone(UTC)
    assert stored(store, "3")["response_at"] is None


def test_deadlines_are_recomputed_when_the_calendar_settings_change(db_url):
    first = make_store(db_url)
    write(first, record())
    assert stored(first)["response_deadline"] == end_of(date(2025, 12, 30))
    first.dispose()
    # A regional holiday on Monday 22 December pushes the 5th working day to Wednesday 31.
    settings = with_kpi(load_settings(db_url=db_url), extra_non_working_dates=(date(2025, 12, 22),))
    second = make_store(db_url, settings)
    try:
        row = stored(second)
        assert row["response_deadline"] == end_of(date(2025, 12, 31))
        assert row["response_deadline"] == calendar_for(settings.kpi).deadline(DISPOSED, 5)
        assert second.meta_get("calendar_fingerprint") == settings.kpi.calendar_fingerprint()
    finally:
        second.dispose()
    # Back to the default calendar, and a changed response deadline (3 working days).
    third = make_store(db_url, with_kpi(load_settings(db_url=db_url), response_days=3))
    try:
        assert stored(third)["response_deadline"] == end_of(date(2025, 12, 24))
    finally:
        third.dispose()


def test_reference_opds_and_aliases_resolve_spellings(store):
    store.add_opd("Dinas Pekerjaan Umum dan Penataan Ruang", "Dinas PUPR")
    store.add_alias("Dinas PUPR", "Dinas Pekerjaan Umum dan Penataan Ruang")
    write(store, record(opd="dinas  PUPR."))
    row = stored(store)
    assert row["opd"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert row["opd_raw"] == "dinas  PUPR."
