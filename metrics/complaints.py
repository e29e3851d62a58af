"""Complaint-level lists behind the figures: the open and the overdue complaints of the cohort.

Only what a department needs to act on a case: identifiers, slice, status and deadlines.
Never reporter_name, title or body (DATA.md "What may be shown").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, or_, select

from core.calendar import calendar_for
from core.settings import Settings
from metrics.filters import Filters
from metrics.kpi import (
    C,
    as_of_param,
    check_settings,
    cohort_conditions,
    raw,
    response_at_expr,
    slice_conditions,
)

LIST_COLUMNS = [
    "tracking_id", "opd", "submitted_at", "category", "kecamatan", "channel", "classification",
    "status", "overdue_kind", "working_days_overdue", "response_deadline", "completion_deadline",
    "times_estimated", "estimate_precision_days",
]


def _open_list(
    store: Any,
    filters: Filters,
    settings: Settings | None,
    opd: str | None,
    limit: int | None,
    *,
    overdue_only: bool,
) -> pd.DataFrame:
    settings = check_settings(store, settings)
    as_of = as_of_param(filters)
    not_responded = response_at_expr(as_of).is_(None)
    closed = raw(C.closed_at)
    response_deadline = raw(C.response_deadline)
    completion_deadline = raw(C.completion_deadline)
    # The earliest deadline still to meet: the response one while there is no response (unless
    # the completion deadline comes first), else the completion one. Overdue iff it has passed,
    # which is KPI.md's rule: (not responded and response_deadline < as_of) or completion < as_of.
    response_first = and_(not_responded, response_deadline <= completion_deadline)
    due = case((response_first, response_deadline), else_=completion_deadline)
    conditions = [
        *slice_conditions(filters, opd=opd),
        *cohort_conditions(as_of),
        or_(closed.is_(None), closed > as_of),
    ]
    if overdue_only:
        conditions.append(due < as_of)
    stmt = (
        select(
            C.tracking_id, C.opd, C.submitted_at, C.category, C.kecamatan, C.channel,
            C.classification, C.status, C.response_deadline, C.completion_deadline,
            C.times_estimated, C.estimate_precision_days, response_first.label("response_first"),
            raw(due).label("due"),
        )
        .where(*conditions)
        .order_by(due, C.tracking_id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    frame = store.frame(stmt)
    if frame.empty:
        frame = pd.DataFrame(columns=[*LIST_COLUMNS, "due", "response_first"])
    as_of_micros = int(as_of.value)
    due_micros = pd.to_numeric(frame["due"]).astype("int64").to_numpy()
    is_overdue = due_micros < as_of_micros
    response_first_flag = frame["response_first"].fillna(False).astype(bool).to_numpy()
    frame["overdue_kind"] = np.where(
        is_overdue, np.where(response_first_flag, "tanggapan", "penyelesaian"), None
    )
    frame["overdue_kind"] = frame["overdue_kind"].astype(object)
    for name in ("submitted_at", "response_deadline", "completion_deadline"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    due_instants = pd.Series(
        pd.to_datetime(due_micros, unit="us", utc=True), index=frame.index
    )
    calendar = calendar_for(settings.kpi)
    working_days = calendar.working_days_between_many(due_instants, filters.as_of)
    frame["working_days_overdue"] = np.where(is_overdue, working_days, 0).astype("int64")
    frame["times_estimated"] = frame["times_estimated"].astype(bool)
    # KPI.md: an estimated time is shown with its precision (text_format.estimate_note).
    frame["estimate_precision_days"] = pd.to_numeric(frame["estimate_precision_days"]).fillna(0).astype("int64")
    frame["is_overdue"] = is_overdue.astype(bool)
    return frame.drop(columns=["due", "response_first"]).reset_index(drop=True)


def overdue_complaints(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    opd: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Open cohort complaints past a deadline (KPI.md `overdue`), most overdue first.

    `overdue_kind` says which deadline was missed first: `tanggapan` (no follow-up by the
    response deadline) or `penyelesaian` (not closed by the completion deadline);
    `working_days_overdue` counts working days from that deadline to as_of.
    """
    frame = _open_list(store, filters, settings, opd, limit, overdue_only=True)
    return frame[LIST_COLUMNS]


def open_complaints(
    store: Any,
    filters: Filters,
    settings: Settings | None = None,
    opd: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Open cohort complaints as of as_of, overdue first, then by the next deadline."""
    frame = _open_list(store, filters, settings, opd, limit, overdue_only=False)
    return frame[[*LIST_COLUMNS, "is_overdue"]]
