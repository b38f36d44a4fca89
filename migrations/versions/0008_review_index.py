"""review index: the records whose consent review is due are found by an index

Issue 15: the purge preview asks for the records whose review date has passed on every
`p`; without an index SQLite read every record row (the sealed payloads with them), ~40 ms
at 100,000 contacts.  Most records have no review date; the index holds them all the same.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.create_index(batch.f("ix_contacts_review_at"), ["review_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index(batch.f("ix_contacts_review_at"))
