"""suppression: keyed digests of people who withdrew, objected or were erased (issue 11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppression",
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_suppression")),
    )


def downgrade() -> None:
    op.drop_table("suppression")
