"""The grid service: rename, move (everything beneath reaches the new parent's teams), control
status with its dates and history; and the day count phones and console share."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync.domain import make_op
from sync.domain.control import control_days, control_text, days_text
from sync.errors import ValidationError
from sync.hlc import HybridClock
from sync.merge import apply_op
from sync.server import db, grid
from sync.server.importing.places import add_place
from sync.server.pull import pull
from sync.server.runtime import Runtime
from sync.server.scope import device_keys
from tests.integration.server.world import build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")


def record(rt: Runtime, kind: str, entity_id: str) -> dict:
    with rt.db.read() as conn:
        found = rt.ledger.world(conn).record(kind, entity_id)
    assert found is not None
    return found


def pulled_entities(rt: Runtime, team_id: str) -> set[str]:
    """The entities a phone of ``team_id`` receives on a first pull."""
    with rt.db.read() as conn:
        world = rt.ledger.world(conn)
        keys = device_keys(world, team_id, world.refs("team", team_id))
        page = pull(
            conn,
            rt.vault,
            head=db.get_counter(conn, "head"),
            epoch=rt.ledger.epoch(conn),
            cache=None,
            keys=keys,
            device_id="dev-nobody",
            cursor=None,
            limit=10_000,
            max_bytes=10_000_000,
        )
    return {op.entity_id for op in page.ops}


def test_rename_keeps_the_id_and_refuses_a_sibling_name(rt: Runtime) -> None:
    w = build_world(rt)
    grid.rename_place(rt, w.building_a, "观海轩 3栋")
    assert record(rt, "place", w.building_a)["name"] == "观海轩 3栋"
    with pytest.raises(ValidationError) as refused:
        grid.rename_place(rt, w.building_a, "观海轩 2栋")
    assert refused.value.code == "place.exists"
    assert record(rt, "place", w.building_a)["name"] == "观海轩 3栋"


def test_a_moved_unit_takes_its_households_and_history_to_the_new_teams(rt: Runtime) -> None:
    w = build_world(rt)
    before = pulled_entities(rt, w.team_b)
    assert w.household_a not in before and w.resident_a not in before

    assert grid.move_place(rt, w.unit_a, w.building_b) is True

    after = pulled_entities(rt, w.team_b)
    # the unit, its household, the resident and the task on it: their whole history
    assert {w.unit_a, w.household_a, w.resident_a, w.assignment_a} <= after
    assert record(rt, "place", w.unit_a)["parent_id"] == w.building_b
    assert grid.move_place(rt, w.unit_a, w.building_b) is False  # already there


def test_a_move_refuses_cycles_and_wrong_levels(rt: Runtime) -> None:
    w = build_world(rt)
    with pytest.raises(ValidationError) as cycle:
        grid.move_place(rt, w.building_a, w.unit_a)
    assert cycle.value.code == "place.cycle"
    with pytest.raises(ValidationError) as level:
        grid.move_place(rt, w.unit_a, w.community)
    assert level.value.code == "place.bad_new_parent"
    with pytest.raises(ValidationError) as same:
        grid.move_place(rt, w.unit_a, w.unit_a)
    assert same.value.code == "place.cycle"
    assert record(rt, "place", w.unit_a)["parent_id"] == w.building_a


def test_a_move_refuses_a_name_the_new_parent_has(rt: Runtime) -> None:
    district = add_place(rt, level="district", name="区", parent_id=None)
    one = add_place(rt, level="street", name="一街道", parent_id=district)
    two = add_place(rt, level="street", name="二街道", parent_id=district)
    here = add_place(rt, level="community", name="东社区", parent_id=one)
    add_place(rt, level="community", name="东社区", parent_id=two)
    with pytest.raises(ValidationError) as refused:
        grid.move_place(rt, here, two)
    assert refused.value.code == "place.exists"


def test_home_isolation_counts_fourteen_days_and_keeps_its_history(rt: Runtime) -> None:
    w = build_world(rt)
    since = "2022-03-31T16:00:00Z"  # 2022-04-01 00:00 in Shanghai
    entry = grid.set_control(
        rt, "household", w.household_a, "home_isolation", since=since, until=None, by="wang"
    )
    home = record(rt, "household", w.household_a)
    assert home["control"] == "home_isolation"
    assert home["control_since"] == since
    assert home["control_until"] == "2022-04-14T16:00:00Z"  # 15 April: 14 days
    assert entry["from"] == "normal" and entry["to"] == "home_isolation" and entry["by"] == "wang"

    first = date(2022, 4, 1)
    assert control_text(home, first, SHANGHAI, "zh-CN") == "居家隔离 · 第 1 天/共 14 天"
    assert control_text(home, first + timedelta(days=13), SHANGHAI, "en") == (
        "Home isolation · day 14 of 14"
    )
    due = control_days(home, date(2022, 4, 15), SHANGHAI)
    assert due is not None and due.state == "due"
    assert days_text(control_days(home, date(2022, 3, 30), SHANGHAI), "en") == ("starts 2022-04-01")

    grid.set_control(rt, "household", w.household_a, "normal", since=None, until=None, by="li")
    home = record(rt, "household", w.household_a)
    assert home["control"] == "normal" and home.get("control_since") is None
    assert control_text(home, first, SHANGHAI) == ""
    log = grid.history(home)
    assert [(e["from"], e["to"], e["by"]) for e in log] == [
        ("home_isolation", "normal", "li"),
        ("normal", "home_isolation", "wang"),
    ]


def test_control_refuses_a_release_before_the_first_day(rt: Runtime) -> None:
    w = build_world(rt)
    with pytest.raises(ValidationError) as refused:
        grid.set_control(
            rt,
            "place",
            w.building_a,
            "sealed",
            since="2022-04-05T00:00:00Z",
            until="2022-04-01T00:00:00Z",
            by="wang",
        )
    assert refused.value.code == "control.bad_dates"
    with pytest.raises(ValidationError) as unknown:
        grid.set_control(rt, "place", w.building_a, "locked", since=None, until=None, by="x")
    assert unknown.value.code == "control.bad_status"
    assert grid.history(record(rt, "place", w.building_a)) == []


def test_a_schema_3_record_without_dates_reads_and_merges_with_the_log() -> None:
    clock = HybridClock()
    author = {"clock": clock, "device": "dev-a", "member": "mb-a"}
    old = {"id": "hh-1", "place_id": "pl-1", "address": "1栋 101", "control": "controlled"}
    assert control_days(old, date(2022, 4, 1), SHANGHAI) is None
    assert control_text(old, date(2022, 4, 1), SHANGHAI, "en") == "Controlled"
    entry = {"id": "cl-1", "at": "2022-04-01T00:00:00Z", "to": "sealed", "by": "wang"}
    op = make_op(
        "household",
        "hh-1",
        set={"control": "sealed"},
        add={"control_log": (entry,)},
        current=old,
        **author,
    )
    assert op.schema == 4
    merged = apply_op(old, op)
    assert merged["control"] == "sealed" and len(merged["control_log"]) == 1
