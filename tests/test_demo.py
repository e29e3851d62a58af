"""The demo generator: deterministic, every row obeys DATA.md, OPD profiles visible, loads idempotently."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from core.calendar import calendar_for
from core.settings import CHANNELS, CLASSIFICATIONS, STATUSES, load_settings
from data_sources import schema
from data_sources.demo import (
    DEMO_OPDS,
    KECAMATAN,
    TRICKY_TITLES,
    demo_opd,
    generate_frame,
    load_demo,
)
from data_sources.store import alias_key

ROOT = Path(__file__).resolve().parent.parent
UNTIL = date(2026, 1, 31)
WITA = ZoneInfo("Asia/Makassar")
INSTANTS = ["submitted_at", "verified_at", "disposed_at", "first_response_at", "closed_at"]
HST_KECAMATAN = {
    "Haruyan",
    "Batu Benawa",
    "Labuan Amas Selatan",
    "Labuan Amas Utara",
    "Pandawan",
    "Barabai",
    "Batang Alai Selatan",
    "Batang Alai Utara",
    "Hantakan",
    "Batang Alai Timur",
    "Limpasu",
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_frame(30_000, 42, UNTIL, load_settings())


def end_of_until() -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(UNTIL, time(23, 59, 59, 999999), tzinfo=WITA)).tz_convert("UTC")


def response_hours(rows: pd.DataFrame) -> pd.Series:
    response_at = rows["first_response_at"].where(rows["first_response_at"].notna(), rows["closed_at"])
    return ((response_at - rows["disposed_at"]).dt.total_seconds() / 3600).dropna()


# --- determinism ------------------------------------------------------------------------
def test_same_seed_gives_identical_data():
    settings = load_settings()
    a = generate_frame(5_000, 7, UNTIL, settings)
    b = generate_frame(5_000, 7, UNTIL, settings)
    pd.testing.assert_frame_equal(a, b)


def test_different_seed_gives_different_data():
    settings = load_settings()
    a = generate_frame(5_000, 7, UNTIL, settings)
    b = generate_frame(5_000, 8, UNTIL, settings)
    assert not a["submitted_at"].equals(b["submitted_at"])
    assert (a["opd"].fillna("") != b["opd"].fillna("")).mean() > 0.5


def test_exactly_n_complaints_are_generated():
    assert len(generate_frame(1, 1, UNTIL)) == 1
    assert len(generate_frame(1_234, 1, UNTIL)) == 1_234
    assert generate_frame(0, 1, UNTIL).empty


# --- DATA.md rules for every row --------------------------------------------------------
def test_tracking_ids_are_unique_digits(frame):
    assert frame["tracking_id"].str.fullmatch(r"\d+").all()
    assert frame["tracking_id"].is_unique


def test_coded_values_are_canonical(frame):
    assert set(frame["status"]) <= set(STATUSES)
    assert set(frame["channel"]) <= set(CHANNELS)
    assert set(frame["classification"]) <= set(CLASSIFICATIONS)
    assert set(frame["kecamatan"]) == HST_KECAMATAN


def test_timestamps_are_aware_utc(frame):
    for col in INSTANTS:
        assert isinstance(frame[col].dtype, pd.DatetimeTZDtype), col
        assert str(frame[col].dt.tz) == "UTC", col
    assert frame["submitted_at"].notna().all()


def test_lifecycle_timestamps_are_in_order_and_never_before_submission(frame):
    previous = frame["submitted_at"]
    for col in ["verified_at", "disposed_at", "first_response_at", "closed_at"]:
        both = frame[col].notna()
        assert (frame.loc[both, col] >= frame.loc[both, "submitted_at"]).all(), col
    ordered = [
        ("submitted_at", "verified_at"),
        ("verified_at", "disposed_at"),
        ("disposed_at", "first_response_at"),
        ("first_response_at", "closed_at"),
        ("disposed_at", "closed_at"),
    ]
    for earlier, later in ordered:
        both = frame[earlier].notna() & frame[later].notna()
        assert (frame.loc[both, later] >= frame.loc[both, earlier]).all(), (earlier, later)
    assert previous.notna().all()


def test_nothing_happens_after_the_end_of_until(frame):
    end = end_of_until()
    for col in INSTANTS:
        assert (frame[col].dropna() <= end).all(), col


def test_history_covers_two_years_ending_at_until_with_growth(frame):
    local = frame["submitted_at"].dt.tz_convert(WITA)
    assert local.min().date() >= date(2024, 2, 1)
    assert local.min().date() <= date(2024, 2, 10)
    assert local.max().date() == UNTIL
    first_year = (local.dt.date < date(2025, 2, 1)).sum()
    assert len(frame) - first_year > 1.15 * first_year


def test_status_matches_the_timestamps_that_are_set(frame):
    s = frame["status"]
    disposed, responded, closed = (
        frame[c].notna() for c in ["disposed_at", "first_response_at", "closed_at"]
    )
    waiting = s == "menunggu_verifikasi"
    assert not (disposed | responded | closed)[waiting].any()
    assert frame.loc[waiting, "opd"].isna().all()
    pending = s == "menunggu_tindak_lanjut"
    assert disposed[pending].all() and not (responded | closed)[pending].any()
    in_process = s == "proses"
    assert (disposed & responded)[in_process].all() and not closed[in_process].any()
    done = s == "selesai"
    assert (disposed & closed)[done].all()
    archived = s == "arsip"
    assert closed[archived].all() and not responded[archived].any()
    assert frame.loc[disposed, "opd"].notna().all()
    assert frame.loc[disposed, "verified_at"].notna().all()


def test_every_status_occurs_and_a_few_percent_are_archived(frame):
    shares = frame["status"].value_counts(normalize=True)
    assert set(shares.index) == set(STATUSES)
    assert 0.01 < shares["arsip"] < 0.06
    assert shares["selesai"] > 0.7


def test_recent_complaints_are_still_open(frame):
    local_day = frame["submitted_at"].dt.tz_convert(WITA).dt.date
    last_week = frame[local_day > date(2026, 1, 24)]
    year_ago = frame[(local_day > date(2025, 1, 1)) & (local_day <= date(2025, 1, 8))]
    assert (last_week["status"] != "selesai").mean() > 0.4
    assert (year_ago["status"] == "selesai").mean() > 0.85


def test_ratings_are_1_to_5_and_only_on_completed_complaints(frame):
    rated = frame["rating"].notna()
    assert frame.loc[rated, "rating"].isin([1, 2, 3, 4, 5]).all()
    assert (frame.loc[rated, "status"] == "selesai").all()
    completed = frame["status"] == "selesai"
    assert 0.2 < rated[completed].mean() < 0.7


def test_counts_are_non_negative_and_mostly_zero(frame):
    for col in ["reopen_count", "redisposition_count"]:
        assert (frame[col] >= 0).all()
        assert (frame[col] == 0).mean() > 0.85
        assert (frame[col] > 0).any()
    assert (frame.loc[frame["reopen_count"] > 0, "status"] == "selesai").all()
    assert frame.loc[frame["redisposition_count"] > 0, "disposed_at"].notna().all()


def test_anonymous_complaints_have_no_reporter_name_and_others_have_one(frame):
    anonymous = frame["is_anonymous"]
    assert 0.05 < anonymous.mean() < 0.25
    assert frame.loc[anonymous, "reporter_name"].isna().all()
    assert frame.loc[~anonymous, "reporter_name"].str.len().gt(3).all()
    assert 0.03 < frame["is_confidential"].mean() < 0.15


def test_titles_and_bodies_are_indonesian_text_per_category(frame):
    assert frame["title"].str.len().gt(3).all() and frame["body"].str.len().gt(20).all()
    roads = frame[frame["category"] == "Pekerjaan Umum dan Penataan Ruang"]
    assert roads["title"].str.contains("Jalan|Jembatan|Drainase|Banjir|Proyek").mean() > 0.95
    assert frame["body"].str.contains("Kecamatan").mean() > 0.95


def test_some_texts_look_like_formulas_or_markup(frame):
    assert frame["title"].str.startswith("=").sum() >= 2
    assert set(TRICKY_TITLES) <= set(frame["title"])
    assert frame["body"].str.startswith("=").any()
    assert frame["title"].str.contains("<script>").any()


# --- when things happen -----------------------------------------------------------------
def test_officers_act_on_working_days_in_office_hours(frame):
    cal = calendar_for(load_settings().kpi)
    for col in ["disposed_at", "first_response_at"]:
        local = frame[col].dropna().dt.tz_convert(WITA)
        on_working_day = np.is_busday(
            local.dt.date.to_numpy().astype("datetime64[D]"), busdaycal=cal._busdaycal
        )
        assert on_working_day.mean() > 0.97, col
        assert local.dt.hour.between(7, 17).mean() > 0.9, col


def test_citizens_submit_on_any_day_and_hour_mostly_office_hours(frame):
    local = frame["submitted_at"].dt.tz_convert(WITA)
    assert (local.dt.day_of_week >= 5).mean() > 0.05
    assert local.dt.hour.nunique() == 24
    office = local.dt.hour.between(8, 15)
    assert office.mean() > 0.45
    assert local.dt.day_of_week.value_counts().idxmax() < 5


def test_channel_mix_is_realistic(frame):
    shares = frame["channel"].value_counts(normalize=True)
    assert shares.index[0] in {"website", "android", "whatsapp"}
    assert shares["email"] < 0.03
    assert len(shares) >= 10


# --- OPD profiles -----------------------------------------------------------------------
def test_demo_opds_have_one_of_each_distinct_profile():
    assert 22 <= len(DEMO_OPDS) <= 30
    profiles = [o.profile for o in DEMO_OPDS]
    for profile in ("fast", "slow", "contested", "tiny"):
        assert profiles.count(profile) == 1
    assert len({o.name for o in DEMO_OPDS}) == len(DEMO_OPDS)
    assert {name for name, _ in KECAMATAN} == HST_KECAMATAN


def test_fast_opd_responds_sooner_than_the_slow_one(frame):
    fast = frame[frame["opd"] == demo_opd("fast").name]
    slow = frame[frame["opd"] == demo_opd("slow").name]
    fast_median, slow_median = response_hours(fast).median(), response_hours(slow).median()
    assert fast_median * 3 < slow_median
    everyone = response_hours(frame[frame["opd"].notna()]).median()
    assert fast_median < everyone < slow_median


def test_slow_opd_leaves_more_complaints_open(frame):
    def open_share(name: str) -> float:
        rows = frame[(frame["opd"] == name) & (frame["status"] != "arsip")]
        return (rows["status"] != "selesai").mean()

    assert open_share(demo_opd("slow").name) > 2 * open_share(demo_opd("fast").name)


def test_contested_opd_closes_fast_but_is_rated_low_and_reopened(frame):
    contested = frame[frame["opd"] == demo_opd("contested").name]
    others = frame[frame["opd"].notna() & (frame["opd"] != demo_opd("contested").name)]
    assert contested["rating"].mean() < 2.5
    assert others["rating"].mean() > 3.5
    assert (contested["reopen_count"] > 0).mean() > 3 * (others["reopen_count"] > 0).mean()
    close_hours = (contested["closed_at"] - contested["disposed_at"]).dt.total_seconds() / 3600
    other_close = (others["closed_at"] - others["disposed_at"]).dt.total_seconds() / 3600
    assert close_hours.median() < other_close.median() / 2


def test_tiny_opd_has_very_few_complaints(frame):
    counts = frame["opd"].value_counts()
    tiny = counts.get(demo_opd("tiny").name, 0)
    assert 0 < tiny < 0.002 * len(frame)
    assert tiny == counts.min()


# --- loading into the store -------------------------------------------------------------
def test_load_demo_writes_complaints_as_a_demo_source(store):
    result = load_demo(store, n=3_000, seed=5, until=UNTIL)
    assert (result.rows, result.inserted, result.updated) == (3_000, 3_000, 0)
    assert store.execute(select(func.count()).select_from(schema.complaints)).scalar() == 3_000
    source = store.source_row("demo")
    assert source["kind"] == "demo" and source["is_demo"] is True
    runs = store.execute(select(schema.runs.c.status, schema.runs.c.rows_stored, schema.runs.c.kind)).rows
    assert runs == [("ok", 3_000, "demo")]
    assert store.only_demo_data()
    assert store.last_success() is not None
    stored = (
        store.frame(
            select(
                schema.complaints.c.tracking_id,
                schema.complaints.c.closed_at,
                schema.complaints.c.status,
                schema.complaints.c.rating,
            )
        )
        .set_index("tracking_id")
        .sort_index()
    )
    expected = generate_frame(3_000, 5, UNTIL, store.settings).set_index("tracking_id").sort_index()
    assert (stored["status"] == expected["status"]).all()
    closed = expected["closed_at"].notna()
    assert (
        pd.to_datetime(stored.loc[closed, "closed_at"], utc=True) == expected.loc[closed, "closed_at"]
    ).all()
    assert stored["closed_at"].isna().sum() == (~closed).sum()


def test_load_demo_seeds_opd_reference_names_and_aliases(store):
    load_demo(store, n=500, seed=5, until=UNTIL)
    opds = dict(store.execute(select(schema.opds.c.name, schema.opds.c.short_name)).rows)
    for opd in DEMO_OPDS:
        assert opds[opd.name] == opd.short_name
    resolver = store.opd_resolver()
    assert resolver[alias_key("Dinas PUPR")] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert resolver[alias_key("Disdukcapil")] == "Dinas Kependudukan dan Pencatatan Sipil"
    assert store.unmapped_opds().empty


def test_loading_the_same_demo_twice_changes_nothing(store):
    columns = [c for c in schema.complaints.c if c.name not in ("updated_at", "first_seen_at", "change_seq")]

    def snapshot() -> pd.DataFrame:
        return store.frame(select(*columns).order_by(schema.complaints.c.tracking_id))

    load_demo(store, n=2_000, seed=9, until=UNTIL)
    before = snapshot()
    history = store.execute(select(func.count()).select_from(schema.status_history)).scalar()
    again = load_demo(store, n=2_000, seed=9, until=UNTIL)
    assert (again.inserted, again.updated, again.history_added) == (0, 2_000, 0)
    pd.testing.assert_frame_equal(before, snapshot())
    assert store.execute(select(func.count()).select_from(schema.status_history)).scalar() == history
    assert store.execute(select(func.count()).select_from(schema.opds)).scalar() == len(DEMO_OPDS)


# --- the command ------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_sources", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_command_fills_the_database_and_prints_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    done = run_cli("--complaints", "800", "--seed", "3", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "800" in done.stdout and "laporan" in done.stdout and "complaints" in done.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "demo.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM complaints").fetchone()[0] == 800


def test_demo_command_rejects_a_non_positive_count_without_traceback(tmp_path):
    done = run_cli("--complaints", "0", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "--complaints" in done.stderr


def test_demo_command_reports_an_unreachable_database_without_traceback():
    done = run_cli("--complaints", "10", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "database" in done.stderr
