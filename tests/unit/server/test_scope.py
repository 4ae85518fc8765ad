"""Scope keys: what an op is filed under, and what a device pulls."""

from __future__ import annotations

from sync.server.scope import (
    EVERYONE,
    device_keys,
    entity_keys,
    in_area,
    place_chain,
    refs_of,
)
from tests.unit.server.fakeworld import DictWorld, community_world


def _visible(world: DictWorld, team: str, kind: str, entity: str) -> bool:
    keys = entity_keys(world, kind, entity, world.refs(kind, entity) or {})
    return bool(keys & device_keys(world, team, world.refs("team", team)))


def test_place_chain_walks_to_the_root_and_survives_cycles() -> None:
    world = community_world()
    assert place_chain(world, "U1") == ["U1", "B1", "C", "D"]
    loop = DictWorld({("place", "X"): {"parent_id": "Y"}, ("place", "Y"): {"parent_id": "X"}})
    assert place_chain(loop, "X") == ["X", "Y"]


def test_households_residents_and_their_work_stay_in_their_building() -> None:
    world = community_world()
    world.records[("resident", "R1")] = {"household_id": "H1"}
    world.records[("resident", "R2")] = {"household_id": "H2"}
    for kind, mine, theirs in (
        ("household", "H1", "H2"),
        ("resident", "R1", "R2"),
        ("assignment", "A1", "A2"),
        ("request", "Q1", "Q2"),
    ):
        assert _visible(world, "TA", kind, mine)
        assert not _visible(world, "TA", kind, theirs)
        assert _visible(world, "TB", kind, theirs)
        assert not _visible(world, "TB", kind, mine)


def test_a_team_sees_its_area_places_and_their_ancestors_but_not_siblings() -> None:
    world = community_world()
    for place in ("D", "C", "B1", "U1"):
        assert _visible(world, "TA", "place", place), place
    for place in ("B2", "U2"):
        assert not _visible(world, "TA", "place", place), place


def test_team_records_members_and_shifts_go_to_their_team_only() -> None:
    world = community_world()
    assert _visible(world, "TA", "team", "TA")
    assert not _visible(world, "TA", "team", "TB")
    assert _visible(world, "TA", "member", "LA")
    assert not _visible(world, "TA", "member", "VB")
    assert _visible(world, "TA", "shift", "S1")
    assert not _visible(world, "TB", "shift", "S1")


def test_notices_and_contacts_follow_the_community() -> None:
    world = community_world()
    world.records[("notice", "N1")] = {"community_id": "C"}
    world.records[("notice", "N2")] = {"community_id": "elsewhere"}
    assert _visible(world, "TA", "notice", "N1")
    assert _visible(world, "TB", "notice", "N1")
    assert not _visible(world, "TA", "notice", "N2")
    assert entity_keys(world, "contact", "K", {}) == {EVERYONE}


def test_a_notice_for_some_buildings_reaches_only_the_teams_there() -> None:
    world = community_world()
    world.records[("team", "TC")] = {"area": ["C"], "community_id": "C"}  # the whole community
    world.records[("team", "TU")] = {"area": ["U1"], "community_id": "C"}  # a unit of B1
    world.records[("team", "TN")] = {"area": [], "community_id": "C"}  # no area
    world.records[("notice", "N1")] = {"community_id": "C", "buildings": ["B1"]}
    for team in ("TA", "TC", "TU"):
        assert _visible(world, team, "notice", "N1"), team
    for team in ("TB", "TN"):
        assert not _visible(world, team, "notice", "N1"), team
    world.records[("notice", "N2")] = {"community_id": "C", "buildings": ["B1", "B2"]}
    assert _visible(world, "TB", "notice", "N2") and _visible(world, "TA", "notice", "N2")
    world.records[("notice", "N3")] = {"community_id": "C", "buildings": []}  # whole community
    assert _visible(world, "TN", "notice", "N3") and _visible(world, "TB", "notice", "N3")
    assert refs_of("notice", {"community_id": "C", "buildings": ("B1",), "title": "x"}) == {
        "community_id": "C",
        "buildings": ["B1"],
    }


def test_a_device_without_a_team_sees_only_everyone_keys() -> None:
    assert device_keys(community_world(), None, None) == {EVERYONE}


def test_refs_keep_only_ids_never_personal_fields() -> None:
    record = {
        "id": "R1",
        "household_id": "H1",
        "name": "张秀英",
        "phone": "13800000001",
        "care_note": "独居",
    }
    assert refs_of("resident", record) == {"household_id": "H1"}
    household = {"place_id": "U1", "address": "观海轩 1栋 1单元 1201", "phone": "13800000002"}
    assert refs_of("household", household) == {"place_id": "U1"}


def test_in_area() -> None:
    world = community_world()
    assert in_area(world, {"B1"}, "U1")
    assert not in_area(world, {"B1"}, "U2")
    assert not in_area(world, set(), "U1")
