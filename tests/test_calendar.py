"""The working-day calendar against KPI.md "Time": deadline(t, n) and working_days_between(a, b)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from core.calendar import WorkCalendar
from core.settings import KpiSettings, load_settings

WITA = ZoneInfo("Asia/Makassar")
CAL = WorkCalendar(KpiSettings())


def end_of(day: date, zone: ZoneInfo = WITA) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=zone)


def test_local_zone_defaults_to_asia_makassar():
    assert KpiSettings().timezone == "Asia/Makassar"
    assert load_settings().kpi.timezone == "Asia/Makassar"


def test_holiday_example_disposed_fri_19_dec_deadline_end_of_tue_30_dec():
    disposed = datetime(2025, 12, 19, 15, 0, tzinfo=WITA)
    assert CAL.deadline(disposed, 5) == end_of(date(2025, 12, 30))


def test_christmas_and_cuti_bersama_are_not_working_days():
    assert not CAL.is_working_day(date(2025, 12, 25))  # Christmas
    assert not CAL.is_working_day(date(2025, 12, 26))  # cuti bersama (category government)
    assert not CAL.is_working_day(date(2025, 12, 27))  # Saturday
    assert CAL.is_working_day(date(2025, 12, 29))


def test_deadline_walk_starts_the_day_after_the_local_date():
    monday_late = datetime(2026, 1, 5, 23, 0, tzinfo=WITA)
    assert CAL.deadline(monday_late, 1) == end_of(date(2026, 1, 6))


def test_deadline_from_a_weekend_counts_from_monday():
    saturday = datetime(2026, 2, 7, 10, 0, tzinfo=WITA)
    assert CAL.deadline(saturday, 1) == end_of(date(2026, 2, 9))
    assert CAL.deadline(saturday, 5) == end_of(date(2026, 2, 13))
    # Isra Mi'raj (Fri 16 Jan 2026) is skipped as well
    assert CAL.deadline(datetime(2026, 1, 10, 10, 0, tzinfo=WITA), 5) == end_of(date(2026, 1, 19))


def test_timestamps_with_plus0700_z_and_no_offset_are_read_in_local_zone():
    # 23:30 WIB on Friday is 00:30 WITA on Saturday: local (WITA) date is Saturday.
    plus7 = datetime.fromisoformat("2025-12-19T23:30:00+07:00")
    zulu = datetime.fromisoformat("2025-12-19T16:30:00+00:00")
    naive = datetime.fromisoformat("2025-12-20T00:30:00")  # no offset = local time
    assert CAL.local_date(plus7) == CAL.local_date(zulu) == CAL.local_date(naive) == date(2025, 12, 20)
    assert CAL.deadline(plus7, 1) == CAL.deadline(zulu, 1) == CAL.deadline(naive, 1)
    assert CAL.deadline(plus7, 1) == end_of(date(2025, 12, 22))


def test_local_zone_is_a_setting():
    jakarta = WorkCalendar(KpiSettings(timezone="Asia/Jakarta"))
    instant = datetime(2025, 12, 19, 16, 30, tzinfo=UTC)  # Fri 23:30 WIB, Sat 00:30 WITA
    assert jakarta.local_date(instant) == date(2025, 12, 19)
    assert CAL.local_date(instant) == date(2025, 12, 20)
    jkt = ZoneInfo("Asia/Jakarta")
    assert jakarta.deadline(instant, 1) == end_of(date(2025, 12, 22), jkt)


def test_extra_non_working_dates_setting_moves_deadlines():
    regional = WorkCalendar(KpiSettings(extra_non_working_dates=(date(2026, 1, 6),)))
    monday = datetime(2026, 1, 5, 9, 0, tzinfo=WITA)
    assert CAL.deadline(monday, 1) == end_of(date(2026, 1, 6))
    assert regional.deadline(monday, 1) == end_of(date(2026, 1, 7))


def test_working_days_between_counts_days_after_a_up_to_b():
    a = datetime(2025, 12, 19, 15, 0, tzinfo=WITA)
    b = datetime(2025, 12, 30, 8, 0, tzinfo=WITA)
    assert CAL.working_days_between(a, b) == 5
    assert CAL.working_days_between(a, a + timedelta(hours=1)) == 0  # same local date
    assert CAL.working_days_between(b, a) == 0  # b not after a


def test_vectorised_deadlines_equal_scalar_deadline():
    rng = random.Random(3)
    instants = [
        datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.random() * 3e7) for _ in range(300)
    ]
    series = pd.Series(pd.to_datetime(instants, utc=True))
    for n in (1, 3, 5, 14, 60):
        vector = CAL.deadlines(series, n)
        assert [v.to_pydatetime() for v in vector] == [CAL.deadline(t, n) for t in instants]
    between = CAL.working_days_between_many(series, instants[0])
    assert list(between) == [CAL.working_days_between(t, instants[0]) for t in instants]
