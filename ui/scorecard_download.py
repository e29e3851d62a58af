"""The "Unduh scorecard Excel" button: the report command's xlsx workbook, built when clicked."""

from __future__ import annotations

import io
from typing import Any

import streamlit as st

from core.settings import Settings
from metrics.briefing import file_name
from metrics.filters import Filters
from ui.export_audit import record_export


def scorecard_xlsx(store: Any, settings: Settings, filters: Filters) -> bytes:
    """The report command's xlsx workbook (metrics.export.write_report) as bytes."""
    from metrics.export import report_table, write_report
    from metrics.kpi import admin_figures

    table = report_table(store, filters, settings)  # the report command's rows, backlog included
    admin = admin_figures(store, filters, settings)
    buffer = io.BytesIO()
    write_report(table, "xlsx", buffer, filters, settings, admin=admin, scorecard=True)
    return buffer.getvalue()


def scorecard_download_button(store: Any, settings: Settings, filters: Filters, username: str | None) -> None:
    """The "Unduh scorecard Excel" button of the ranking page: built when clicked, and audited."""

    def build() -> bytes:
        data = scorecard_xlsx(store, settings, filters)
        record_export(store, username, f"scorecard Excel {filters.date_from} s.d. {filters.date_to}")
        return data

    st.download_button(
        "Unduh scorecard Excel",
        data=build,
        file_name=file_name(filters, settings.region_name, "xlsx").replace("briefing-", "scorecard-"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="ignore",
        key="dl_scorecard_xlsx",
    )
