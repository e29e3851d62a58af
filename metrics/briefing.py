"""The PDF briefing for leadership meetings: cover, headline KPIs, scorecard, backlog lists, charts.

Why fpdf2 and native drawing: the briefing must be produced offline by a cron job on a
server with no browser. Plotly's static export needs Kaleido plus a Chromium at run time,
which is heavy, slow to start and a frequent source of breakage on headless servers. fpdf2 is
pure Python, well maintained, embeds TrueType fonts (Unicode, subset) and has the few drawing
primitives the two charts need (rectangles, lines, dashes), so the charts are drawn directly
as vectors: sharp on a projector and in print, and the PDF stays small.

Font: DejaVu Sans from Debian's `fonts-dejavu-core` (`/usr/share/fonts/truetype/dejavu`) is
embedded when present; without it the briefing falls back to the core Helvetica font with
the text reduced to Latin-1 (dashes and the few symbols replaced), so it still builds.

Every figure comes from `metrics.kpi` / `metrics.backlog` / `metrics.trends` for the
same `Filters` as the report command, formatted by `metrics.text_format` like the screen.
The period's figures (the cohort) and the backlog (what is late now, whatever its period,
KPI.md "The backlog") are always worded apart: "periode ini" against "saat ini".
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.calendar import calendar_for
from core.settings import Settings
from metrics import text_format as tf
from metrics.backlog import BACKLOG_COLUMNS, backlog_complaints, backlog_counts
from metrics.briefing_topics import collect_topics, draw_topics_page
from metrics.filters import Filters
from metrics.kpi import TOTAL, admin_figures, compare_periods, opd_table
from metrics.trends import series

TITLE = "Briefing Pengelolaan Pengaduan"
OVERDUE_LIMIT = 20  # the overdue page lists this many, most working days late first
DUE_SOON_LIMIT = 20  # the "Akan jatuh tempo" page lists this many, soonest first
SCORECARD_ROWS_PER_PAGE = 20  # OPD rows per scorecard page (TOTAL comes after the last)
TREND_MONTHS = 6  # the trend chart shows at least this many months up to the period's end
# The headline cards, in order: KPI column and whether the delta is in percentage points.
HEADLINE = ("received", "response_on_time_pct", "accuracy_pct", "completion_pct", "overdue", "score")
# The headline cards' labels, on paper and on the presentation slides alike.
HEADLINE_LABELS = {
    "received": "Pengaduan masuk",
    "response_on_time_pct": "Kecepatan",
    "accuracy_pct": "Ketepatan",
    "completion_pct": "Tuntas",
    "overdue": "Lewat tenggat (periode ini)",
    "score": "Skor wilayah",
}
DEMO_LABEL = "DATA CONTOH"

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian/Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),  # Fedora, Arch
    Path("/usr/local/share/fonts"),
)

# Colours (RGB): dark text on white, saturated accents that survive a projector and grey print.
INK = (20, 24, 31)
MUTED = (90, 98, 110)
RULE = (200, 205, 212)
STRIPE = (242, 244, 247)
ACCENT = (0, 82, 147)
GOOD = (21, 122, 54)
WARN = (176, 110, 0)
BAD = (190, 30, 45)
GRADE_COLOURS = {"baik": GOOD, "cukup": WARN, "perlu_perhatian": BAD}
LINE_COLOURS = {"response_on_time_pct": ACCENT, "accuracy_pct": (200, 90, 0), "completion_pct": GOOD}


# --- the figures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BriefingFigures:
    """Everything a briefing shows, computed once for one set of filters (PDF, summary, slides)."""

    filters: Filters
    region_name: str
    timezone: str
    table: pd.DataFrame  # metrics.kpi.opd_table: OPD rows then TOTAL
    comparison: pd.DataFrame  # metrics.kpi.compare_periods
    admin: dict[str, Any]  # metrics.kpi.admin_figures
    overdue: pd.DataFrame  # backlog_overdue complaints, most working days late first (at most OVERDUE_LIMIT)
    trend: pd.DataFrame  # metrics.trends.series, monthly, from trend_from to the period's end
    trend_from: date
    last_success: datetime | None
    has_demo: bool  # the figures include demo complaints: every document says "Data contoh"
    generated_at: datetime
    backlog: pd.DataFrame = field(default_factory=pd.DataFrame)  # metrics.backlog.backlog_counts
    due_soon: pd.DataFrame = field(default_factory=pd.DataFrame)  # due_soon complaints, soonest first
    due_soon_until: datetime | None = None  # deadline(as_of, due_soon_days): the warning window's end
    topics: Any = None  # metrics.briefing_topics.TopicFigures: the "Yang paling banyak dikeluhkan" page

    @property
    def total(self) -> pd.Series:
        rows = self.table[self.table["opd"] == TOTAL]
        return rows.iloc[0]

    @property
    def opd_rows(self) -> pd.DataFrame:
        return self.table[self.table["opd"] != TOTAL].reset_index(drop=True)

    @property
    def ranked(self) -> pd.DataFrame:
        rows = self.opd_rows
        return rows[rows["rank"].notna()].sort_values("rank").reset_index(drop=True)

    @property
    def best(self) -> pd.Series | None:
        """The rank-1 OPD; None when none is ranked or the viewer sees only one OPD (scope)."""
        ranked = self.ranked
        if self.filters.scope.opd is not None or ranked.empty:
            return None
        return ranked.iloc[0]

    @property
    def lowest(self) -> pd.Series | None:
        """The last-ranked OPD, when at least two are ranked (and the view is not scoped)."""
        ranked = self.ranked
        if self.filters.scope.opd is not None or len(ranked) < 2:
            return None
        return ranked.iloc[-1]

    @property
    def backlog_total(self) -> dict[str, int]:
        """The backlog's TOTAL (`backlog_open`, `backlog_overdue`, `due_soon`), as of as_of."""
        if self.backlog.empty:
            return dict.fromkeys(BACKLOG_COLUMNS, 0)
        row = self.backlog.iloc[-1]
        return {name: int(row[name]) for name in BACKLOG_COLUMNS}

    @property
    def overdue_total(self) -> int:
        """How many complaints are late now (`backlog_overdue`): the count behind `overdue`."""
        return self.backlog_total["backlog_overdue"]

    @property
    def period_overdue(self) -> int:
        """The period cohort's `overdue` (KPI.md), a different set from the backlog's."""
        return int(self.total["overdue"])

    @property
    def due_soon_label(self) -> str:
        """The local date the early warning reaches: "8 Des 2026"."""
        if self.due_soon_until is None:
            return tf.MISSING
        return tf.fmt_date(self.due_soon_until.astimezone(ZoneInfo(self.timezone)))

    def delta(self, column: str) -> float | None:
        if column not in self.comparison.index:
            return None
        value = self.comparison.loc[column, "delta"]
        return None if tf.is_missing(value) else float(value)

    def previous(self, column: str) -> float | None:
        if column not in self.comparison.index:
            return None
        value = self.comparison.loc[column, "previous"]
        return None if tf.is_missing(value) else float(value)

    @property
    def period_label(self) -> str:
        return tf.fmt_period(self.filters.date_from, self.filters.date_to)

    @property
    def previous_period_label(self) -> str:
        prev = self.filters.previous_period()
        return tf.fmt_period(prev.date_from, prev.date_to)

    @property
    def as_of_label(self) -> str:
        return tf.fmt_datetime(self.filters.as_of, self.timezone)

    def freshness_hours(self) -> float | None:
        if self.last_success is None:
            return None
        return max((self.generated_at - self.last_success).total_seconds() / 3600.0, 0.0)


def trend_start(filters: Filters, months: int = TREND_MONTHS) -> date:
    """First day of the month `months - 1` before the period's end month, or the period start."""
    end = filters.date_to
    index = end.year * 12 + end.month - 1 - (months - 1)
    start = date(index // 12, index % 12 + 1, 1)
    return min(start, filters.date_from)


def collect(
    store: Any, filters: Filters, settings: Settings | None = None, *, overdue_limit: int = OVERDUE_LIMIT
) -> BriefingFigures:
    """Compute the briefing's figures with the same metrics calls as the report command:
    `summary_figures` plus the backlog's overdue and due-soon lists and the monthly trend."""
    settings = settings or store.settings
    figures = summary_figures(store, filters, settings)
    # The backlog's lists: most working days late first, then the soonest due (metrics order).
    overdue = backlog_complaints(store, filters, settings, kind="overdue", limit=overdue_limit)
    due_soon = backlog_complaints(store, filters, settings, kind="due_soon", limit=DUE_SOON_LIMIT)
    trend = series(store, replace(filters, date_from=figures.trend_from), settings, freq="month")
    return replace(figures, overdue=overdue, due_soon=due_soon, trend=trend,
                   topics=collect_topics(store, filters))


def summary_figures(
    store: Any, filters: Filters, settings: Settings | None = None, *,
    table: pd.DataFrame | None = None, comparison: pd.DataFrame | None = None,
    admin: dict[str, Any] | None = None,
) -> BriefingFigures:
    """The figures the WhatsApp summary uses (`metrics.summary.summary_text`): the scorecard,
    the period comparison, the administrative counts and the backlog's counts, with no
    complaint list and no trend.

    A page that has already computed `opd_table` and `compare_periods` for these filters passes
    them in, so the summary shows exactly the figures above it without computing them twice.
    """
    settings = settings or store.settings
    return BriefingFigures(
        filters=filters,
        region_name=settings.region_name,
        timezone=settings.kpi.timezone,
        table=opd_table(store, filters, settings) if table is None else table,
        comparison=compare_periods(store, filters, settings) if comparison is None else comparison,
        admin=admin_figures(store, filters, settings) if admin is None else admin,
        overdue=pd.DataFrame(),
        trend=pd.DataFrame(),
        trend_from=trend_start(filters),
        last_success=store.last_success(),
        has_demo=store.has_demo_data(),
        generated_at=datetime.now(UTC),
        backlog=backlog_counts(store, filters, settings),
        due_soon_until=calendar_for(settings.kpi).deadline(filters.as_of, settings.kpi.due_soon_days),
    )


def freshness_text(figures: BriefingFigures, warning_hours: float) -> tuple[str, bool]:
    """("Data per 3 Jan 2026 08.00 WITA (5 jam lalu)", is_stale)."""
    if figures.last_success is None:
        return "Belum ada impor atau sinkronisasi yang berhasil", True
    age = figures.freshness_hours() or 0.0
    text = (
        f"Data per {tf.fmt_datetime(figures.last_success, figures.timezone)} ({tf.fmt_hours_ago(age)} lalu)"
    )
    return text, age > warning_hours


# --- fonts ------------------------------------------------------------------------------------
def find_unicode_font() -> dict[str, Path] | None:
    """DejaVu Sans regular and bold, if installed; None otherwise (core-font fallback)."""
    # DASHBOARD_PDF_FONT_DIR replaces the search list (a font of your own, or an empty
    # folder to force the core-font fallback).
    override = os.environ.get("DASHBOARD_PDF_FONT_DIR")
    dirs = [Path(override)] if override else list(FONT_DIRS)
    for directory in dirs:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return {"": regular, "B": bold}
    return None


_LATIN1_REPLACEMENTS = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "−": "-",
        "≥": ">=",
        "≤": "<=",
        "…": "...",
        "·": "-",
        "≈": "~",
        "▲": "+",
        "▼": "-",
        "’": "'",
        "“": '"',
        "”": '"',
    }
)


class BriefingPDF(FPDF):
    """A4 landscape with a running header and footer; text helpers that fit a width."""

    def __init__(self, header_text: str, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.header_text = header_text
        self.footer_text = footer_text
        self.set_margins(14, 16, 14)
        self.set_auto_page_break(auto=False)
        fonts = find_unicode_font()
        self.unicode = fonts is not None
        if fonts:
            for style, path in fonts.items():
                self.add_font("DejaVu", style, str(path))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.alias_nb_pages()

    def clean(self, text: Any) -> str:
        text = "" if text is None else str(text)
        if self.unicode:
            return text
        return text.translate(_LATIN1_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*colour)

    def fitted(self, text: str, width: float, size: float, min_size: float = 6.0, bold: bool = False) -> str:
        """Shrink the font until `text` fits `width`; past min_size, cut it with an ellipsis."""
        text = self.clean(text)
        while size > min_size and self.get_string_width(text) > width - 1.5:
            size -= 0.5
            self.set_font(self.family, "B" if bold else "", size)
        if self.get_string_width(text) <= width - 1.5:
            return text
        ellipsis = "…" if self.unicode else "..."
        while text and self.get_string_width(text + ellipsis) > width - 1.5:
            text = text[:-1]
        return text + ellipsis

    def text_cell(
        self,
        w: float,
        h: float,
        text: Any,
        *,
        align: str = "L",
        fill: bool = False,
        border: int | str = 0,
        new_line: bool = False,
    ) -> None:
        self.cell(
            w,
            h,
            self.clean(text),
            border=border,
            align=align,
            fill=fill,
            new_x=XPos.LMARGIN if new_line else XPos.RIGHT,
            new_y=YPos.NEXT if new_line else YPos.TOP,
        )

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font(8, colour=MUTED)
        self.set_xy(self.l_margin, 7)
        self.text_cell(0, 5, self.header_text)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 12.5, self.w - self.r_margin, 12.5)

    def footer(self) -> None:
        self.font(8, colour=MUTED)
        self.set_xy(self.l_margin, self.h - 10)
        width = self.w - self.l_margin - self.r_margin
        self.text_cell(width * 0.8, 5, self.footer_text)
        self.text_cell(width * 0.2, 5, f"Halaman {self.page_no()} dari {{nb}}", align="R")

    def heading(self, text: str, subtitle: str | None = None) -> None:
        self.set_xy(self.l_margin, 17)
        self.font(18, bold=True, colour=ACCENT)
        self.text_cell(0, 9, text, new_line=True)
        if subtitle:
            self.font(10, colour=MUTED)
            # A long subtitle (the backlog pages say which set they count) wraps, never runs off.
            self.multi_cell(self.content_width, 5.5, self.clean(subtitle), align="L")
        self.ln(2)

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin


# --- pages ------------------------------------------------------------------------------------
def _cover(pdf: BriefingPDF, fig: BriefingFigures, settings: Settings) -> None:
    pdf.add_page()
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, pdf.w, 62, style="F")
    pdf.set_xy(pdf.l_margin, 18)
    pdf.font(28, bold=True, colour=(255, 255, 255))
    pdf.text_cell(0, 14, TITLE, new_line=True)
    pdf.font(16, colour=(255, 255, 255))
    pdf.text_cell(0, 9, fig.region_name, new_line=True)
    pdf.font(11, colour=(225, 235, 245))
    pdf.text_cell(0, 7, "SP4N-LAPOR! · Bahan rapat pimpinan", new_line=True)

    pdf.set_xy(pdf.l_margin, 76)
    freshness, stale = freshness_text(fig, settings.freshness_warning_hours)
    rows = [
        ("Periode", f"{fig.period_label} (dibandingkan dengan {fig.previous_period_label})"),
        ("Dihitung per", fig.as_of_label),
        ("Kesegaran data", freshness),
        ("Dibuat", tf.fmt_datetime(fig.generated_at, fig.timezone)),
    ]
    for label, value in rows:
        pdf.font(12, colour=MUTED)
        pdf.text_cell(48, 9, label)
        stale_row = label == "Kesegaran data" and stale
        pdf.font(13, bold=True, colour=BAD if stale_row else INK)
        pdf.text_cell(0, 9, value, new_line=True)
    if stale and fig.last_success is not None:
        pdf.set_x(pdf.l_margin + 48)
        pdf.font(10, colour=BAD)
        hours = tf.fmt_int(settings.freshness_warning_hours)
        pdf.text_cell(
            0, 6, f"Perhatian: data lebih tua dari {hours} jam; angka mungkin belum terbaru.", new_line=True
        )
    if fig.has_demo:
        pdf.ln(4)
        pdf.set_x(pdf.l_margin)
        pdf.set_fill_color(255, 236, 179)
        pdf.font(12, bold=True, colour=(110, 70, 0))
        pdf.text_cell(
            pdf.content_width,
            10,
            f"  {DEMO_LABEL}: angka dalam briefing ini memuat data contoh, bukan data resmi.",
            fill=True,
            new_line=True,
        )

    pdf.set_xy(pdf.l_margin, 138)
    pdf.font(12, bold=True)
    pdf.text_cell(0, 8, "Isi", new_line=True)
    pdf.font(11, colour=MUTED)
    for line in (
        "1. Ringkasan kinerja dan perubahan dari periode sebelumnya",
        "2. Peringkat OPD (scorecard)",
        "3. Pengaduan lewat tenggat saat ini dan yang akan jatuh tempo (semua periode)",
        "4. Grafik: skor per OPD dan tren bulanan",
    ):
        pdf.text_cell(0, 6.5, line, new_line=True)
    pdf.ln(3)
    pdf.font(8.5, colour=MUTED)
    kpi = settings.kpi
    pdf.multi_cell(
        pdf.content_width,
        4.5,
        pdf.clean(
            "Cara menghitung: Kecepatan = tanggapan pertama tepat waktu "
            f"({kpi.response_days} hari kerja sejak disposisi); Ketepatan = penyelesaian yang diterima "
            f"pelapor (tidak dibuka kembali, rating kosong atau ≥ {kpi.accepted_min_rating}); Tuntas = "
            "pengaduan yang sudah selesai. Skor = rata-rata berbobot Kecepatan "
            f"{tf.fmt_number(kpi.weight_kecepatan * 100, 0)}%, Ketepatan {tf.fmt_number(kpi.weight_ketepatan * 100, 0)}%, "
            f"Tuntas {tf.fmt_number(kpi.weight_tuntas * 100, 0)}%. OPD diperingkat bila menerima minimal "
            f"{kpi.min_volume} pengaduan. Predikat: Baik ≥ {tf.fmt_number(kpi.grade_baik, 0)}, "
            f"Cukup ≥ {tf.fmt_number(kpi.grade_cukup, 0)}. Angka periode menghitung pengaduan yang "
            "masuk dalam periode; \"saat ini\" menghitung semua pengaduan yang belum selesai, dari "
            "periode mana pun: lewat tenggat saat ini, dan akan jatuh tempo (tenggat berikutnya paling "
            f"lambat akhir {kpi.due_soon_days} hari kerja ke depan)."
        ),
        align="L",
    )


def _card(
    pdf: BriefingPDF,
    x: float,
    y: float,
    w: float,
    h: float,
    label: str,
    value: str,
    delta: str | None,
    good: bool | None,
    note: str,
) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_fill_color(*STRIPE)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, w, h, style="DF")
    pdf.set_xy(x + 4, y + 4)
    pdf.font(12, colour=MUTED)
    pdf.text_cell(w - 8, 7, label)
    pdf.set_xy(x + 4, y + 13)
    pdf.font(30, bold=True)
    pdf.text_cell(w - 8, 16, value)
    if delta is not None:
        pdf.set_xy(x + 4, y + 31)
        colour = MUTED if good is None else (GOOD if good else BAD)
        arrow = "▲ " if delta.startswith("+") else ("▼ " if delta.startswith(tf.MINUS) else "")
        pdf.font(13, bold=True, colour=colour)
        pdf.text_cell(w - 8, 8, f"{arrow}{delta}")
    pdf.set_xy(x + 4, y + h - 9)
    pdf.font(9, colour=MUTED)
    pdf.text_cell(w - 8, 5, note)


def _headline(pdf: BriefingPDF, fig: BriefingFigures) -> None:
    pdf.add_page()
    pdf.heading(
        "Ringkasan kinerja", f"{fig.region_name} · {fig.period_label} · dihitung per {fig.as_of_label}"
    )
    total = fig.total
    gap = 6.0
    w = (pdf.content_width - 2 * gap) / 3
    h = 46.0
    top = pdf.get_y() + 2
    for i, column in enumerate(HEADLINE):
        x = pdf.l_margin + (i % 3) * (w + gap)
        y = top + (i // 3) * (h + gap)
        delta = fig.delta(column)
        previous = fig.previous(column)
        _card(
            pdf,
            x,
            y,
            w,
            h,
            HEADLINE_LABELS[column],
            tf.fmt_value(column, total[column]),
            tf.fmt_delta(column, delta) if delta is not None else None,
            tf.delta_is_good(column, delta),
            f"Periode sebelumnya: {tf.fmt_value(column, previous)}",
        )
    y = top + 2 * (h + gap) + 2
    pdf.set_xy(pdf.l_margin, y)
    # KPI.md: a document that shows Kecepatan says how many times could not be known.
    unknown = tf.unknown_times_note(total.get("response_time_unknown", 0), total.get("completion_time_unknown", 0))
    if unknown:
        pdf.font(9, colour=MUTED)
        pdf.multi_cell(
            pdf.content_width, 4.2,
            pdf.clean(f"{unknown}: tidak dihitung dalam angka tepat waktu dan median (waktu tahap "
                      "hanya perkiraan dari snapshot ekspor)."),
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )
    backlog = fig.backlog_total
    pdf.font(12, bold=True)
    pdf.text_cell(0, 8, f"Saat ini, semua periode (per {fig.as_of_label})", new_line=True)
    pdf.font(11)
    pdf.text_cell(
        0,
        7,
        f"Lewat tenggat saat ini: {tf.fmt_int(backlog['backlog_overdue'])} pengaduan · "
        f"Akan jatuh tempo s.d. {fig.due_soon_label}: {tf.fmt_int(backlog['due_soon'])} · "
        f"Belum selesai: {tf.fmt_int(backlog['backlog_open'])}",
        new_line=True,
    )
    pdf.font(12, bold=True)
    pdf.text_cell(0, 8, "Verifikasi admin", new_line=True)
    pdf.font(11)
    pdf.text_cell(
        0,
        7,
        f"Menunggu verifikasi: {tf.fmt_int(fig.admin.get('awaiting_verification'))} pengaduan · "
        f"Verifikasi tepat waktu: {tf.fmt_pct(fig.admin.get('verified_on_time_pct'))}",
        new_line=True,
    )
    best, lowest = fig.best, fig.lowest
    if best is not None:
        line = f"OPD terbaik: {best['opd']} (skor {tf.fmt_number(best['score'])})"
        if lowest is not None:
            line += f" · Skor terendah: {lowest['opd']} (skor {tf.fmt_number(lowest['score'])})"
        pdf.text_cell(0, 7, line, new_line=True)
    pdf.font(9, colour=MUTED)
    pdf.multi_cell(
        pdf.content_width,
        5,
        pdf.clean(
            f"Kartu di atas: pengaduan masuk {fig.period_label}; perubahan dibandingkan periode "
            f"{fig.previous_period_label}; persentase dalam poin. \"Saat ini\": semua pengaduan "
            "yang belum selesai, dari periode mana pun."
        ),
        align="L",
    )


SCORECARD_COLUMNS: list[tuple[str, str, float, str]] = [
    # (column, header, width mm, align)
    ("rank", "Peringkat", 18, "C"),
    ("opd", "OPD", 73, "L"),
    ("received", "Masuk", 15, "R"),
    ("response_on_time_pct", "Kecepatan", 20, "R"),
    ("accuracy_pct", "Ketepatan", 20, "R"),
    ("completion_pct", "Tuntas", 18, "R"),
    ("median_response_hours", "Median jam", 19, "R"),
    ("mean_rating", "Rating", 14, "R"),
    ("overdue", "Lewat tenggat", 25, "R"),
    ("score", "Skor", 15, "R"),
    ("grade", "Predikat", 29, "L"),
]


def _scorecard_header(pdf: BriefingPDF) -> None:
    pdf.set_fill_color(*ACCENT)
    for _, header, width, align in SCORECARD_COLUMNS:
        pdf.font(8.5, bold=True, colour=(255, 255, 255))
        pdf.text_cell(width, 8, pdf.fitted(header, width, 8.5, bold=True), align=align, fill=True)
    pdf.ln(8)


def _scorecard_row(pdf: BriefingPDF, row: pd.Series, stripe: bool, is_total: bool) -> None:
    pdf.set_fill_color(*(STRIPE if stripe else (255, 255, 255)))
    if is_total:
        pdf.set_fill_color(222, 230, 240)
    for column, _, width, align in SCORECARD_COLUMNS:
        value = row[column]
        bold = is_total or column in ("score",)
        colour = INK
        if column == "opd":
            text = "TOTAL wilayah" if is_total else str(value)
            pdf.font(9, bold=bold)
            text = pdf.fitted(text, width, 9, bold=bold)
        else:
            if column == "grade" and not is_total and tf.is_missing(row["rank"]):
                # Unranked (below min_volume): the score stays, the grade does not (one wording
                # on screen, slides, this PDF and the Excel scorecard).
                text = pdf.fitted("tidak diperingkat", width, 9)
                colour = MUTED
            elif column == "grade":
                text = tf.fmt_value("grade", value)
                colour = GRADE_COLOURS.get(value, MUTED) if not tf.is_missing(value) else MUTED
            elif column == "rank":
                text = "" if is_total else tf.fmt_int(value)
            else:
                text = tf.fmt_value(column, value)
            pdf.font(9, bold=bold, colour=colour)
        pdf.text_cell(width, 7, text, align=align, fill=True)
    pdf.ln(7)


def _scorecard(pdf: BriefingPDF, fig: BriefingFigures, settings: Settings) -> None:
    rows = fig.opd_rows
    chunks = [
        rows.iloc[i : i + SCORECARD_ROWS_PER_PAGE] for i in range(0, len(rows), SCORECARD_ROWS_PER_PAGE)
    ]
    if not chunks:
        chunks = [rows]
    for page, chunk in enumerate(chunks):
        pdf.add_page()
        suffix = f" (lanjutan {page + 1}/{len(chunks)})" if len(chunks) > 1 and page else ""
        pdf.heading(f"Peringkat OPD{suffix}", f"{fig.period_label} · dihitung per {fig.as_of_label}")
        _scorecard_header(pdf)
        if rows.empty:
            pdf.font(11, colour=MUTED)
            pdf.text_cell(0, 9, "Tidak ada pengaduan terdisposisi ke OPD dalam periode ini.", new_line=True)
        for i, (_, row) in enumerate(chunk.iterrows()):
            _scorecard_row(pdf, row, i % 2 == 1, False)
        if page == len(chunks) - 1:
            _scorecard_row(pdf, fig.total, False, True)
            pdf.ln(2)
            pdf.font(8.5, colour=MUTED)
            kpi = settings.kpi
            pdf.multi_cell(
                pdf.content_width,
                4.5,
                pdf.clean(
                    f"OPD dengan kurang dari {kpi.min_volume} pengaduan atau tanpa skor tidak diperingkat "
                    f"(kurang dari {kpi.min_volume} aduan): skornya tercantum, peringkat dan predikatnya tidak; "
                    "tercantum di bawah yang diperingkat. Persentase: "
                    "Kecepatan atas tanggapan yang sudah jatuh tempo, Tuntas atas pengaduan masuk, "
                    f"Ketepatan atas pengaduan selesai. {tf.MISSING} berarti belum ada data untuk angka itu."
                ),
                align="L",
            )


OVERDUE_COLUMNS: list[tuple[str, str, float, str]] = [
    ("no", "No", 10, "R"),
    ("tracking_id", "Tracking ID", 30, "L"),
    ("opd", "OPD", 70, "L"),
    ("category", "Kategori", 56, "L"),
    ("kecamatan", "Kecamatan", 36, "L"),
    ("overdue_kind", "Tenggat terlewat", 33, "L"),
    ("working_days_overdue", "Hari kerja lewat", 34, "R"),
]


DUE_SOON_COLUMNS: list[tuple[str, str, float, str]] = [
    ("no", "No", 10, "R"),
    ("tracking_id", "Tracking ID", 30, "L"),
    ("opd", "OPD", 70, "L"),
    ("category", "Kategori", 56, "L"),
    ("kecamatan", "Kecamatan", 36, "L"),
    ("due_at", "Jatuh tempo", 67, "L"),
]


def _table_header(pdf: BriefingPDF, columns: list[tuple[str, str, float, str]]) -> None:
    pdf.set_fill_color(*ACCENT)
    for _, header, width, align in columns:
        pdf.font(8.5, bold=True, colour=(255, 255, 255))
        pdf.text_cell(width, 8, pdf.fitted(header, width, 8.5, bold=True), align=align, fill=True)
    pdf.ln(8)


def _overdue(pdf: BriefingPDF, fig: BriefingFigures) -> None:
    pdf.add_page()
    pdf.heading(
        "Pengaduan lewat tenggat saat ini",
        f"{tf.fmt_int(fig.overdue_total)} pengaduan lewat tenggat saat ini per {fig.as_of_label}, "
        f"dari periode mana pun (bukan hanya {fig.period_label}); "
        f"{tf.fmt_int(len(fig.overdue))} yang paling lama terlambat ditampilkan.",
    )
    _table_header(pdf, OVERDUE_COLUMNS)
    if fig.overdue.empty:
        pdf.font(11, colour=MUTED)
        pdf.text_cell(0, 9, "Tidak ada pengaduan yang melewati tenggat saat ini.", new_line=True)
        return
    any_estimated = False
    for i, row in fig.overdue.iterrows():
        pdf.set_fill_color(*(STRIPE if i % 2 else (255, 255, 255)))
        for column, _, width, align in OVERDUE_COLUMNS:
            pdf.font(9)
            if column == "no":
                text = str(i + 1)
            elif column == "overdue_kind":
                text = tf.OVERDUE_KIND_LABELS.get(row[column], str(row[column]))
            elif column == "working_days_overdue":
                text = tf.fmt_int(row[column])
                if bool(row["times_estimated"]):
                    text += " *"
                    any_estimated = True
                pdf.font(9, bold=True, colour=BAD)
            else:
                value = row[column]
                text = pdf.fitted(tf.MISSING if tf.is_missing(value) else str(value), width, 9)
            pdf.text_cell(width, 6.8, text, align=align, fill=True)
        pdf.ln(6.8)
    pdf.ln(2)
    pdf.font(8.5, colour=MUTED)
    note = (
        "Hari kerja lewat: dihitung dari tenggat yang terlewat (tanggapan atau penyelesaian) "
        "sampai saat perhitungan. Isi pengaduan dan identitas pelapor tidak dicantumkan."
    )
    if any_estimated:
        note += (
            " * Waktu tahap diperkirakan dari snapshot ekspor LAPOR! (ketelitian sebatas jarak "
            "antar-snapshot)."
        )
    pdf.multi_cell(pdf.content_width, 4.5, pdf.clean(note), align="L")


def _due_soon(pdf: BriefingPDF, fig: BriefingFigures) -> None:
    pdf.add_page()
    count = fig.backlog_total["due_soon"]
    pdf.heading(
        "Akan jatuh tempo",
        f"{tf.fmt_int(count)} pengaduan belum lewat tenggat tetapi jatuh tempo paling lambat "
        f"{fig.due_soon_label} (per {fig.as_of_label}, semua periode); "
        f"{tf.fmt_int(len(fig.due_soon))} yang paling dekat ditampilkan.",
    )
    _table_header(pdf, DUE_SOON_COLUMNS)
    if fig.due_soon.empty:
        pdf.font(11, colour=MUTED)
        pdf.text_cell(0, 9, "Tidak ada pengaduan yang akan jatuh tempo.", new_line=True)
        return
    zone = ZoneInfo(fig.timezone)
    for i, row in fig.due_soon.iterrows():
        pdf.set_fill_color(*(STRIPE if i % 2 else (255, 255, 255)))
        for column, _, width, align in DUE_SOON_COLUMNS:
            pdf.font(9)
            value = row[column] if column != "no" else i + 1
            if column == "no":
                text = str(value)
            elif column == "due_at":
                text = tf.fmt_datetime(pd.Timestamp(value).to_pydatetime().astimezone(zone), fig.timezone)
                pdf.font(9, bold=True, colour=WARN)
            else:
                text = pdf.fitted(tf.MISSING if tf.is_missing(value) else str(value), width, 9)
            pdf.text_cell(width, 6.8, text, align=align, fill=True)
        pdf.ln(6.8)
    pdf.ln(2)
    pdf.font(8.5, colour=MUTED)
    pdf.multi_cell(
        pdf.content_width,
        4.5,
        pdf.clean(
            "Jatuh tempo: tenggat berikutnya yang belum terpenuhi (tanggapan bila belum ditanggapi, "
            "selain itu penyelesaian). Isi pengaduan dan identitas pelapor tidak dicantumkan."
        ),
        align="L",
    )


# --- charts -----------------------------------------------------------------------------------
def _score_chart(
    pdf: BriefingPDF, fig: BriefingFigures, settings: Settings, x: float, y: float, w: float, h: float
) -> None:
    pdf.set_xy(x, y)
    pdf.font(12, bold=True)
    pdf.text_cell(w, 7, "Skor OPD yang diperingkat; garis putus-putus: batas predikat Cukup dan Baik")
    ranked = fig.ranked
    top = y + 10
    if ranked.empty:
        pdf.set_xy(x, top)
        pdf.font(10, colour=MUTED)
        pdf.text_cell(w, 7, "Belum ada OPD yang memenuhi syarat peringkat.")
        return
    label_w, value_w = min(100.0, w * 0.38), 14.0
    bar_x, bar_w = x + label_w, w - label_w - value_w
    plot_h = h - 22
    step = min(7.5, plot_h / len(ranked))
    bar_h = step * 0.72
    font_size = max(min(step * 1.45, 10.0), 5.0)
    kpi = settings.kpi
    # Grid and the grade thresholds, drawn first so bars sit on top.
    pdf.set_line_width(0.15)
    for tick in (0, 25, 50, 75, 100):
        gx = bar_x + bar_w * tick / 100
        pdf.set_draw_color(*RULE)
        pdf.line(gx, top, gx, top + step * len(ranked))
        pdf.set_xy(gx - 6, top + step * len(ranked) + 0.5)
        pdf.font(7, colour=MUTED)
        pdf.text_cell(12, 4, str(tick), align="C")
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=1.2, gap=1.0)
    for threshold, colour in ((kpi.grade_cukup, WARN), (kpi.grade_baik, GOOD)):
        gx = bar_x + bar_w * threshold / 100
        pdf.set_draw_color(*colour)
        pdf.line(gx, top - 1, gx, top + step * len(ranked))
    pdf.set_dash_pattern()
    for i, row in ranked.iterrows():
        by = top + i * step
        pdf.set_xy(x, by)
        pdf.font(font_size)
        label = f"{tf.fmt_int(row['rank'])}. {row['opd']}"
        pdf.text_cell(label_w, step, pdf.fitted(label, label_w, font_size, min_size=5.0), align="L")
        score = float(row["score"])
        pdf.set_fill_color(*GRADE_COLOURS.get(row["grade"], MUTED))
        pdf.rect(bar_x, by + (step - bar_h) / 2, max(bar_w * min(score, 100) / 100, 0.3), bar_h, style="F")
        pdf.set_xy(bar_x + bar_w + 0.5, by)
        pdf.font(font_size, bold=True)
        pdf.text_cell(value_w, step, tf.fmt_number(score), align="L")
    # Legend
    ly = top + step * len(ranked) + 6
    lx = bar_x
    for grade, colour in GRADE_COLOURS.items():
        pdf.set_fill_color(*colour)
        pdf.rect(lx, ly + 1, 3.5, 3.5, style="F")
        pdf.set_xy(lx + 4.5, ly)
        pdf.font(8, colour=MUTED)
        label = tf.GRADE_LABELS[grade]
        pdf.text_cell(pdf.get_string_width(label) + 5, 5.5, label)
        lx = pdf.get_x() + 2


def _trend_chart(pdf: BriefingPDF, fig: BriefingFigures, x: float, y: float, w: float, h: float) -> None:
    pdf.set_xy(x, y)
    pdf.font(12, bold=True)
    pdf.text_cell(
        w,
        7,
        f"{tf.fmt_month(fig.trend_from)} – {tf.fmt_date(fig.filters.date_to)}, menurut bulan pengaduan masuk",
    )
    trend = fig.trend
    n = len(trend)
    if n == 0:
        return
    axis_w = 10.0
    px, pw = x + axis_w, w - axis_w - 2
    slot = pw / n
    labels = [tf.fmt_month(d) for d in trend["period_start"]]

    # Upper panel: complaints received per month, bars with their value.
    top, panel_h = y + 16, (h - 40) * 0.42
    pdf.set_xy(x, y + 9)
    pdf.font(9, colour=MUTED)
    pdf.text_cell(w, 5, "Pengaduan masuk per bulan")
    peak = max(int(trend["received"].max()), 1)
    pdf.set_fill_color(*ACCENT)
    for i, value in enumerate(trend["received"]):
        bh = panel_h * int(value) / peak
        bx = px + i * slot + slot * 0.2
        if bh > 0:
            pdf.rect(bx, top + panel_h - bh, slot * 0.6, bh, style="F")
        pdf.set_xy(px + i * slot, top + panel_h - bh - 5)
        pdf.font(10, bold=True)
        pdf.text_cell(slot, 5, tf.fmt_int(value), align="C")
    pdf.set_draw_color(*RULE)
    pdf.line(px, top + panel_h, px + pw, top + panel_h)

    # Lower panel: the three percentages on 0-100.
    top2 = top + panel_h + 14
    panel2_h = (h - 40) * 0.46
    pdf.set_xy(x, top2 - 7)
    pdf.font(9, colour=MUTED)
    pdf.text_cell(w, 5, "Kecepatan, Ketepatan dan Tuntas (%)")
    pdf.set_line_width(0.15)
    for tick in (0, 50, 100):
        gy = top2 + panel2_h * (1 - tick / 100)
        pdf.set_draw_color(*RULE)
        pdf.line(px, gy, px + pw, gy)
        pdf.set_xy(x, gy - 2)
        pdf.font(7, colour=MUTED)
        pdf.text_cell(axis_w - 1, 4, str(tick), align="R")
    dashes = {"response_on_time_pct": (0, 0), "accuracy_pct": (1.6, 0.9), "completion_pct": (0.5, 0.8)}
    for column, colour in LINE_COLOURS.items():
        points = [
            (px + (i + 0.5) * slot, top2 + panel2_h * (1 - float(v) / 100))
            for i, v in enumerate(trend[column])
            if not tf.is_missing(v)
        ]
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.7)
        pdf.set_dash_pattern(*dashes[column])
        if len(points) > 1:
            pdf.polyline(points)
        pdf.set_dash_pattern()
        for px_, py_ in points:
            pdf.rect(px_ - 0.9, py_ - 0.9, 1.8, 1.8, style="F")
    for i, label in enumerate(labels):
        pdf.set_xy(px + i * slot, top2 + panel2_h + 1)
        pdf.font(9 if n <= 12 else 7, colour=MUTED)
        pdf.text_cell(slot, 4, label, align="C")
    # Legend
    lx, ly = px, top2 + panel2_h + 8
    for column, colour in LINE_COLOURS.items():
        pdf.set_draw_color(*colour)
        pdf.set_line_width(0.7)
        pdf.set_dash_pattern(*dashes[column])
        pdf.line(lx, ly + 2.5, lx + 7, ly + 2.5)
        pdf.set_dash_pattern()
        pdf.set_xy(lx + 8, ly)
        pdf.font(8, colour=MUTED)
        label = tf.KPI_LABELS[column]
        pdf.text_cell(pdf.get_string_width(label) + 4, 5, label)
        lx = pdf.get_x() + 3
    pdf.set_line_width(0.2)
    if fig.filters.date_to.day != _month_end(fig.filters.date_to).day:
        pdf.set_xy(x, ly + 6)
        pdf.font(7.5, colour=MUTED)
        pdf.text_cell(w, 4, f"Bulan terakhir hanya sampai {tf.fmt_date(fig.filters.date_to)}.")


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def _charts(pdf: BriefingPDF, fig: BriefingFigures, settings: Settings) -> None:
    subtitle = f"{fig.period_label} · dihitung per {fig.as_of_label}"
    pdf.add_page()
    pdf.heading("Grafik: skor per OPD", subtitle)
    top = pdf.get_y()
    _score_chart(pdf, fig, settings, pdf.l_margin, top, pdf.content_width, pdf.h - top - 14)
    pdf.add_page()
    pdf.heading("Grafik: tren bulanan", subtitle)
    top = pdf.get_y()
    _trend_chart(pdf, fig, pdf.l_margin, top, pdf.content_width, pdf.h - top - 14)


# --- the document -----------------------------------------------------------------------------
def document_title(fig: BriefingFigures) -> str:
    return f"{TITLE} – {fig.region_name} – {fig.period_label}"


def render_pdf(fig: BriefingFigures, settings: Settings) -> bytes:
    """Lay out computed figures as the A4 landscape briefing."""
    pdf = BriefingPDF(
        header_text=f"{TITLE} · {fig.region_name} · {fig.period_label}",
        footer_text=f"Dihitung per {fig.as_of_label}" + (f" · {DEMO_LABEL}" if fig.has_demo else ""),
    )
    title = document_title(fig)
    pdf.set_title(pdf.clean(title))
    pdf.set_subject(pdf.clean(f"Kinerja pengelolaan pengaduan SP4N-LAPOR! {fig.region_name}"))
    pdf.set_author(pdf.clean(fig.region_name))
    pdf.set_creator("complaint-dashboard (python -m metrics briefing)")
    pdf.set_keywords("SP4N-LAPOR!, pengaduan, OPD, KPI")
    pdf.set_lang("id-ID")
    _cover(pdf, fig, settings)
    _headline(pdf, fig)
    _scorecard(pdf, fig, settings)
    _overdue(pdf, fig)
    _due_soon(pdf, fig)
    draw_topics_page(pdf, fig)
    _charts(pdf, fig, settings)
    return bytes(pdf.output())


def build_briefing_pdf(store: Any, filters: Filters, settings: Settings | None = None) -> bytes:
    """The briefing PDF for `filters` (same figures as `python -m metrics report`), as bytes."""
    settings = settings or store.settings
    return render_pdf(collect(store, filters, settings), settings)


def write_briefing(store: Any, filters: Filters, settings: Settings | None, output_path: str | Path) -> Path:
    """Write the briefing to `output_path` atomically (a reader never sees half a PDF)."""
    data = build_briefing_pdf(store, filters, settings)
    path = Path(output_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def page_count(fig: BriefingFigures) -> int:
    """How many pages `render_pdf` makes (cover, headline, scorecard, overdue, due soon, topics, charts)."""
    topics_page = 1 if fig.topics is not None else 0
    return 6 + topics_page + max(1, math.ceil(len(fig.opd_rows) / SCORECARD_ROWS_PER_PAGE))


def file_name(filters: Filters, region_name: str, ext: str = "pdf") -> str:
    """briefing-kabupaten-hulu-sungai-tengah-2026-01-01_2026-01-31.pdf"""
    slug = "-".join("".join(c if c.isalnum() else " " for c in region_name.lower()).split())
    return f"briefing-{slug}-{filters.date_from.isoformat()}_{filters.date_to.isoformat()}.{ext}"
