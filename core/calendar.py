"""Working days and deadlines exactly as KPI.md "Time" defines them, scalar and vectorised.

A working day is a local date, Monday to Friday, that is neither an Indonesian public holiday
nor cuti bersama (the `holidays` package, country ID, categories public and government), nor
one of the configured extra non-working dates. numpy's business-day functions do the walking,
so a million deadlines cost one vectorised call.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd

from core.settings import KpiSettings

FIRST_YEAR = 2000
LAST_YEAR = 2040
WEEKMASK = "1111100"
END_OF_DAY = time(23, 59, 59, 999999)


@lru_cache(maxsize=16)
def _holiday_dates(extra: tuple[date, ...]) -> tuple[date, ...]:
    found = holidays.country_holidays(
        "ID", years=range(FIRST_YEAR, LAST_YEAR + 1), categories=("public", "government")
    )
    return tuple(sorted(set(found.keys()) | set(extra)))


class WorkCalendar:
    """The working-day calendar of one configuration (zone and extra non-working dates)."""

    def __init__(self, kpi: KpiSettings | None = None) -> None:
        self.kpi = kpi or KpiSettings()
        self.zone = ZoneInfo(self.kpi.timezone)
        self.holiday_dates = _holiday_dates(tuple(sorted(self.kpi.extra_non_working_dates)))
        self._busdaycal = np.busdaycalendar(
            weekmask=WEEKMASK, holidays=np.array(self.holiday_dates, dtype="datetime64[D]")
        )

    # --- scalar -------------------------------------------------------------------------
    def local_date(self, instant: datetime) -> date:
        return self.to_local(instant).date()

    def to_local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:  # KPI.md: a timestamp without an offset is local time
            return instant.replace(tzinfo=self.zone)
        return instant.astimezone(self.zone)

    def is_working_day(self, day: date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._busdaycal))

    def deadline_date(self, instant: datetime, n: int) -> date:
        """The n-th working day after the local date of `instant`."""
        d0 = np.datetime64(self.local_date(instant), "D")
        return pd.Timestamp(
            np.busday_offset(d0, n, roll="backward", busdaycal=self._busdaycal)
        ).date()

    def deadline(self, instant: datetime, n: int) -> datetime:
        """End of the n-th working day after `instant`'s local date, as an aware UTC instant."""
        end = datetime.combine(self.deadline_date(instant, n), END_OF_DAY, tzinfo=self.zone)
        return end.astimezone(ZoneInfo("UTC"))

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Working days d with local_date(a) < d <= local_date(b); 0 when b is not after a."""
        da, db = self.local_date(a), self.local_date(b)
        if db <= da:
            return 0
        return int(
            np.busday_count(
                np.datetime64(da + timedelta(days=1), "D"),
                np.datetime64(db + timedelta(days=1), "D"),
                busdaycal=self._busdaycal,
            )
        )

    # --- vectorised ---------------------------------------------------------------------
    def local_dates(self, instants: pd.Series) -> pd.Series:
        """Local calendar dates (datetime64[D]-like, NaT kept) of a tz-aware UTC series."""
        return instants.dt.tz_convert(self.zone).dt.tz_localize(None).dt.normalize()

    def deadlines(self, instants: pd.Series, n: int | np.ndarray | pd.Series) -> pd.Series:
        """Vectorised `deadline`: aware UTC end-of-day instants, NaT where the input is NaT."""
        local_days = self.local_dates(instants)
        mask = local_days.notna().to_numpy()
        out = pd.Series(pd.NaT, index=instants.index, dtype="datetime64[us, UTC]")
        if not mask.any():
            return out
        days = local_days[mask].to_numpy().astype("datetime64[D]")
        steps = np.asarray(n)[mask] if np.ndim(n) else n
        result = np.busday_offset(days, steps, roll="backward", busdaycal=self._busdaycal)
        ends = pd.to_datetime(result) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        out.loc[mask] = ends.tz_localize(self.zone).tz_convert("UTC").astype(out.dtype)
        return out

    def working_days_between_many(self, a: pd.Series, b: datetime | pd.Series) -> np.ndarray:
        """Vectorised `working_days_between` (0 for NaT or when b is not after a)."""
        da = self.local_dates(a)
        if isinstance(b, pd.Series):
            db = self.local_dates(b)
        else:
            db = pd.Series(pd.Timestamp(self.local_date(b)), index=a.index)
        valid = (da.notna() & db.notna() & (db > da)).to_numpy()
        out = np.zeros(len(a), dtype=np.int64)
        if valid.any():
            start = (da[valid].to_numpy().astype("datetime64[D]")) + np.timedelta64(1, "D")
            stop = (db[valid].to_numpy().astype("datetime64[D]")) + np.timedelta64(1, "D")
            out[valid] = np.busday_count(start, stop, busdaycal=self._busdaycal)
        return out


@lru_cache(maxsize=8)
def calendar_for(kpi: KpiSettings) -> WorkCalendar:
    return WorkCalendar(kpi)
