"""The values a households import last gave each household and resident: ``import_values``.

A re-import of a committee's file sets only the fields whose value in the file changed since
that file was last imported into the community, so corrections volunteers made in the field are
not overwritten by a stale file. The values are sealed under the data key like every record
body. Only adds a table: nothing written at ``0004`` changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "import_values",
        sa.Column("community_id", sa.String(length=200), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "entity_id"),
    )


def downgrade() -> None:
    op.drop_table("import_values")
