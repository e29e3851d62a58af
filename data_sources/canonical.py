"""The canonical complaint record of DATA.md: parse and validate raw rows, quarantine the bad ones.

Every source (canonical CSV, LAPOR! export, mapped spreadsheet, LAPOR! API, Open311) is first
translated into a DataFrame with canonical column names and raw cell values, then handed to
`validate_records`, so one set of rules decides what is stored and what is set aside. The work
is vectorised per column: a million-row file is validated in a few seconds, and only the rows
that break a rule are touched one by one (to write their reason).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from core.settings import CHANNELS, CLASSIFICATIONS, STATUSES
from data_sources import schema
from data_sources.store import QuarantinedRow

log = logging.getLogger(__name__)

TIMESTAMP_COLUMNS = (
    "submitted_at", "verified_at", "disposed_at", "first_response_at", "closed_at", "expected_at",
    "response_due_at", "completion_due_at",
)
STAGE_COLUMNS = ("verified_at", "disposed_at", "first_response_at", "closed_at")
COUNT_COLUMNS = ("redisposition_count", "reopen_count")
BOOL_COLUMNS = ("is_anonymous", "is_confidential")
FLOAT_COLUMNS = ("latitude", "longitude")
TEXT_COLUMNS = (
    "tracking_id", "channel_raw", "category", "opd", "kecamatan", "kelurahan", "status_raw",
    "reporter_name", "title", "body", "address", "region_code", "region_name",
)
# The DATA.md record plus the raw values and Open311 extras the store keeps.
CANONICAL_COLUMNS = (
    "tracking_id", "submitted_at", "channel", "channel_raw", "classification", "category", "opd",
    "kecamatan", "kelurahan", "status", "status_raw", "verified_at", "disposed_at",
    "first_response_at", "closed_at", "response_due_at", "completion_due_at",
    "redisposition_count", "reopen_count", "rating",
    "is_anonymous", "is_confidential", "reporter_name", "title", "body", "expected_at",
    "latitude", "longitude", "address", "region_code", "region_name",
)
REQUIRED_COLUMNS = ("tracking_id", "submitted_at", "status")
PRIVATE_COLUMNS = frozenset({"reporter_name"})
REDACTED = "[disembunyikan]"

# Text limits come from the table definition: PostgreSQL refuses a longer VARCHAR, SQLite would
# silently accept it, so a too-long value is quarantined rather than failing one database only.
TEXT_LIMITS = {
    col.name: col.type.length
    for col in schema.complaints.columns
    if getattr(col.type, "length", None) and col.name in CANONICAL_COLUMNS
}
# region_name is not a complaint column: the store turns it into region_code (regions table).
TEXT_LIMITS["region_name"] = schema.regions.c.name.type.length
MAX_COUNT = 2**31 - 1  # INTEGER on PostgreSQL
# Plausible instants: anything outside is a typo (year 20260) and would break calendar maths.
EARLIEST = pd.Timestamp("1970-01-01", tz="UTC")
LATEST = pd.Timestamp("2100-01-01", tz="UTC")

# How people know each column (the quarantine's reasons name it so, never by its field name).
COLUMN_LABELS = {
    "tracking_id": "Tracking ID", "submitted_at": "Tanggal laporan masuk",
    "verified_at": "Waktu verifikasi", "disposed_at": "Waktu disposisi",
    "first_response_at": "Waktu tanggapan pertama", "closed_at": "Waktu selesai",
    "expected_at": "Perkiraan waktu selesai", "status": "Status", "status_raw": "Status",
    "classification": "Klasifikasi", "channel": "Sumber laporan (kanal)",
    "channel_raw": "Sumber laporan (kanal)", "category": "Kategori", "opd": "OPD",
    "kecamatan": "Kecamatan", "kelurahan": "Kelurahan", "rating": "Rating",
    "redisposition_count": "Jumlah disposisi ulang", "reopen_count": "Jumlah dibuka kembali",
    "is_anonymous": "Anonim", "is_confidential": "Rahasia", "reporter_name": "Nama pelapor",
    "title": "Judul", "body": "Isi laporan", "address": "Alamat", "region_code": "Kode wilayah",
    "region_name": "Kota/Kabupaten", "latitude": "Lintang", "longitude": "Bujur",
}
AGAIN_FILE = "lalu impor ulang berkas ini"
AGAIN_DATA = "di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"


def column_label(name: str, header: str | None = None) -> str:
    """A column as people know it: "Tanggal laporan masuk", or with the file's own header when
    it reads differently ("Tanggal laporan masuk (kolom submitted_at)")."""
    label = COLUMN_LABELS.get(name, name)
    if header is None or re.sub(r"[\s_]+", " ", header).strip().lower() == label.lower():
        return label
    return f"{label} (kolom {header})"


TRUE_WORDS = frozenset({"true", "1", "ya", "y", "yes", "t", "benar"})
FALSE_WORDS = frozenset({"false", "0", "tidak", "n", "no", "f", "salah", "-"})

# Indonesian month names and abbreviations -> English abbreviations `%b` understands.
_MONTHS_ID = {
    "januari": "Jan", "februari": "Feb", "pebruari": "Feb", "maret": "Mar", "april": "Apr",
    "mei": "May", "juni": "Jun", "juli": "Jul", "agustus": "Aug", "agu": "Aug", "agt": "Aug",
    "agus": "Aug", "september": "Sep", "sept": "Sep", "oktober": "Oct", "okt": "Oct",
    "november": "Nov", "nopember": "Nov", "nop": "Nov", "desember": "Dec", "des": "Dec",
    "january": "Jan", "february": "Feb", "march": "Mar", "june": "Jun", "july": "Jul",
    "august": "Aug", "october": "Oct", "december": "Dec", "mar": "Mar", "jan": "Jan",
    "feb": "Feb", "apr": "Apr", "may": "May", "jun": "Jun", "jul": "Jul", "aug": "Aug",
    "sep": "Sep", "oct": "Oct", "nov": "Nov", "dec": "Dec",
}
_MONTH_RE = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(_MONTHS_ID, key=len, reverse=True)) + r")\.?(?![A-Za-z])", re.IGNORECASE)
# An offset only counts after a time of day: "2026-01-05" ends in "-05" but is a local date.
_OFFSET_RE = r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?[ \t]*(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)$"  # RE2-safe: Arrow runs it
# Formats tried after ISO 8601, day first as Indonesian spreadsheets write dates.
_FALLBACK_FORMATS = (
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y", "%d %b %Y %H.%M",
    "%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M", "%d-%b-%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
)

# Channel spellings seen in LAPOR! "Sumber Laporan" and other sources -> canonical channel.
_CHANNEL_WORDS = {
    "website": "website", "web": "website", "situs": "website", "www": "website",
    "lapor go id": "website", "portal": "website",
    "android": "android", "ios": "ios", "iphone": "ios", "apple": "ios",
    "sms": "sms", "sms 1708": "sms", "1708": "sms",
    "whatsapp": "whatsapp", "wa": "whatsapp", "whats app": "whatsapp",
    "twitter": "twitter", "x": "twitter", "x twitter": "twitter", "twitter x": "twitter",
    "facebook": "facebook", "fb": "facebook",
    "instagram": "instagram", "ig": "instagram",
    "email": "email", "e mail": "email", "surel": "email", "mail": "email",
    "telepon": "telepon", "telpon": "telepon", "telephone": "telepon", "phone": "telepon",
    "call center": "telepon", "hotline": "telepon", "tlp": "telepon",
    "tatap muka": "tatap_muka", "tatap_muka": "tatap_muka", "langsung": "tatap_muka",
    "walk in": "tatap_muka", "loket": "tatap_muka",
    "lainnya": "lainnya", "lain lain": "lainnya", "other": "lainnya",
}
_CHANNEL_PREFIXES = (("android", "android"), ("ios", "ios"), ("sms", "sms"),
                     ("whatsapp", "whatsapp"), ("telepon", "telepon"), ("email", "email"))


# --- cells ---------------------------------------------------------------------------------
def cell_text(value: Any) -> str | None:
    """One cell as trimmed text; None when empty. Integral floats lose their `.0` (Excel IDs)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
            return str(int(value))
        return repr(float(value))
    if isinstance(value, int | np.integer | Decimal):
        return str(value)
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip() or None
    text = str(value).strip()
    return text or None


STRING = pd.StringDtype("pyarrow")


def _text(series: pd.Series) -> pd.Series:
    """A column as Arrow-backed strings, trimmed, NA when empty (vectorised for string columns)."""
    if len(series) == 0:
        return pd.Series([], index=series.index, dtype=STRING)
    if not isinstance(series.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind not in ("string", "empty"):
            series = pd.Series([cell_text(v) for v in series.tolist()], index=series.index, dtype=object)
    st = series.astype(STRING).str.strip()
    return st.mask(st == "")


def _objects(series: pd.Series) -> pd.Series:
    """Strings back to object dtype with None for missing, as the store expects."""
    return series.astype(object).where(series.notna(), None)


def _short(value: Any, limit: int = 80) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


# --- public helpers ------------------------------------------------------------------------
def normalise_channel(value: Any) -> tuple[str | None, str | None]:
    """(canonical channel, raw value kept when it is not exactly the canonical word).

    Unknown spellings become `lainnya` with the raw value kept; an empty cell gives (None, None).
    """
    raw = cell_text(value)
    if raw is None:
        return None, None
    key = re.sub(r"[^a-z0-9]+", " ", raw.lower()).strip()
    channel = _CHANNEL_WORDS.get(key)
    if channel is None:
        for prefix, name in _CHANNEL_PREFIXES:
            if key.startswith(prefix + " ") or key == prefix:
                channel = name
                break
    if channel is None:
        channel = "lainnya"
    return channel, (None if raw == channel else raw)


def normalise_classification(value: Any) -> str | None:
    """`Permintaan Informasi` -> `permintaan_informasi`; the text as folded when unknown."""
    text = cell_text(value)
    if text is None:
        return None
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def english_months(series: pd.Series) -> pd.Series:
    """Replace Indonesian (and long English) month names by the `%b` abbreviations."""
    return series.str.replace(_MONTH_RE, lambda m: _MONTHS_ID[m.group(1).lower()], regex=True)


def _localise(naive: pd.Series, timezone: str) -> pd.Series:
    """Naive local wall times -> UTC; a time that does not exist in the zone becomes NaT."""
    if naive.empty:
        return naive.dt.tz_localize("UTC")
    local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert("UTC")


def parse_timestamp_series(
    values: pd.Series | Sequence[Any], timezone: str, date_format: str | None = None
) -> pd.Series:
    """Parse timestamps to tz-aware UTC (`datetime64[us, UTC]`); unparseable or empty -> NaT.

    A value without an offset is local time in `timezone`; an offset or `Z` is honoured.
    `date_format` (strftime) is tried first when given; then ISO 8601; then common day-first
    forms (`31/12/2025 14:05`, `3 Jan 2026 14:05`, Indonesian month names such as `Mei`, `Des`).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    text = _text(series)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")
    todo = text.notna()
    if not todo.any():
        return result

    def _fill(mask: pd.Series, parsed: pd.Series) -> None:
        good = parsed.notna()
        if good.any():
            idx = good[good].index
            result.loc[idx] = parsed[good].astype("datetime64[us, UTC]")
            todo.loc[idx] = False

    def _parse(sub: pd.Series, fmt: str) -> pd.Series:
        has_offset = sub.str.contains(_OFFSET_RE, regex=True).fillna(False)
        out = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[us, UTC]")
        if has_offset.any():
            part = sub[has_offset]
            parsed = pd.to_datetime(part, format=fmt, errors="coerce", utc=True)
            out.loc[part.index] = parsed.astype("datetime64[us, UTC]")
        naive_part = sub[~has_offset]
        if len(naive_part):
            parsed = pd.to_datetime(naive_part, format=fmt, errors="coerce")
            if isinstance(parsed.dtype, pd.DatetimeTZDtype):
                parsed = parsed.dt.tz_convert("UTC")
            else:
                parsed = _localise(parsed.astype("datetime64[us]"), timezone)
            out.loc[naive_part.index] = parsed.astype("datetime64[us, UTC]")
        return out

    formats: list[str] = [date_format] if date_format else []
    formats += ["ISO8601"]
    for fmt in formats:
        sub = text[todo]
        if sub.empty:
            return result
        try:
            _fill(todo, _parse(sub, fmt))
        except (ValueError, TypeError, OverflowError):
            _fill(todo, _parse_one_by_one(sub, fmt, timezone))
    sub = text[todo]
    if sub.empty:
        return result
    sub = english_months(sub.str.replace(r"\s+", " ", regex=True))
    for fmt in _FALLBACK_FORMATS:
        if sub.empty:
            break
        try:
            parsed = _parse(sub, fmt)
        except (ValueError, TypeError, OverflowError):
            parsed = _parse_one_by_one(sub, fmt, timezone)
        _fill(todo, parsed)
        sub = sub[todo[sub.index]]
    return result


def _parse_one_by_one(sub: pd.Series, fmt: str, timezone: str) -> pd.Series:
    """Slow path for a batch pandas refuses as a whole (mixed forms under an explicit format)."""
    out = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[us, UTC]")
    for idx, value in sub.items():
        try:
            ts = pd.to_datetime(value, format=fmt)
        except (ValueError, TypeError, OverflowError):
            continue
        if ts is pd.NaT:
            continue
        try:
            ts = ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize(timezone).tz_convert("UTC")
        except (ValueError, TypeError, OverflowError):
            continue
        out.loc[idx] = ts
    return out


# --- validation ----------------------------------------------------------------------------
class _Problems:
    """Reasons per row position, added column by column from vectorised masks."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reasons: dict[int, list[str]] = {}

    def add(self, mask: np.ndarray | pd.Series, reason: Any) -> None:
        """`reason` is a string or a function of the row position giving one."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions.tolist():
            text = reason(pos) if callable(reason) else reason
            self.reasons.setdefault(pos, []).append(text)

    def bad_mask(self) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        if self.reasons:
            mask[list(self.reasons)] = True
        return mask


def _safe_id(value: Any) -> str | None:
    """A tracking id fit for the quarantine table (PostgreSQL text holds no NUL)."""
    if value is None or value is pd.NA:
        return None
    return str(value).replace("\x00", "\\x00")


def _raw_dict(row: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for key, value in row.items():
        if key in PRIVATE_COLUMNS and value is not None and value == value:
            clean[key] = REDACTED
        elif value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            clean[key] = None
        elif isinstance(value, str | int | float | bool):
            clean[key] = value
        else:
            clean[key] = cell_text(value)
    return clean


def validate_records(
    raw: pd.DataFrame,
    *,
    timezone: str,
    record_numbers: Sequence[int] | None = None,
    date_format: str | None = None,
    extra_reasons: Sequence[str | None] | None = None,
    headers: dict[str, str] | None = None,
    again: str = AGAIN_DATA,
) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
    """Split raw canonical rows into valid records (typed for `Store.write_complaints`) and rows
    set aside with their reasons (DATA.md rules). Every input row ends up in exactly one of them.

    `raw` has canonical column names (others are ignored) and str / None / number cells.
    `record_numbers` are the rows' line or record numbers for the quarantine (default 1..n).
    `extra_reasons` (one per row, None when fine) carries format-specific findings, such as a
    LAPOR! status with no mapping, so they are reported together with the generic ones.
    Reasons are plain Indonesian with the next step: each column named as people know it, with
    the file's own header (`headers`: canonical column -> header) where it differs, ending with
    `again` (what to do once fixed: `AGAIN_FILE` for a file, `AGAIN_DATA` for an API).
    """
    headers = headers or {}

    def label(name: str) -> str:
        return column_label(name, headers.get(name))

    n = len(raw)
    frame = raw.reset_index(drop=True)
    numbers = list(record_numbers) if record_numbers is not None else list(range(1, n + 1))
    if len(numbers) != n:
        raise ValueError("record_numbers must have one number per row")
    unknown = [c for c in frame.columns if c not in CANONICAL_COLUMNS]
    if unknown:
        log.debug("ignoring non-canonical columns: %s", ", ".join(map(str, unknown)))
    problems = _Problems(n)
    if extra_reasons is not None:
        extra = list(extra_reasons)
        if len(extra) != n:
            raise ValueError("extra_reasons must have one entry per row")
        for pos, reason in enumerate(extra):
            if reason:
                problems.reasons.setdefault(pos, []).append(str(reason))

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            col = frame[name]
            if isinstance(col, pd.DataFrame):  # duplicated header: the first one wins
                col = col.iloc[:, 0]
            return _text(col)
        return pd.Series([None] * n, dtype=STRING)

    out: dict[str, pd.Series] = {}

    # Text columns: kept as given (never altered: formulas and markup are data, shown as text).
    for name in TEXT_COLUMNS:
        out[name] = column(name)
    tracking = out["tracking_id"]
    problems.add(tracking.isna(), f"{label('tracking_id')} kosong: isi {label('tracking_id')} laporan ini {again}")
    for name, limit in TEXT_LIMITS.items():
        if name not in out:
            continue
        lengths = out[name].str.len()
        too_long = (lengths > limit).fillna(False).to_numpy(dtype=bool)
        problems.add(too_long, f"{label(name)} lebih dari {limit} karakter: persingkat isinya {again}")
    # PostgreSQL refuses NUL in text; such a cell is a broken export, never a real value.
    for name in frame.columns:
        if name not in CANONICAL_COLUMNS or name in TIMESTAMP_COLUMNS:
            continue
        text = out[name] if name in TEXT_COLUMNS else column(name)
        has_nul = text.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
        problems.add(
            has_nul,
            f"{label(name)} berisi karakter NUL (tanda berkas atau data rusak): ambil ulang datanya dari "
            f"sumbernya {again}",
        )

    # Timestamps.
    raw_times: dict[str, pd.Series] = {}
    for name in TIMESTAMP_COLUMNS:
        text = column(name)
        raw_times[name] = text
        parsed = parse_timestamp_series(text, timezone, date_format)
        given = text.notna().to_numpy()
        unparsed = given & parsed.isna().to_numpy()
        problems.add(
            unparsed,
            lambda pos, name=name, text=text: (
                f"{label(name)} bukan tanggal yang dikenali ({_short(text.iat[pos])}): perbaiki tanggalnya "
                f"(mis. 2026-01-31 14:05 atau 31/01/2026 14:05) {again}"
            ),
        )
        out_of_range = parsed.notna().to_numpy() & ((parsed < EARLIEST) | (parsed >= LATEST)).fillna(False).to_numpy(dtype=bool)
        problems.add(
            out_of_range,
            lambda pos, name=name, text=text: (
                f"{label(name)} di luar tahun 1970-2099 ({_short(text.iat[pos])}): periksa tahunnya {again}"
            ),
        )
        out[name] = parsed.where(~pd.Series(out_of_range, index=parsed.index), pd.NaT)
    problems.add(
        raw_times["submitted_at"].isna().to_numpy(),
        f"{label('submitted_at')} kosong: isi tanggal laporan masuk {again}",
    )
    submitted = out["submitted_at"]
    for name in STAGE_COLUMNS:
        before = (out[name] < submitted).fillna(False).to_numpy(dtype=bool)
        problems.add(
            before,
            f"{label(name)} lebih awal dari {label('submitted_at')}: periksa kedua tanggalnya {again}",
        )

    # Status: canonical words only (sources with their own wording translate first).
    status_text = column("status")
    status = status_text.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    problems.add(status_text.isna().to_numpy(), f"{label('status')} kosong: isi status laporan {again}")
    unknown_status = status.notna().to_numpy() & ~status.isin(STATUSES).to_numpy()
    problems.add(
        unknown_status,
        lambda pos: (
            f"{label('status')} tidak dikenal ({_short(status_text.iat[pos])}): pakai salah satu dari "
            f"{', '.join(STATUSES)}, {again}"
        ),
    )
    out["status"] = _objects(status)
    out["status_raw"] = out["status_raw"].where(out["status_raw"].notna(), status_text)

    # Classification: the four of DATA.md; an unknown non-empty one is set aside, not guessed.
    class_text = column("classification")
    class_lookup = {v: normalise_classification(v) for v in class_text.dropna().unique()}
    classification = class_text.map(class_lookup).astype(STRING)
    bad_class = classification.notna().to_numpy() & ~classification.isin(CLASSIFICATIONS).to_numpy()
    problems.add(
        bad_class,
        lambda pos: (
            f"{label('classification')} tidak dikenal ({_short(class_text.iat[pos])}): pakai salah satu "
            f"dari {', '.join(c.replace('_', ' ') for c in CLASSIFICATIONS)}, atau kosongkan, {again}"
        ),
    )
    out["classification"] = _objects(classification)

    # Channel: canonical list, anything else `lainnya` with the raw value kept.
    channel_text = column("channel")
    lookup = {v: normalise_channel(v) for v in channel_text.dropna().unique()}
    out["channel"] = channel_text.map({k: v[0] for k, v in lookup.items()}).astype(STRING)
    derived_raw = channel_text.map({k: v[1] for k, v in lookup.items() if v[1] is not None}).astype(STRING)
    out["channel_raw"] = out["channel_raw"].where(out["channel_raw"].notna(), derived_raw)
    if "channel_raw" in TEXT_LIMITS:
        too_long = (derived_raw.str.len() > TEXT_LIMITS["channel_raw"]).fillna(False).to_numpy(dtype=bool)
        problems.add(
            too_long,
            f"{label('channel')} lebih dari {TEXT_LIMITS['channel_raw']} karakter: persingkat isinya {again}",
        )

    # Rating: an integer 1-5.
    rating_text = column("rating")
    rating_num = pd.to_numeric(rating_text, errors="coerce")
    given = rating_text.notna().to_numpy()
    num = rating_num.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(num) & (np.floor(num) == num) & (num >= 1) & (num <= 5)
    problems.add(
        given & ~ok,
        lambda pos: (
            f"{label('rating')} harus bilangan bulat 1 sampai 5 ({_short(rating_text.iat[pos])}): perbaiki "
            f"atau kosongkan {again}"
        ),
    )
    out["rating"] = pd.Series(
        [int(v) if good else None for v, good in zip(num.tolist(), ok.tolist(), strict=True)],
        dtype=object,
    )

    # Counts: integers >= 0, empty = 0.
    for name in COUNT_COLUMNS:
        text = column(name)
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        given = text.notna().to_numpy()
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(num) & (np.floor(num) == num) & (num >= 0) & (num <= MAX_COUNT)
        problems.add(
            given & ~ok,
            lambda pos, name=name, text=text: (
                f"{label(name)} harus bilangan bulat 0 atau lebih ({_short(text.iat[pos])}): perbaiki atau "
                f"kosongkan {again}"
            ),
        )
        out[name] = pd.Series(np.where(given & ok, np.nan_to_num(num), 0).astype("int64"))

    # Booleans: true/false, 1/0, ya/tidak (case-insensitive); empty = false.
    for name in BOOL_COLUMNS:
        text = column(name)
        folded = text.str.lower()
        is_true = folded.isin(TRUE_WORDS).to_numpy()
        is_false = folded.isin(FALSE_WORDS).to_numpy()
        given = text.notna().to_numpy()
        problems.add(
            given & ~is_true & ~is_false,
            lambda pos, name=name, text=text: (
                f"{label(name)} harus ya atau tidak ({_short(text.iat[pos])}): perbaiki atau kosongkan {again}"
            ),
        )
        out[name] = pd.Series(is_true, dtype=bool)

    # Coordinates.
    for name, bound in (("latitude", 90.0), ("longitude", 180.0)):
        text = column(name)
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        given = text.notna().to_numpy()
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(num) & (np.abs(num) <= bound)
        problems.add(
            given & ~ok,
            lambda pos, name=name, text=text: (
                f"{label(name)} bukan koordinat yang valid ({_short(text.iat[pos])}): perbaiki atau kosongkan "
                f"{again}"
            ),
        )
        out[name] = pd.Series(np.where(given & ok, num, np.nan), dtype="float64")

    for name in (*TEXT_COLUMNS, "channel"):
        out[name] = _objects(out[name])
    records = pd.DataFrame({name: out[name] for name in CANONICAL_COLUMNS})
    bad = problems.bad_mask()
    quarantined: list[QuarantinedRow] = []
    if bad.any():
        keep_cols = list(frame.columns)
        for pos in np.flatnonzero(bad).tolist():
            row = {str(c): frame.iat[pos, i] for i, c in enumerate(keep_cols)}
            quarantined.append(
                QuarantinedRow(
                    record_no=int(numbers[pos]),
                    reason="; ".join(problems.reasons[pos]),
                    raw=_raw_dict(row),
                    tracking_id=_safe_id(tracking.iat[pos]),
                )
            )
    valid = records[~bad].reset_index(drop=True)
    for name in TIMESTAMP_COLUMNS:
        valid[name] = valid[name].astype("datetime64[us, UTC]")
    return valid, quarantined


__all__ = [
    "AGAIN_DATA", "AGAIN_FILE", "BOOL_COLUMNS", "CANONICAL_COLUMNS", "CHANNELS", "COLUMN_LABELS", "COUNT_COLUMNS", "REQUIRED_COLUMNS",
    "TIMESTAMP_COLUMNS", "cell_text", "column_label", "english_months", "normalise_channel",
    "normalise_classification", "parse_timestamp_series", "validate_records",
]
