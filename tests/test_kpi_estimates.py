"""KPI.md "Times that are only estimates" and source-stated deadlines, one test per rule.

Every test runs on a SQLite file and on PostgreSQL (`db_url`), and the figure tests on both
engine backends (the columnar copy and the SQL GROUP BY).
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from conftest import SAMPLES, make_store
from test_kpi_reference import load, wita

from core.settings import KpiSettings, load_settings, with_kpi
from data_sources import schema
from data_sources.importer import import_file
from metrics.filters import Filters
from metrics.kpi import KPI_COLUMNS, admin_figures, opd_table
from metrics.text_format import estimate_note, unknown_times_note

DECEMBER = (date(2025, 12, 1), date(2025, 12, 31))
LATE_JANUARY = wita("2026-01-31T12:00:00")
DISPOSED = wita("2025-12-19T15:00:00")  # Fri; response deadline end of Tue 30 Dec, completion 13 Jan
# Lower bounds of an estimated disposed_at: Thu 18 Dec is 1 working day before (known),
# Wed 17 Dec 2 working days (more than max_estimate_working_days = 1: unknown).
KNOWN_BOUND = wita("2025-12-18T16:00:00")
UNKNOWN_BOUND = wita("2025-12-17T16:00:00")

DAY1 = SAMPLES / "lapor_export_2026-01-15.xlsx"
DAY2 = SAMPLES / "lapor_export_2026-01-16.xlsx"
SNAP1 = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # 15-01-2026 10:00 WITA
SNAP2 = datetime(2026, 1, 16, 2, 0, tzinfo=UTC)
SAMPLE_PERIOD = (date(2025, 11, 1), date(2026, 1, 31))
SAMPLE_AS_OF = wita("2026-01-16T12:00:00")


@pytest.fixture(params=["frame", "sql"])
def backend(request) -> str:
    return request.param


def complaint(tracking_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "tracking_id": tracking_id,
        "submitted_at": wita("2025-12-16T09:00:00"),
        "status": "proses",
        "opd": "Dinas PUPR",
        "classification": "pengaduan",
        "disposed_at": DISPOSED,
        "first_response_at": None,
        "closed_at": None,
    }
    record.update(fields)
    return record


def table(store, backend: str, as_of: datetime = LATE_JANUARY, period=DECEMBER) -> pd.DataFrame:
    return opd_table(store, Filters(period[0], period[1], as_of), backend=backend).set_index("opd")


def is_null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def store_with(db_url: str, **kpi: Any):
    return make_store(db_url, with_kpi(load_settings(db_url=db_url), **kpi))


# --- KPI.md "Times that are only estimates" ---------------------------------------------------
def test_response_time_with_precision_over_max_is_unknown_and_out_of_kecepatan(store, backend):
    load(store, [
        complaint("exact", first_response_at=wita("2025-12-22T10:00:00")),
        # Answered late, but its disposition is only known to within 2 working days.
        complaint("coarse", disposed_lower_at=UNKNOWN_BOUND, first_response_at=wita("2026-01-05T10:00:00")),
        # The follow-up itself is the coarse estimate.
        complaint("coarse-response", first_response_at=wita("2026-01-06T10:00:00"),
                  first_response_lower_at=wita("2026-01-01T10:00:00")),
    ])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["response_time_unknown"], row["responded_on_time"]) == (3, 2, 1)
    assert row["response_on_time_pct"] == pytest.approx(100.0)  # 1 / (3 - 2 + 0)
    assert row["median_response_hours"] == pytest.approx(67.0)  # the exact one alone
    assert list(row.index[:6]) == KPI_COLUMNS[:6]


def test_response_time_within_max_precision_is_known(store, backend):
    load(store, [complaint("fine", disposed_lower_at=KNOWN_BOUND,
                           first_response_at=wita("2026-01-05T10:00:00"))])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["response_time_unknown"], row["responded_on_time"]) == (0, 0)
    assert row["response_on_time_pct"] == pytest.approx(0.0)  # late, and known to be


def test_opd_with_every_response_time_unknown_has_empty_kecepatan(store, backend):
    load(store, [
        complaint("a", disposed_lower_at=UNKNOWN_BOUND, first_response_at=wita("2025-12-22T10:00:00")),
        complaint("b", disposed_lower_at=UNKNOWN_BOUND, closed_at=wita("2025-12-23T10:00:00"),
                  status="selesai"),
        complaint("other", opd="Dinas Sosial", first_response_at=wita("2025-12-22T10:00:00")),
    ])
    result = table(store, backend)
    row = result.loc["Dinas PUPR"]
    assert (row["responded"], row["response_time_unknown"]) == (2, 2)
    assert is_null(row["response_on_time_pct"]) and is_null(row["median_response_hours"])
    assert row["completion_pct"] == pytest.approx(50.0)  # Tuntas still counts it
    total = result.loc["TOTAL"]
    assert (total["response_time_unknown"], total["completion_time_unknown"]) == (2, 1)
    assert total["response_on_time_pct"] == pytest.approx(100.0)  # Dinas Sosial's only


def test_response_time_uses_the_closure_estimate_when_the_closure_is_the_response(store, backend):
    load(store, [complaint("closed", status="selesai", closed_at=wita("2025-12-22T10:00:00"),
                           closed_lower_at=wita("2025-12-16T10:00:00"))])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["response_time_unknown"], row["responded_on_time"]) == (1, 1, 0)
    assert (row["completed"], row["completion_time_unknown"], row["completed_on_time"]) == (1, 1, 0)


def test_completion_time_unknown_is_left_out_of_completed_on_time(store, backend):
    load(store, [
        complaint("coarse", status="selesai", first_response_at=wita("2025-12-22T10:00:00"),
                  closed_at=wita("2025-12-24T10:00:00"), closed_lower_at=wita("2025-12-19T16:00:00")),
        complaint("exact", status="selesai", first_response_at=wita("2025-12-22T10:00:00"),
                  closed_at=wita("2025-12-24T10:00:00")),
    ])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["completed"], row["completion_time_unknown"], row["completed_on_time"]) == (2, 1, 1)
    assert (row["response_time_unknown"], row["responded_on_time"]) == (0, 2)  # response is known
    assert row["completion_pct"] == pytest.approx(100.0)


def test_estimated_times_still_count_as_happened_for_tuntas_open_and_overdue(store, backend):
    load(store, [
        complaint("late-unknown", disposed_lower_at=UNKNOWN_BOUND),  # no response by 30 Dec
        complaint("done-unknown", status="selesai", disposed_lower_at=UNKNOWN_BOUND,
                  closed_at=wita("2025-12-22T10:00:00")),
    ])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["received"], row["completed"], row["open"], row["overdue"]) == (2, 1, 1, 1)
    assert row["response_overdue_open"] == 1
    assert row["response_on_time_pct"] == pytest.approx(0.0)  # 0 / (1 - 1 + 1)


def test_admin_verified_on_time_leaves_out_unknown_disposed_at(store, backend):
    submitted = wita("2025-12-18T09:00:00")  # verification deadline: end of Tue 23 Dec
    load(store, [
        complaint("on-time", submitted_at=submitted, disposed_at=wita("2025-12-19T10:00:00")),
        # Disposed late as stored, but only known to lie after its submission (5 working days).
        complaint("unknown", submitted_at=submitted, disposed_at=wita("2025-12-29T10:00:00"),
                  disposed_lower_at=submitted),
        complaint("late-known", submitted_at=submitted, disposed_at=wita("2025-12-29T10:00:00"),
                  disposed_lower_at=wita("2025-12-24T10:00:00")),
    ])
    figures = admin_figures(store, Filters(*DECEMBER, LATE_JANUARY), backend=backend)
    assert figures["verified_on_time_pct"] == pytest.approx(50.0)  # 1 of the 2 known


def test_changing_max_estimate_working_days_recomputes_the_stored_flags(db_url, backend):
    first = make_store(db_url)
    load(first, [complaint("a", disposed_lower_at=UNKNOWN_BOUND,
                           first_response_at=wita("2025-12-22T10:00:00"))])
    assert table(first, backend).loc["Dinas PUPR", "response_time_unknown"] == 1
    first.dispose()
    wider = store_with(db_url, max_estimate_working_days=2)
    try:
        row = table(wider, backend).loc["Dinas PUPR"]
        assert (row["response_time_unknown"], row["responded_on_time"]) == (0, 1)
        stored = wider.execute("SELECT estimate_precision_days, disposed_time_unknown FROM complaints").first()
        assert (stored[0], bool(stored[1])) == (2, False)
    finally:
        wider.dispose()


# --- deadlines the source states, and per category ----------------------------------------
def test_source_completion_due_at_wins_as_an_instant(store, backend):
    due = wita("2025-12-22T09:00:00")  # the computed deadline would be the end of 13 Jan
    load(store, [
        complaint("late-by-an-hour", status="selesai", first_response_at=wita("2025-12-20T10:00:00"),
                  closed_at=wita("2025-12-22T10:00:00"), completion_due_at=due),
        complaint("exactly-at-due", status="selesai", first_response_at=wita("2025-12-20T10:00:00"),
                  closed_at=due, completion_due_at=due),
        complaint("later-promise", status="selesai", first_response_at=wita("2025-12-20T10:00:00"),
                  closed_at=wita("2026-01-20T10:00:00"), completion_due_at=wita("2026-01-25T00:00:00")),
        complaint("open-past-due", completion_due_at=due, first_response_at=wita("2025-12-20T10:00:00")),
    ])
    row = table(store, backend).loc["Dinas PUPR"]
    assert (row["completed"], row["completed_on_time"]) == (3, 2)
    assert row["overdue"] == 1  # open, and its own promise is past (the computed one is not yet)
    assert row["overdue"] == table(store, backend, as_of=wita("2025-12-23T12:00:00")).loc["Dinas PUPR", "overdue"]


def test_source_response_due_at_wins_as_an_instant(store, backend):
    due = wita("2025-12-20T12:00:00")
    load(store, [
        complaint("late", first_response_at=wita("2025-12-20T12:00:01"), response_due_at=due),
        complaint("at-due", first_response_at=due, response_due_at=due),
        complaint("waiting", response_due_at=due),
    ])
    row = table(store, backend, as_of=wita("2025-12-22T08:00:00")).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"], row["response_overdue_open"]) == (2, 1, 1)
    assert row["response_on_time_pct"] == pytest.approx(100 / 3)


def test_category_completion_days_win_over_classification(db_url, backend):
    store = store_with(db_url, completion_days_by_category=(("Jalan", 2),))
    try:
        closed = wita("2025-12-24T10:00:00")  # aspirasi: 5 working days, end of 30 Dec
        load(store, [
            complaint("road", category="Jalan", classification="aspirasi", status="selesai",
                      first_response_at=closed, closed_at=closed),  # Jalan: 2 days, end of 23 Dec
            complaint("water", category="Air", classification="aspirasi", status="selesai",
                      first_response_at=closed, closed_at=closed),
            complaint("road-promise", category="Jalan", status="selesai", first_response_at=closed,
                      closed_at=closed, completion_due_at=wita("2025-12-24T12:00:00")),
        ])
        row = table(store, backend).loc["Dinas PUPR"]
        assert (row["completed"], row["completed_on_time"]) == (3, 2)
        deadline = store.execute(
            "SELECT completion_deadline FROM complaints WHERE tracking_id = 'road'").scalar()
        assert schema.from_micros(deadline) == wita("2025-12-23T23:59:59.999999")
    finally:
        store.dispose()


def test_changing_completion_days_by_category_recomputes_stored_deadlines(db_url):
    first = make_store(db_url)
    load(first, [complaint("road", category="Jalan")])
    before = first.execute("SELECT completion_deadline FROM complaints").scalar()
    first.dispose()
    store = store_with(db_url, completion_days_by_category=(("Jalan", 2),))
    try:
        after = store.execute("SELECT completion_deadline FROM complaints").scalar()
        assert schema.from_micros(before) == wita("2026-01-13T23:59:59.999999")  # pengaduan: 14
        assert schema.from_micros(after) == wita("2025-12-23T23:59:59.999999")
    finally:
        store.dispose()


def test_canonical_csv_due_columns_are_read_and_stored(store, tmp_path):
    path = tmp_path / "aduan.csv"
    path.write_text(
        "tracking_id,submitted_at,status,opd,disposed_at,response_due_at,completion_due_at\n"
        "C-1,2025-12-16 09:00,proses,Dinas PUPR,2025-12-19 15:00,2025-12-20T12:00:00+08:00,2025-12-31 17:00\n",
        encoding="utf-8",
    )
    report = import_file(store, path)
    assert (report.rows_stored, report.rows_quarantined) == (1, 0)
    row = store.execute(
        "SELECT response_due_at, completion_due_at, response_deadline, completion_deadline "
        "FROM complaints").first()
    assert schema.from_micros(row[0]) == schema.from_micros(row[2]) == wita("2025-12-20T12:00:00")
    assert schema.from_micros(row[1]) == schema.from_micros(row[3]) == wita("2025-12-31T17:00:00")


def test_a_source_frame_with_completion_due_at_is_stored_as_the_deadline(store):
    """Any source's canonical frame may carry completion_due_at (Open311 expected_datetime)."""
    source_id = store.ensure_source("open311-test", "open311")
    frame = pd.DataFrame([{
        "tracking_id": "26-00001", "submitted_at": datetime(2026, 1, 5, 15, 0, tzinfo=UTC),
        "status": "proses", "opd": "Streets", "disposed_at": datetime(2026, 1, 5, 15, 0, tzinfo=UTC),
        "completion_due_at": datetime(2026, 1, 7, 15, 0, tzinfo=UTC),
    }])
    store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC))
    deadline = store.execute("SELECT completion_deadline FROM complaints").scalar()
    assert schema.from_micros(deadline) == datetime(2026, 1, 7, 15, 0, tzinfo=UTC)


# --- the LAPOR! sample exports ---------------------------------------------------------------
def wipe(store) -> None:
    with store.engine.begin() as conn:
        for name in ("status_history", "quarantine", "complaints", "runs", "sources"):
            conn.exec_driver_sql(f"DELETE FROM {name}")
        store.meta_set("data_version", f"wiped-{datetime.now(UTC).isoformat()}", conn)


STAGE_COLUMNS = (
    "tracking_id, status, disposed_at, first_response_at, closed_at, disposed_lower_at, "
    "first_response_lower_at, closed_lower_at, estimate_precision_days, disposed_time_unknown, "
    "first_response_time_unknown, closed_time_unknown, times_estimated, response_deadline, "
    "completion_deadline"
)


def snapshot_state(store) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[tuple]]:
    stored = store.frame(f"SELECT {STAGE_COLUMNS} FROM complaints ORDER BY tracking_id")
    for name in ("disposed_time_unknown", "first_response_time_unknown", "closed_time_unknown",
                 "times_estimated"):
        stored[name] = stored[name].astype(bool)
    filters = Filters(*SAMPLE_PERIOD, SAMPLE_AS_OF)
    tables = {b: opd_table(store, filters, backend=b) for b in ("frame", "sql")}
    history = sorted(store.execute(
        "SELECT c.tracking_id, h.status, h.observed_at, COALESCE(h.last_observed_at, h.observed_at) "
        "FROM status_history h JOIN complaints c ON c.id = h.complaint_id").rows)
    return stored, tables, history


def test_sample_exports_imported_in_either_order_give_the_same_report(store):
    for path in (DAY1, DAY2):
        import_file(store, path)
    in_order = snapshot_state(store)
    wipe(store)
    for path in (DAY2, DAY1):
        import_file(store, path)
    reverse = snapshot_state(store)
    pd.testing.assert_frame_equal(in_order[0], reverse[0])
    for backend in ("frame", "sql"):
        pd.testing.assert_frame_equal(in_order[1][backend], reverse[1][backend])
    pd.testing.assert_frame_equal(in_order[1]["frame"], in_order[1]["sql"])
    assert in_order[2] == reverse[2]


def test_complaints_past_a_stage_in_the_first_export_count_as_unknown_not_on_time(store):
    import_file(store, DAY1)
    filters = Filters(*SAMPLE_PERIOD, SNAP1 + timedelta(hours=2))
    for backend in ("frame", "sql"):
        result = opd_table(store, filters, backend=backend).set_index("opd")
        total = result.loc["TOTAL"]
        assert total["responded"] > 0
        assert total["response_time_unknown"] == total["responded"]
        assert total["completion_time_unknown"] == total["completed"] > 0
        assert (total["responded_on_time"], total["completed_on_time"]) == (0, 0)
        assert is_null(total["median_response_hours"])
        # An honest empty, never a false 100%: no OPD has a Kecepatan from the first export.
        late = result["response_overdue_open"] > 0
        assert result.loc[~late, "response_on_time_pct"].isna().all()
        assert (result.loc[late, "response_on_time_pct"] == 0).all()


def test_complaints_that_moved_between_the_exports_have_known_estimated_times(store):
    import_file(store, DAY1)
    import_file(store, DAY2)
    moved = store.frame(
        "SELECT disposed_at, disposed_lower_at, estimate_precision_days, disposed_time_unknown "
        "FROM complaints WHERE tracking_id = '6100074'").iloc[0]
    assert schema.from_micros(moved["disposed_at"]) == SNAP2
    assert schema.from_micros(moved["disposed_lower_at"]) == SNAP1
    # working_days_between(15 Jan, 16 Jan): 16 Jan 2026 is Isra Mi'raj, a public holiday, so 0.
    expected = store.calendar.working_days_between(SNAP1, SNAP2)
    assert moved["estimate_precision_days"] == expected <= 1
    assert not bool(moved["disposed_time_unknown"])
    answered = store.frame(
        "SELECT first_response_at, first_response_lower_at, first_response_time_unknown, "
        "disposed_time_unknown FROM complaints WHERE tracking_id = '6100185'").iloc[0]
    assert (schema.from_micros(answered["first_response_at"]),
            schema.from_micros(answered["first_response_lower_at"])) == (SNAP2, SNAP1)
    assert not bool(answered["first_response_time_unknown"])
    assert bool(answered["disposed_time_unknown"])  # disposed before the first export
    admin = admin_figures(store, Filters(*SAMPLE_PERIOD, SAMPLE_AS_OF))
    assert admin["verified_on_time_pct"] is not None  # the complaints disposed between the two


# --- a 311 export with its own due dates, through a mapping file --------------------------
CHICAGO = ZoneInfo("America/Chicago")
FORMAT_311 = "%m/%d/%Y %I:%M:%S %p"
AGENCIES = ["Streets and Sanitation", "Transportation", "Water Management", "Buildings"]
MAPPING_311 = """
timezone = "America/Chicago"
date_format = "%m/%d/%Y %I:%M:%S %p"
[columns]
tracking_id = "SR Number"
submitted_at = "Created Date"
opd = "Owner Department"
category = "SR Type"
status = "Status"
closed_at = "Closed Date"
completion_due_at = "Due Date"
[status]
"Completed" = "selesai"
"Open" = "proses"
"Canceled" = "arsip"
[defaults]
disposed_at = "submitted_at"
"""


def write_311(path, n: int = 120, seed: int = 311) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 8, 0, tzinfo=CHICAGO)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["SR Number", "SR Type", "Owner Department", "Status", "Created Date",
                      "Closed Date", "Due Date"])
        for i in range(n):
            created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
            due = created + timedelta(hours=rng.choice([24, 48, 72, 168]))
            status = rng.choices(["Completed", "Open", "Canceled"], [8, 2, 1])[0]
            closed = ""
            if status != "Open":
                kind = rng.random()
                if kind < 0.15:
                    when = due  # exactly at the promise: on time
                elif kind < 0.3:
                    when = due + timedelta(seconds=1)  # one second late
                else:
                    when = created + timedelta(hours=rng.expovariate(1 / 60))
                closed = when.strftime(FORMAT_311)
            out.writerow([f"SR26-{i:06d}", rng.choice(["Pothole", "Graffiti", "Water Leak"]),
                          rng.choice(AGENCIES), status, created.strftime(FORMAT_311), closed,
                          due.strftime(FORMAT_311)])


def test_mapped_311_export_is_judged_by_its_own_due_dates(store, tmp_path, backend):
    csv_path = tmp_path / "chicago_311.csv"
    mapping_path = tmp_path / "chicago_311.toml"
    write_311(csv_path)
    mapping_path.write_text(MAPPING_311, encoding="utf-8")
    report = import_file(store, csv_path, mapping=mapping_path)
    assert (report.rows_read, report.rows_quarantined) == (120, 0)

    # The independent count: plain Python over the CSV, closures at or before the due date.
    expected: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    with csv_path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Status"] != "Completed":
                continue
            closed = datetime.strptime(row["Closed Date"], FORMAT_311).replace(tzinfo=CHICAGO)
            due = datetime.strptime(row["Due Date"], FORMAT_311).replace(tzinfo=CHICAGO)
            completed[row["Owner Department"]] += 1
            expected[row["Owner Department"]] += closed <= due
    result = table(store, backend, as_of=datetime(2026, 3, 1, tzinfo=UTC),
                   period=(date(2026, 1, 1), date(2026, 1, 31))).drop(index="TOTAL")
    assert set(result.index) == set(AGENCIES)
    for agency in AGENCIES:
        assert result.loc[agency, "completed"] == completed[agency]
        assert result.loc[agency, "completed_on_time"] == expected[agency], agency
    assert 0 < sum(expected.values()) < sum(completed.values())


# --- the words screens use -------------------------------------------------------------------
def test_unknown_times_note_says_how_many_complaints_were_left_out():
    assert unknown_times_note(12, 0) == "12 aduan tanpa waktu tanggapan yang dapat diketahui"
    assert unknown_times_note(0, 1234) == "1.234 aduan tanpa waktu penyelesaian yang dapat diketahui"
    assert unknown_times_note(0, 0) is None
    assert unknown_times_note(None, float("nan")) is None


def test_estimate_note_gives_the_precision_in_working_days():
    assert estimate_note(1) == "perkiraan, ketelitian 1 hari kerja"
    assert estimate_note(3) == "perkiraan, ketelitian 3 hari kerja"
    assert estimate_note(0) == "perkiraan, ketelitian kurang dari 1 hari kerja"


def test_report_columns_are_kpi_md_figures_table_in_order():
    """response_time_unknown and completion_time_unknown sit where KPI.md's table puts them."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "KPI.md").read_text(encoding="utf-8")
    section = text.split("## The figures, per OPD", 1)[1].split("\n## ", 1)[0]
    names = [line.split("|")[1].strip().split()[0].strip("`") for line in section.splitlines()
             if line.startswith("| `")]
    assert names == KPI_COLUMNS


def test_migration_0004_bounds_existing_estimates_from_their_history(db_url):
    """A store made before 0004 holds estimated times without lower bounds: the upgrade takes
    the start of the history row before each stage's (never later than the true bound), and the
    store then marks the too-coarse ones unknown."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from data_sources.schema import to_micros
    from data_sources.store import _alembic_config

    engine = create_engine(db_url)
    cfg = _alembic_config()
    submitted, snap1, snap2 = wita("2026-01-05T09:00:00"), SNAP1, SNAP2
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text(
            "INSERT INTO sources (id, name, kind, is_demo, created_at) "
            "VALUES (1, 'lapor-export', 'lapor-export', false, 0)"))
        values = {"s": to_micros(submitted), "a": to_micros(snap1), "b": to_micros(snap2)}
        conn.execute(text(
            "INSERT INTO complaints (id, source_id, tracking_id, region_code, submitted_at, "
            "submitted_date, status, opd, disposed_at, first_response_at, times_estimated, "
            "redisposition_count, reopen_count, is_anonymous, is_confidential, first_seen_at, "
            "updated_at) VALUES (1, 1, '6100185', '63.07', :s, '2026-01-05', 'proses', 'Dinas', "
            ":a, :b, true, 0, 0, false, false, 0, 0)"), values)
        conn.execute(text(
            "INSERT INTO status_history (complaint_id, source_id, status, observed_at) VALUES "
            "(1, 1, 'menunggu_tindak_lanjut', :a), (1, 1, 'proses', :b)"), values)
    engine.dispose()
    store = make_store(db_url)
    try:
        row = store.frame(
            "SELECT disposed_lower_at, first_response_lower_at, disposed_time_unknown, "
            "first_response_time_unknown FROM complaints").iloc[0]
        assert schema.from_micros(row["disposed_lower_at"]) == submitted
        assert schema.from_micros(row["first_response_lower_at"]) == snap1
        assert (bool(row["disposed_time_unknown"]), bool(row["first_response_time_unknown"])) == (True, False)
    finally:
        store.dispose()


def test_estimate_and_category_settings_are_read_from_the_kpi_table(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[kpi]\nmax_estimate_working_days = 2\n"
        '[kpi.completion_days_by_category]\n"Pekerjaan Umum dan Penataan Ruang" = 20\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    kpi = load_settings().kpi
    assert kpi.max_estimate_working_days == 2
    assert kpi.completion_days_for("aspirasi", "Pekerjaan Umum dan Penataan Ruang") == 20
    assert kpi.completion_days_for("aspirasi", "Kesehatan") == 5
    rows = dict(kpi.as_table())
    assert rows["completion_days_by_category"] == "Pekerjaan Umum dan Penataan Ruang=20"
    assert rows["max_estimate_working_days"] == "2"
    assert kpi.calendar_fingerprint() != KpiSettings().calendar_fingerprint()


# --- snapshots in any order: the derived times equal DATA.md read plainly ------------------
RANK = {"menunggu_verifikasi": 0, "menunggu_tindak_lanjut": 1, "proses": 2, "selesai": 3, "arsip": -1}
STAGES = (("disposed_at", 1), ("first_response_at", 2), ("closed_at", 3))


def random_snapshots(seed: int, complaints: int = 25, snapshots: int = 4) -> list[tuple[datetime, list[dict]]]:
    """Daily snapshots; statuses mostly move forward, sometimes back (a reopened complaint),
    and a complaint is sometimes missing from a snapshot."""
    rng = random.Random(seed)
    times = [wita("2026-02-02T10:00:00") + timedelta(days=i) for i in range(snapshots)]
    order = list(RANK)
    shots: list[tuple[datetime, list[dict]]] = [(t, []) for t in times]
    for i in range(complaints):
        level = rng.randrange(0, 4)
        for t, rows in shots:
            if rng.random() < 0.15:
                continue
            if rng.random() < 0.1:
                status = rng.choice(order)
            else:
                level = min(3, level + rng.choice([0, 0, 1, 2]))
                status = order[level]
            rows.append({"tracking_id": f"S{i}", "submitted_at": wita("2026-01-30T08:00:00"),
                         "status": status, "opd": "Dinas PUPR", "category": f"k{t.day}"})
    return shots


def plain_derivation(shots) -> dict[str, dict[str, Any]]:
    """DATA.md: the first snapshot showing a stage dates it; its lower bound is the last earlier
    snapshot showing the complaint, or submitted_at. The record is the latest snapshot's."""
    seen: dict[str, list[tuple[datetime, dict]]] = {}
    for t, rows in shots:
        for row in rows:
            seen.setdefault(row["tracking_id"], []).append((t, row))
    out = {}
    for tid, observations in seen.items():
        observations.sort(key=lambda o: o[0])
        result: dict[str, Any] = {"status": observations[-1][1]["status"],
                                  "category": observations[-1][1]["category"]}
        for stage, rank in STAGES:
            result[stage] = result[stage + "_lower"] = None
            for i, (t, row) in enumerate(observations):
                if RANK[row["status"]] >= rank:
                    result[stage] = t
                    result[stage + "_lower"] = observations[i - 1][0] if i else row["submitted_at"]
                    break
        out[tid] = result
    return out


def stored_derivation(store) -> dict[str, dict[str, Any]]:
    rows = store.frame(
        "SELECT tracking_id, status, category, disposed_at, disposed_lower_at, first_response_at, "
        "first_response_lower_at, closed_at, closed_lower_at FROM complaints").to_dict("records")
    out = {}
    for r in rows:
        result: dict[str, Any] = {"status": r["status"], "category": r["category"]}
        for stage, _ in STAGES:
            for name in (stage, stage.replace("_at", "_lower_at")):
                value = r[name]
                key = stage + "_lower" if "lower" in name else stage
                result[key] = None if value is None or pd.isna(value) else schema.from_micros(int(value))
        out[r["tracking_id"]] = result
    return out


def test_snapshots_in_any_order_give_the_times_of_the_observation_order(store):
    shots = random_snapshots(seed=20260202)
    expected = plain_derivation(shots)
    rng = random.Random(1)
    orders = [list(range(len(shots))), list(reversed(range(len(shots))))]
    orders += [rng.sample(range(len(shots)), len(shots)) for _ in range(4)]
    histories = []
    for order in orders:
        wipe(store)
        source_id = store.ensure_source("lapor-export", "lapor-export")
        for index in order:
            t, rows = shots[index]
            store.write_complaints(source_id, pd.DataFrame(rows), run_id=None, observed_at=t,
                                   estimate_stage_times=True)
        assert stored_derivation(store) == expected, order
        histories.append(sorted(store.execute(
            "SELECT c.tracking_id, h.status, h.observed_at, h.last_observed_at "
            "FROM status_history h JOIN complaints c ON c.id = h.complaint_id").rows))
    assert all(h == histories[0] for h in histories)
