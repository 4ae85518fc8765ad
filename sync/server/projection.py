"""The counting projection: one plaintext row per assignment that the live views count.

Records are sealed at rest (:mod:`.vault`), so SQL cannot count doors done in a building. This
module keeps ``assignment_facts``: per assignment its community, street, building, unit and
place, the household (the door), its round, type, status, door-outcome bucket
(:func:`sync.domain.vocab.door_outcome`), people sampled
(:func:`sync.domain.visits.people_sampled`), assignee, team, due and revisit-due times, and the
feed ``seq`` of its last change — ids, enums, counts and times only: no names, phones, addresses
or notes (those stay sealed and are opened only by the page that shows them).

It is written inside ``Ledger.commit``'s write transaction, for the records that commit changed
(:func:`refresh`, one call from ``Ledger._write_records``), so it is never behind the records.
Each row belongs to one assignment: there is no row every commit updates (no per-community or
global counter), so commits of different communities never contend on it. A household moved to
another place, or a place moved under another parent, re-places the rows beneath it.
:func:`backfill` builds the same rows from the stored records (migration ``0006``, and
``rebuild`` after a restore from a backup made before it); backfill and incremental upkeep give
the same rows.

Everything that reads or writes the table goes through this module (:func:`progress` and the
readers to come), so the shape of the feed and records can change under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from sync.domain.visits import people_sampled
from sync.domain.vocab import DOOR_OUTCOMES, door_outcome
from sync.server import db
from sync.server.scope import World, household_place, place_chain
from sync.server.state import PlaceCache, TxWorld, chunks, record_aad
from sync.server.vault import Vault

#: the place columns, by the place level they hold
LEVEL_COLUMNS: Mapping[str, str] = {
    "community": "community_id",
    "street": "street_id",
    "building": "building_id",
    "unit": "unit_id",
}
PLACE_COLUMNS = (*LEVEL_COLUMNS.values(), "place_id")
#: meta key set when the projection must be rebuilt from the records (no data key at migration)
STALE = "projection_stale"


def where(world: World, place_id: str | None) -> dict[str, str | None]:
    """The place columns of something at ``place_id``: its community, street, building and unit
    (the ancestors of those levels, itself included), and the place itself."""
    out: dict[str, str | None] = dict.fromkeys(PLACE_COLUMNS)
    out["place_id"] = place_id
    for place in place_chain(world, place_id):
        refs = world.refs("place", place) or {}
        column = LEVEL_COLUMNS.get(str(refs.get("level")))
        if column is not None and out[column] is None:
            out[column] = place
    return out


def fact(world: World, assignment_id: str, record: Mapping[str, Any], seq: int) -> dict[str, Any]:
    """The projection row of one assignment record."""
    target = record.get("target_id")
    if record.get("target_kind") == "place":
        household, place = None, target if isinstance(target, str) else None
    else:
        household = target if isinstance(target, str) else None
        place = household_place(world, household)
    status = str(record.get("status") or "pending")
    revisit_due = record.get("revisit_due")

    def text(name: str) -> str | None:
        value = record.get(name)
        return value if isinstance(value, str) else None

    return {
        "assignment_id": assignment_id,
        **where(world, place),
        "household_id": household,
        "round_id": text("round_id"),
        "type": str(record.get("type") or "other"),
        "status": status,
        "outcome": door_outcome(status),
        "revisit_due": revisit_due if isinstance(revisit_due, str) else None,
        "people_sampled": people_sampled(record),
        "assignee_id": text("assignee_id"),
        "team_id": text("team_id"),
        "due": text("due"),
        "updated_seq": seq,
    }


def refresh(conn: Connection, world: TxWorld, seq: int) -> None:
    """Bring the rows of what this commit changed up to date (inside its write transaction):
    the assignments it changed, and the rows beneath a household or place it moved."""
    rows: list[dict[str, Any]] = []
    homes: list[str] = []
    places: list[str] = []
    start = world.at_start()
    moves = {"household": ("place_id", homes), "place": ("parent_id", places)}
    for (kind, entity_id), record in world.changed().items():
        if kind == "assignment":
            rows.append(fact(world, entity_id, record, seq))
        elif kind in moves and world.existed(kind, entity_id):
            name, moved = moves[kind]
            if (start.refs(kind, entity_id) or {}).get(name) != record.get(name):
                moved.append(entity_id)
    db.upsert_rows(conn, db.assignment_facts, rows, "assignment_id")
    if homes or places:
        done = {row["assignment_id"] for row in rows}
        _replace(conn, world, homes, places, done)


def _replace(
    conn: Connection, world: World, homes: list[str], places: list[str], done: set[str]
) -> None:
    """Re-place the rows of assignments at moved households and beneath moved places."""
    t = db.assignment_facts
    found: dict[str, tuple[str | None, str | None]] = {}
    for part in chunks(sorted(homes)):
        for r in conn.execute(
            select(t.c.assignment_id, t.c.household_id, t.c.place_id).where(
                db.in_list(conn, t.c.household_id, part)
            )
        ):
            found[r.assignment_id] = (r.household_id, r.place_id)
    for column in PLACE_COLUMNS:
        for part in chunks(sorted(places)):
            for r in conn.execute(
                select(t.c.assignment_id, t.c.household_id, t.c.place_id).where(
                    db.in_list(conn, t.c[column], part)
                )
            ):
                found[r.assignment_id] = (r.household_id, r.place_id)
    for assignment_id, (household, place) in sorted(found.items()):
        if assignment_id in done:
            continue
        at = household_place(world, household) if household else place
        conn.execute(update(t).where(t.c.assignment_id == assignment_id).values(**where(world, at)))


class _Stored:
    """A :class:`World` over the stored refs (for :func:`backfill`)."""

    def __init__(self, places: Mapping[str, Mapping[str, Any]]) -> None:
        self.places = places
        self.homes: dict[str, Mapping[str, Any]] = {}

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        return self.places.get(entity_id) if kind == "place" else self.homes.get(entity_id)


def backfill(conn: Connection, vault: Vault) -> int:
    """Rebuild every row from the stored records (inside a write transaction); how many."""
    t = db.records
    world = _Stored(PlaceCache().get(conn, -2))
    homes = conn.execute(select(t.c.entity_id, t.c.refs).where(t.c.kind == "household"))
    world.homes.update((entity_id, json.loads(refs)) for entity_id, refs in homes)
    conn.execute(delete(db.assignment_facts))
    done = 0
    ids = list(conn.execute(select(t.c.entity_id).where(t.c.kind == "assignment")).scalars())
    for part in chunks(sorted(ids)):
        rows = []
        found = conn.execute(
            select(t.c.entity_id, t.c.body, t.c.seq).where(
                t.c.kind == "assignment", db.in_list(conn, t.c.entity_id, part)
            )
        )
        for entity_id, body, seq in found:
            record = vault.open(body, record_aad("assignment", entity_id))
            rows.append(fact(world, entity_id, record, int(seq)))
        db.insert_rows(conn, db.assignment_facts, rows)
        done += len(rows)
    conn.execute(delete(db.meta).where(db.meta.c.key == STALE))
    return done


def rebuild_if_stale(database: db.Database, vault: Vault) -> bool:
    """Backfill if a migration could not (it had no data key); whether it did."""
    with database.read() as conn:
        if db.get_meta(conn, STALE) is None:
            return False
    with database.write() as conn:
        if db.get_meta(conn, STALE) is None:
            return False
        backfill(conn, vault)
    return True


# -- readers ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Progress:
    """How far the work of a round (or any set of assignments) has got."""

    total: int
    #: door-outcome bucket -> assignments in it (cancelled work counts nowhere)
    outcomes: Mapping[str, int]
    cancelled: int
    people_sampled: int

    @property
    def done(self) -> int:
        return self.outcomes.get("done", 0)

    @property
    def open(self) -> int:
        """Assignments still to be done (not done, not cancelled)."""
        return self.total - self.cancelled - self.done


def progress(conn: Connection, round_ids: Sequence[str]) -> dict[str, Progress]:
    """The progress of each round, from the projection (one grouped query)."""
    t = db.assignment_facts
    counts: dict[str, dict[str, int]] = {r: {} for r in round_ids}
    sampled: dict[str, int] = dict.fromkeys(round_ids, 0)
    for part in chunks(sorted(set(round_ids))):
        rows = conn.execute(
            select(t.c.round_id, t.c.status, func.count(), func.sum(t.c.people_sampled))
            .where(db.in_list(conn, t.c.round_id, part))
            .group_by(t.c.round_id, t.c.status)
        )
        for round_id, status, n, people in rows:
            counts[round_id][status] = counts[round_id].get(status, 0) + int(n)
            sampled[round_id] += int(people or 0)
    return {r: _progress(counts[r], sampled[r]) for r in round_ids}


def _progress(by_status: Mapping[str, int], sampled: int) -> Progress:
    outcomes = dict.fromkeys(DOOR_OUTCOMES, 0)
    cancelled = 0
    for status, n in by_status.items():
        bucket = door_outcome(status)
        if bucket is None:
            cancelled += n
        else:
            outcomes[bucket] += n
    return Progress(sum(by_status.values()), outcomes, cancelled, sampled)


def round_assignments(conn: Connection, round_id: str) -> list[tuple[str, str, str | None]]:
    """``(assignment id, status, household id)`` of every assignment of a round."""
    t = db.assignment_facts
    rows = conn.execute(
        select(t.c.assignment_id, t.c.status, t.c.household_id)
        .where(t.c.round_id == round_id)
        .order_by(t.c.assignment_id)
    )
    return [(r.assignment_id, r.status, r.household_id) for r in rows]


def rows(conn: Connection, assignment_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The stored rows (all, or of these assignments), by assignment id: for tests and tools."""
    t = db.assignment_facts
    query = select(t).order_by(t.c.assignment_id)
    if assignment_ids is not None:
        query = query.where(t.c.assignment_id.in_(list(assignment_ids)))
    return [dict(r._mapping) for r in conn.execute(query)]
