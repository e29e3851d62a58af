"""KPI.md "The backlog: what is late right now", one test per rule, on SQLite and PostgreSQL.

The running example of test_kpi_rules: disposed Friday 19 December 2025 15:00 WITA, so the
response deadline is the end of Tuesday 30 December (Christmas and cuti bersama skipped).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest
from test_kpi_reference import (
    completion_deadline_of,
    load,
    random_records,
    response_deadline_of,
    wita,
)
from test_kpi_rules import complaint

from core.calendar import WorkCalendar
from core.settings import KpiSettings, with_kpi
from metrics.backlog import BACKLOG_COLUMNS, backlog_complaints, backlog_counts
from metrics.filters import Filters, Scope

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))
AS_OF = wita("2026-01-31T12:00:00")


@pytest.fixture(params=["frame", "sql"])
def backend(request) -> str:
    return request.param


def counts(store, backend: str, as_of: datetime = AS_OF, period=JANUARY, **kw) -> pd.DataFrame:
    filters = Filters(period[0], period[1], as_of, **kw)
    return backlog_counts(store, filters, backend=backend).set_index("opd")


def ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["tracking_id"])


# --- membership ---------------------------------------------------------------------------------
def test_backlog_includes_old_still_open_complaints_outside_the_period(store, backend):
    load(store, [
        complaint("old-open", submitted_at=wita("2025-06-02T09:00:00"),
                  disposed_at=wita("2025-06-03T09:00:00")),
        complaint("december"),
    ])
    table = counts(store, backend)  # the period is January 2026: neither is in its cohort
    assert table.loc["Dinas PUPR", "backlog_open"] == 2
    assert table.loc["Dinas PUPR", "backlog_overdue"] == 2
    assert list(table.index) == ["Dinas PUPR", "TOTAL"]


def test_backlog_excludes_archived_undisposed_and_completed_by_as_of(store, backend):
    load(store, [
        complaint("open"),
        complaint("archived", status="arsip"),
        complaint("undisposed", status="menunggu_verifikasi", disposed_at=None),
        complaint("disposed-after-as-of", disposed_at=wita("2026-02-02T08:00:00")),
        complaint("closed", status="selesai", first_response_at=wita("2025-12-22T08:00:00"),
                  closed_at=wita("2026-01-05T08:00:00")),
        complaint("no-opd", opd=None),
        # Closed after as_of: still in the backlog as of as_of.
        complaint("closed-later", status="selesai", closed_at=wita("2026-02-03T08:00:00")),
    ])
    table = counts(store, backend)
    assert table.loc["TOTAL", "backlog_open"] == 2
    overdue = backlog_complaints(store, Filters(*JANUARY, AS_OF))
    assert sorted(ids(overdue)) == ["closed-later", "open"]


def test_backlog_without_complaints_is_a_total_row_of_zeros(store, backend):
    table = counts(store, backend)
    assert list(table.index) == ["TOTAL"]
    assert table.loc["TOTAL", BACKLOG_COLUMNS].tolist() == [0, 0, 0]
    assert backlog_complaints(store, Filters(*JANUARY, AS_OF)).empty


# --- overdue ------------------------------------------------------------------------------------
def test_backlog_overdue_is_a_missed_response_or_completion_deadline(store, backend):
    as_of = wita("2026-01-05T12:00:00")  # after the response deadline, before completion's
    load(store, [
        complaint("no-response"),  # response deadline 30 Dec passed
        complaint("responded", first_response_at=wita("2025-12-22T08:00:00")),  # not yet due
        complaint("aspirasi-late", classification="aspirasi",
                  first_response_at=wita("2025-12-22T08:00:00")),  # completion 30 Dec passed
    ])
    table = counts(store, backend, as_of=as_of)
    assert table.loc["TOTAL", ["backlog_open", "backlog_overdue"]].tolist() == [3, 2]
    overdue = backlog_complaints(store, Filters(*JANUARY, as_of))
    assert dict(zip(overdue["tracking_id"], overdue["overdue_kind"], strict=True)) == {
        "aspirasi-late": "penyelesaian", "no-response": "tanggapan",
    }


def test_overdue_list_is_most_working_days_late_first_then_tracking_id(store):
    as_of = wita("2026-01-05T12:00:00")  # Monday
    load(store, [
        complaint("B-dec19"),  # response deadline end of Tue 30 Dec
        complaint("A-dec19"),
        complaint("C-dec22", disposed_at=wita("2025-12-22T10:00:00")),  # deadline Wed 31 Dec
        complaint("D-dec10", disposed_at=wita("2025-12-10T10:00:00")),  # deadline Wed 17 Dec
    ])
    overdue = backlog_complaints(store, Filters(*JANUARY, as_of))
    assert ids(overdue) == ["D-dec10", "A-dec19", "B-dec19", "C-dec22"]
    calendar = WorkCalendar(store.settings.kpi)
    for row in overdue.to_dict("records"):
        assert row["working_days_overdue"] == calendar.working_days_between(row["due_at"], as_of)
    late = dict(zip(overdue["tracking_id"], overdue["working_days_overdue"], strict=True))
    assert late["A-dec19"] == calendar.working_days_between(wita("2025-12-30T23:59:59"), as_of)
    assert late["D-dec10"] > late["A-dec19"] > late["C-dec22"] > 0
    assert ids(backlog_complaints(store, Filters(*JANUARY, as_of), limit=2)) == ["D-dec10", "A-dec19"]


def test_backlog_list_never_carries_reporter_identity_and_hides_confidential_titles(store):
    load(store, [
        complaint("open", title="Jalan rusak", reporter_name="Warga Rahasia", body="isi"),
        complaint("secret", title="Rahasia", is_confidential=True, reporter_name="X"),
    ])
    filters = Filters(*JANUARY, AS_OF)
    plain = backlog_complaints(store, filters)
    assert "title" not in plain.columns
    assert not {"reporter_name", "body"} & set(plain.columns)
    titled = backlog_complaints(store, filters, with_title=True).set_index("tracking_id")
    assert titled.loc["open", "title"] == "Jalan rusak"
    assert titled.loc["secret", "title"] == ""
    shown = backlog_complaints(store, filters, with_title=True, include_confidential=True)
    assert shown.set_index("tracking_id").loc["secret", "title"] == "Rahasia"
    assert set(shown["source"]) == {"test"}


# --- due soon -----------------------------------------------------------------------------------
def test_due_soon_on_a_friday_reaches_over_the_weekend_to_monday(store, backend):
    as_of = wita("2025-12-05T10:00:00")  # Friday
    load(store, [
        complaint("due-today", disposed_at=wita("2025-11-28T10:00:00")),  # end of Fri 5 Dec
        complaint("due-monday", disposed_at=wita("2025-12-01T10:00:00")),  # end of Mon 8 Dec
        complaint("due-tuesday", disposed_at=wita("2025-12-02T10:00:00")),  # end of Tue 9 Dec
        complaint("overdue", disposed_at=wita("2025-11-20T10:00:00")),
    ])
    table = counts(store, backend, as_of=as_of)
    assert table.loc["TOTAL", BACKLOG_COLUMNS].tolist() == [4, 1, 2]
    soon = backlog_complaints(store, Filters(*JANUARY, as_of), kind="due_soon")
    assert ids(soon) == ["due-today", "due-monday"]  # soonest first
    assert soon["working_days_overdue"].tolist() == [0, 0]
    assert soon["overdue_kind"].isna().all()
    assert soon["due_at"].iloc[1] == pd.Timestamp("2025-12-08 23:59:59.999999", tz="Asia/Makassar")


def test_due_soon_before_christmas_skips_the_holiday_and_cuti_bersama(store, backend):
    as_of = wita("2025-12-24T12:00:00")  # Wednesday; Thu 25 Christmas, Fri 26 cuti bersama
    load(store, [
        complaint("due-mon-29", disposed_at=wita("2025-12-18T10:00:00")),  # end of Mon 29 Dec
        complaint("due-tue-30"),  # disposed Fri 19 Dec: end of Tue 30 Dec
    ])
    table = counts(store, backend, as_of=as_of)
    assert table.loc["TOTAL", "due_soon"] == 1
    soon = backlog_complaints(store, Filters(*JANUARY, as_of), kind="due_soon")
    assert ids(soon) == ["due-mon-29"]


def test_due_soon_after_a_response_looks_at_the_completion_deadline(store, backend):
    as_of = wita("2025-12-29T12:00:00")  # Monday
    load(store, [
        # aspirasi: completion 5 working days = end of Tue 30 Dec, responded already
        complaint("aspirasi", classification="aspirasi",
                  first_response_at=wita("2025-12-22T08:00:00")),
        # pengaduan responded: completion 13 Jan, not soon
        complaint("pengaduan", first_response_at=wita("2025-12-22T08:00:00")),
    ])
    assert counts(store, backend, as_of=as_of).loc["TOTAL", "due_soon"] == 1


def test_due_soon_days_setting_widens_the_window(sqlite_url, backend):
    from conftest import make_store

    from core.settings import load_settings

    settings = with_kpi(load_settings(db_url=sqlite_url), due_soon_days=2)
    store = make_store(sqlite_url, settings)
    as_of = wita("2025-12-05T10:00:00")  # Friday: the window now ends on Tuesday 9 December
    load(store, [complaint("due-tuesday", disposed_at=wita("2025-12-02T10:00:00"))])
    filters = Filters(*JANUARY, as_of)
    assert backlog_counts(store, filters, backend=backend).iloc[-1]["due_soon"] == 1
    store.dispose()


# --- slicers and scope --------------------------------------------------------------------------
def test_backlog_honours_slicers_but_not_the_period(store, backend):
    load(store, [
        complaint("pupr-1", category="Jalan"),
        complaint("pupr-2", category="Air"),
        complaint("kes-1", opd="Dinas Kesehatan", category="Jalan",
                  submitted_at=wita("2024-03-01T09:00:00"), disposed_at=wita("2024-03-02T09:00:00")),
    ])
    table = counts(store, backend, categories=("Jalan",))
    assert table.loc["TOTAL", "backlog_open"] == 2
    assert set(table.index) == {"Dinas PUPR", "Dinas Kesehatan", "TOTAL"}
    table = counts(store, backend, opds=("Dinas Kesehatan",))
    assert list(table.index) == ["Dinas Kesehatan", "TOTAL"]


def test_opd_viewer_scope_limits_backlog_to_its_own_opd(store, backend):
    load(store, [
        complaint("pupr-1"), complaint("pupr-2"),
        complaint("kes-1", opd="Dinas Kesehatan"),
    ])
    scope = Scope(opd="Dinas Kesehatan")
    table = counts(store, backend, scope=scope)
    assert list(table.index) == ["Dinas Kesehatan", "TOTAL"]
    assert table.loc["TOTAL", "backlog_open"] == 1
    listed = backlog_complaints(store, Filters(*JANUARY, AS_OF, scope=scope))
    assert ids(listed) == ["kes-1"]


# --- against a row-by-row reading of KPI.md -----------------------------------------------------
def reference_backlog(records: list[dict], as_of: datetime, kpi: KpiSettings, categories=()) -> dict:
    """KPI.md's backlog walked complaint by complaint with the scalar calendar."""
    cal = WorkCalendar(kpi)
    window_end = cal.deadline(as_of, kpi.due_soon_days)
    out: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(BACKLOG_COLUMNS, 0))
    lists: dict[str, list] = {"overdue": [], "due_soon": []}
    for r in records:
        if r["opd"] is None or r["status"] == "arsip" or r["disposed_at"] is None:
            continue
        if categories and r["category"] not in categories:
            continue
        if r["disposed_at"] > as_of or (r["closed_at"] is not None and r["closed_at"] <= as_of):
            continue
        responded = r["first_response_at"] is not None and r["first_response_at"] <= as_of
        # KPI.md: a deadline the source states wins (an instant); a category's own N wins over
        # the classification's. The random records carry both (tests/test_kpi_reference.py).
        response_deadline = response_deadline_of(r, cal, kpi)
        completion_deadline = completion_deadline_of(r, cal, kpi)
        row = out[r["opd"]]
        row["backlog_open"] += 1
        missed = [d for d in ([] if responded else [response_deadline]) + [completion_deadline]
                  if d < as_of]
        if missed:
            row["backlog_overdue"] += 1
            lists["overdue"].append((-cal.working_days_between(min(missed), as_of), r["tracking_id"]))
        elif (completion_deadline if responded else response_deadline) <= window_end:
            row["due_soon"] += 1
            pending = completion_deadline if responded else response_deadline
            lists["due_soon"].append((pending, r["tracking_id"]))
    return {"counts": dict(out), "overdue": sorted(lists["overdue"]),
            "due_soon": sorted(lists["due_soon"])}


@pytest.mark.parametrize("as_of", [
    wita("2025-03-20T12:00:00"), wita("2025-07-04T17:00:00"), wita("2025-06-06T08:00:00"),
])
def test_backlog_counts_equal_row_by_row_reference_on_random_data(store, backend, as_of):
    kpi = store.settings.kpi
    records = random_records(3000, 7, WorkCalendar(kpi), kpi)
    # Some complaints disposed long ago and never followed up: old and still late.
    rng = random.Random(3)
    for record in rng.sample(records, 200):
        if record["disposed_at"] is not None and record["status"] != "arsip":
            record["first_response_at"] = None
            record["closed_at"] = None
    load(store, records)
    for categories in ((), ("Kesehatan", "Pendidikan")):
        expected = reference_backlog(records, as_of, kpi, categories)
        filters = Filters(date(2025, 3, 1), date(2025, 3, 31), as_of, categories=categories)
        table = backlog_counts(store, filters, backend=backend).set_index("opd")
        assert set(table.index) == set(expected["counts"]) | {"TOTAL"}
        for opd, want in expected["counts"].items():
            assert table.loc[opd, BACKLOG_COLUMNS].tolist() == [want[c] for c in BACKLOG_COLUMNS]
        for column in BACKLOG_COLUMNS:
            assert table.loc["TOTAL", column] == sum(w[column] for w in expected["counts"].values())
        overdue = backlog_complaints(store, filters, backend=backend)
        assert list(zip(-overdue["working_days_overdue"], overdue["tracking_id"], strict=True)) == [
            (int(a), b) for a, b in expected["overdue"]
        ]
        soon = backlog_complaints(store, filters, kind="due_soon", backend=backend)
        assert ids(soon) == [tid for _, tid in expected["due_soon"]]
        assert len(soon) == table.loc["TOTAL", "due_soon"]
        for limit in (1, 7, 40):  # a cut inside a run of ties keeps the tracking_id order
            top = backlog_complaints(store, filters, limit=limit, backend=backend)
            assert ids(top) == [tid for _, tid in expected["overdue"][:limit]]
            top = backlog_complaints(store, filters, kind="due_soon", limit=limit, backend=backend)
            assert ids(top) == [tid for _, tid in expected["due_soon"][:limit]]


def test_backlog_lists_of_both_backends_agree_column_by_column(sqlite_store):
    kpi = sqlite_store.settings.kpi
    load(sqlite_store, random_records(2000, 5, WorkCalendar(kpi), kpi))
    filters = Filters(date(2025, 1, 1), date(2025, 1, 2), wita("2025-04-30T16:00:00"))
    for kind in ("overdue", "due_soon"):
        everything = backlog_complaints(sqlite_store, filters, kind=kind, backend="frame")
        assert len(everything) > 0  # the comparison below is not of two empty lists
        busiest = everything["opd"].value_counts().index[0]
        for options in ({}, {"limit": 25}, {"opd": busiest, "with_title": True}):
            frame = backlog_complaints(sqlite_store, filters, kind=kind, backend="frame", **options)
            sql = backlog_complaints(sqlite_store, filters, kind=kind, backend="sql", **options)
            assert len(frame) > 0
            pd.testing.assert_frame_equal(frame, sql)


def test_backlog_counts_frame_and_sql_agree(sqlite_store):
    kpi = sqlite_store.settings.kpi
    load(sqlite_store, random_records(2000, 11, WorkCalendar(kpi), kpi))
    for as_of in (wita("2025-02-14T09:00:00"), wita("2025-05-01T00:00:00")):
        for scope in (Scope(), Scope(opd="Dinas Sosial")):
            filters = Filters(date(2025, 1, 1), date(2025, 1, 2), as_of, scope=scope,
                              channels=("sms", "website"))
            frame = backlog_counts(sqlite_store, filters, backend="frame")
            sql = backlog_counts(sqlite_store, filters, backend="sql")
            pd.testing.assert_frame_equal(frame, sql)
