"""What a team lead's phone is told about the team's phones with every sync: for each member of
the team, when their phone last synced, how many changes it still held then and its app build
(``TeamPhone``). Read from the ``devices`` rows the server keeps anyway — nothing is fed as ops,
so reporting costs no other phone a byte."""

from __future__ import annotations

from sqlalchemy import Connection, select

from sync.domain.vocab import is_lead
from sync.protocol import TeamPhone
from sync.server import db
from sync.server.authz import Actor


def team_phones(conn: Connection, actor: Actor) -> list[TeamPhone] | None:
    """The team's phones for a lead's device (``None`` for anyone else). A member with several
    phones shows the one that synced last; a member with none, nothing (the board says
    "never synced"). Retired and revoked phones do not count."""
    if not is_lead(actor.role) or actor.team_id is None:
        return None
    members = list(
        conn.execute(
            select(db.records.c.entity_id).where(
                db.records.c.kind == "member", db.records.c.parent_ref == actor.team_id
            )
        ).scalars()
    )
    if not members:
        return []
    d = db.devices
    rows = conn.execute(
        select(d.c.member_id, d.c.last_sync_at, d.c.pending, d.c.app_version).where(
            d.c.member_id.in_(members),
            d.c.system.is_(False),
            d.c.revoked_at.is_(None),
            d.c.retired_at.is_(None),
        )
    ).all()
    latest: dict[str, TeamPhone] = {}
    for r in rows:
        seen = latest.get(r.member_id)
        if seen is None or (r.last_sync_at or 0) > (seen.last_sync or 0):
            latest[r.member_id] = TeamPhone(r.member_id, r.last_sync_at, r.pending, r.app_version)
    return [latest[m] for m in sorted(latest)]
