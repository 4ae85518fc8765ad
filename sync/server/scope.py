"""Pull scoping, as pure functions over a :class:`World` (a read-only view of record refs).

Every feed entry gets a set of *scope keys* when it is written; a device pulls the entries that
share a key with its own key set. Keys:

- ``p:<place>`` — the entity lies at or under ``place``: an op on anything located at place X
  (the place itself, a household at X, its residents, requests, assignments on it) carries
  ``p:`` for X and every ancestor of X. A team whose area holds place A has ``p:A``, so it
  receives everything at or under A and nothing beside it.
- ``n:<place>`` — the place record itself. A team has ``n:`` for its area places and their
  ancestors (street, community names for addresses), not for sibling buildings.
- ``h:<household>`` — bookkeeping: finds a household's dependants' ops (never pulled by it).
- ``t:<team>`` — the team record, its members, shifts, and its assignments and requests.
- ``c:<community>`` — notices and contacts of a community; ``*`` — for every device. A notice
  that targets some buildings of its community (``buildings``, schema 4) is keyed like those
  buildings' place records instead (``n:`` and ``p:`` of each): it reaches the teams whose area is
  one of them, lies under one of them or holds one of them, and no other team of the community.

Coordinators pull everything (no key filter). Records with no key (a coordinator without a team)
reach coordinators only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

EVERYONE = "*"
MAX_DEPTH = 16

#: the plaintext ids each kind keeps in ``records.refs`` (no names, phones or addresses)
REFS: Mapping[str, tuple[str, ...]] = {
    "place": ("parent_id", "level"),
    "household": ("place_id",),
    "resident": ("household_id",),
    "team": ("area", "community_id"),
    "member": ("team_id", "role"),
    "shift": ("team_id",),
    "assignment": ("team_id", "assignee_id", "target_kind", "target_id"),
    "request": ("household_id", "team_id", "assignee_id"),
    "notice": ("community_id", "buildings"),
    "contact": ("community_id", "team_id"),
}

#: the ref that ties a record to the one it belongs to (indexed as ``records.parent_ref``)
PARENT: Mapping[str, str] = {
    "place": "parent_id",
    "household": "place_id",
    "resident": "household_id",
    "assignment": "target_id",
    "request": "household_id",
    "member": "team_id",
    "shift": "team_id",
}


class World(Protocol):
    """What the rules may know about current records: their refs, by kind and id."""

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None: ...


def refs_of(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The plaintext refs of a merged record (only the whitelisted id/enum fields)."""
    out: dict[str, Any] = {}
    for name in REFS.get(kind, ()):
        value = record.get(name)
        if value is not None:
            out[name] = list(value) if isinstance(value, list | tuple) else value
    return out


def parent_ref(kind: str, refs: Mapping[str, Any]) -> str | None:
    name = PARENT.get(kind)
    value = refs.get(name) if name else None
    return value if isinstance(value, str) else None


def place_chain(world: World, place_id: str | None) -> list[str]:
    """``place_id`` and its ancestors, nearest first (cycles and depth cut off)."""
    chain: list[str] = []
    current = place_id
    while isinstance(current, str) and current not in chain and len(chain) < MAX_DEPTH:
        chain.append(current)
        refs = world.refs("place", current)
        current = refs.get("parent_id") if refs else None
    return chain


def household_place(world: World, household_id: Any) -> str | None:
    if not isinstance(household_id, str):
        return None
    refs = world.refs("household", household_id)
    place = refs.get("place_id") if refs else None
    return place if isinstance(place, str) else None


def _under(world: World, place_id: str | None) -> set[str]:
    return {f"p:{p}" for p in place_chain(world, place_id)}


def household_keys(world: World, household_id: Any) -> set[str]:
    if not isinstance(household_id, str):
        return set()
    return {f"h:{household_id}"} | _under(world, household_place(world, household_id))


def target_keys(world: World, refs: Mapping[str, Any]) -> set[str]:
    """Keys of an assignment's target: a household (and its place) or a place."""
    target = refs.get("target_id")
    if refs.get("target_kind") == "place" and isinstance(target, str):
        return _under(world, target)
    return household_keys(world, target)


def _team(refs: Mapping[str, Any]) -> set[str]:
    team = refs.get("team_id")
    return {f"t:{team}"} if isinstance(team, str) else set()


def _community(refs: Mapping[str, Any]) -> set[str]:
    community = refs.get("community_id")
    return {f"c:{community}"} if isinstance(community, str) else {EVERYONE}


def _ids(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


def _place_keys(world: World, place_id: str) -> set[str]:
    """The keys of a place record: the place itself and everything at or above it."""
    return {f"n:{place_id}"} | _under(world, place_id)


def entity_keys(world: World, kind: str, entity_id: str, refs: Mapping[str, Any]) -> set[str]:
    """The scope keys of an entity with these refs (its ops are fed under them)."""
    if kind == "place":
        return _place_keys(world, entity_id)
    if kind == "household":
        return {f"h:{entity_id}"} | _under(world, refs.get("place_id"))
    if kind == "resident":
        return household_keys(world, refs.get("household_id"))
    if kind == "team":
        return {f"t:{entity_id}"}
    if kind in ("member", "shift"):
        return _team(refs)
    if kind == "assignment":
        return _team(refs) | target_keys(world, refs)
    if kind == "request":
        return _team(refs) | household_keys(world, refs.get("household_id"))
    if kind == "notice" and refs.get("buildings"):
        return set().union(*(_place_keys(world, b) for b in _ids(refs.get("buildings"))))
    if kind in ("notice", "contact"):
        return _community(refs)
    return set()


def team_area(team_refs: Mapping[str, Any] | None) -> frozenset[str]:
    area = team_refs.get("area") if team_refs else None
    return (
        frozenset(a for a in area if isinstance(a, str)) if isinstance(area, list) else frozenset()
    )


def device_keys(world: World, team_id: str | None, team_refs: Mapping[str, Any] | None) -> set[str]:
    """The keys a (non-coordinator) device of ``team_id`` pulls under."""
    keys = {EVERYONE}
    if team_id is None:
        return keys
    keys.add(f"t:{team_id}")
    area = team_area(team_refs)
    keys.update(f"p:{a}" for a in area)
    keys.update(f"n:{p}" for a in area for p in place_chain(world, a))
    community = team_refs.get("community_id") if team_refs else None
    if isinstance(community, str):
        keys.add(f"c:{community}")
    return keys


def in_area(world: World, area: Iterable[str], place_id: str | None) -> bool:
    """True if ``place_id`` is one of ``area`` or lies under one of them."""
    wanted = set(area)
    return bool(wanted) and any(p in wanted for p in place_chain(world, place_id))
