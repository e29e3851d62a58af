"""Estimated stage times keep their lower bounds and precision; source-stated due instants

complaints: disposed_lower_at, first_response_lower_at, closed_lower_at (DATA.md, LAPOR! export),
response_due_at, completion_due_at (DATA.md canonical record), estimate_precision_days and the
per-stage "unknown for timing" flags (KPI.md "Times that are only estimates").
status_history: last_observed_at, so a history row is a run of observations of one status.

A store made before this revision has no record of the observations inside a run, so the lower
bound of an estimated time is taken as the start of the history row before the stage's row (or
submitted_at): never later than the true bound, so an estimate is never thought more precise
than it is. The flags and precision are then computed by the store on open (the settings
fingerprint changes with this revision).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LOWER = (("disposed_lower_at", "disposed_at"), ("first_response_lower_at", "first_response_at"),
         ("closed_lower_at", "closed_at"))


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): SQLite adds these in place, and recreating complaints
    # would fail against status_history's foreign key on a connection that enforces it.
    for name, _ in LOWER:
        op.add_column("complaints", sa.Column(name, sa.BigInteger(), nullable=True))
    op.add_column("complaints", sa.Column("response_due_at", sa.BigInteger(), nullable=True))
    op.add_column("complaints", sa.Column("completion_due_at", sa.BigInteger(), nullable=True))
    op.add_column("complaints", sa.Column(
        "estimate_precision_days", sa.SmallInteger(), nullable=False, server_default="0"))
    for name in ("disposed_time_unknown", "first_response_time_unknown", "closed_time_unknown"):
        op.add_column("complaints", sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("status_history", sa.Column("last_observed_at", sa.BigInteger(), nullable=True))
    for lower, stage in LOWER:
        op.execute(
            f"UPDATE complaints SET {lower} = COALESCE(("
            "SELECT MAX(h.observed_at) FROM status_history h "
            f"WHERE h.complaint_id = complaints.id AND h.observed_at < complaints.{stage}"
            f"), submitted_at) WHERE times_estimated AND {stage} IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.drop_column("last_observed_at")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        for name in ("closed_time_unknown", "first_response_time_unknown", "disposed_time_unknown",
                     "estimate_precision_days", "completion_due_at", "response_due_at"):
            batch_op.drop_column(name)
        for name, _ in reversed(LOWER):
            batch_op.drop_column(name)
