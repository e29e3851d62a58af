"""Translate an SP4N-LAPOR! admin export (Excel) into canonical rows, and find its snapshot time.

Columns are found by their header names (DATA.md lists them), never by position. The export
carries no disposition, follow-up or closing times: each file is a snapshot taken at its
generation date, and the store derives those stage times from the first snapshot that shows a
complaint at or past each stage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from data_sources.canonical import cell_text, parse_timestamp_series

# LAPOR! header (folded) -> canonical column; the rest is read but not stored.
HEADERS = {
    "tracking id": "tracking_id",
    "tanggal laporan masuk": "_date",
    "waktu laporan masuk": "_time",
    "nama pelapor": "reporter_name",
    "klasifikasi laporan": "classification",
    "kategori": "category",
    "judul laporan": "title",
    "isi laporan awal": "body",
    "isi laporan akhir": "_body_final",
    "tipe laporan (anonim/rahasia)": "_type",
    "tipe laporan": "_type",
    "sumber laporan": "channel",
    "instansi terdisposisi": "opd",
    "status laporan": "_status",
    "kecamatan": "kecamatan",
    "kelurahan": "kelurahan",
    "rating": "rating",
    "kota/kabupaten": "region_name",  # the store resolves it to the region's code
}
KNOWN_UNUSED = {
    "id kategori", "instansi induk", "id instansi terdisposisi", "alasan tunda/arsip", "provinsi",
    "nomor sk", "url sk", "url dokumen laporan tahunan",
    "laporan yang masuk melalui kanal aduan setwapres",
}
REQUIRED_HEADERS = ("tracking id", "tanggal laporan masuk", "status laporan")

# Status Laporan wording (folded) -> canonical status (KPI.md "Status").
STATUS_EXACT = {
    "belum terverifikasi": "menunggu_verifikasi",
    "tunda": "menunggu_verifikasi",
    "terdisposisi": "menunggu_tindak_lanjut",
    "belum ditindaklanjuti": "menunggu_tindak_lanjut",
    "ditindaklanjuti": "proses",
    "ditindaklanjuti oleh instansi": "proses",
    "ditanggapi oleh pelapor": "proses",
    "ditutup oleh admin": "selesai",
    "ditutup oleh sistem": "selesai",
    "selesai": "selesai",
    "diarsipkan oleh admin": "arsip",
    "diarsipkan oleh sistem": "arsip",
    "bukan wewenang": "arsip",
}
STATUS_PREFIXES = (("terdisposisi ke ", "menunggu_tindak_lanjut"),)
GENERATED_LABELS = ("tanggal generate", "tanggal unduh", "tanggal cetak", "generated", "generate date")


def fold(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").strip().lower())


def lapor_status(text: str | None) -> str | None:
    """The canonical status of a Status Laporan text; None when the wording is unknown."""
    key = fold(text)
    if not key:
        return None
    if key in STATUS_EXACT:
        return STATUS_EXACT[key]
    for prefix, status in STATUS_PREFIXES:
        if key.startswith(prefix):
            return status
    return None


@dataclass
class HeaderCheck:
    columns: dict[str, str]  # file header -> canonical or helper name
    missing: list[str]  # required LAPOR! headers not found
    unknown: list[str]  # headers neither used nor known


def check_header(header: Sequence[str]) -> HeaderCheck:
    columns: dict[str, str] = {}
    unknown = []
    for name in header:
        key = fold(name)
        target = HEADERS.get(key)
        if target and target not in columns.values():
            columns[name] = target
        elif key not in KNOWN_UNUSED and not key.startswith("kolom_"):
            unknown.append(name)
    found = {fold(n) for n in columns}
    missing = [h for h in REQUIRED_HEADERS if h not in found]
    return HeaderCheck(columns, missing, unknown)


def translate(chunk: pd.DataFrame, check: HeaderCheck) -> tuple[pd.DataFrame, list[str | None]]:
    """Canonical raw columns for `validate_records`, plus LAPOR!-specific reasons per row."""
    n = len(chunk)
    src = {target: chunk[name] for name, target in check.columns.items()}
    empty = pd.Series([None] * n, index=chunk.index, dtype=object)

    def col(name: str) -> pd.Series:
        return src.get(name, empty)

    out = pd.DataFrame(index=chunk.index)
    for target in ("tracking_id", "reporter_name", "classification", "category", "title",
                   "channel", "opd", "kecamatan", "kelurahan", "rating", "region_name"):
        out[target] = col(target)
    body = col("body")
    out["body"] = body.where(body.notna(), col("_body_final"))

    date_text = col("_date").astype("string")
    time_text = col("_time").astype("string")
    # A date cell Excel typed as a datetime comes as "2026-01-03 00:00:00": keep the date part.
    date_only = date_text.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", r"\1", regex=True)
    stamp = (date_only + " " + time_text.fillna("")).str.strip()
    stamp = stamp.where(date_text.notna(), None)
    out["submitted_at"] = stamp.astype(object).where(stamp.notna(), None)

    status_text = col("_status")
    uniques = {v: lapor_status(v) for v in pd.unique(status_text.dropna())}
    out["status"] = status_text.map(uniques, na_action="ignore").astype(object)
    out["status_raw"] = status_text
    # Disposition is the current OPD; fall back to the name inside "Terdisposisi ke <instansi>".
    from_status = status_text.astype("string").str.extract(r"(?i)^\s*terdisposisi ke\s+(.+?)\s*$")[0]
    out["opd"] = out["opd"].where(out["opd"].notna(), from_status.astype(object).where(from_status.notna(), None))

    kind = col("_type").astype("string").str.lower()
    out["is_anonymous"] = kind.str.contains("anonim", regex=False).fillna(False).astype(bool)
    out["is_confidential"] = kind.str.contains("rahasia", regex=False).fillna(False).astype(bool)

    reasons: list[str | None] = [None] * n
    tracking = out["tracking_id"].astype("string").str.strip()
    not_digits = (tracking.notna() & ~tracking.str.fullmatch(r"\d+").fillna(False)).to_numpy(dtype=bool)
    unknown_status = (status_text.notna() & out["status"].isna()).to_numpy(dtype=bool)
    for pos in (not_digits | unknown_status).nonzero()[0].tolist():
        found = []
        if not_digits[pos]:
            found.append(
                f"Tracking ID bukan angka ({tracking.iat[pos]!r}): Tracking ID LAPOR! hanya berisi "
                "angka; perbaiki lalu impor ulang berkas ini"
            )
        if unknown_status[pos]:
            found.append(
                f"Status Laporan tidak dikenal ({status_text.iat[pos]!r}): dasbor belum mengenal "
                "status ini; sampaikan ke pengelola dasbor agar ditambahkan, lalu impor ulang berkas ini"
            )
        if found:
            reasons[pos] = "; ".join(found)
    # An unknown wording is reported above with its text; keep the canonical check from adding
    # a second, vaguer reason.
    out.loc[unknown_status, "status"] = "menunggu_verifikasi"
    return out.reset_index(drop=True), reasons


@dataclass
class Snapshot:
    at: datetime  # aware UTC
    origin: str  # "Tanggal Generate", "nama berkas", "waktu impor"
    text: str  # as found, for the report


def snapshot_from_preamble(preamble: list[list[str | None]], timezone: str) -> Snapshot | None:
    """The generation time in the information rows, e.g. `Tanggal Generate | 15-01-2026 10:00`."""
    for row in preamble:
        cells = [cell_text(c) for c in row]
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            label, _, inline = cell.partition(":")
            if fold(cell) in GENERATED_LABELS or fold(label) in GENERATED_LABELS:
                value = inline.strip() if fold(label) in GENERATED_LABELS and inline.strip() else None
                if value is None:
                    value = next((c for c in cells[i + 1:] if c), None)
                if value is None:
                    continue
                parsed = parse_timestamp_series(pd.Series([value], dtype=object), timezone).iat[0]
                if parsed is not pd.NaT and not pd.isna(parsed):
                    return Snapshot(parsed.to_pydatetime(), "Tanggal Generate", value)
    return None


_NAME_DATES = (
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), ("y", "m", "d")),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), ("y", "m", "d")),
    (re.compile(r"(?<!\d)(\d{2})-(\d{2})-(\d{4})(?!\d)"), ("d", "m", "y")),
)


def snapshot_from_filename(filename: str, timezone: str, now: datetime) -> Snapshot | None:
    """A date in the file name; the export was made some time that day, so the snapshot is the
    end of that local day (an upper bound: a stage seen then had happened by then), never later
    than the import itself."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    for pattern, order in _NAME_DATES:
        match = pattern.search(name)
        if not match:
            continue
        parts = dict(zip(order, map(int, match.groups()), strict=True))
        try:
            end = datetime(parts["y"], parts["m"], parts["d"], 23, 59, 59, tzinfo=ZoneInfo(timezone))
        except ValueError:
            continue
        if not 1970 <= parts["y"] <= 2099:
            continue
        at = min(end, now)
        return Snapshot(at.astimezone(ZoneInfo("UTC")), "nama berkas", match.group(0))
    return None
