"""KPI.md "The backlog": what is open and late right now, whenever it came in.

The backlog as of `as_of` is every complaint with an OPD, not archived, disposed by as_of and
not completed by as_of, whatever its submission date. The slicers (OPD, category, kecamatan,
channel, region) and the viewer's whole scope apply; the period does not. It is its own set with
its own names (`backlog_open`, `backlog_overdue`, `due_soon`), never to be confused with the
period cohort's `open` and `overdue`.

`backlog_counts` aggregates the cached columnar copy (or, with backend "sql", the database);
`backlog_complaints` lists the complaints behind `backlog_overdue` and `due_soon` from the
database. Never reporter_name or body (DATA.md "What may be shown").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, and_, bindparam, case, func, or_, select
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.calendar import calendar_for
from core.settings import Settings
from data_sources.schema import complaints, sources, to_micros
from metrics.columnar import ARCHIVED_BIT, ComplaintColumns, complaint_columns
from metrics.filters import Filters
from metrics.kpi import BACKENDS, TOTAL, C, as_of_param, check_settings, raw, response_at_expr

BACKLOG_COLUMNS: list[str] = ["backlog_open", "backlog_overdue", "due_soon"]
KINDS = ("overdue", "due_soon")
COMPLAINT_COLUMNS: list[str] = [
    "tracking_id", "source", "opd", "category", "kecamatan", "channel", "classification",
    "status", "submitted_at", "overdue_kind", "working_days_overdue", "due_at", "times_estimated",
]


def due_soon_limit(filters: Filters, settings: Settings) -> int:
    """`deadline(as_of, due_soon_days)` in integer microseconds: the end of the early-warning window."""
    calendar = calendar_for(settings.kpi)
    return to_micros(calendar.deadline(filters.as_of, settings.kpi.due_soon_days))


# --- SQL ---------------------------------------------------------------------------------------
def backlog_conditions(filters: Filters, as_of: BindParameter, opd: str | None = None) -> list[ColumnElement]:
    """The slicers and the whole scope (no period), and KPI.md's backlog membership."""
    conds: list[ColumnElement] = []
    for values, column in (
        (filters.opds, C.opd), (filters.categories, C.category), (filters.kecamatan, C.kecamatan),
        (filters.channels, C.channel), (filters.region_codes, C.region_code),
        (filters.scope.region_codes, C.region_code),
    ):
        if values:
            conds.append(column.in_(values))
    if filters.scope.opd is not None:
        conds.append(C.opd == filters.scope.opd)
    if opd is not None:
        conds.append(C.opd == opd)
    closed = raw(C.closed_at)
    conds += [
        C.opd.is_not(None),
        C.status != "arsip",
        C.disposed_at.is_not(None),
        raw(C.disposed_at) <= as_of,
        or_(closed.is_(None), closed > as_of),
    ]
    return conds


def _deadline_expressions(as_of: BindParameter, limit: BindParameter) -> dict[str, ColumnElement]:
    """Per backlog complaint: the missed deadline (`due`), whether it is the response one, the
    overdue and due-soon verdicts, and the next pending deadline."""
    not_responded = response_at_expr(as_of).is_(None)
    response_deadline = raw(C.response_deadline)
    completion_deadline = raw(C.completion_deadline)
    # The earliest deadline still to meet; it has passed iff KPI.md's overdue rule holds:
    # (not responded and response_deadline < as_of) or completion_deadline < as_of.
    response_first = and_(not_responded, response_deadline <= completion_deadline)
    due = case((response_first, response_deadline), else_=completion_deadline)
    overdue = due < as_of
    # KPI.md: the next pending deadline is the response one while not responded, else completion.
    pending = case((not_responded, response_deadline), else_=completion_deadline)
    due_soon = and_(due >= as_of, pending <= limit)
    return {
        "response_first": response_first, "due": due, "overdue": overdue,
        "pending": pending, "due_soon": due_soon,
    }


def _params(filters: Filters, settings: Settings) -> tuple[BindParameter, BindParameter]:
    limit = bindparam("due_soon_limit", value=due_soon_limit(filters, settings), type_=BigInteger)
    return as_of_param(filters), limit


def _counts_sql(store: Any, filters: Filters, settings: Settings) -> pd.DataFrame:
    as_of, limit = _params(filters, settings)
    exprs = _deadline_expressions(as_of, limit)
    stmt = (
        select(
            C.opd,
            func.count().label("backlog_open"),
            func.sum(case((exprs["overdue"], 1), else_=0)).label("backlog_overdue"),
            func.sum(case((exprs["due_soon"], 1), else_=0)).label("due_soon"),
        )
        .where(*backlog_conditions(filters, as_of))
        .group_by(C.opd)
    )
    rows = store.execute(stmt).rows
    return pd.DataFrame(
        [(opd, int(n), int(o or 0), int(s or 0)) for opd, n, o, s in rows],
        columns=["opd", *BACKLOG_COLUMNS],
    )


# --- the columnar copy -------------------------------------------------------------------------
def _backlog_rows(cols: ComplaintColumns, filters: Filters, as_of: int) -> np.ndarray:
    """`backlog_conditions` as row indices into the columnar copy."""
    mask = (cols["opd"] >= 0) & ~cols.flag(ARCHIVED_BIT)
    for values, name in (
        (filters.opds, "opd"), (filters.categories, "category"), (filters.kecamatan, "kecamatan"),
        (filters.channels, "channel"), (filters.region_codes, "region_code"),
        (filters.scope.region_codes, "region_code"),
    ):
        if values:
            mask &= cols.among(name, values)
    if filters.scope.opd is not None:
        mask &= cols.among("opd", [filters.scope.opd])
    mask &= cols["disposed_at"] <= as_of
    mask &= cols["closed_at"] > as_of  # NEVER (not closed) compares after every as_of
    return np.flatnonzero(mask)


def _counts_frame(store: Any, filters: Filters, settings: Settings) -> pd.DataFrame:
    cols = complaint_columns(store)
    as_of = to_micros(filters.as_of)
    limit = due_soon_limit(filters, settings)
    rows = _backlog_rows(cols, filters, as_of)
    # Backlog complaints are not closed by as_of, so responded means a first response by then.
    responded = cols["first_response_at"][rows] <= as_of
    response_deadline = cols["response_deadline"][rows]
    completion_deadline = cols["completion_deadline"][rows]
    overdue = (~responded & (response_deadline < as_of)) | (completion_deadline < as_of)
    pending = np.where(responded, completion_deadline, response_deadline)
    due_soon = ~overdue & (pending <= limit)
    codes = cols["opd"][rows]
    size = len(cols.labels["opd"])
    counts = {
        "backlog_open": np.bincount(codes, minlength=size),
        "backlog_overdue": np.bincount(codes, weights=overdue, minlength=size),
        "due_soon": np.bincount(codes, weights=due_soon, minlength=size),
    }
    present = np.flatnonzero(counts["backlog_open"])
    frame = pd.DataFrame({"opd": pd.Series(cols.labels["opd"][present], dtype=object)})
    for name in BACKLOG_COLUMNS:
        frame[name] = counts[name][present].astype("int64")
    return frame


# --- the public figures ------------------------------------------------------------------------
def backlog_counts(
    store: Any, filters: Filters, settings: Settings | None = None, *, backend: str = "frame"
) -> pd.DataFrame:
    """KPI.md's backlog per OPD as of `filters.as_of`: `opd, backlog_open, backlog_overdue,
    due_soon`, one row per OPD with a backlog complaint (most overdue first, then by name),
    then the `TOTAL` row (their sum). The period of `filters` is ignored."""
    settings = check_settings(store, settings)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    compute = _counts_frame if backend == "frame" else _counts_sql
    frame = compute(store, filters, settings)
    frame = frame.sort_values(
        ["backlog_overdue", "backlog_open", "opd"], ascending=[False, False, True], kind="mergesort"
    )
    total = pd.DataFrame([{"opd": TOTAL, **{n: int(frame[n].sum()) for n in BACKLOG_COLUMNS}}])
    out = pd.concat([frame, total], ignore_index=True)
    out["opd"] = out["opd"].astype(object)
    for name in BACKLOG_COLUMNS:
        out[name] = out[name].astype("int64")
    return out[["opd", *BACKLOG_COLUMNS]]


def backlog_total(store: Any, filters: Filters, settings: Settings | None = None) -> dict[str, int]:
    """The TOTAL row of `backlog_counts` as a dict of the three figures."""
    row = backlog_counts(store, filters, settings).iloc[-1]
    return {name: int(row[name]) for name in BACKLOG_COLUMNS}


def backlog_complaints(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    *,
    kind: str = "overdue",
    opd: str | None = None,
    limit: int | None = None,
    with_title: bool = False,
    include_confidential: bool = False,
) -> pd.DataFrame:
    """The complaints behind `backlog_overdue` (kind "overdue": most working days late first,
    then tracking_id) or `due_soon` (kind "due_soon": soonest first, then tracking_id).

    `overdue_kind` says which deadline was missed first: `tanggapan` (no follow-up by the
    response deadline) or `penyelesaian` (not closed by the completion deadline), None for a
    due-soon complaint; `working_days_overdue` is `working_days_between(missed deadline,
    as_of)` (0 when due soon); `due_at` the missed or the next pending deadline. With
    `with_title`, a `title` column too, empty for confidential complaints unless
    `include_confidential` (the caller decides whether the viewer may read them).
    """
    settings = check_settings(store, settings)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    as_of, due_limit = _params(filters, settings)
    exprs = _deadline_expressions(as_of, due_limit)
    wanted = exprs["overdue"] if kind == "overdue" else exprs["due_soon"]
    due_at = exprs["due"] if kind == "overdue" else exprs["pending"]
    stmt = (
        select(
            C.tracking_id, sources.c.name.label("source"), C.opd, C.category, C.kecamatan,
            C.channel, C.classification, C.status, C.submitted_at, C.times_estimated,
            C.title, C.is_confidential, exprs["response_first"].label("response_first"),
            raw(due_at).label("due_micros"),
        )
        .select_from(complaints.join(sources, sources.c.id == C.source_id))
        .where(*backlog_conditions(filters, as_of, opd=opd), wanted)
        .order_by(due_at, C.tracking_id)
    )
    if kind == "due_soon" and limit is not None:
        stmt = stmt.limit(limit)
    # For "overdue" every row is read: working days late, not the instant, decide the order, and
    # two deadlines on the same local day tie and go by tracking_id.
    result = store.execute(stmt)
    frame = pd.DataFrame.from_records(result.rows, columns=result.columns)
    if frame.empty:
        return _empty_list(with_title)
    due_micros = pd.to_numeric(frame["due_micros"]).astype("int64")
    frame["due_at"] = pd.to_datetime(due_micros.to_numpy(), unit="us", utc=True)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["times_estimated"] = frame["times_estimated"].astype(bool)
    if kind == "overdue":
        response_first = frame["response_first"].fillna(False).astype(bool).to_numpy()
        frame["overdue_kind"] = pd.Series(
            np.where(response_first, "tanggapan", "penyelesaian"), dtype=object
        )
        calendar = calendar_for(settings.kpi)
        frame["working_days_overdue"] = calendar.working_days_between_many(
            frame["due_at"], filters.as_of
        ).astype("int64")
        frame = frame.assign(_late=-frame["working_days_overdue"]).sort_values(
            ["_late", "tracking_id"], kind="mergesort"
        )
        if limit is not None:
            frame = frame.head(limit)
    else:
        frame["overdue_kind"] = pd.Series([None] * len(frame), dtype=object)
        frame["working_days_overdue"] = np.zeros(len(frame), dtype="int64")
    columns = list(COMPLAINT_COLUMNS)
    if with_title:
        hidden = frame["is_confidential"].astype(bool) & (not include_confidential)
        frame["title"] = [
            "" if hide or title is None else str(title)
            for hide, title in zip(hidden, frame["title"], strict=True)
        ]
        columns.append("title")
    return frame[columns].reset_index(drop=True)


def _empty_list(with_title: bool) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in COMPLAINT_COLUMNS})
    frame["working_days_overdue"] = pd.Series(dtype="int64")
    frame["times_estimated"] = pd.Series(dtype=bool)
    for name in ("submitted_at", "due_at"):
        frame[name] = pd.Series(dtype="datetime64[us, UTC]")
    if with_title:
        frame["title"] = pd.Series(dtype=object)
    return frame
