"""The KPI engine: KPI.md's per-OPD figures, the TOTAL row, the admin figures and period comparison.

Every figure is evaluated as of `filters.as_of`. The additive counts (received, responded, ...)
are aggregated in the database with one GROUP BY of CASE WHEN comparisons over the integer
microsecond instant columns, with the deadlines precomputed by the store; percentages, score,
rank and grade are then derived from those counts in pandas. The TOTAL row is the sum of the
counts put through the same derivation, so a figure can never differ between a row and the total.

The same building blocks (`slice_conditions`, `cohort_conditions`, `count_expressions`,
`derive_figures`) serve `metrics.trends` and `metrics.complaints`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, and_, bindparam, case, func, or_, select, type_coerce
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.settings import KpiSettings, Settings
from data_sources.schema import complaints, regions, to_micros
from metrics.columnar import (
    ARCHIVED_BIT,
    NEVER,
    RATING_SHIFT,
    REDISPOSED_BIT,
    REOPENED_BIT,
    ComplaintColumns,
    complaint_columns,
)
from metrics.filters import Filters

KPI_COLUMNS: list[str] = [
    "received",
    "responded",
    "responded_on_time",
    "response_overdue_open",
    "response_on_time_pct",
    "median_response_hours",
    "completed",
    "completed_on_time",
    "completion_pct",
    "accuracy_pct",
    "mean_rating",
    "open",
    "overdue",
    "redisposed_pct",
    "score",
    "rank",
    "grade",
]
# KPI.md count columns: additive, so TOTAL is their sum.
COUNT_COLUMNS: list[str] = [
    "received", "responded", "responded_on_time", "response_overdue_open", "completed",
    "completed_on_time", "open", "overdue",
]
# Additive helpers the SQL returns besides KPI.md's counts, needed by the derived figures.
HELPER_COUNTS: list[str] = ["accepted", "rated", "rating_sum", "redisposed"]
SQL_COUNTS: list[str] = [c for c in COUNT_COLUMNS if c != "open"] + HELPER_COUNTS
PCT_COLUMNS: list[str] = [
    "response_on_time_pct", "completion_pct", "accuracy_pct", "redisposed_pct",
]
TOTAL = "TOTAL"
MICROS_PER_HOUR = 3_600_000_000

C = complaints.c


def raw(column: ColumnElement) -> ColumnElement:
    """An Instant column as its stored integer microseconds (no datetime conversion)."""
    return type_coerce(column, BigInteger)


def as_of_param(filters: Filters) -> BindParameter:
    return bindparam("as_of", value=to_micros(filters.as_of), type_=BigInteger)


def check_settings(store: Any, settings: Settings | None) -> Settings:
    """The settings to derive figures with; deadlines are the store's, so the calendars must match."""
    if settings is None:
        return store.settings
    if settings.kpi.calendar_fingerprint() != store.settings.kpi.calendar_fingerprint():
        raise ValueError(
            "the calendar or deadline settings differ from the store's; open the store with "
            "these settings so the stored deadlines are recomputed"
        )
    return settings


# --- the SQL building blocks -----------------------------------------------------------------
def slice_conditions(
    filters: Filters, *, scope_opd: bool = True, opd: str | None = None, opd_filter: bool = True
) -> list[ColumnElement]:
    """Period (local submitted_date, indexed), the slicers of `filters`, and the viewer's scope."""
    conds: list[ColumnElement] = [C.submitted_date.between(filters.date_from, filters.date_to)]
    if opd_filter and filters.opds:
        conds.append(C.opd.in_(filters.opds))
    if filters.categories:
        conds.append(C.category.in_(filters.categories))
    if filters.kecamatan:
        conds.append(C.kecamatan.in_(filters.kecamatan))
    if filters.channels:
        conds.append(C.channel.in_(filters.channels))
    if filters.region_codes:
        conds.append(C.region_code.in_(filters.region_codes))
    if filters.scope.region_codes:
        conds.append(C.region_code.in_(filters.scope.region_codes))
    if scope_opd and filters.scope.opd is not None:
        conds.append(C.opd == filters.scope.opd)
    if opd is not None:
        conds.append(C.opd == opd)
    return conds


def cohort_conditions(as_of: BindParameter) -> list[ColumnElement]:
    """KPI.md "The per-OPD cohort": an OPD, not archived, disposed and not after as_of."""
    return [
        C.opd.is_not(None),
        C.status != "arsip",
        C.disposed_at.is_not(None),
        raw(C.disposed_at) <= as_of,
    ]


def response_at_expr(as_of: BindParameter) -> ColumnElement:
    """`response_at` as of `as_of`: the first response if it happened by then, else the closure.

    A first response stamped after as_of has not happened yet (KPI.md "Evaluating as of"), so a
    closure before as_of is the response even when a later first response is on record.
    """
    first = raw(C.first_response_at)
    closed = raw(C.closed_at)
    return case((first <= as_of, first), (closed <= as_of, closed), else_=None)


def _flag(condition: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


def count_expressions(as_of: BindParameter, kpi: KpiSettings) -> dict[str, ColumnElement]:
    """KPI.md's additive counts (and helpers) as SUM(CASE WHEN ...) over cohort rows."""
    response_at = response_at_expr(as_of)
    responded = response_at.is_not(None)
    not_responded = response_at.is_(None)
    closed = raw(C.closed_at)
    completed = closed <= as_of
    response_deadline = raw(C.response_deadline)
    completion_deadline = raw(C.completion_deadline)
    response_overdue = and_(not_responded, response_deadline < as_of)
    not_completed = or_(closed.is_(None), closed > as_of)
    accepted = and_(
        completed,
        C.reopen_count == 0,
        or_(C.rating.is_(None), C.rating >= kpi.accepted_min_rating),
    )
    rated = and_(completed, C.rating.is_not(None))
    return {
        "received": func.count(),
        "responded": _flag(responded),
        "responded_on_time": _flag(and_(responded, response_at <= response_deadline)),
        "response_overdue_open": _flag(response_overdue),
        "completed": _flag(completed),
        "completed_on_time": _flag(and_(completed, closed <= completion_deadline)),
        "overdue": _flag(
            and_(not_completed, or_(response_overdue, completion_deadline < as_of))
        ),
        "accepted": _flag(accepted),
        "rated": _flag(rated),
        "rating_sum": func.sum(case((rated, C.rating), else_=0)),
        "redisposed": _flag(C.redisposition_count > 0),
    }


def cohort_counts_sql(
    store: Any,
    filters: Filters,
    kpi: KpiSettings,
    group_by: Sequence[str],
    *,
    scope_opd: bool = True,
    opd: str | None = None,
) -> pd.DataFrame:
    """One GROUP BY in the database over the cohort: group columns, then SQL_COUNTS (int64)."""
    as_of = as_of_param(filters)
    exprs = count_expressions(as_of, kpi)
    groups = [C[name] for name in group_by]
    stmt = (
        select(*groups, *(expr.label(name) for name, expr in exprs.items()))
        .where(*slice_conditions(filters, scope_opd=scope_opd, opd=opd), *cohort_conditions(as_of))
        .group_by(*groups)
    )
    frame = store.frame(stmt)
    if frame.empty:
        frame = pd.DataFrame({name: pd.Series(dtype=object) for name in group_by})
        for name in SQL_COUNTS:
            frame[name] = pd.Series(dtype="int64")
        return frame
    for name in SQL_COUNTS:
        # PostgreSQL SUM(bigint) may come back as Decimal; the counts are integers.
        frame[name] = pd.to_numeric(frame[name]).fillna(0).astype("int64")
    for name in group_by:
        # Plain objects with None for NULL, as the columnar path gives them.
        frame[name] = pd.Series(
            [None if _is_missing(v) else v for v in frame[name].tolist()], dtype=object
        )
    return frame


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def response_durations_sql(
    store: Any,
    filters: Filters,
    *,
    scope_opd: bool = True,
    opd: str | None = None,
    by: str = "opd",
) -> pd.DataFrame:
    """`by` (default `opd`) and `micros` (response_at - disposed_at) of every responded cohort complaint."""
    as_of = as_of_param(filters)
    response_at = response_at_expr(as_of)
    stmt = select(C[by], (response_at - raw(C.disposed_at)).label("micros")).where(
        *slice_conditions(filters, scope_opd=scope_opd, opd=opd),
        *cohort_conditions(as_of),
        response_at.is_not(None),
    )
    result = store.execute(stmt)
    if not result.rows:
        return pd.DataFrame({by: pd.Series(dtype=object), "micros": pd.Series(dtype="int64")})
    groups, micros = zip(*result.rows, strict=True)
    return pd.DataFrame({by: list(groups), "micros": np.fromiter(micros, dtype=np.int64)})


# --- the same counts over the cached columnar copy (the default: fast on a million rows) ------
def _frame_mask(
    cols: ComplaintColumns,
    filters: Filters,
    *,
    scope_opd: bool = True,
    opd: str | None = None,
    opd_filter: bool = True,
) -> np.ndarray:
    """`slice_conditions` as a boolean mask over the columnar copy."""
    day = cols["submitted_date"]
    first = np.datetime64(filters.date_from, "D").astype(np.int64)
    last = np.datetime64(filters.date_to, "D").astype(np.int64)
    mask = (day >= first) & (day <= last)
    if opd_filter and filters.opds:
        mask &= cols.among("opd", filters.opds)
    if filters.categories:
        mask &= cols.among("category", filters.categories)
    if filters.kecamatan:
        mask &= cols.among("kecamatan", filters.kecamatan)
    if filters.channels:
        mask &= cols.among("channel", filters.channels)
    if filters.region_codes:
        mask &= cols.among("region_code", filters.region_codes)
    if filters.scope.region_codes:
        mask &= cols.among("region_code", filters.scope.region_codes)
    if scope_opd and filters.scope.opd is not None:
        mask &= cols.among("opd", [filters.scope.opd])
    if opd is not None:
        mask &= cols.among("opd", [opd])
    return mask


@dataclass(frozen=True)
class _FrameCohort:
    rows: np.ndarray  # indices of the cohort rows
    response_at: np.ndarray  # `response_at_expr` per cohort row; NEVER without response


_cohort_memo: dict[tuple, _FrameCohort] = {}


def _frame_cohort(
    cols: ComplaintColumns,
    filters: Filters,
    *,
    scope_opd: bool = True,
    opd: str | None = None,
) -> _FrameCohort:
    """`cohort_conditions` over the columnar copy (memoised: counts and median share it)."""
    key = (cols.key, filters, scope_opd, opd)
    found = _cohort_memo.get(key)
    if found is not None:
        return found
    as_of = to_micros(filters.as_of)
    mask = _frame_mask(cols, filters, scope_opd=scope_opd, opd=opd)
    mask &= cols["opd"] >= 0
    mask &= ~cols.flag(ARCHIVED_BIT)
    mask &= cols["disposed_at"] <= as_of
    rows = np.flatnonzero(mask)
    first = cols["first_response_at"][rows]
    closed = cols["closed_at"][rows]
    response_at = np.where(first <= as_of, first, np.where(closed <= as_of, closed, NEVER))
    cohort = _FrameCohort(rows=rows, response_at=response_at)
    if len(_cohort_memo) >= 8:
        _cohort_memo.clear()
    _cohort_memo[key] = cohort
    return cohort


def _frame_flags(
    cols: ComplaintColumns, cohort: _FrameCohort, as_of: int, kpi: KpiSettings
) -> dict[str, np.ndarray]:
    """`count_expressions` over the columnar copy: one 0/1 (or rating) array per count."""
    rows = cohort.rows
    response_at = cohort.response_at
    responded = response_at <= as_of
    closed = cols["closed_at"][rows]
    completed = closed <= as_of
    response_deadline = cols["response_deadline"][rows]
    completion_deadline = cols["completion_deadline"][rows]
    flags = cols["flags"][rows]
    rating = flags >> RATING_SHIFT
    response_overdue = ~responded & (response_deadline < as_of)
    rated = completed & (rating > 0)
    return {
        "received": np.ones(len(rows), dtype=bool),
        "responded": responded,
        "responded_on_time": responded & (response_at <= response_deadline),
        "response_overdue_open": response_overdue,
        "completed": completed,
        "completed_on_time": completed & (closed <= completion_deadline),
        "overdue": ~completed & (response_overdue | (completion_deadline < as_of)),
        "accepted": completed
        & ((flags & REOPENED_BIT) == 0)
        & ((rating == 0) | (rating >= kpi.accepted_min_rating)),
        "rated": rated,
        "rating_sum": np.where(rated, rating, 0),
        "redisposed": (flags & REDISPOSED_BIT) != 0,
    }


def _group_key(
    cols: ComplaintColumns, rows: np.ndarray, group_by: Sequence[str]
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One integer key per row combining the group columns; per column its (size, base)."""
    key = np.zeros(len(rows), dtype=np.int64)
    parts: list[tuple[int, int]] = []
    for name in group_by:
        codes = cols[name][rows].astype(np.int64)
        if name == "submitted_date":
            base = int(codes.min()) if len(codes) else 0
            codes = codes - base
            size = int(codes.max()) + 1 if len(codes) else 1
        else:
            size = len(cols.labels[name]) + 1
            base = 0
            codes = np.where(codes < 0, size - 1, codes)  # NULL gets the last code
        key = key * size + codes
        parts.append((size, base))
    return key, parts


def cohort_counts_frame(
    store: Any,
    filters: Filters,
    kpi: KpiSettings,
    group_by: Sequence[str],
    *,
    scope_opd: bool = True,
    opd: str | None = None,
) -> pd.DataFrame:
    """`cohort_counts_sql` computed over the columnar copy, with identical output."""
    cols = complaint_columns(store)
    cohort = _frame_cohort(cols, filters, scope_opd=scope_opd, opd=opd)
    flags = _frame_flags(cols, cohort, to_micros(filters.as_of), kpi)
    key, parts = _group_key(cols, cohort.rows, group_by)
    if len(parts) == 1 and parts[0][0] <= 4 * len(key) + 1024:
        # Few possible groups: count straight into a slot per group, no sorting.
        slots = np.bincount(key, minlength=parts[0][0])
        unique_keys = np.flatnonzero(slots)
        inverse = key
        width = parts[0][0]
    else:
        unique_keys, inverse = np.unique(key, return_inverse=True)
        width = len(unique_keys)
    out: dict[str, Any] = {}
    decoded: list[np.ndarray] = []
    remainder = unique_keys
    for size, _base in reversed(parts):
        decoded.append(remainder % size)
        remainder = remainder // size
    decoded.reverse()
    for name, codes, (size, base) in zip(group_by, decoded, parts, strict=True):
        if name == "submitted_date":
            days = (codes + base).astype("datetime64[D]")
            out[name] = pd.Series(list(pd.to_datetime(days).date), dtype=object)
        else:
            codes = np.where(codes == size - 1, -1, codes)
            out[name] = pd.Series(cols.label_values(name, codes), dtype=object)
    for name in SQL_COUNTS:
        sums = np.bincount(inverse, weights=flags[name], minlength=width)
        if width != len(unique_keys):
            sums = sums[unique_keys]
        out[name] = pd.Series(np.rint(sums).astype(np.int64))
    return pd.DataFrame(out, columns=[*group_by, *SQL_COUNTS])


def response_durations_frame(
    store: Any,
    filters: Filters,
    *,
    scope_opd: bool = True,
    opd: str | None = None,
    by: str = "opd",
) -> pd.DataFrame:
    """`response_durations_sql` computed over the columnar copy."""
    cols = complaint_columns(store)
    cohort = _frame_cohort(cols, filters, scope_opd=scope_opd, opd=opd)
    responded = cohort.response_at <= to_micros(filters.as_of)
    rows = cohort.rows[responded]
    micros = cohort.response_at[responded] - cols["disposed_at"][rows]
    return pd.DataFrame({
        by: pd.Series(cols.label_values(by, cols[by][rows]), dtype=object),
        "micros": micros.astype(np.int64),
    })


BACKENDS = ("frame", "sql")


def cohort_counts(
    store: Any,
    filters: Filters,
    kpi: KpiSettings,
    group_by: Sequence[str],
    *,
    scope_opd: bool = True,
    opd: str | None = None,
    backend: str = "frame",
) -> pd.DataFrame:
    """The cohort's additive counts by `group_by`, over the columnar copy or in the database."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    compute = cohort_counts_frame if backend == "frame" else cohort_counts_sql
    return compute(store, filters, kpi, group_by, scope_opd=scope_opd, opd=opd)


def response_durations(
    store: Any,
    filters: Filters,
    *,
    scope_opd: bool = True,
    opd: str | None = None,
    backend: str = "frame",
    by: str = "opd",
) -> pd.DataFrame:
    """`by` (default `opd`; or `region_code`) and `micros` (response_at - disposed_at) of every
    responded cohort complaint."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    compute = response_durations_frame if backend == "frame" else response_durations_sql
    return compute(store, filters, scope_opd=scope_opd, opd=opd, by=by)


# --- deriving the figures from the counts ----------------------------------------------------
def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """100 x numerator / denominator as float, NaN where the denominator is 0."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return (100.0 * num / den.where(den != 0)).astype("float64")


def score_of(
    kecepatan: pd.Series, ketepatan: pd.Series, tuntas: pd.Series, kpi: KpiSettings
) -> pd.Series:
    """KPI.md score: weighted mean over the components that are not empty, weights renormalised."""
    parts = [
        (kecepatan, kpi.weight_kecepatan),
        (ketepatan, kpi.weight_ketepatan),
        (tuntas, kpi.weight_tuntas),
    ]
    weighted = pd.Series(0.0, index=kecepatan.index)
    weights = pd.Series(0.0, index=kecepatan.index)
    for values, weight in parts:
        present = values.notna()
        weighted = weighted + values.where(present, 0.0) * weight
        weights = weights + present.astype("float64") * weight
    return (weighted / weights.where(weights != 0)).astype("float64")


def grade_of(score: pd.Series, kpi: KpiSettings) -> pd.Series:
    """`baik` >= grade_baik, `cukup` >= grade_cukup, else `perlu_perhatian`; None without score."""
    values = np.select(
        [score.isna(), score >= kpi.grade_baik, score >= kpi.grade_cukup],
        [None, "baik", "cukup"],
        default="perlu_perhatian",
    )
    return pd.Series(values, index=score.index, dtype=object)


def derive_figures(counts: pd.DataFrame, kpi: KpiSettings) -> pd.DataFrame:
    """Add KPI.md's derived columns (everything but median, rank and grade) to a counts frame."""
    out = counts.copy()
    out["open"] = out["received"] - out["completed"]
    out["response_on_time_pct"] = _ratio(
        out["responded_on_time"], out["responded"] + out["response_overdue_open"]
    )
    out["completion_pct"] = _ratio(out["completed"], out["received"])
    out["accuracy_pct"] = _ratio(out["accepted"], out["completed"])
    rated = out["rated"].astype("float64")
    out["mean_rating"] = (out["rating_sum"].astype("float64") / rated.where(rated != 0)).astype(
        "float64"
    )
    out["redisposed_pct"] = _ratio(out["redisposed"], out["received"])
    out["score"] = score_of(
        out["response_on_time_pct"], out["accuracy_pct"], out["completion_pct"], kpi
    )
    out["grade"] = grade_of(out["score"], kpi)
    return out


def rank_of(frame: pd.DataFrame, kpi: KpiSettings, name_column: str = "opd") -> pd.Series:
    """KPI.md rank: 1 = best score among OPDs with received >= min_volume and a score.

    Ties go to more received first, then the OPD name (`name_column`: regions rank by theirs),
    so every ranked OPD has its own place.
    """
    eligible = frame[(frame["received"] >= kpi.min_volume) & frame["score"].notna()]
    ordered = eligible.assign(_neg_received=-eligible["received"]).sort_values(
        ["score", "_neg_received", name_column], ascending=[False, True, True], kind="mergesort"
    )
    rank = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    rank.loc[ordered.index] = np.arange(1, len(ordered) + 1)
    return rank


def _median_hours(durations: pd.DataFrame, by: str = "opd") -> tuple[pd.Series, float]:
    """Per-OPD (per `by`) and overall median of the durations, in hours (NaN without a responded
    complaint)."""
    if durations.empty:
        return pd.Series(dtype="float64"), float("nan")
    per_opd = durations.groupby(by, sort=False)["micros"].median() / MICROS_PER_HOUR
    overall = float(np.median(durations["micros"].to_numpy())) / MICROS_PER_HOUR
    return per_opd.astype("float64"), overall


def _empty_table() -> pd.DataFrame:
    table = pd.DataFrame({"opd": pd.Series(dtype=object)})
    for name in KPI_COLUMNS:
        table[name] = pd.Series(dtype="float64")
    return table


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Column order and dtypes of a KPI table: counts int64, rank Int64, grade object."""
    frame = frame[["opd", *KPI_COLUMNS]].reset_index(drop=True)
    for name in COUNT_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in ("response_on_time_pct", "median_response_hours", "completion_pct",
                 "accuracy_pct", "mean_rating", "redisposed_pct", "score"):
        frame[name] = frame[name].astype("float64")
    frame["rank"] = frame["rank"].astype("Int64")
    frame["grade"] = frame["grade"].astype(object)
    frame["opd"] = frame["opd"].astype(object)
    return frame


def total_row(counts: pd.DataFrame, median_hours: float, kpi: KpiSettings) -> pd.DataFrame:
    """The TOTAL row: sums of the counts, then the same derivation; no rank."""
    sums = {name: int(counts[name].sum()) for name in SQL_COUNTS}
    total = derive_figures(pd.DataFrame([{"opd": TOTAL, **sums}]), kpi)
    total["median_response_hours"] = median_hours
    total["rank"] = pd.array([pd.NA], dtype="Int64")
    return total


def opd_table(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> pd.DataFrame:
    """KPI.md's per-OPD table as of `filters.as_of`, ranked OPDs first, then unranked, then TOTAL.

    With `filters.scope.opd` set, only that OPD's row (ranked among all OPDs) and TOTAL.
    `backend` "frame" aggregates the cached columnar copy, "sql" runs the GROUP BY in the
    database; both give the same figures.
    """
    settings = check_settings(store, settings)
    kpi = settings.kpi
    counts = cohort_counts(store, filters, kpi, ["opd"], scope_opd=False, backend=backend)
    durations = response_durations(store, filters, scope_opd=False, backend=backend)
    per_opd_median, overall_median = _median_hours(durations)
    table = derive_figures(counts, kpi)
    table["median_response_hours"] = table["opd"].map(per_opd_median).astype("float64")
    table["rank"] = rank_of(table, kpi)
    total = total_row(counts, overall_median, kpi)
    if table.empty:
        return _finish(pd.concat([_empty_table(), total], ignore_index=True))
    # Ranked OPDs by rank, then the unranked by name.
    table = table.assign(_unranked=table["rank"].isna(), _rank=table["rank"].fillna(0))
    table = table.sort_values(["_unranked", "_rank", "opd"], kind="mergesort")
    ranked_count = int(table["rank"].notna().sum())
    if filters.scope.opd is not None:
        table = table[table["opd"] == filters.scope.opd]
    result = _finish(pd.concat([table, total], ignore_index=True))
    # "peringkat 7 dari 23" for an OPD viewer: how many were ranked, nothing of their figures.
    result.attrs["ranked_count"] = ranked_count
    return result


REGION_COLUMNS: list[str] = ["region_code", "region_name"]


def region_table(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> pd.DataFrame:
    """KPI.md's table with regions in place of OPDs: one row per region, then TOTAL.

    Columns `region_code`, `region_name`, then KPI_COLUMNS. A region's figures are those of the
    union of its OPD cohorts; regions are ranked among themselves with the same min_volume,
    score and tie rules (ties: more received, then region name), ranked first by rank, then
    the unranked by name; the last row has `region_code == region_name == "TOTAL"`. Honours the
    filters and the whole scope: a region-limited viewer sees only its regions, an OPD viewer
    only its OPD's complaints in each region.
    """
    settings = check_settings(store, settings)
    kpi = settings.kpi
    counts = cohort_counts(store, filters, kpi, ["region_code"], backend=backend)
    durations = response_durations(store, filters, backend=backend, by="region_code")
    per_region_median, overall_median = _median_hours(durations, by="region_code")
    names = dict(store.execute(select(regions.c.code, regions.c.name)).rows)
    table = derive_figures(counts, kpi)
    table["region_name"] = table["region_code"].map(lambda code: names.get(code, code))
    table["median_response_hours"] = table["region_code"].map(per_region_median).astype("float64")
    table["rank"] = rank_of(table, kpi, name_column="region_name")
    total = total_row(counts, overall_median, kpi).drop(columns=["opd"])
    total["region_code"] = TOTAL
    total["region_name"] = TOTAL
    if not table.empty:
        table = table.assign(_unranked=table["rank"].isna(), _rank=table["rank"].fillna(0))
        table = table.sort_values(["_unranked", "_rank", "region_name"], kind="mergesort")
        total = pd.concat([table, total], ignore_index=True)
    else:
        total = pd.concat([_empty_table().drop(columns=["opd"]), total], ignore_index=True)
    frame = _finish(total.assign(opd=total["region_code"])).drop(columns=["opd"])
    frame.insert(0, "region_name", pd.Series(total["region_name"].tolist(), dtype=object))
    frame.insert(0, "region_code", pd.Series(total["region_code"].tolist(), dtype=object))
    return frame


def total_figures(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> pd.Series:
    """The TOTAL row alone (region-wide figures within the viewer's scope), as a Series."""
    settings = check_settings(store, settings)
    counts = cohort_counts(store, filters, settings.kpi, [], backend=backend)
    durations = response_durations(store, filters, backend=backend)
    _, overall_median = _median_hours(durations)
    if counts.empty:
        counts = pd.DataFrame([{name: 0 for name in SQL_COUNTS}])
    total = _finish(total_row(counts, overall_median, settings.kpi))
    return total.iloc[0]


# --- admin figures and comparison ------------------------------------------------------------
def admin_figures(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> dict[str, Any]:
    """KPI.md region-wide admin figures: awaiting_verification and verified_on_time_pct.

    Read as of `as_of`: a complaint awaits verification when it was submitted by as_of and was
    neither disposed nor closed by then; "verified" means disposed (KPI.md). Archived complaints
    are left out, like from the cohort. OPD slicers do not apply: these complaints have no OPD
    yet; the viewer's region scope does.
    """
    check_settings(store, settings)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    if backend == "sql":
        awaiting, on_time, verified_n, late = _admin_counts_sql(store, filters)
    else:
        awaiting, on_time, verified_n, late = _admin_counts_frame(store, filters)
    denominator = verified_n + late
    return {
        "awaiting_verification": awaiting,
        "verified_on_time_pct": (100.0 * on_time / denominator) if denominator else None,
    }


def _admin_counts_sql(store: Any, filters: Filters) -> tuple[int, int, int, int]:
    as_of = as_of_param(filters)
    disposed = raw(C.disposed_at)
    closed = raw(C.closed_at)
    verified = disposed <= as_of
    not_verified = and_(
        or_(disposed.is_(None), disposed > as_of), or_(closed.is_(None), closed > as_of)
    )
    deadline = raw(C.verification_deadline)
    stmt = select(
        _flag(and_(not_verified, raw(C.submitted_at) <= as_of)).label("awaiting"),
        _flag(and_(verified, disposed <= deadline)).label("verified_on_time"),
        _flag(verified).label("verified"),
        _flag(and_(not_verified, deadline < as_of)).label("unverified_late"),
    ).where(*slice_conditions(filters, scope_opd=False, opd_filter=False), C.status != "arsip")
    row = store.execute(stmt).first() or (0, 0, 0, 0)
    awaiting, on_time, verified_n, late = (int(v or 0) for v in row)
    return awaiting, on_time, verified_n, late


def _admin_counts_frame(store: Any, filters: Filters) -> tuple[int, int, int, int]:
    cols = complaint_columns(store)
    as_of = to_micros(filters.as_of)
    mask = _frame_mask(cols, filters, scope_opd=False, opd_filter=False)
    rows = np.flatnonzero(mask & ~cols.flag(ARCHIVED_BIT))
    disposed = cols["disposed_at"][rows]
    closed = cols["closed_at"][rows]
    deadline = cols["verification_deadline"][rows]
    verified = disposed <= as_of
    not_verified = ~verified & (closed > as_of)
    awaiting = not_verified & (cols["submitted_at"][rows] <= as_of)
    return (
        int(awaiting.sum()),
        int((verified & (disposed <= deadline)).sum()),
        int(verified.sum()),
        int((not_verified & (deadline < as_of)).sum()),
    )


COMPARE_COLUMNS: list[str] = [
    name for name in KPI_COLUMNS if name not in ("rank", "grade")
]


def compare_periods(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> pd.DataFrame:
    """TOTAL figures of this period and of the previous one of equal length, with deltas.

    The previous period is `filters.previous_period()`: as_of shifted back by the same length,
    so both periods had the same time to mature.
    """
    current = total_figures(store, filters, settings, backend=backend)
    previous = total_figures(store, filters.previous_period(), settings, backend=backend)
    cur = pd.to_numeric(current[COMPARE_COLUMNS], errors="coerce").astype("float64")
    prev = pd.to_numeric(previous[COMPARE_COLUMNS], errors="coerce").astype("float64")
    return pd.DataFrame({"current": cur, "previous": prev, "delta": cur - prev})
