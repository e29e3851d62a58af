"""Indonesian number, percentage, date and duration formats for the screen, through babel.

Every figure on screen passes through here: 1.234 for counts, 12,5% for shares, 3 Jan 2026
for dates, and an em dash for an empty (null) figure, so "no data" never looks like zero.
Numbers are rounded half-up by metrics.text_format, the same code the PDF briefing uses, so a
figure reads the same on screen and on paper.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from metrics import text_format

LOCALE = "id_ID"
EMPTY = text_format.MISSING  # "—", the same dash as on paper
# The KPI.md "empty" (None, NaN, NaT, pandas NA) that must show as a dash: one definition,
# shared with the PDF briefing, so screen and paper agree on what is empty.
is_empty = text_format.is_missing


def number(value: float | int | None, decimals: int = 0) -> str:
    """1234 -> "1.234"; 1234.56 with 1 decimal -> "1.234,6" (half-up)."""
    if is_empty(value):
        return EMPTY
    if decimals <= 0:
        return text_format.fmt_int(value)
    return text_format.fmt_number(value, decimals)


def percent(value: float | None, decimals: int = 1) -> str:
    """A 0-100 share: 12.5 -> "12,5%"."""
    if is_empty(value):
        return EMPTY
    return number(value, decimals) + "%"


def score(value: float | None) -> str:
    """A 0-100 score with one decimal, no percent sign: 87.25 -> "87,3"."""
    return number(value, 1)


def signed_number(value: float | None, decimals: int = 0) -> str:
    """A change: +12, −3, 0 (a true minus sign reads better than a hyphen)."""
    if is_empty(value):
        return EMPTY
    if decimals <= 0:
        whole = text_format.fmt_int(abs(float(value)))
        if whole == "0":
            return "0"
        return ("+" if value > 0 else "−") + whole
    return text_format.fmt_signed(value, decimals)


def points(value: float | None, decimals: int = 1) -> str:
    """A change of a percentage, in percentage points: +3,2 poin."""
    if is_empty(value):
        return EMPTY
    return signed_number(value, decimals) + " poin"


def day(value: date | datetime | None) -> str:
    """3 Jan 2026 (Indonesian short month names: Mei, Agu, Okt, Des)."""
    if is_empty(value):
        return EMPTY
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "d MMM y", locale=LOCALE)


def month(value: date | datetime | None) -> str:
    """Des 2026."""
    if is_empty(value):
        return EMPTY
    return format_date(value, "MMM y", locale=LOCALE)


def short_month(value: date | datetime | None) -> str:
    """An axis label: Des 26."""
    if is_empty(value):
        return EMPTY
    return format_date(value, "MMM yy", locale=LOCALE)


def short_day(value: date | datetime | None) -> str:
    """An axis label: 16 Nov."""
    if is_empty(value):
        return EMPTY
    return format_date(value, "d MMM", locale=LOCALE)


# Bidirectional and invisible format controls: a name holding U+202E would show reversed.
_FORMAT_CONTROLS = dict.fromkeys(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0x061C, 0xFEFF]
)


def plain_text(value: object) -> str:
    """A label from data as plain characters: no bidi overrides or zero-width controls, no
    line breaks; an empty value is the dash. Escape it for the medium it goes into."""
    if is_empty(value):
        return EMPTY
    text = str(value).translate(_FORMAT_CONTROLS)
    return " ".join(text.split())


def period(date_from: date, date_to: date) -> str:
    """1 – 22 Nov 2026, 3 Des 2025 – 5 Jan 2026, or a single day."""
    if date_from == date_to:
        return day(date_from)
    if date_from.year == date_to.year and date_from.month == date_to.month:
        return f"{date_from.day} – {day(date_to)}"
    if date_from.year == date_to.year:
        return f"{format_date(date_from, 'd MMM', locale=LOCALE)} – {day(date_to)}"
    return f"{day(date_from)} – {day(date_to)}"


def zone_abbreviation(timezone: str) -> str:
    return text_format.zone_label(timezone)


def moment(value: datetime | None, timezone: str) -> str:
    """An instant in local time: 3 Jan 2026 14.05 WITA."""
    if is_empty(value):
        return EMPTY
    text = format_datetime(value, "d MMM y HH.mm", tzinfo=ZoneInfo(timezone), locale=LOCALE)
    return f"{text} {zone_abbreviation(timezone)}"


def hours(value: float | None) -> str:
    """A duration in hours: 0,5 jam; 36 jam; 3,2 hari beyond 72 hours."""
    if is_empty(value):
        return EMPTY
    value = float(value)
    if value >= 72:
        return number(value / 24.0, 1) + " hari"
    if value < 10:
        return number(value, 1) + " jam"
    return number(value, 0) + " jam"


def age(hours_ago: float) -> str:
    """How old something is, for the freshness line: 5 menit, 3 jam, 2 hari."""
    if hours_ago < 1:
        return f"{max(0, math.floor(hours_ago * 60))} menit"
    if hours_ago < 48:
        return f"{math.floor(hours_ago)} jam"
    return f"{math.floor(hours_ago / 24)} hari"


def label(code: str | None) -> str:
    """A machine value shown to people: menunggu_tindak_lanjut -> Menunggu tindak lanjut."""
    if is_empty(code) or code == "":
        return EMPTY
    text = str(code).replace("_", " ")
    return text[:1].upper() + text[1:]
