"""index_cache: sealed buckets of the list/search index (issue 3, fast unlock)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Starts empty: the first unlock after the upgrade opens every record and fills it.
    op.create_table(
        "index_cache",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_index_cache")),
    )


def downgrade() -> None:
    op.drop_table("index_cache")
