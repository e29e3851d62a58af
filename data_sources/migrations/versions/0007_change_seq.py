"""complaints.change_seq: the write that last changed a complaint, for the columnar copy

Store.write_complaints (and an alias change re-pointing complaints) sets change_seq to the next
value of meta `change_seq`, one per batch, so metrics/columnar.py brings its copy up to date by
reading only the complaints changed since the copy was made (WHERE change_seq > n, by its index)
instead of every row. Rows stored before this revision have 0.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (as 0004): SQLite adds it in place.
    op.add_column("complaints", sa.Column(
        "change_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index("ix_complaints_change_seq", "complaints", ["change_seq"])


def downgrade() -> None:
    op.drop_index("ix_complaints_change_seq", table_name="complaints")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("change_seq")
