"""The complaint store's tables (SQLAlchemy Core), the single description Alembic migrates to.

Instants are stored as integer microseconds since the Unix epoch, UTC (the `Instant` type):
comparisons and durations are plain integer arithmetic, identical on SQLite and PostgreSQL and
fast enough to aggregate a million complaints in the database. On the Python side an `Instant`
is always a timezone-aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; convert to UTC first")
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


class Instant(TypeDecorator):
    """A timezone-aware UTC instant stored as BIGINT microseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None or isinstance(value, int):
            return value
        return to_micros(value)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return None if value is None else from_micros(value)


regions = Table(
    "regions",
    metadata,
    Column("code", String(16), primary_key=True),  # kode wilayah, e.g. 63.07
    Column("name", String(200), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),  # canonical, lapor-export, mapped, lapor-api, open311, demo
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("watermark", String(64)),  # incremental sync position (ISO instant)
    Column("last_success_at", Instant),  # end of the last successful import or sync
    Column("created_at", Instant, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # import, sync, demo
    Column("status", String(20), nullable=False),  # running, ok, failed
    Column("started_at", Instant, nullable=False),
    Column("finished_at", Instant),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_stored", Integer, nullable=False, default=0),
    Column("rows_quarantined", Integer, nullable=False, default=0),
    Column("snapshot_at", Instant),  # the observation time an export stands for
    Column("detail", Text),  # file name, pages fetched, where the snapshot time came from
    Column("error", Text),
    Column("host", String(255)),  # the machine and process that ran it, so that a run whose
    Column("pid", Integer),  # process was killed can be marked failed by the next one
)

complaints = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("tracking_id", String(64), nullable=False),
    Column("region_code", String(16), nullable=False),
    Column("submitted_at", Instant, nullable=False),
    Column("submitted_date", Date, nullable=False),  # local date of submitted_at (derived)
    Column("channel", String(20)),
    Column("channel_raw", String(200)),
    Column("classification", String(30)),
    Column("category", String(200)),
    Column("opd", String(200)),  # canonical OPD name after aliases
    Column("opd_raw", String(200)),  # as the source spelled it
    Column("kecamatan", String(100)),
    Column("kelurahan", String(100)),
    Column("status", String(30), nullable=False),
    Column("status_raw", String(300)),
    Column("verified_at", Instant),
    Column("disposed_at", Instant),
    Column("first_response_at", Instant),
    Column("closed_at", Instant),
    Column("times_estimated", Boolean, nullable=False, default=False),
    Column("estimate_precision_hours", Float),  # gap between the snapshots an estimate sits in
    # Lower bounds of estimated stage times (DATA.md, LAPOR! export): the stage happened after
    # this and at or before the stored time. NULL for an exact time.
    Column("disposed_lower_at", Instant),
    Column("first_response_lower_at", Instant),
    Column("closed_lower_at", Instant),
    # A deadline the source itself states (DATA.md); wins over the computed one (KPI.md).
    Column("response_due_at", Instant),
    Column("completion_due_at", Instant),
    Column("redisposition_count", Integer, nullable=False, default=0),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("rating", SmallInteger),
    Column("is_anonymous", Boolean, nullable=False, default=False),
    Column("is_confidential", Boolean, nullable=False, default=False),
    Column("reporter_name", Text),  # never leaves the database (DATA.md "What may be shown")
    Column("title", Text),
    Column("body", Text),
    Column("expected_at", Instant),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("address", Text),
    # Derived at write time (KPI.md), recomputed when the calendar or deadlines change:
    Column("response_at", Instant),  # first_response_at, else closed_at
    Column("verification_deadline", Instant),  # deadline(submitted_at, verification_days)
    Column("response_deadline", Instant),  # deadline(disposed_at, response_days)
    Column("completion_deadline", Instant),  # completion_due_at, else deadline(disposed_at, N)
    # working_days_between(lower, stored time), the largest over the estimated stages; 0 exact
    Column("estimate_precision_days", SmallInteger, nullable=False, default=0),
    # KPI.md "Times that are only estimates": precision > max_estimate_working_days
    Column("disposed_time_unknown", Boolean, nullable=False, default=False),
    Column("first_response_time_unknown", Boolean, nullable=False, default=False),
    Column("closed_time_unknown", Boolean, nullable=False, default=False),
    Column("first_seen_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    # The write that last changed the row (meta change_seq), read by metrics/columnar.py
    Column("change_seq", BigInteger, nullable=False, default=0, server_default="0"),
    UniqueConstraint("source_id", "tracking_id"),
    Index("ix_complaints_submitted_date_opd", "submitted_date", "opd"),
    Index("ix_complaints_opd_submitted_date", "opd", "submitted_date"),
    Index("ix_complaints_region_submitted_date", "region_code", "submitted_date"),
    Index("ix_complaints_status", "status"),
    Index("ix_complaints_change_seq", "change_seq"),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=False, index=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("status", String(30), nullable=False),
    Column("status_raw", String(300)),
    # A row is a run of observations showing the same status, from observed_at to
    # last_observed_at (NULL: observed once), kept in observation order whatever the import order.
    Column("observed_at", Instant, nullable=False),
    Column("last_observed_at", Instant),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False, index=True),
    Column("run_id", Integer, ForeignKey("runs.id"), index=True),
    Column("record_no", Integer),  # line number in the file, or record number in a sync
    Column("tracking_id", String(200)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),  # the raw row as JSON
    Column("created_at", Instant, nullable=False),
)

opds = Table(
    "opds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("short_name", String(60)),
    Column("region_code", String(16)),
)

opd_aliases = Table(
    "opd_aliases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alias_key", String(200), nullable=False, unique=True),  # normalised spelling
    Column("alias", String(200), nullable=False),
    Column("opd_id", Integer, ForeignKey("opds.id"), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("email", String(200)),
    Column("role", String(20), nullable=False),  # pimpinan, analis, opd
    Column("opd", String(200)),  # the OPD an `opd` user belongs to
    Column("regions", String(200)),  # comma-separated region codes the user is limited to; empty = all
    Column("password_hash", String(300)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", Instant),
    Column("created_at", Instant, nullable=False),
    Column("last_login_at", Instant),
)

sessions = Table(
    "sessions",  # signed-in browser sessions ("stay signed in"); only the token's hash is kept
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the cookie's token
    Column("username", String(100), nullable=False, index=True),
    Column("source", String(20), nullable=False),  # local
    Column("created_at", Instant, nullable=False),
    Column("last_seen_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),  # last_seen_at + idle timeout
    Column("revoked_at", Instant),  # sign-out, disable, password change
)

signin_attempts = Table(
    "signin_attempts",  # one row per sign-in attempt: the throttle counts these (never read-then-write)
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Instant, nullable=False),
    Column("username", String(100), nullable=False),  # as typed (unknown names too), trimmed
    Column("client", String(100), nullable=False),  # the client address, or "lokal"
    Column("outcome", String(20), nullable=False),  # ok, wrong, throttled, reset
    Index("ix_signin_attempts_username", "username", "at"),
    Index("ix_signin_attempts_client", "client", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Instant, nullable=False, index=True),
    Column("username", String(100)),
    Column("action", String(50), nullable=False),  # signin, signin_failed, export, import, ...
    Column("detail", Text),
    Column("ok", Boolean, nullable=False, default=True),
)

# --- morning messages (migration 0005) ---------------------------------------------------------
opd_contacts = Table(
    "opd_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("opd", String(200), nullable=False, unique=True),  # canonical OPD name
    Column("name", String(200)),  # the person to call: the OPD's head or LAPOR! liaison officer
    Column("role", String(200)),
    Column("whatsapp", String(20)),  # digits only, 62...
    Column("email", String(254)),
    Column("updated_at", Instant, nullable=False),
    Column("updated_by", String(100)),
)

notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Date, nullable=False),  # the local day the message belongs to
    Column("channel", String(20), nullable=False),  # email, webhook
    Column("recipient", String(254), nullable=False),  # an address or a 62... number
    # Which message: "leader", or the OPD a contact hears about (one person may serve two OPDs).
    Column("topic", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # leader, opd
    Column("recipient_name", String(200)),
    Column("status", String(10), nullable=False),  # pending, sending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("content_hash", String(64), nullable=False),  # sha256 of the text last composed
    Column("claim_token", String(40)),  # the run that holds the row while sending
    Column("created_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    Column("claimed_at", Instant),
    Column("sent_at", Instant),
    UniqueConstraint("recipient", "channel", "day", "topic"),
    Index("ix_notify_outbox_day_status", "day", "status"),
)
