"""Indonesian number, date and label formatting shared by the PDF briefing, the summary and the UI.

Pure Python on babel (no Streamlit), so `metrics/` can format figures for paper and chat
exactly as the screen does: `1.234`, `12,5%`, `3 Jan 2026`, `14.05 WITA`. `ui/format.py`
may import from here; nothing here may import `ui/`.

Rounding is half-up (12,25 -> 12,3), the way people round by hand, rather than babel's
default half-even, so a printed figure never looks "wrong" to a reader checking it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALE = "id_ID"
MISSING = "—"  # shown for an empty (null) figure, never 0 (the same dash as ui/format.py)
MINUS = "−"  # a true minus sign reads better than a hyphen (as on screen)

# Short names of the three scored components (KPI.md) and the other columns, as the UI says them.
KPI_LABELS: dict[str, str] = {
    "received": "Masuk",
    "responded": "Ditanggapi",
    "responded_on_time": "Ditanggapi tepat waktu",
    "response_overdue_open": "Belum ditanggapi, lewat tenggat",
    "response_time_unknown": "Waktu tanggapan tidak diketahui",
    "response_on_time_pct": "Kecepatan",
    "median_response_hours": "Median waktu tanggap (jam)",
    "completed": "Selesai",
    "completed_on_time": "Selesai tepat waktu",
    "completion_time_unknown": "Waktu penyelesaian tidak diketahui",
    "completion_pct": "Tuntas",
    "accuracy_pct": "Ketepatan",
    "mean_rating": "Rata-rata rating",
    "open": "Terbuka",
    "overdue": "Lewat tenggat",
    "redisposed_pct": "Didisposisi ulang",
    "score": "Skor",
    "rank": "Peringkat",
    "grade": "Predikat",
    "awaiting_verification": "Menunggu verifikasi",
    "verified_on_time_pct": "Verifikasi tepat waktu",
    # The backlog (KPI.md): late now, from any period; always worded "saat ini".
    "backlog_open": "Belum selesai saat ini",
    "backlog_overdue": "Lewat tenggat saat ini",
    "due_soon": "Akan jatuh tempo",
}

GRADE_LABELS: dict[str, str] = {
    "baik": "Baik",
    "cukup": "Cukup",
    "perlu_perhatian": "Perlu perhatian",
}

OVERDUE_KIND_LABELS: dict[str, str] = {
    "tanggapan": "Tanggapan",
    "penyelesaian": "Penyelesaian",
}

# Columns where a rise is bad news (for arrows and colours of deltas).
LOWER_IS_BETTER = frozenset(
    {
        "overdue",
        "response_overdue_open",
        "median_response_hours",
        "open",
        "redisposed_pct",
        "awaiting_verification",
        "backlog_open",
        "backlog_overdue",
        "due_soon",
    }
)
# More complaints received is neither good nor bad news: its delta is shown without a verdict.
NEUTRAL = frozenset({"received"})
PERCENT_COLUMNS = frozenset(
    {"response_on_time_pct", "completion_pct", "accuracy_pct", "redisposed_pct", "verified_on_time_pct"}
)
COUNT_COLUMNS = frozenset(
    {
        "received",
        "responded",
        "responded_on_time",
        "response_overdue_open",
        "response_time_unknown",
        "completed",
        "completed_on_time",
        "completion_time_unknown",
        "open",
        "overdue",
        "rank",
        "awaiting_verification",
        "backlog_open",
        "backlog_overdue",
        "due_soon",
    }
)

_ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA: an empty figure in KPI.md's sense."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return True


def _rounded(value: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def fmt_int(value: Any) -> str:
    """A whole count with a dot between thousands: 1.234."""
    if is_missing(value):
        return MISSING
    return format_decimal(int(_rounded(value, 0)), format="#,##0", locale=LOCALE)


def fmt_number(value: Any, decimals: int = 1) -> str:
    """A decimal with a comma: 12,5; 1.234,5."""
    if is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(_rounded(value, decimals), format=pattern, locale=LOCALE)


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """A 0-100 percentage: 12,5%."""
    if is_missing(value):
        return MISSING
    return f"{fmt_number(value, decimals)}%"


def fmt_signed(value: Any, decimals: int = 1) -> str:
    """A change with its sign: +2,5 / −1,0 / 0,0 (zero has no sign)."""
    if is_missing(value):
        return MISSING
    rounded = _rounded(value, decimals)
    text = fmt_number(abs(rounded), decimals)
    if rounded > 0:
        return f"+{text}"
    if rounded < 0:
        return f"{MINUS}{text}"
    return text


def fmt_value(column: str, value: Any) -> str:
    """A KPI column's value the way the screen shows it (counts whole, percentages with %)."""
    if column in PERCENT_COLUMNS:
        return fmt_pct(value)
    if column in COUNT_COLUMNS:
        return fmt_int(value)
    if column == "grade":
        return GRADE_LABELS.get(value, MISSING) if not is_missing(value) else MISSING
    return fmt_number(value)


def fmt_delta(column: str, value: Any) -> str:
    """A period-over-period change: "+12" for counts, "+2,5 poin" for percentages."""
    if is_missing(value):
        return MISSING
    if column in COUNT_COLUMNS:
        return fmt_signed(value, 0)
    if column in PERCENT_COLUMNS:
        return f"{fmt_signed(value)} poin"
    return fmt_signed(value)


def delta_is_good(column: str, value: Any) -> bool | None:
    """True when the change is an improvement, False when worse, None when flat or unknown."""
    if is_missing(value) or _rounded(value, 1) == 0 or column in NEUTRAL:
        return None
    better_up = column not in LOWER_IS_BETTER
    return (value > 0) == better_up


def zone_label(timezone: str) -> str:
    """WIB/WITA/WIT for Indonesian zones, else the zone name."""
    return _ZONE_ABBREVIATIONS.get(timezone, timezone)


def fmt_date(value: date | datetime | None, long_month: bool = False) -> str:
    """3 Jan 2026 (or 3 Januari 2026)."""
    if value is None or is_missing(value):
        return MISSING
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "d MMMM y" if long_month else "d MMM y", locale=LOCALE)


def fmt_datetime(value: datetime | None, timezone: str) -> str:
    """An instant in the local zone: 3 Jan 2026 14.05 WITA."""
    if value is None or is_missing(value):
        return MISSING
    if value.tzinfo is None:
        raise ValueError("an instant must be timezone-aware")
    text = format_datetime(value, "d MMM y HH.mm", tzinfo=ZoneInfo(timezone), locale=LOCALE)
    return f"{text} {zone_label(timezone)}"


def fmt_period(date_from: date, date_to: date) -> str:
    """1 – 31 Jan 2026, 15 Jan – 14 Feb 2026, 1 Des 2025 – 31 Jan 2026 (as ui/format.period)."""
    if date_from == date_to:
        return fmt_date(date_from)
    if date_from.year == date_to.year and date_from.month == date_to.month:
        return f"{date_from.day} – {fmt_date(date_to)}"
    if date_from.year == date_to.year:
        start = format_date(date_from, "d MMM", locale=LOCALE)
        return f"{start} – {fmt_date(date_to)}"
    return f"{fmt_date(date_from)} – {fmt_date(date_to)}"


def fmt_month(value: date) -> str:
    """Jan 2026 (a trend bucket label)."""
    return format_date(value, "MMM y", locale=LOCALE)


def fmt_hours_ago(hours: float) -> str:
    """How old something is, in words: 45 menit, 3 jam, 2 hari."""
    if is_missing(hours):
        return MISSING
    if hours < 1:
        return f"{max(int(round(hours * 60)), 0)} menit"
    if hours < 48:
        return f"{fmt_int(math.floor(hours))} jam"
    return f"{fmt_int(math.floor(hours / 24))} hari"


def unknown_times_note(response_time_unknown: Any, completion_time_unknown: Any = 0) -> str | None:
    """What a screen or document says beside Kecepatan, a median or an on-time count when some
    complaints were left out because their times are only estimates too coarse to judge
    (KPI.md "Times that are only estimates"); None when none was left out.

    >>> unknown_times_note(12, 0)
    '12 aduan tanpa waktu tanggapan yang dapat diketahui'
    >>> unknown_times_note(3, 1)
    '3 aduan tanpa waktu tanggapan dan 1 aduan tanpa waktu penyelesaian yang dapat diketahui'
    """
    response = 0 if is_missing(response_time_unknown) else int(response_time_unknown)
    completion = 0 if is_missing(completion_time_unknown) else int(completion_time_unknown)
    parts = []
    if response > 0:
        parts.append(f"{fmt_int(response)} aduan tanpa waktu tanggapan")
    if completion > 0:
        parts.append(f"{fmt_int(completion)} aduan tanpa waktu penyelesaian")
    if not parts:
        return None
    return " dan ".join(parts) + " yang dapat diketahui"


def estimate_note(precision_working_days: Any) -> str:
    """How an estimated time (from successive LAPOR! export snapshots) is marked wherever it
    is shown: "perkiraan, ketelitian 1 hari kerja" ("kurang dari 1 hari kerja" for 0)."""
    if is_missing(precision_working_days):
        return "perkiraan"
    days = int(precision_working_days)
    if days <= 0:
        return "perkiraan, ketelitian kurang dari 1 hari kerja"
    return f"perkiraan, ketelitian {fmt_int(days)} hari kerja"
