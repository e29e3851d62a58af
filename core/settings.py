"""Every setting of the dashboard, with its default and its KPI.md meaning, read in one place.

Settings come from `.streamlit/secrets.toml` (Streamlit's convention; the database under
`[connections.complaints]`), can be overridden by environment variables, and by command-line
flags through `load_settings(overrides=...)`. With nothing configured, everything uses an
embedded SQLite file under `data/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "complaints.db"

CLASSIFICATIONS = ("pengaduan", "aspirasi", "permintaan_informasi", "pengawasan")
STATUSES = ("menunggu_verifikasi", "menunggu_tindak_lanjut", "proses", "selesai", "arsip")
CHANNELS = (
    "website", "android", "ios", "sms", "whatsapp", "twitter", "facebook",
    "instagram", "email", "telepon", "tatap_muka", "lainnya",
)


@dataclass(frozen=True)
class KpiSettings:
    """The knobs of KPI.md. Defaults are the regulation's values (PermenPANRB 62/2018)."""

    timezone: str = "Asia/Makassar"  # local zone for dates, days and working days (WITA)
    extra_non_working_dates: tuple[date, ...] = ()  # regional holidays on top of `holidays` ID
    verification_days: int = 3  # admin verification/disposition deadline, working days
    response_days: int = 5  # OPD first follow-up deadline, working days
    # completion deadline by classification, working days; missing classification = pengaduan
    completion_days: tuple[tuple[str, int], ...] = (
        ("pengaduan", 14), ("aspirasi", 5), ("permintaan_informasi", 5), ("pengawasan", 60),
    )
    min_volume: int = 5  # an OPD is ranked only with at least this many received
    weight_kecepatan: float = 0.4
    weight_ketepatan: float = 0.3
    weight_tuntas: float = 0.3
    grade_baik: float = 85.0  # score >= this: baik
    grade_cukup: float = 70.0  # score >= this: cukup, else perlu_perhatian
    accepted_min_rating: int = 3  # a rating below this makes a completion not accepted
    due_soon_days: int = 1  # backlog `due_soon`: next deadline by the end of this many working days
    # completion deadline by category, working days; wins over the classification's N
    completion_days_by_category: tuple[tuple[str, int], ...] = ()
    # an estimated stage time less precise than this (working days) is unknown for timing
    max_estimate_working_days: int = 1

    def completion_days_for(self, classification: str | None, category: str | None = None) -> int:
        """N of `completion_deadline`: the category's own N if set, else the classification's."""
        if category is not None:
            by_category = dict(self.completion_days_by_category)
            if category in by_category:
                return by_category[category]
        table = dict(self.completion_days)
        return table.get(classification or "pengaduan", table["pengaduan"])

    def calendar_fingerprint(self) -> str:
        """A digest of everything stored derived columns depend on (deadlines, which estimated
        times are unknown for timing); a change triggers recomputation."""
        payload = {
            "timezone": self.timezone,
            "extra": [d.isoformat() for d in self.extra_non_working_dates],
            "verification_days": self.verification_days,
            "response_days": self.response_days,
            "completion_days": list(self.completion_days),
            "completion_days_by_category": sorted(self.completion_days_by_category),
            "max_estimate_working_days": self.max_estimate_working_days,
            "derive_version": 2,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def as_table(self) -> list[tuple[str, str]]:
        """The settings as (name, value) rows, for the report workbook and the briefing."""
        rows = []
        for key, value in asdict(self).items():
            # "—" for an empty list: a leading "-" would be neutralised as a formula in Excel.
            if key in ("completion_days", "completion_days_by_category"):
                value = ", ".join(f"{k}={v}" for k, v in value) or "—"
            elif key == "extra_non_working_dates":
                value = ", ".join(d.isoformat() for d in value) or "—"
            rows.append((key, str(value)))
        return rows


@dataclass(frozen=True)
class EmailChannelSettings:
    """`[notify.email]`: the SMTP server the morning messages go out through."""

    host: str = ""  # empty: no e-mail is sent
    port: int = 587
    starttls: bool = True
    username: str = ""  # empty: no login
    password: str = field(default="", repr=False)
    sender: str = ""
    timeout_seconds: float = 20.0  # connect and every reply of the server

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class WebhookChannelSettings:
    """`[notify.webhook]`: a WhatsApp gateway (or any HTTP endpoint) taking a JSON POST."""

    url: str = ""  # empty: no WhatsApp message is sent
    token: str = field(default="", repr=False)
    token_header: str = "Authorization"
    token_prefix: str = "Bearer "
    to_field: str = "to"  # JSON body: {to_field: recipient, text_field: message}
    text_field: str = "text"
    timeout_seconds: float = 20.0  # connect and read timeout of every call

    @property
    def configured(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class NotifyLeader:
    """One `[[notify.leaders]]` entry: a leader who gets the region's morning message."""

    name: str
    email: str = ""
    whatsapp: str = ""  # sent through the webhook


@dataclass(frozen=True)
class NotifySettings:
    """`[notify]`: the morning messages of `python -m metrics notify` (DATA.md "Morning messages")."""

    dashboard_url: str = ""  # the link in every message; empty: no link
    send_on_holidays: bool = False  # on a non-working day (core/calendar.py) nothing is sent
    top_opds: int = 5  # the leader's message names this many OPDs with the most overdue
    max_listed: int = 30  # an OPD's message lists at most this many complaints per list
    max_retries: int = 2  # retries of one send after a timeout or a 5xx, within one run
    backoff_seconds: float = 2.0  # first wait before a retry; doubles on each
    max_backoff_seconds: float = 30.0
    stale_claim_minutes: float = 30.0  # a message left "sending" by a killed run is retried after this
    email: EmailChannelSettings = field(default_factory=EmailChannelSettings)
    webhook: WebhookChannelSettings = field(default_factory=WebhookChannelSettings)
    leaders: tuple[NotifyLeader, ...] = ()


def _cast(table: str, key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"[{table}] {key} must be true or false, not {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        names = {int: "a whole number", float: "a number", str: "text"}
        raise ValueError(f"[{table}] {key} must be {names.get(kind, kind.__name__)}, not {value!r}") from None


def notify_settings(raw: dict[str, Any]) -> NotifySettings:
    """The `[notify]` table of secrets.toml as NotifySettings (unknown keys ignored; a value of
    the wrong type raises ValueError naming the key)."""

    def fields_of(cls: type, table: Any, name: str) -> dict[str, Any]:
        table = table if isinstance(table, dict) else {}
        defaults = cls()
        return {
            key: _cast(name, key, table[key], type(getattr(defaults, key)))
            for key in cls.__dataclass_fields__
            if key in table and not isinstance(getattr(defaults, key), tuple | EmailChannelSettings
                                               | WebhookChannelSettings)
        }

    kwargs = fields_of(NotifySettings, raw, "notify")
    kwargs["email"] = EmailChannelSettings(**fields_of(EmailChannelSettings, raw.get("email"), "notify.email"))
    kwargs["webhook"] = WebhookChannelSettings(
        **fields_of(WebhookChannelSettings, raw.get("webhook"), "notify.webhook")
    )
    leaders = raw.get("leaders", [])
    kwargs["leaders"] = tuple(
        NotifyLeader(name=str(entry.get("name", "") or "Pimpinan"), email=str(entry.get("email", "") or ""),
                     whatsapp=str(entry.get("whatsapp", "") or ""))
        for entry in (leaders if isinstance(leaders, list) else []) if isinstance(entry, dict)
    )
    return NotifySettings(**kwargs)


@dataclass(frozen=True)
class Settings:
    db_url: str = ""
    region_code: str = "63.07"  # kode wilayah (Kemendagri) of the default region
    region_name: str = "Kabupaten Hulu Sungai Tengah"
    kpi: KpiSettings = field(default_factory=KpiSettings)
    freshness_warning_hours: float = 24.0  # "Data per" turns into a warning past this age
    # A complaint's page in LAPOR! (its public report address); "" shows no link.
    complaint_url_template: str = "https://www.lapor.go.id/laporan/detil/{tracking_id}"
    # The address users open the dashboard at, put into the WhatsApp summary; "" falls back to
    # [notify] dashboard_url, and with both empty the summary carries no link.
    dashboard_url: str = ""

    @property
    def public_url(self) -> str:
        return (self.dashboard_url or self.notify.dashboard_url or "").strip()
    idle_timeout_hours: float = 8.0
    lockout_attempts: int = 5
    lockout_minutes: int = 15  # the longest a client address that keeps guessing is made to wait
    trusted_proxy_header: str = ""  # e.g. "X-Forwarded-For" behind nginx: the client address of a sign-in
    max_upload_mb: int = 50  # files uploaded through the app's data page
    max_import_mb: int = 2048  # files imported on the server with `python -m data_sources import`
    cache_ttl_seconds: int = 300
    # PostgreSQL session limits ([connections.complaints]): a lock waited for longer fails with
    # "Basis data sedang dikunci ..."; a session idle inside a transaction longer is ended.
    db_lock_timeout_seconds: float = 30.0
    db_idle_in_transaction_timeout_seconds: float = 60.0
    auth_email_roles: tuple[tuple[str, str, str], ...] = ()  # (email, role, opd) for SSO
    sources: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # [sources.NAME] tables
    notify: NotifySettings = field(default_factory=NotifySettings)  # [notify]: morning messages

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def source_config(self, name: str) -> dict[str, Any]:
        for source_name, items in self.sources:
            if source_name == name:
                return _thaw(items)
        raise KeyError(name)

    def source_names(self) -> list[str]:
        return [name for name, _ in self.sources]


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("__list__", tuple(_freeze(v) for v in value))
    return value


def _thaw(items: Any) -> Any:
    if isinstance(items, tuple) and len(items) == 2 and items[0] == "__list__":
        return [_thaw(v) for v in items[1]]
    if isinstance(items, tuple) and all(isinstance(i, tuple) and len(i) == 2 for i in items):
        return {k: _thaw(v) for k, v in items}
    return items


def normalise_db_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def default_db_url() -> str:
    return f"sqlite:///{DEFAULT_DB_PATH}"


def read_secrets(path: Path | None = None) -> dict[str, Any]:
    path = Path(os.environ.get("DASHBOARD_SECRETS", "") or path or DEFAULT_SECRETS_PATH)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_settings(secrets_path: Path | None = None, db_url: str | None = None) -> Settings:
    """Build the settings: defaults < secrets.toml < environment < explicit arguments (flags)."""
    secrets = read_secrets(secrets_path)
    kpi_raw = dict(secrets.get("kpi", {}))
    kpi_kwargs: dict[str, Any] = {}
    for name in (
        "timezone", "verification_days", "response_days", "min_volume", "grade_baik",
        "grade_cukup", "accepted_min_rating", "due_soon_days", "max_estimate_working_days",
    ):
        if name in kpi_raw:
            kpi_kwargs[name] = kpi_raw[name]
    if "extra_non_working_dates" in kpi_raw:
        kpi_kwargs["extra_non_working_dates"] = tuple(
            d if isinstance(d, date) else date.fromisoformat(str(d))
            for d in kpi_raw["extra_non_working_dates"]
        )
    if "completion_days" in kpi_raw:
        merged = dict(KpiSettings().completion_days) | {
            k: int(v) for k, v in kpi_raw["completion_days"].items()
        }
        kpi_kwargs["completion_days"] = tuple(merged.items())
    if "completion_days_by_category" in kpi_raw:
        kpi_kwargs["completion_days_by_category"] = tuple(
            (str(k), int(v)) for k, v in kpi_raw["completion_days_by_category"].items()
        )
    weights = kpi_raw.get("weights", {})
    for key in ("kecepatan", "ketepatan", "tuntas"):
        if key in weights:
            kpi_kwargs[f"weight_{key}"] = float(weights[key])
    if os.environ.get("DASHBOARD_TIMEZONE"):
        kpi_kwargs["timezone"] = os.environ["DASHBOARD_TIMEZONE"]
    kpi = KpiSettings(**kpi_kwargs)

    app = secrets.get("app", {})
    region = secrets.get("region", {})
    conn = secrets.get("connections", {}).get("complaints", {})
    url = db_url or os.environ.get("COMPLAINTS_DB_URL") or conn.get("url") or default_db_url()
    auth_roles = tuple(
        (str(r.get("email", "")).lower(), str(r.get("role", "")), str(r.get("opd", "")))
        for r in secrets.get("auth_roles", [])
    )
    kwargs: dict[str, Any] = {}
    for name in (
        "freshness_warning_hours", "complaint_url_template", "dashboard_url",
        "idle_timeout_hours", "lockout_attempts", "lockout_minutes", "max_upload_mb", "max_import_mb",
        "cache_ttl_seconds", "trusted_proxy_header",
    ):
        if name in app:
            kwargs[name] = app[name]
    for name in ("lock_timeout_seconds", "idle_in_transaction_timeout_seconds"):
        if name in conn:
            kwargs[f"db_{name}"] = float(conn[name])
    return Settings(
        db_url=normalise_db_url(url),
        region_code=str(region.get("code", Settings.region_code)),
        region_name=str(region.get("name", Settings.region_name)),
        kpi=kpi,
        auth_email_roles=auth_roles,
        sources=tuple((name, _freeze(cfg)) for name, cfg in secrets.get("sources", {}).items()),
        notify=notify_settings(secrets.get("notify", {})),
        **kwargs,
    )


def with_kpi(settings: Settings, **changes: Any) -> Settings:
    """A copy of the settings with some KPI knobs changed (tests, what-if views)."""
    return replace(settings, kpi=replace(settings.kpi, **changes))
