"""KPI.md "Times that are only estimates": the PDF and the WhatsApp text that show Kecepatan say
how many complaints had no knowable time (the first LAPOR! export of a region)."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from test_kpi_reference import wita

from data_sources.importer import import_file
from metrics.briefing import build_briefing_pdf
from metrics.filters import Filters
from metrics.kpi import TOTAL, opd_table
from metrics.summary import whatsapp_summary
from tests.conftest import SAMPLES


def _samples(store) -> Filters:
    for name in ("lapor_export_2026-01-15.xlsx", "lapor_export_2026-01-16.xlsx"):
        import_file(store, SAMPLES / name)
    return Filters(date(2025, 1, 1), date(2026, 1, 16), wita("2026-01-16T12:00:00"))


def test_whatsapp_text_and_pdf_say_how_many_response_times_are_unknown(store):
    filters = _samples(store)
    table = opd_table(store, filters).set_index("opd")
    unknown = int(table.loc[TOTAL, "response_time_unknown"])
    assert unknown > 0
    text = whatsapp_summary(store, filters)
    assert f"{unknown} aduan tanpa waktu tanggapan" in text and "yang dapat diketahui" in text
    pdf = PdfReader(io.BytesIO(build_briefing_pdf(store, filters)))
    headline = pdf.pages[1].extract_text()
    assert "tanpa waktu tanggapan" in headline and "tidak dihitung dalam angka tepat waktu" in headline
