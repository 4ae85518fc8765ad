"""Review queue and retired phones: the ``review`` table, ``devices.retired_at``.

- ``review`` keeps every op from a phone that the server refused for good (role, scope,
  validation, authorship, or sent by a revoked phone), its body sealed under the data key, until
  an operator applies or dismisses it (``python -m sync.server review``). ``id`` is given by the
  server (one more than the largest, inside the serialized write transaction); one row per
  ``(device, op_id)``.
- ``devices.retired_at``: a phone handed back. Its next sync is processed as usual and the answer
  tells it to wipe once nothing is left to send (``revoked_at`` stays for lost or stolen phones).

Both only add: rows written at ``0001`` are untouched (``retired_at`` is NULL: every existing
phone stays active or revoked as it was). Frozen once released: change the schema with a new
revision (docs/upgrades.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("op_id", ID, nullable=False),
        sa.Column("device", ID, nullable=False),
        sa.Column("member", ID, nullable=False),
        sa.Column("kind", ID, nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("applied_op", ID, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_state", "review", ["state", "id"], unique=False)
    op.create_index("ux_review_device_op", "review", ["device", "op_id"], unique=True)
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("retired_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("retired_at")
    op.drop_index("ux_review_device_op", table_name="review")
    op.drop_index("ix_review_state", table_name="review")
    op.drop_table("review")
