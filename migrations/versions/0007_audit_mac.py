"""audit mac: every audit row carries a seal (the row before it and a MAC under the audit key)

Issue 12.7: a changed or deleted row of the accountability log is noticed when the
log is read (vault.audit).  Rows written before this revision have none; the first
unlock after the upgrade seals them (vault.audit.AuditLog.keep_key).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("mac", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("mac")
