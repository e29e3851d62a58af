"""Read any other spreadsheet through a TOML mapping file (DATA.md "Any other spreadsheet").

The mapping names, for each canonical column, the source header that holds it; translates the
source's status values; gives the zone of timestamps without an offset and, optionally, their
strftime format; and fills canonical columns the source lacks from another column or a literal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from core.settings import STATUSES
from data_sources.canonical import CANONICAL_COLUMNS, cell_text


class MappingError(Exception):
    """The mapping file is missing, not TOML, or says something impossible. The message says what."""


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str]  # canonical column -> source header
    status: dict[str, str] = field(default_factory=dict)  # source value -> canonical status
    defaults: dict[str, str] = field(default_factory=dict)  # canonical column -> column or literal
    timezone: str | None = None
    date_format: str | None = None
    source: str | None = None  # default source name for imports through this mapping
    path: str | None = None

    @property
    def default_source(self) -> str:
        if self.source:
            return self.source
        return Path(self.path).stem if self.path else "mapped"


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    if not path.exists():
        raise MappingError(f"Berkas pemetaan tidak ditemukan: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"Berkas pemetaan bukan TOML yang valid ({path}): {exc}") from exc
    return parse_mapping(data, path=str(path))


def parse_mapping(data: dict[str, Any], *, path: str | None = None) -> Mapping:
    where = f" ({path})" if path else ""
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise MappingError(f"Pemetaan{where} tidak punya tabel [columns].")
    bad = [k for k in columns if k not in CANONICAL_COLUMNS]
    if bad:
        raise MappingError(
            f"Pemetaan{where}: kolom kanonik tidak dikenal di [columns]: {', '.join(bad)}. "
            f"Yang dikenal: {', '.join(CANONICAL_COLUMNS)}."
        )
    if not all(isinstance(v, str) and v.strip() for v in columns.values()):
        raise MappingError(f"Pemetaan{where}: setiap nilai di [columns] harus nama kolom sumber (teks).")
    status = data.get("status", {}) or {}
    if not isinstance(status, dict):
        raise MappingError(f"Pemetaan{where}: [status] harus tabel nilai sumber = status kanonik.")
    wrong = {k: v for k, v in status.items() if v not in STATUSES}
    if wrong:
        raise MappingError(
            f"Pemetaan{where}: status kanonik tidak dikenal di [status]: "
            + ", ".join(f"{k!r} = {v!r}" for k, v in wrong.items())
            + f". Yang dikenal: {', '.join(STATUSES)}."
        )
    defaults = data.get("defaults", {}) or {}
    if not isinstance(defaults, dict) or any(k not in CANONICAL_COLUMNS for k in defaults):
        raise MappingError(f"Pemetaan{where}: [defaults] hanya boleh berisi kolom kanonik.")
    timezone = data.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(f"Pemetaan{where}: zona waktu tidak dikenal: {timezone!r}") from exc
    date_format = data.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise MappingError(f"Pemetaan{where}: date_format harus format strftime, mis. '%d/%m/%Y %H:%M'.")
    if "tracking_id" not in columns:
        raise MappingError(f"Pemetaan{where}: [columns] harus menyebut tracking_id.")
    if "submitted_at" not in columns and "submitted_at" not in defaults:
        raise MappingError(f"Pemetaan{where}: [columns] harus menyebut submitted_at.")
    return Mapping(
        columns={k: str(v) for k, v in columns.items()},
        status={str(k): str(v) for k, v in status.items()},
        defaults={k: str(v) for k, v in defaults.items()},
        timezone=str(timezone) if timezone else None,
        date_format=date_format,
        source=str(data["source"]) if data.get("source") else None,
        path=path,
    )


def missing_headers(mapping: Mapping, header: Sequence[str]) -> list[str]:
    present = {h.strip().lower() for h in header}
    return [h for h in mapping.columns.values() if h.strip().lower() not in present]


def unused_headers(mapping: Mapping, header: Sequence[str]) -> list[str]:
    used = {h.strip().lower() for h in mapping.columns.values()}
    return [h for h in header if h.strip().lower() not in used and not h.startswith("kolom_")]


def translate(chunk: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, list[str | None]]:
    """Canonical raw columns for `validate_records`, plus mapping-specific reasons per row."""
    by_folded = {str(c).strip().lower(): c for c in chunk.columns}
    out = pd.DataFrame(index=chunk.index)
    for canonical, header in mapping.columns.items():
        out[canonical] = chunk[by_folded[header.strip().lower()]]
    for canonical, value in mapping.defaults.items():
        fill = out[value] if value in out.columns else pd.Series(value, index=chunk.index, dtype=object)
        if canonical in out.columns:
            out[canonical] = out[canonical].where(out[canonical].map(cell_text).notna(), fill)
        else:
            out[canonical] = fill
    reasons: list[str | None] = [None] * len(chunk)
    if mapping.status and "status" in out.columns:
        table = {k: v for k, v in mapping.status.items()}
        folded = {k.strip().lower(): v for k, v in mapping.status.items()}
        raw = out["status"].map(cell_text)

        def canonical_status(value: str | None) -> str | None:
            if value is None:
                return None
            return table.get(value) or folded.get(value.strip().lower())

        uniques = {v: canonical_status(v) for v in pd.unique(raw.dropna())}
        status = raw.map(uniques, na_action="ignore")
        unknown = (raw.notna() & status.isna()).to_numpy(dtype=bool)
        for pos in unknown.nonzero()[0].tolist():
            reasons[pos] = (
                f"Status ({mapping.columns['status']}) {raw.iat[pos]!r} tidak ada di tabel [status] "
                f"berkas pemetaan: tambahkan baris \"{raw.iat[pos]}\" = \"<status>\" di [status], "
                "lalu impor ulang berkas ini"
            )
        out["status_raw"] = raw
        # The precise reason is above; a placeholder keeps the generic check from adding a vaguer one.
        out["status"] = status.where(~unknown, "menunggu_verifikasi").astype(object)
    return out.reset_index(drop=True), reasons
