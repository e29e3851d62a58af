"""One test per rule of KPI.md, named after it, on a real SQLite store (both engine backends).

The running example: complaints submitted in December 2025, disposed Friday 19 December 15:00
WITA, so the response deadline (5 working days) is the end of Tuesday 30 December (Christmas
and cuti bersama skipped) and a pengaduan's completion deadline (14) the end of 13 January.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import make_store
from test_kpi_reference import load, wita

from core.settings import load_settings, with_kpi
from metrics.complaints import open_complaints, overdue_complaints
from metrics.filters import Filters, Scope
from metrics.kpi import KPI_COLUMNS, admin_figures, compare_periods, grade_of, opd_table
from metrics.trends import breakdown, response_hours, series

DECEMBER = (date(2025, 12, 1), date(2025, 12, 31))
DISPOSED = "2025-12-19T15:00:00"
RESPONSE_DEADLINE_DAY = "2025-12-30"
LATE_JANUARY = wita("2026-01-31T12:00:00")


@pytest.fixture(params=["frame", "sql"])
def backend(request) -> str:
    return request.param


def complaint(tracking_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "tracking_id": tracking_id,
        "submitted_at": wita("2025-12-18T09:00:00"),
        "status": "proses",
        "opd": "Dinas PUPR",
        "classification": "pengaduan",
        "disposed_at": wita(DISPOSED),
        "first_response_at": None,
        "closed_at": None,
    }
    record.update(fields)
    return record


def table(store, backend: str, as_of: datetime = LATE_JANUARY, period=DECEMBER, **kw) -> pd.DataFrame:
    result = opd_table(store, Filters(period[0], period[1], as_of, **kw), backend=backend)
    return result.set_index("opd")


def is_null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# --- cohort -------------------------------------------------------------------------------------
def test_cohort_excludes_archived_complaints(sqlite_store, backend):
    load(sqlite_store, [complaint("1"), complaint("2", status="arsip")])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "received"] == 1


def test_cohort_excludes_complaints_not_yet_disposed(sqlite_store, backend):
    load(sqlite_store, [
        complaint("1"),
        complaint("2", status="menunggu_verifikasi", disposed_at=None),
        complaint("3", disposed_at=wita("2026-02-02T08:00:00")),  # disposed after as_of
    ])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "received"] == 1


def test_cohort_excludes_complaints_submitted_outside_the_period_by_local_date(sqlite_store, backend):
    load(sqlite_store, [
        complaint("in-first-local-day", submitted_at=wita("2025-12-01T00:30:00")),  # 30 Nov UTC
        complaint("before", submitted_at=wita("2025-11-30T23:30:00")),
        complaint("after", submitted_at=wita("2026-01-01T00:10:00")),
    ])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "received"] == 1


# --- response -------------------------------------------------------------------------------------
def test_holiday_example_response_deadline_is_end_of_tue_30_dec(sqlite_store):
    load(sqlite_store, [complaint("1")])
    stored = sqlite_store.execute("SELECT response_deadline FROM complaints").scalar()
    expected = pd.Timestamp("2025-12-30 23:59:59.999999", tz="Asia/Makassar")
    assert pd.Timestamp(stored, unit="us", tz="UTC") == expected


def test_response_at_2359_on_deadline_day_is_on_time(sqlite_store, backend):
    load(sqlite_store, [complaint("1", first_response_at=wita(f"{RESPONSE_DEADLINE_DAY}T23:59:00"))])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"]) == (1, 1)
    assert row["response_on_time_pct"] == 100.0


def test_response_at_0001_next_day_is_late(sqlite_store, backend):
    load(sqlite_store, [complaint("1", first_response_at=wita("2025-12-31T00:01:00"))])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"]) == (1, 0)
    assert row["response_on_time_pct"] == 0.0


def test_timestamps_with_plus0700_z_and_no_offset_give_the_same_figures(sqlite_store, backend):
    # 22:59 WIB = 15:59Z = 23:59 WITA on the deadline day: all on time; one minute later, late.
    def parse(text: str) -> pd.Timestamp:  # as the importers read them: no offset = local time
        stamp = pd.Timestamp(text)
        return (stamp.tz_localize("Asia/Makassar") if stamp.tzinfo is None else stamp).tz_convert("UTC")

    load(sqlite_store, [
        complaint("plus7", first_response_at=parse("2025-12-30T22:59:00+07:00")),
        complaint("zulu", first_response_at=parse("2025-12-30T15:59:00Z")),
        complaint("local", first_response_at=parse("2025-12-30T23:59:00")),
        complaint("late-plus7", first_response_at=parse("2025-12-30T23:01:00+07:00")),
        complaint("late-zulu", first_response_at=parse("2025-12-30T16:01:00Z")),
        complaint("late-local", first_response_at=parse("2025-12-31T00:01:00")),
    ])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"]) == (6, 3)


def test_response_after_as_of_counts_as_no_response(sqlite_store, backend):
    load(sqlite_store, [complaint("1", first_response_at=wita("2025-12-22T10:00:00"))])
    before = table(sqlite_store, backend, as_of=wita("2025-12-22T09:59:59")).loc["Dinas PUPR"]
    assert before["responded"] == 0
    assert before["response_overdue_open"] == 0  # not yet due either
    assert is_null(before["response_on_time_pct"])
    after = table(sqlite_store, backend, as_of=wita("2025-12-22T10:00:00")).loc["Dinas PUPR"]
    assert after["responded"] == 1


def test_closure_after_as_of_is_not_completed(sqlite_store, backend):
    load(sqlite_store, [complaint(
        "1", status="selesai", first_response_at=wita("2025-12-22T10:00:00"),
        closed_at=wita("2026-01-05T10:00:00"),
    )])
    row = table(sqlite_store, backend, as_of=wita("2026-01-05T09:00:00")).loc["Dinas PUPR"]
    assert (row["completed"], row["open"]) == (0, 1)
    assert is_null(row["accuracy_pct"])


def test_closure_without_first_response_counts_as_the_response(sqlite_store, backend):
    load(sqlite_store, [complaint("1", status="selesai", closed_at=wita("2025-12-29T10:00:00"))])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"], row["completed"]) == (1, 1, 1)
    assert row["median_response_hours"] == pytest.approx(10 * 24 - 5)  # 19 Dec 15:00 -> 29 Dec 10:00


def test_closure_before_a_later_first_response_is_the_response_as_of_between(sqlite_store, backend):
    load(sqlite_store, [complaint(
        "1", status="selesai", closed_at=wita("2025-12-22T10:00:00"),
        first_response_at=wita("2026-01-20T10:00:00"),
    )])
    row = table(sqlite_store, backend, as_of=wita("2026-01-05T00:00:00")).loc["Dinas PUPR"]
    assert (row["responded"], row["responded_on_time"], row["completed"]) == (1, 1, 1)


def test_response_overdue_open_only_counts_unanswered_past_the_deadline(sqlite_store, backend):
    load(sqlite_store, [complaint("due"), complaint("fresh", disposed_at=wita("2025-12-29T09:00:00"))])
    row = table(sqlite_store, backend, as_of=wita("2025-12-31T08:00:00")).loc["Dinas PUPR"]
    assert row["response_overdue_open"] == 1
    assert row["response_on_time_pct"] == 0.0  # 0 / (0 + 1): the fresh one is not in it


def test_median_response_hours_even_count_takes_mean_of_two_middle(sqlite_store, backend):
    load(sqlite_store, [
        complaint(str(h), first_response_at=wita(DISPOSED) + pd.Timedelta(hours=h))
        for h in (1, 2, 10, 100)
    ])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "median_response_hours"] == 6.0
    hours = response_hours(sqlite_store, Filters(*DECEMBER, LATE_JANUARY), backend=backend)
    assert sorted(hours.tolist()) == [1.0, 2.0, 10.0, 100.0]


# --- completion -------------------------------------------------------------------------------
def test_completion_deadline_by_classification_missing_counts_as_pengaduan(sqlite_store, backend):
    closed = wita("2026-01-05T10:00:00")  # after 5 working days, within 14
    load(sqlite_store, [
        complaint("p", opd="A", status="selesai", closed_at=closed, classification="pengaduan"),
        complaint("a", opd="B", status="selesai", closed_at=closed, classification="aspirasi"),
        complaint("i", opd="C", status="selesai", closed_at=closed, classification="permintaan_informasi"),
        complaint("w", opd="D", status="selesai", closed_at=closed, classification="pengawasan"),
        complaint("n", opd="E", status="selesai", closed_at=closed, classification=None),
    ])
    on_time = table(sqlite_store, backend)["completed_on_time"].to_dict()
    assert on_time == {"A": 1, "B": 0, "C": 0, "D": 1, "E": 1, "TOTAL": 3}


def test_completion_pct_is_completed_over_received(sqlite_store, backend):
    load(sqlite_store, [complaint("1", status="selesai", closed_at=wita("2025-12-22T10:00:00")),
                        complaint("2"), complaint("3"), complaint("4")])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "completion_pct"] == 25.0


def test_accuracy_excludes_reopened_and_ratings_below_3(sqlite_store, backend):
    closed = wita("2025-12-22T10:00:00")
    load(sqlite_store, [
        complaint("ok", status="selesai", closed_at=closed),
        complaint("rated3", status="selesai", closed_at=closed, rating=3),
        complaint("rated2", status="selesai", closed_at=closed, rating=2),
        complaint("reopened", status="selesai", closed_at=closed, rating=5, reopen_count=1),
    ])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert row["accuracy_pct"] == 50.0
    assert row["mean_rating"] == pytest.approx((3 + 2 + 5) / 3)


def test_mean_rating_only_over_completed_rated_complaints(sqlite_store, backend):
    load(sqlite_store, [
        complaint("1", status="selesai", closed_at=wita("2025-12-22T10:00:00"), rating=4),
        complaint("2", status="selesai", closed_at=wita("2026-03-01T10:00:00"), rating=1),  # after as_of
        complaint("3", status="selesai", closed_at=wita("2025-12-22T10:00:00")),
    ])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert row["mean_rating"] == 4.0


def test_open_and_overdue_count_response_or_completion_deadline_missed(sqlite_store, backend):
    as_of = wita("2026-01-14T08:00:00")  # after both deadlines of a pengaduan disposed 19 Dec
    load(sqlite_store, [
        complaint("no-response"),  # response deadline missed
        complaint("answered", first_response_at=wita("2025-12-22T10:00:00")),  # completion missed
        complaint("aspirasi-answered", classification="pengawasan",
                  first_response_at=wita("2025-12-22T10:00:00")),  # 60 days: not overdue
        complaint("closed", status="selesai", closed_at=wita("2026-01-13T10:00:00")),
    ])
    row = table(sqlite_store, backend, as_of=as_of).loc["Dinas PUPR"]
    assert (row["open"], row["overdue"]) == (3, 2)


def test_redisposed_pct_is_share_with_a_redisposition(sqlite_store, backend):
    load(sqlite_store, [complaint("1", redisposition_count=2), complaint("2"), complaint("3"),
                        complaint("4")])
    assert table(sqlite_store, backend).loc["Dinas PUPR", "redisposed_pct"] == 25.0


# --- score, rank, grade ---------------------------------------------------------------------------
def test_score_is_weighted_mean_0_4_kecepatan_0_3_ketepatan_0_3_tuntas(sqlite_store, backend):
    load(sqlite_store, [
        complaint("1", status="selesai", first_response_at=wita("2025-12-22T10:00:00"),
                  closed_at=wita("2025-12-23T10:00:00"), rating=1),
        complaint("2", first_response_at=wita("2025-12-31T10:00:00")),
    ])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert (row["response_on_time_pct"], row["accuracy_pct"], row["completion_pct"]) == (50, 0, 50)
    assert row["score"] == pytest.approx(0.4 * 50 + 0.3 * 0 + 0.3 * 50)


def test_empty_components_renormalise_the_score(sqlite_store, backend):
    # Nothing completed: Ketepatan empty; Kecepatan 100, Tuntas 0 -> (0.4*100 + 0.3*0) / 0.7
    load(sqlite_store, [complaint("1", first_response_at=wita("2025-12-22T10:00:00"))])
    row = table(sqlite_store, backend).loc["Dinas PUPR"]
    assert is_null(row["accuracy_pct"])
    assert row["score"] == pytest.approx(40 / 0.7)


def test_grade_baik_from_85_cukup_from_70_else_perlu_perhatian_none_without_score():
    kpi = load_settings().kpi
    grades = grade_of(pd.Series([85.0, 84.999, 70.0, 69.999, np.nan]), kpi).tolist()
    assert grades == ["baik", "cukup", "cukup", "perlu_perhatian", None]


def test_min_volume_rule_ranks_only_opds_with_at_least_5_received(sqlite_store, backend):
    load(sqlite_store, [complaint(f"a{i}", opd="Kecil", status="selesai",
                                  closed_at=wita("2025-12-22T10:00:00")) for i in range(4)]
         + [complaint(f"b{i}", opd="Besar") for i in range(5)])
    result = table(sqlite_store, backend)
    assert is_null(result.loc["Kecil", "rank"])
    assert result.loc["Kecil", "score"] == 100.0  # scored and graded, just not ranked
    assert result.loc["Kecil", "grade"] == "baik"
    assert result.loc["Besar", "rank"] == 1
    assert list(result.index) == ["Besar", "Kecil", "TOTAL"]  # ranked first, then by name


def test_ties_in_rank_go_to_more_received_then_opd_name(sqlite_store, backend):
    done = {"status": "selesai", "closed_at": wita("2025-12-22T10:00:00")}
    load(sqlite_store,
         [complaint(f"z{i}", opd="Zeta", **done) for i in range(6)]
         + [complaint(f"b{i}", opd="Beta", **done) for i in range(5)]
         + [complaint(f"a{i}", opd="Alfa", **done) for i in range(5)])
    result = table(sqlite_store, backend)
    assert result["score"].drop("TOTAL").tolist() == [100.0, 100.0, 100.0]
    assert result["rank"].drop("TOTAL").to_dict() == {"Zeta": 1, "Alfa": 2, "Beta": 3}


def test_rank_one_is_best_score(sqlite_store, backend):
    load(sqlite_store,
         [complaint(f"g{i}", opd="Good", status="selesai", closed_at=wita("2025-12-22T10:00:00"))
          for i in range(5)]
         + [complaint(f"p{i}", opd="Poor") for i in range(9)])
    result = table(sqlite_store, backend)
    assert result.loc["Good", "rank"] == 1 and result.loc["Poor", "rank"] == 2


def test_weights_min_volume_and_thresholds_are_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'settings.db'}"
    settings = with_kpi(load_settings(db_url=url), min_volume=1, weight_kecepatan=1.0,
                        weight_ketepatan=0.0, weight_tuntas=0.0, grade_baik=99.0)
    store = make_store(url, settings)
    try:
        load(store, [complaint("1", first_response_at=wita("2025-12-22T10:00:00"))])
        result = opd_table(store, Filters(*DECEMBER, LATE_JANUARY), settings).set_index("opd")
        row = result.loc["Dinas PUPR"]
        assert (row["score"], row["rank"], row["grade"]) == (100.0, 1, "baik")
    finally:
        store.dispose()


# --- TOTAL, nulls, scope, admin, comparison, lists ------------------------------------------------
def test_total_row_sums_counts_and_has_no_rank(sqlite_store, backend):
    load(sqlite_store, [complaint(f"a{i}", opd="A") for i in range(5)]
         + [complaint(f"b{i}", opd="B", status="selesai", closed_at=wita("2025-12-22T10:00:00"))
            for i in range(3)])
    result = table(sqlite_store, backend)
    total = result.loc["TOTAL"]
    assert (total["received"], total["completed"]) == (8, 3)
    assert is_null(total["rank"])
    assert total["completion_pct"] == pytest.approx(100 * 3 / 8)
    assert list(result.reset_index().columns) == ["opd", *KPI_COLUMNS]


def test_empty_figures_are_null_not_zero(sqlite_store, backend):
    result = table(sqlite_store, backend)
    assert list(result.index) == ["TOTAL"]
    total = result.loc["TOTAL"]
    assert total["received"] == 0
    for column in ("response_on_time_pct", "median_response_hours", "completion_pct",
                   "accuracy_pct", "mean_rating", "redisposed_pct", "score", "rank", "grade"):
        assert is_null(total[column]), column


def test_scope_opd_shows_its_own_row_ranked_among_all_plus_total(sqlite_store, backend):
    load(sqlite_store,
         [complaint(f"g{i}", opd="Good", status="selesai", closed_at=wita("2025-12-22T10:00:00"))
          for i in range(5)]
         + [complaint(f"p{i}", opd="Poor") for i in range(5)])
    result = table(sqlite_store, backend, scope=Scope(opd="Poor"))
    assert list(result.index) == ["Poor", "TOTAL"]
    assert result.loc["Poor", "rank"] == 2


def test_awaiting_verification_and_verified_on_time_pct(sqlite_store, backend):
    submitted = wita("2025-12-18T09:00:00")  # verification deadline: end of Tue 23 Dec
    load(sqlite_store, [
        complaint("on-time", submitted_at=submitted, disposed_at=wita("2025-12-19T15:00:00")),
        complaint("late", submitted_at=submitted, disposed_at=wita("2025-12-24T08:00:00")),
        complaint("waiting-late", status="menunggu_verifikasi", disposed_at=None, opd=None),
        complaint("waiting-fresh", status="menunggu_verifikasi", disposed_at=None, opd=None,
                  submitted_at=wita("2025-12-30T09:00:00")),
        complaint("archived", status="arsip", disposed_at=None),
    ])
    figures = admin_figures(sqlite_store, Filters(*DECEMBER, wita("2025-12-31T12:00:00")),
                            backend=backend)
    assert figures["awaiting_verification"] == 2
    assert figures["verified_on_time_pct"] == pytest.approx(100 * 1 / 3)


def test_compare_periods_uses_previous_period_of_equal_length(sqlite_store, backend):
    load(sqlite_store, [complaint("dec1"), complaint("dec2"),
                        complaint("nov", submitted_at=wita("2025-11-10T09:00:00"),
                                  disposed_at=wita("2025-11-10T15:00:00"))])
    comparison = compare_periods(sqlite_store, Filters(*DECEMBER, LATE_JANUARY), backend=backend)
    assert comparison.loc["received"].tolist() == [2.0, 1.0, 1.0]
    assert {"response_on_time_pct", "accuracy_pct", "completion_pct", "overdue", "score"} <= set(
        comparison.index)


def test_series_buckets_by_week_starting_monday_with_empty_weeks(sqlite_store, backend):
    load(sqlite_store, [complaint("1", submitted_at=wita("2025-12-03T10:00:00")),
                        complaint("2", submitted_at=wita("2025-12-18T09:00:00"))])
    weekly = series(sqlite_store, Filters(*DECEMBER, LATE_JANUARY), freq="week", backend=backend)
    assert weekly["period_start"].tolist()[:3] == [date(2025, 12, 1), date(2025, 12, 8),
                                                   date(2025, 12, 15)]
    assert weekly["received"].tolist() == [1, 0, 1, 0, 0]
    assert is_null(weekly.loc[1, "completion_pct"])


def test_breakdown_by_channel_sorted_by_received(sqlite_store, backend):
    load(sqlite_store, [complaint("1", channel="sms"), complaint("2", channel="website"),
                        complaint("3", channel="website")])
    result = breakdown(sqlite_store, Filters(*DECEMBER, LATE_JANUARY), by="channel", backend=backend)
    assert result[["channel", "received"]].values.tolist() == [["website", 2], ["sms", 1]]


def test_overdue_complaints_list_kind_working_days_and_no_reporter_identity(sqlite_store):
    load(sqlite_store, [
        complaint("no-response", reporter_name="Budi", title="judul", body="isi"),
        complaint("answered", first_response_at=wita("2025-12-22T10:00:00")),
        complaint("fresh", disposed_at=wita("2026-01-12T09:00:00")),
    ])
    as_of = wita("2026-01-14T08:00:00")  # response deadline 30 Dec, completion 13 Jan
    filters = Filters(*DECEMBER, as_of)
    overdue = overdue_complaints(sqlite_store, filters)
    assert overdue["tracking_id"].tolist() == ["no-response", "answered"]
    assert overdue["overdue_kind"].tolist() == ["tanggapan", "penyelesaian"]
    # after 30 Dec: 31 Dec, 2, 5-9, 12-14 Jan (1 Jan is a holiday) = 10; after 13 Jan: 14 Jan = 1
    assert overdue["working_days_overdue"].tolist() == [10, 1]
    assert not {"reporter_name", "title", "body"} & set(overdue.columns)
    opened = open_complaints(sqlite_store, filters)
    assert opened["is_overdue"].tolist() == [True, True, False]
    assert overdue_complaints(sqlite_store, filters, limit=1)["tracking_id"].tolist() == ["no-response"]


def test_filters_slice_by_category_kecamatan_channel_and_opd(sqlite_store, backend):
    load(sqlite_store, [
        complaint("1", category="Jalan", kecamatan="Barabai", channel="sms"),
        complaint("2", category="Air", kecamatan="Barabai", channel="sms"),
        complaint("3", category="Jalan", kecamatan="Pandawan", channel="website", opd="Dinas Lain"),
    ])
    assert table(sqlite_store, backend, categories=("Jalan",)).loc["TOTAL", "received"] == 2
    assert table(sqlite_store, backend, kecamatan=("Barabai",)).loc["TOTAL", "received"] == 2
    assert table(sqlite_store, backend, channels=("website",)).loc["TOTAL", "received"] == 1
    assert table(sqlite_store, backend, opds=("Dinas Lain",)).loc["TOTAL", "received"] == 1


def test_same_figures_on_postgresql(pg_url):
    store = make_store(pg_url)
    try:
        load(store, [complaint("1", first_response_at=wita(f"{RESPONSE_DEADLINE_DAY}T23:59:00")),
                     complaint("2", first_response_at=wita("2025-12-31T00:01:00"))])
        for backend in ("frame", "sql"):
            row = table(store, backend).loc["Dinas PUPR"]
            assert (row["responded"], row["responded_on_time"]) == (2, 1)
    finally:
        store.dispose()
