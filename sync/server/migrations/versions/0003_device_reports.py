"""What each phone reports when it syncs: ``devices.app_version``, ``schema_version``,
``pending``, ``reported_at``.

Every sync request may carry ``client`` (the app's version, the domain schema it was built with,
how many of its changes are still waiting to be sent); the server keeps the latest report per
device so ``devices`` (and the console) show who still runs an old build and who holds unsent
work. Only adds nullable columns: rows written at ``0002`` read back with no report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("app_version", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("schema_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pending", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reported_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("reported_at")
        batch.drop_column("pending")
        batch.drop_column("schema_version")
        batch.drop_column("app_version")
