"""The grid: rename and move places, and set the control status of a place or household with its
dates (shared by the CLI's ``place rename|move`` / ``control set`` and the console's Grid page).

Adding a place is :func:`sync.server.importing.places.add_place`. Every change is an op of the
``system`` device (:func:`sync.server.admin.write`), so phones receive it:

- **rename** keeps the place's id; two places of one parent may not share a name;
- **move** gives a place a new parent of the level above its own (a building under another
  community …). Everything beneath it moves with it: its places, households, residents, requests
  and tasks keep their records, and the ledger feeds their history again under the new parent's
  scope keys, so the teams there receive it. A parent at or under the place itself (a cycle) is
  ``place.cycle``;
- **control** sets ``control`` with ``control_since`` (the first day) and ``control_until`` (the
  planned release; 14 days after the first for a home isolation if none is given) and appends a
  ``control_log`` entry — from, to, the dates, when and by whom — so the history merges like
  visits and is never rewritten. ``normal`` clears the dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select

from sync.domain.control import HOME_ISOLATION_DAYS, NORMAL
from sync.domain.enums import CONTROL, PLACE_LEVELS
from sync.domain.schema import NAME_MAX
from sync.domain.times import now_iso, parse_iso, to_iso
from sync.errors import ValidationError
from sync.ops import new_id
from sync.server import db
from sync.server.admin import Author, write
from sync.server.runtime import Runtime
from sync.server.state import record_aad

#: the kinds whose control status the grid sets
CONTROLLED: Final = ("place", "household")


def _norm(text: object) -> str:
    return "".join(str(text or "").split())


def _place(a: Author, place_id: str) -> dict[str, Any]:
    found = a.record("place", place_id)
    if found is None or not found.get("level"):
        raise ValidationError("admin.not_found", kind="place", id=place_id)
    return found


def _children(a: Author, parent_id: str) -> list[tuple[str, dict[str, Any]]]:
    t = db.records
    rows = a.world.conn.execute(
        select(t.c.entity_id, t.c.body).where(t.c.kind == "place", t.c.parent_ref == parent_id)
    )
    return [
        (r.entity_id, a.world.vault.open(r.body, record_aad("place", r.entity_id))) for r in rows
    ]


def _name_free(a: Author, parent_id: str | None, name: str, level: str, me: str) -> None:
    if parent_id is None:
        return
    for pid, place in _children(a, parent_id):
        if pid != me and _norm(place.get("name")) == _norm(name) and place.get("level") == level:
            raise ValidationError("place.exists", name=name, id=pid)


def rename_place(rt: Runtime, place_id: str, name: str) -> None:
    """Give a place a new name (its id, and everything beneath it, stay)."""
    clean = name.strip()

    def build(a: Author) -> None:
        place = _place(a, place_id)
        if _norm(place.get("name")) == _norm(clean):
            return
        _name_free(a, place.get("parent_id"), clean, str(place.get("level")), place_id)
        a.op("place", place_id, set={"name": clean})

    write(rt, build)


def ancestors(a: Author, place_id: str) -> list[str]:
    """``place_id`` and the places above it, nearest first (as this write sees them)."""
    chain: list[str] = []
    current: str | None = place_id
    while current and current not in chain:
        chain.append(current)
        found = a.record("place", current)
        parent = found.get("parent_id") if found else None
        current = parent if isinstance(parent, str) else None
    return chain


def move_place(rt: Runtime, place_id: str, parent_id: str) -> bool:
    """Put a place (and everything beneath it) under ``parent_id``; False if it is there
    already. ``place.cycle`` for a parent at or under the place, ``place.bad_parent`` for a
    parent of the wrong level, ``place.exists`` for a name the new parent already has."""

    def build(a: Author) -> bool:
        place = _place(a, place_id)
        parent = _place(a, parent_id)
        if place_id in ancestors(a, parent_id):
            raise ValidationError("place.cycle", place=place_id, parent=parent_id)
        level = str(place.get("level"))
        depth = PLACE_LEVELS.index(level) if level in PLACE_LEVELS else 0
        wanted = PLACE_LEVELS[depth - 1] if depth > 0 else "-"
        if depth == 0 or parent.get("level") != wanted:
            raise ValidationError("place.bad_new_parent", level=level, parent_level=wanted)
        if place.get("parent_id") == parent_id:
            return False
        _name_free(a, parent_id, str(place.get("name", "")), level, place_id)
        a.op("place", place_id, set={"parent_id": parent_id})
        return True

    return write(rt, build)[0]


def planned_release(status: str, since: str | None, until: str | None) -> str | None:
    """The planned release: as given, or 14 days after the first day of a home isolation."""
    if until is not None or since is None or status != "home_isolation":
        return until
    return to_iso(parse_iso(since) + timedelta(days=HOME_ISOLATION_DAYS))


def set_control(
    rt: Runtime,
    kind: str,
    entity_id: str,
    status: str,
    *,
    since: str | None,
    until: str | None,
    by: str,
    at: str | None = None,
) -> dict[str, Any]:
    """Set the control status of a place or household with its dates and log the change; the
    log entry written. ``since``/``until`` are record times (the caller reads local dates with
    :mod:`sync.server.localtime`); a status other than ``normal`` without ``since`` starts
    ``at`` (now)."""
    if kind not in CONTROLLED:
        raise ValidationError("admin.not_found", kind=kind, id=entity_id)
    if status not in CONTROL:
        raise ValidationError("control.bad_status", status=status, known=", ".join(CONTROL))
    moment = at or now_iso()
    if status == NORMAL:
        since = until = None
    else:
        since = since or moment
        until = planned_release(status, since, until)
        if until is not None and parse_iso(until) <= parse_iso(since):
            raise ValidationError("control.bad_dates", since=since[:10], until=until[:10])

    def build(a: Author) -> dict[str, Any]:
        current = a.record(kind, entity_id)
        if current is None or (kind == "place" and not current.get("level")):
            raise ValidationError("admin.not_found", kind=kind, id=entity_id)
        entry: dict[str, Any] = {
            "id": new_id("cl-"),
            "at": moment,
            "by": by[:NAME_MAX],
            "to": status,
        }
        before = current.get("control")
        if isinstance(before, str) and before in CONTROL:
            entry["from"] = before
        if since is not None:
            entry["since"] = since
        if until is not None:
            entry["until"] = until
        values = {"control": status, "control_since": since, "control_until": until}
        a.op(kind, entity_id, set=values, add={"control_log": (entry,)})
        return entry

    return write(rt, build)[0]


def history(record: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A record's control log, newest first (an older record has none)."""
    log = (record or {}).get("control_log")
    entries = [dict(e) for e in log if isinstance(e, Mapping)] if isinstance(log, list) else []
    return sorted(entries, key=lambda e: (str(e.get("at", "")), str(e.get("id", ""))), reverse=True)
