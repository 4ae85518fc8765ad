"""Places a coordinator adds by hand: a district, its streets, their communities (and, when
needed, a building or unit), so an operation can start from an empty server.

Levels nest as :data:`sync.domain.enums.PLACE_LEVELS` lists them (district > street >
community > building > unit): a district has no parent, every other level's parent is the level
above it. Two places of one parent may not share a name (``place.exists`` gives the id of the
one there). Written as an op of the ``system`` device, so phones receive it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sync.domain.enums import PLACE_LEVELS
from sync.errors import ValidationError
from sync.server import db
from sync.server.admin import Author, write
from sync.server.runtime import Runtime
from sync.server.state import record_aad


def _norm(text: object) -> str:
    return "".join(str(text or "").split())


def add_place(rt: Runtime, *, level: str, name: str, parent_id: str | None) -> str:
    """The new place's id."""
    depth = PLACE_LEVELS.index(level)

    def build(a: Author) -> str:
        if depth == 0:
            if parent_id is not None:
                raise ValidationError("place.bad_parent", level=level, parent_level="-")
        else:
            parent = a.record("place", parent_id) if parent_id else None
            wanted = PLACE_LEVELS[depth - 1]
            if parent is None or parent.get("level") != wanted:
                raise ValidationError(
                    "place.bad_parent",
                    level=level,
                    parent_level=wanted,
                )
        for pid, place in _siblings(a, parent_id):
            if _norm(place.get("name")) == _norm(name) and place.get("level") == level:
                raise ValidationError("place.exists", name=name, id=pid)
        values: dict[str, Any] = {"level": level, "name": name.strip()}
        if parent_id:
            values["parent_id"] = parent_id
        return a.op("place", set=values).entity_id

    return write(rt, build)[0]


def _siblings(a: Author, parent_id: str | None) -> list[tuple[str, dict[str, Any]]]:
    t = db.records
    query = select(t.c.entity_id, t.c.body).where(t.c.kind == "place")
    query = query.where(t.c.parent_ref == parent_id if parent_id else t.c.parent_ref.is_(None))
    rows = a.world.conn.execute(query)
    return [
        (r.entity_id, a.world.vault.open(r.body, record_aad("place", r.entity_id))) for r in rows
    ]
