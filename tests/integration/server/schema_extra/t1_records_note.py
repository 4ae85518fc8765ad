"""Test only: an optional ``note`` column on ``records``, one revision past this code's head.

Loaded by Alembic from this directory (``extra`` in sync/server/schema.py) by the schema tests,
never by the server: it stands for the next real schema change.

Revision ID: t1_records_note
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sync.server import schema

revision: str = "t1_records_note"
down_revision: str | None = schema.heads()[0]  # on top of whatever this code's head is
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("note")
