"""Baseline: the server's tables as they were when the schema came under Alembic.

A database created before Alembic (``init`` ran ``metadata.create_all``) has exactly these tables;
``upgrade`` recognises it (the ``meta`` table, no ``alembic_version``) and stamps it here.
Frozen: never edit this file — change the schema with a new revision (docs/upgrades.md).

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("label", sa.LargeBinary(), nullable=True),
        sa.Column("signing_public", sa.LargeBinary(), nullable=True),
        sa.Column("sealing_public", sa.LargeBinary(), nullable=True),
        sa.Column("enrolled_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("last_counter", sa.BigInteger(), nullable=False),
        sa.Column("last_sync_at", sa.BigInteger(), nullable=True),
        sa.Column("scope_sig", sa.String(length=64), nullable=True),
        sa.Column("system", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_index("ix_devices_member_id", "devices", ["member_id"], unique=False)
    op.create_table(
        "enroll_codes",
        sa.Column("code_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("device_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("code_id"),
    )
    op.create_table(
        "ops",
        sa.Column("op_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("device", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("op_id"),
    )
    op.create_index("ix_ops_entity", "ops", ["kind", "entity_id"], unique=False)
    op.create_table(
        "feed",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("op_id", ID, nullable=False),
        sa.Column("device", ID, nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "feed_scopes",
        sa.Column("scope_key", sa.String(length=220), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("scope_key", "seq"),
    )
    op.create_table(
        "records",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("parent_ref", ID, nullable=True),
        sa.Column("refs", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "entity_id"),
    )
    op.create_index("ix_records_parent_ref", "records", ["parent_ref"], unique=False)
    op.create_table(
        "batches",
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )


def downgrade() -> None:
    for table in ("batches", "records", "feed_scopes", "feed", "ops", "enroll_codes", "devices"):
        op.drop_table(table)
    op.drop_table("counters")
    op.drop_table("meta")
