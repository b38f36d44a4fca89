"""causal history: a signed version vector on every record and tombstone (issue 10)

Each record carries the per-device edit counters of the version it is
(``vault.causal``), covered by its metadata signature, so a merge tells an
ancestor from a concurrent version without trusting timestamps, and a
passphrase-less purge copies it into the tombstone.  Rows written before this
revision carry an empty history and keep their old signatures.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("contacts", "tombstones"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("history", sa.LargeBinary(), nullable=False, server_default=sa.text("x''")))


def downgrade() -> None:
    for table in ("contacts", "tombstones"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("history")
