"""The briefing's "Yang paling banyak dikeluhkan" page: leading terms with their change, and recurring problems.

Leaders read the briefing, so confidential complaints never count here (DATA.md "What may be
shown"), and complaint texts are not printed: terms (each in at least five complaints), places,
OPDs, counts and Tracking IDs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from metrics import text_format as tf
from metrics.filters import Filters
from metrics.topics import recurring_problems, rising_mark, topic_terms

TERMS_SHOWN = 12
GROUPS_SHOWN = 8
MARK_LABELS = {"naik": "naik", "turun": "turun", "": ""}


@dataclass(frozen=True)
class TopicFigures:
    terms: pd.DataFrame  # metrics.topics.topic_terms
    groups: pd.DataFrame  # metrics.topics.recurring_problems


def collect_topics(store: Any, filters: Filters) -> TopicFigures:
    """The page's figures, as a pimpinan may see them (confidential complaints left out)."""
    return TopicFigures(
        terms=topic_terms(store, filters, viewer_may_read_confidential=False, limit=TERMS_SHOWN),
        groups=recurring_problems(store, filters, viewer_may_read_confidential=False),
    )


def draw_topics_page(pdf: Any, fig: Any) -> None:
    """Add the page to a metrics.briefing.BriefingPDF for figures carrying `topics`."""
    from metrics.briefing import ACCENT, BAD, GOOD, MUTED, STRIPE

    topics: TopicFigures | None = getattr(fig, "topics", None)
    if topics is None:
        return
    pdf.add_page()
    pdf.heading(
        "Yang paling banyak dikeluhkan warga",
        f"Kata dan frasa dari judul dan isi aduan {fig.period_label}, dibanding {fig.previous_period_label}; "
        "aduan rahasia tidak dihitung.",
    )
    top = pdf.get_y()
    left_w = pdf.content_width * 0.46
    right_x = pdf.l_margin + left_w + 8
    right_w = pdf.content_width - left_w - 8

    # Left: the ranked terms with a bar, the count, the previous count and the mark.
    pdf.font(11, bold=True, colour=ACCENT)
    pdf.text_cell(left_w, 7, "Kata teratas", new_line=True)
    terms = topics.terms.head(TERMS_SHOWN)
    if terms.empty:
        pdf.font(10, colour=MUTED)
        pdf.text_cell(left_w, 7, "Belum ada kata yang muncul di sedikitnya 5 aduan.", new_line=True)
    most = max(int(terms["complaints"].max()), 1) if not terms.empty else 1
    for row in terms.itertuples(index=False):
        y = pdf.get_y()
        pdf.font(9.5, bold=True)
        pdf.text_cell(left_w * 0.42, 6, pdf.fitted(str(row.term), left_w * 0.42, 9.5, bold=True))
        bar_w = (left_w * 0.30) * int(row.complaints) / most
        pdf.set_fill_color(*STRIPE)
        pdf.rect(pdf.l_margin + left_w * 0.42, y + 1.5, left_w * 0.30, 3, style="F")
        pdf.set_fill_color(*ACCENT)
        pdf.rect(pdf.l_margin + left_w * 0.42, y + 1.5, max(bar_w, 0.6), 3, style="F")
        pdf.set_x(pdf.l_margin + left_w * 0.74)
        pdf.font(9.5, bold=True)
        pdf.text_cell(left_w * 0.10, 6, tf.fmt_int(row.complaints), align="R")
        mark = rising_mark(int(row.complaints), int(row.previous_complaints))
        colour = BAD if mark == "naik" else GOOD if mark == "turun" else MUTED
        pdf.font(8, colour=colour)
        note = f"({tf.fmt_int(row.previous_complaints)}) {MARK_LABELS[mark]}".strip()
        pdf.text_cell(left_w * 0.16, 6, pdf.fitted(note, left_w * 0.16, 8), align="R", new_line=True)
        pdf.font(7.5, colour=MUTED)
        pdf.set_x(pdf.l_margin)
        where = f"Terbanyak di {row.kecamatan}" if row.kecamatan else ""
        pdf.text_cell(left_w, 3.8, pdf.fitted(where, left_w, 7.5), new_line=True)
        pdf.ln(0.6)
    pdf.font(7.5, colour=MUTED)
    pdf.set_x(pdf.l_margin)
    pdf.text_cell(left_w, 4, "Angka: aduan yang memuat kata; (periode sebelumnya).", new_line=True)

    # Right: the recurring problems, largest first.
    pdf.set_xy(right_x, top)
    pdf.font(11, bold=True, colour=ACCENT)
    pdf.text_cell(right_w, 7, f"Masalah berulang ({tf.fmt_int(len(topics.groups))})", new_line=True)
    groups = topics.groups.head(GROUPS_SHOWN)
    pdf.set_x(right_x)
    if groups.empty:
        pdf.font(10, colour=MUTED)
        pdf.text_cell(right_w, 7, "Tidak ada masalah berulang pada periode ini.", new_line=True)
    for row in groups.itertuples(index=False):
        pdf.set_x(right_x)
        pdf.font(9.5, bold=True)
        label = row.label or "masalah serupa"
        head = f"{label} · {row.kecamatan}"
        pdf.text_cell(right_w * 0.78, 5.5, pdf.fitted(head, right_w * 0.78, 9.5, bold=True))
        pdf.font(9, bold=True, colour=BAD if row.open else MUTED)
        pdf.text_cell(right_w * 0.22, 5.5, f"{row.complaints} aduan, {row.open} terbuka", align="R", new_line=True)
        pdf.set_x(right_x)
        pdf.font(7.5, colour=MUTED)
        ids = str(row.tracking_ids).split("; ")
        shown = ", ".join(ids[:6]) + (f" +{len(ids) - 6}" if len(ids) > 6 else "")
        line = f"{row.opd or tf.MISSING} · {row.first_submitted[:10]} s.d. {row.last_submitted[:10]} · {shown}"
        pdf.text_cell(right_w, 4, pdf.fitted(line, right_w, 7.5), new_line=True)
        pdf.ln(1.2)
    pdf.set_x(right_x)
    pdf.font(7.5, colour=MUTED)
    pdf.multi_cell(right_w, 3.8, pdf.clean(
        "Masalah berulang: 3 aduan serupa atau lebih di satu kecamatan dalam 30 hari. Kata ditampilkan bila "
        "muncul di sedikitnya 5 aduan; nama pelapor, nomor dan alamat e-mail tidak pernah menjadi kata."
    ), align="L")
