"""The "Salin ringkasan" text: a short plain summary for a leadership WhatsApp group.

Five to eight lines of plain text (WhatsApp's *bold* is the only markup), with the same
figures as the report command and the PDF briefing: they all come from `metrics.briefing.collect`.
The period's figures and the backlog (late now, from any period) are worded apart: "periode
ini" against "saat ini", so a month's "100% tepat waktu" never stands beside a backlog count
without saying which is which.
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from metrics import text_format as tf
from metrics.briefing import BriefingFigures, summary_figures
from metrics.filters import Filters


def _with_delta(fig: BriefingFigures, column: str, value: Any) -> str:
    delta = fig.delta(column)
    text = tf.fmt_value(column, value)
    if delta is None:
        return text
    return f"{text} ({tf.fmt_delta(column, delta)})"


def summary_text(fig: BriefingFigures, dashboard_url: str) -> str:
    """The summary for already computed figures (the page computes them once for PDF and text)."""
    total = fig.total
    demo = " [Data contoh]" if fig.has_demo else ""
    lines = [
        f"*Ringkasan Pengaduan {fig.region_name}*{demo}",
        f"Periode {fig.period_label} (dibanding {fig.previous_period_label}), per {fig.as_of_label}",
        (
            f"Masuk {_with_delta(fig, 'received', total['received'])} · "
            f"Skor wilayah {_with_delta(fig, 'score', total['score'])}"
        ),
        (
            f"Kecepatan {_with_delta(fig, 'response_on_time_pct', total['response_on_time_pct'])} · "
            f"Ketepatan {_with_delta(fig, 'accuracy_pct', total['accuracy_pct'])} · "
            f"Tuntas {_with_delta(fig, 'completion_pct', total['completion_pct'])}"
        ),
    ]
    # KPI.md: every text that shows Kecepatan says how many times could not be known.
    unknown = tf.unknown_times_note(total.get("response_time_unknown", 0), total.get("completion_time_unknown", 0))
    if unknown:
        lines.append(f"({unknown}: tidak dihitung dalam angka tepat waktu dan median)")
    best, lowest = fig.best, fig.lowest
    scoped = fig.filters.scope.opd
    if scoped is not None:
        # An OPD viewer sees its own place only, never the other OPDs' names.
        own = fig.opd_rows
        rank = own["rank"].iloc[0] if len(own) else None
        place = f"peringkat {tf.fmt_int(rank)}" if not tf.is_missing(rank) else "belum diperingkat"
        lines.append(f"{scoped}: {place}")
    elif best is None:
        lines.append("Belum ada OPD yang memenuhi syarat peringkat.")
    else:
        line = f"Terbaik: {best['opd']} (skor {tf.fmt_number(best['score'])})"
        if lowest is not None:
            line += f" · Terendah: {lowest['opd']} (skor {tf.fmt_number(lowest['score'])})"
        lines.append(line)
    backlog = fig.backlog_total
    lines.append(
        f"Saat ini (semua periode): {tf.fmt_int(backlog['backlog_overdue'])} pengaduan lewat "
        f"tenggat · Akan jatuh tempo s.d. {fig.due_soon_label}: {tf.fmt_int(backlog['due_soon'])}"
    )
    lines.append(
        f"Periode ini: lewat tenggat {_with_delta(fig, 'overdue', total['overdue'])} · "
        f"menunggu verifikasi: {tf.fmt_int(fig.admin.get('awaiting_verification'))}"
    )
    if dashboard_url:
        lines.append(f"Dasbor: {dashboard_url}")
    return "\n".join(lines)


def whatsapp_summary(store: Any, filters: Filters, settings: Settings | None = None) -> str:
    """Eight plain-text lines for WhatsApp: period, headline figures with deltas, best and
    lowest OPD, the backlog (late now and due soon), the period's overdue count and the
    dashboard link (settings.dashboard_url)."""
    settings = settings or store.settings
    return summary_text(summary_figures(store, filters, settings), settings.public_url)
