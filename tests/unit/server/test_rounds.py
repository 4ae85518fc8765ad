"""Rounds: targeting (places, key-care flags, a list), distribution (pool, members by unit or
floor, teams by area), extend, cancel, copy, and the recurring generation once per slot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.errors import ValidationError
from sync.server import admin, projection, rounds
from sync.server.admin import Author
from sync.server.cli import main
from sync.server.runtime import Runtime
from tests.integration.server.world import World, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")


def add_homes(rt: Runtime, unit: str, rooms: list[str]) -> list[str]:
    def build(a: Author) -> list[str]:
        return [
            a.op("household", set={"place_id": unit, "address": f"r{room}", "room": room}).entity_id
            for room in rooms
        ]

    return admin.write(rt, build)[0]


def tasks(rt: Runtime, round_id: str) -> dict[str, dict[str, Any]]:
    """The round's assignments by household, from the projection."""
    with rt.db.read() as conn:
        return {r["household_id"]: r for r in projection.rows(conn) if r["round_id"] == round_id}


def record(rt: Runtime, kind: str, entity_id: str) -> dict[str, Any]:
    with rt.db.read() as conn:
        found = rt.ledger.world(conn).record(kind, entity_id)
    assert found is not None
    return found


def sampling(w: World, **targets: Any) -> rounds.Spec:
    return rounds.Spec(
        type="nucleic_acid_sampling",
        targets=rounds.Targets(**targets),
        spread=rounds.Spread("pool", team_id=w.team_a),
        due="2026-12-01T02:00:00Z",
        title="第三轮核酸",
    )


def test_a_round_for_places_reaches_every_household_beneath_them(rt: Runtime) -> None:
    w = build_world(rt)
    more = add_homes(rt, w.unit_a, ["101", "102"])
    made = rounds.create(rt, sampling(w, places=(w.building_a, w.building_b)))
    assert made.created == 4
    got = tasks(rt, made.round_id)
    assert set(got) == {w.household_a, w.household_b, *more}
    assert {r["team_id"] for r in got.values()} == {w.team_a}
    assert {r["assignee_id"] for r in got.values()} == {None}  # the pool: anyone may take a door
    one = record(rt, "assignment", got[more[0]]["assignment_id"])
    assert one["round_id"] == made.round_id and one["due"] == "2026-12-01T02:00:00Z"
    assert one["type"] == "nucleic_acid_sampling" and one["title"] == "第三轮核酸"
    assert rounds.get(rt, made.round_id).community_id == w.community
    only_b = rounds.create(rt, sampling(w, places=(w.unit_b,)))
    assert set(tasks(rt, only_b.round_id)) == {w.household_b}


def test_key_care_flags_and_an_uploaded_list_pick_their_households(rt: Runtime) -> None:
    w = build_world(rt)  # household_a holds an elderly_alone resident
    flagged = rounds.create(rt, sampling(w, places=(w.community,), care_flags=("elderly_alone",)))
    assert set(tasks(rt, flagged.round_id)) == {w.household_a}
    listed = rounds.create(rt, sampling(w, households=(w.household_b, w.household_b)))
    assert set(tasks(rt, listed.round_id)) == {w.household_b}
    with pytest.raises(ValidationError) as none:
        rounds.create(rt, sampling(w, places=(w.building_b,), care_flags=("disabled",)))
    assert none.value.code == "round.no_targets"
    with pytest.raises(ValidationError) as alone:
        rounds.create(rt, sampling(w, care_flags=("elderly_alone",)))
    assert alone.value.code == "round.flags_need_place"


def test_members_share_the_doors_by_unit_or_by_floor(rt: Runtime) -> None:
    w = build_world(rt)
    add_homes(rt, w.unit_a, ["101", "102", "201", "202", "301"])
    spec = rounds.Spec(
        type="supply_delivery",
        targets=rounds.Targets(places=(w.building_a, w.building_b)),
        spread=rounds.Spread("members", members=(w.volunteer_a, w.volunteer_b), by="unit"),
    )
    by_unit = tasks(rt, rounds.create(rt, spec).round_id)
    # unit_a (6 doors) to one member, unit_b (1 door) to the other: whole units, never split
    per_unit = {(r["unit_id"], r["assignee_id"]) for r in by_unit.values()}
    assert per_unit == {(w.unit_a, w.volunteer_a), (w.unit_b, w.volunteer_b)}
    assert {r["team_id"] for r in by_unit.values() if r["assignee_id"] == w.volunteer_b} == {
        w.team_b
    }
    floors = rounds.Spread("members", members=(w.volunteer_a, w.lead_a), by="floor")
    spec = rounds.Spec(
        type="supply_delivery", targets=rounds.Targets(places=(w.unit_a,)), spread=floors
    )
    by_floor = tasks(rt, rounds.create(rt, spec).round_id)
    rooms = {h: record(rt, "household", h).get("room", "") for h in by_floor}
    who: dict[str, set[str]] = {}
    for household, row in by_floor.items():
        who.setdefault(rooms[household][:-2] or "?", set()).add(row["assignee_id"])
    assert all(len(members) == 1 for members in who.values())  # a floor is never split
    counts = [sum(1 for r in by_floor.values() if r["assignee_id"] == m) for m in floors.members]
    assert sorted(counts) == [3, 3]  # floors 1 and 2 (two doors each), 3 and the roomless door


def test_each_team_gets_the_households_of_its_area(rt: Runtime) -> None:
    w = build_world(rt)
    spec = rounds.Spec(
        type="welfare_check",
        targets=rounds.Targets(places=(w.community,)),
        spread=rounds.Spread("teams"),
    )
    got = tasks(rt, rounds.create(rt, spec).round_id)
    assert got[w.household_a]["team_id"] == w.team_a
    assert got[w.household_b]["team_id"] == w.team_b

    def elsewhere(a: Author) -> str:
        unit = a.op("place", set={"level": "building", "name": "3栋", "parent_id": w.community})
        return a.op("household", set={"place_id": unit.entity_id, "address": "x"}).entity_id

    admin.write(rt, elsewhere)
    with pytest.raises(ValidationError) as orphan:
        rounds.create(rt, spec)
    assert orphan.value.code == "round.no_team" and orphan.value.params == {"count": 1}


def test_extend_cancel_and_copy(rt: Runtime) -> None:
    w = build_world(rt)
    made = rounds.create(rt, sampling(w, places=(w.building_a,)))
    extended = rounds.extend(rt, made.round_id, rounds.Targets(places=(w.community,)))
    assert (extended.created, extended.skipped) == (1, 1)
    got = tasks(rt, made.round_id)
    assert set(got) == {w.household_a, w.household_b}

    def finish(a: Author) -> None:
        visit = {"id": "v-1", "at": "2026-12-01T01:00:00Z", "member": w.volunteer_a,
                 "outcome": "done", "result": {"people_sampled": 2}}  # fmt: skip
        a.op(
            "assignment",
            got[w.household_a]["assignment_id"],
            set={"status": "done"},
            add={"visits": (visit,)},
        )

    admin.write(rt, finish)
    p = rounds.progress(rt, made.round_id)
    assert (p.total, p.done, p.outcomes["pending"], p.people_sampled) == (2, 1, 1, 2)
    assert rounds.cancel(rt, made.round_id) == (1, 1)
    after = tasks(rt, made.round_id)
    assert after[w.household_a]["status"] == "done"  # done work is kept
    assert after[w.household_b]["status"] == "cancelled"
    assert rounds.get(rt, made.round_id).state == rounds.CANCELLED
    p = rounds.progress(rt, made.round_id)
    assert (p.done, p.cancelled, p.open) == (1, 1, 0)
    with pytest.raises(ValidationError):
        rounds.cancel(rt, made.round_id)
    with pytest.raises(ValidationError) as closed:
        rounds.extend(rt, made.round_id, rounds.Targets(places=(w.community,)))
    assert closed.value.code == "round.not_open"
    copied = rounds.copy(rt, made.round_id, due="2026-12-02T02:00:00Z")
    assert copied.created == 2 and copied.round_id != made.round_id
    fresh = tasks(rt, copied.round_id)
    assert {r["status"] for r in fresh.values()} == {"pending"}
    assert {r["due"] for r in fresh.values()} == {"2026-12-02T02:00:00Z"}


def test_a_recurring_round_generates_each_slot_once(rt: Runtime) -> None:
    w = build_world(rt)
    spec = rounds.Spec(
        type="welfare_check",
        targets=rounds.Targets(places=(w.community,), care_flags=("elderly_alone",)),
        spread=rounds.Spread("pool", team_id=w.team_a),
        schedule=("09:00", "17:00"),
        window=60,
    )
    template = rounds.create(rt, spec)
    assert template.created == 0
    made_at = datetime.fromtimestamp(rounds.get(rt, template.round_id).created_at / 1000, UTC)
    day = made_at.astimezone(SHANGHAI).date()
    # the next local day, 08:59: nothing yet; 09:05: the 09:00 slot, once however often asked
    next_day = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).toordinal() + 1
    base = datetime.fromordinal(next_day).replace(tzinfo=SHANGHAI)
    assert rounds.generate_due(rt, SHANGHAI, base.replace(hour=8, minute=59)) == []
    first = rounds.generate_due(rt, SHANGHAI, base.replace(hour=9, minute=5))
    assert len(first) == 1 and first[0].created == 1
    assert rounds.generate_due(rt, SHANGHAI, base.replace(hour=9, minute=30)) == []
    evening = rounds.generate_due(rt, SHANGHAI, base.replace(hour=17, minute=0))
    assert len(evening) == 1
    runs = rounds.generations(rt, template.round_id)
    slot = base.strftime("%Y-%m-%d")
    assert [s for s, _ in runs] == [f"{slot} 09:00", f"{slot} 17:00"]
    generated = rounds.get(rt, first[0].round_id)
    assert generated.source == template.round_id and generated.state == rounds.OPEN
    due = datetime.fromisoformat(str(generated.spec.due).replace("Z", "+00:00"))
    assert due.astimezone(SHANGHAI) == base.replace(hour=10)
    assert set(tasks(rt, first[0].round_id)) == {w.household_a}
    # cancelling the recurring round stops its generations
    rounds.cancel(rt, template.round_id)
    assert rounds.generate_due(rt, SHANGHAI, base.replace(hour=23)) == []


def test_latest_slot_never_reaches_back_before_the_round_was_made() -> None:
    made = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    now = datetime(2026, 12, 1, 18, 0, tzinfo=SHANGHAI)
    at = rounds.latest_slot(("09:00", "17:00"), SHANGHAI, now, made)
    assert at == datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI)
    assert rounds.latest_slot(("09:00",), SHANGHAI, now, made) is None


def test_the_round_commands(rt: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    w = build_world(rt)
    data = ["--data-dir", str(rt.settings.data_dir), "--lang", "en"]
    assert main([*data, "round", "create", "--type", "nucleic_acid_sampling", "--place",
                 w.building_a, "--place", w.building_b, "--pool", w.team_a,
                 "--due", "2026-12-01 10:00", "--json"]) == 0  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert made["created"] == 2
    assert main([*data, "round", "show", made["round_id"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["due"] == "2026-12-01 10:00" and shown["progress"]["outcomes"]["pending"] == 2
    assert main([*data, "round", "list"]) == 0
    assert made["round_id"] in capsys.readouterr().out
    assert main([*data, "round", "cancel", made["round_id"]]) == 0
    assert "2 open tasks cancelled, 0 done tasks kept" in capsys.readouterr().out
    assert main([*data, "round", "copy", made["round_id"]]) == 0
    assert "2 tasks" in capsys.readouterr().out
    assert main([*data, "round", "create", "--type", "welfare_check", "--place",
                 w.community, "--pool", w.team_a, "--by-team"]) == 2  # fmt: skip
    assert "exactly one way" in capsys.readouterr().err
