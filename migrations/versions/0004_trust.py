"""trust: tombstones carry the deleted row's signed metadata; a signed manifest of record versions (issue 10)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tombstones") as batch:
        batch.add_column(sa.Column("meta_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("meta_sig", sa.LargeBinary(64), nullable=True))
    with op.batch_alter_table("vault_meta") as batch:
        batch.add_column(sa.Column("head_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("head_sig", sa.LargeBinary(64), nullable=True))
        batch.add_column(sa.Column("manifest_digests", sa.LargeBinary(), nullable=True))
    # Starts empty: the first unlock after the upgrade fills it from the rows and signs it.
    op.create_table(
        "manifest",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manifest")),
    )
    op.create_index(op.f("ix_manifest_bucket"), "manifest", ["bucket"])


def downgrade() -> None:
    op.drop_index(op.f("ix_manifest_bucket"), table_name="manifest")
    op.drop_table("manifest")
    with op.batch_alter_table("vault_meta") as batch:
        batch.drop_column("manifest_digests")
        batch.drop_column("head_sig")
        batch.drop_column("head_epoch")
    with op.batch_alter_table("tombstones") as batch:
        batch.drop_column("meta_sig")
        batch.drop_column("meta_version")
