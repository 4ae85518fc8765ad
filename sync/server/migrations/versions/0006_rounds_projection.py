"""Rounds and the counting projection: ``assignment_facts``, ``rounds``, ``round_runs``.

- ``assignment_facts`` — one plaintext row per assignment (place ids, round, type, status,
  door outcome, people sampled, assignee, team, due; no names, phones or notes) that the live
  views count, since the records are sealed (:mod:`sync.server.projection`). Backfilled here
  from the stored records when the upgrade is given the data key (``python -m sync.server
  upgrade`` is); otherwise (an engineer's ``alembic`` command line) it is marked stale and the
  server rebuilds it when it next opens the database.
- ``rounds`` — each round's definition (sealed) with its community, type, state and schedule;
  ``round_runs`` — one row per generation of a recurring round and slot (the primary key keeps
  two server processes from generating it twice).

Only adds tables: rows written at ``0005`` are untouched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "assignment_facts",
        sa.Column("assignment_id", ID, nullable=False),
        sa.Column("community_id", ID),
        sa.Column("street_id", ID),
        sa.Column("building_id", ID),
        sa.Column("unit_id", ID),
        sa.Column("place_id", ID),
        sa.Column("household_id", ID),
        sa.Column("round_id", ID),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20)),
        sa.Column("revisit_due", sa.String(length=40)),
        sa.Column("people_sampled", sa.BigInteger(), nullable=False),
        sa.Column("assignee_id", ID),
        sa.Column("team_id", ID),
        sa.Column("due", sa.String(length=40)),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id"),
    )
    op.create_index("ix_facts_community_round", "assignment_facts", ["community_id", "round_id"])
    op.create_index("ix_facts_round", "assignment_facts", ["round_id"])
    op.create_index("ix_facts_building", "assignment_facts", ["building_id"])
    op.create_index("ix_facts_household", "assignment_facts", ["household_id"])
    op.create_table(
        "rounds",
        sa.Column("round_id", ID, nullable=False),
        sa.Column("community_id", ID),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("schedule", sa.String(length=200)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("round_id"),
    )
    op.create_table(
        "round_runs",
        sa.Column("round_id", ID, nullable=False),
        sa.Column("slot", sa.String(length=20), nullable=False),
        sa.Column("generated_round", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "slot"),
    )
    _backfill()


def _backfill() -> None:
    """The projection of the records already stored (by the server's projection code)."""
    from sync.server import db, projection  # the server's own code, as at this revision

    conn = op.get_bind()
    has = conn.execute(sa.text("SELECT 1 FROM records WHERE kind = 'assignment' LIMIT 1")).first()
    if has is None:
        return
    vault = context.config.attributes.get("vault")
    if vault is None:
        db.set_meta(conn, projection.STALE, "1")
    else:
        projection.backfill(conn, vault)


def downgrade() -> None:
    op.drop_table("round_runs")
    op.drop_table("rounds")
    op.drop_index("ix_facts_household", table_name="assignment_facts")
    op.drop_index("ix_facts_building", table_name="assignment_facts")
    op.drop_index("ix_facts_round", table_name="assignment_facts")
    op.drop_index("ix_facts_community_round", table_name="assignment_facts")
    op.drop_table("assignment_facts")
