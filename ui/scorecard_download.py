"""The "Unduh scorecard Excel" button: the report command's xlsx workbook, built when clicked for
the viewer valid then (ui.downloads), and audited."""

from __future__ import annotations

import io
from typing import Any

import streamlit as st

from core.settings import Settings
from metrics.briefing import file_name
from metrics.filters import Filters
from ui import downloads


def scorecard_xlsx(store: Any, settings: Settings, filters: Filters) -> bytes:
    """The report command's xlsx workbook (metrics.export.write_report) as bytes."""
    from metrics.export import report_table, write_report
    from metrics.kpi import admin_figures

    table = report_table(store, filters, settings)  # the report command's rows, backlog included
    # The admin figures span every OPD's complaints: not for an OPD viewer.
    admin = admin_figures(store, filters, settings) if filters.scope.opd is None else None
    buffer = io.BytesIO()
    write_report(table, "xlsx", buffer, filters, settings, admin=admin, scorecard=True)
    return buffer.getvalue()


def scorecard_download_button(store: Any, settings: Settings, filters: Filters, username: str | None) -> None:
    """The "Unduh scorecard Excel" button of the ranking page: built when clicked, for the viewer
    valid at that moment, and audited."""

    def build(scoped: Filters, _viewer: Any) -> bytes:
        return scorecard_xlsx(store, settings, scoped)

    st.download_button(
        "Unduh scorecard Excel",
        data=downloads.for_viewer_now(
            store, settings, filters, build, f"scorecard Excel {filters.date_from} s.d. {filters.date_to}"
        ),
        file_name=file_name(filters, settings.region_name, "xlsx").replace("briefing-", "scorecard-"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="rerun",  # a refused click then lands on the gate, which says why in Indonesian
        key="dl_scorecard_xlsx",
    )
