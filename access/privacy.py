"""What may be shown of a complaint (DATA.md): never the reporter, confidential texts only to analysts.

`complaint_text` is the one way to read a complaint's title and body. It never selects the
reporter's identity, applies the viewer's scope (an OPD user reads only its own OPD's
complaints) and withholds the text of a confidential complaint from everyone but the analyst
role. `show_complaint_text` renders the text as plain text, never as HTML or markdown.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from data_sources.schema import complaints

# Columns that identify a reporter; they never leave the database (any role, any export).
REPORTER_COLUMNS = ("reporter_name", "reporter_email", "reporter_phone", "reporter_contact")
WITHHELD_NOTE = "Isi aduan rahasia: hanya dapat dibaca analis."


@dataclass(frozen=True)
class ComplaintText:
    tracking_id: str
    opd: str | None
    is_confidential: bool
    title: str | None
    body: str | None
    withheld: bool = False  # True when the viewer may not read this confidential text


def complaint_text(store, viewer, tracking_id: str) -> ComplaintText | None:  # noqa: ANN001
    """The title and body of one complaint as this viewer may see them; None outside its scope."""
    query = select(
        complaints.c.tracking_id, complaints.c.opd, complaints.c.is_confidential,
        complaints.c.title, complaints.c.body,
    ).where(complaints.c.tracking_id == str(tracking_id))
    scope = viewer.scope
    if scope.opd is not None:
        query = query.where(complaints.c.opd == scope.opd)
    if scope.region_codes:
        query = query.where(complaints.c.region_code.in_(scope.region_codes))
    rows = store.execute(query.limit(1)).dicts()
    if not rows:
        return None
    row = rows[0]
    confidential = bool(row["is_confidential"])
    if confidential and not viewer.can("confidential"):
        return ComplaintText(row["tracking_id"], row["opd"], True, None, None, withheld=True)
    return ComplaintText(row["tracking_id"], row["opd"], confidential, row["title"], row["body"])


def without_reporter(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame without any reporter-identity column, for a display or export built elsewhere."""
    return frame.drop(columns=[c for c in REPORTER_COLUMNS if c in frame.columns])


def show_complaint_text(text: ComplaintText) -> None:
    """Render a complaint's text literally (st.text: no HTML, no markdown)."""
    import streamlit as st

    if text.withheld:
        st.caption(WITHHELD_NOTE)
        return
    if text.is_confidential:
        st.caption("Aduan rahasia: jangan diteruskan di luar analis.")
    st.text(text.title or "")
    st.text(text.body or "")
