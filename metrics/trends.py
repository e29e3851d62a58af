"""KPI.md figures over time and by slice: weekly or monthly series, breakdowns, response times.

Each bucket holds the complaints submitted in it, judged with KPI.md's rules as of
`filters.as_of`. The database groups by the local submission date (and the slice); the daily
additive counts are rolled up to weeks or months here and the percentages derived from the
sums, exactly as the TOTAL row is derived from the OPD rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.settings import Settings
from metrics.filters import Filters
from metrics.kpi import (
    MICROS_PER_HOUR,
    SQL_COUNTS,
    check_settings,
    cohort_counts,
    derive_figures,
    response_durations,
)

FREQS = ("week", "month")
SERIES_BY = ("opd", "category", "channel", "kecamatan")
SERIES_FIGURES = [
    "received", "responded", "response_on_time_pct", "completed", "completion_pct",
    "accuracy_pct", "overdue",
]
BREAKDOWN_FIGURES = ["received", "completed", "completion_pct", "response_on_time_pct", "overdue"]


def period_start(day: date, freq: str) -> date:
    """The first day of the week (Monday) or month that `day` falls in."""
    if freq == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _bucket_starts(filters: Filters, freq: str) -> list[date]:
    first = period_start(filters.date_from, freq)
    starts = []
    current = first
    while current <= filters.date_to:
        starts.append(current)
        if freq == "week":
            current = current + timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def _bucket_column(days: pd.Series, freq: str) -> pd.Series:
    stamps = pd.to_datetime(days)
    if freq == "week":
        starts = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    else:
        starts = stamps.dt.to_period("M").dt.start_time
    return pd.Series(starts.dt.date, index=days.index, dtype=object)


def series(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    freq: str = "month",
    by: str | None = None,
    *,
    backend: str = "frame",
) -> pd.DataFrame:
    """Figures per week (Monday start) or month of submission, optionally per `by` value.

    Every bucket of the period appears (for every `by` value that has complaints), with zero
    counts and empty percentages where nothing was submitted, so a chart shows the gaps.
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {FREQS}, not {freq!r}")
    if by is not None and by not in SERIES_BY:
        raise ValueError(f"by must be None or one of {SERIES_BY}, not {by!r}")
    settings = check_settings(store, settings)
    keys = ["period_start"] + ([by] if by else [])
    counts = cohort_counts(
        store, filters, settings.kpi, ["submitted_date", *keys[1:]], backend=backend
    )
    counts["period_start"] = _bucket_column(counts["submitted_date"], freq)
    rolled = counts.groupby(keys, dropna=False, sort=False)[SQL_COUNTS].sum().reset_index()

    starts = _bucket_starts(filters, freq)
    if by:
        values = sorted(rolled[by].dropna().unique().tolist())
        if rolled[by].isna().any():
            values.append(None)
        grid = pd.DataFrame(
            [(start, value) for value in values for start in starts], columns=keys
        )
    else:
        grid = pd.DataFrame({"period_start": starts})
    grid["_key"] = list(zip(*(grid[k] for k in keys), strict=True))
    rolled["_key"] = list(zip(*(rolled[k] for k in keys), strict=True))
    merged = grid.merge(rolled.drop(columns=keys), on="_key", how="left").drop(columns="_key")
    for name in SQL_COUNTS:
        merged[name] = merged[name].fillna(0).astype("int64")
    derived = derive_figures(merged, settings.kpi)
    return derived[[*keys, *SERIES_FIGURES]].reset_index(drop=True)


def breakdown(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    by: str = "category",
    *,
    backend: str = "frame",
) -> pd.DataFrame:
    """Figures per category, channel, kecamatan or OPD, most received first."""
    if by not in SERIES_BY:
        raise ValueError(f"by must be one of {SERIES_BY}, not {by!r}")
    settings = check_settings(store, settings)
    counts = cohort_counts(store, filters, settings.kpi, [by], backend=backend)
    derived = derive_figures(counts, settings.kpi)
    # Most received first; equal counts by name, the unnamed (None) last.
    derived = derived.assign(_name=derived[by].fillna("\uffff")).sort_values(
        ["received", "_name"], ascending=[False, True], kind="mergesort"
    )
    return derived[[by, *BREAKDOWN_FIGURES]].reset_index(drop=True)


def response_hours(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    opd: str | None = None,
    *,
    backend: str = "frame",
) -> pd.Series:
    """Hours from disposition to response of each responded cohort complaint (a histogram's data)."""
    check_settings(store, settings)
    durations = response_durations(store, filters, opd=opd, backend=backend)
    hours = durations["micros"].to_numpy(dtype=np.float64) / MICROS_PER_HOUR
    return pd.Series(hours, name="response_hours", dtype="float64")
