"""The grid end to end: a real ``serve`` process on SQLite and PostgreSQL, the CLI in its own
process, enrolled phones pulling over HTTP. A unit moved to another building reaches that
building's team with its households, residents and tasks; a household set in home isolation
reaches the phone with its dates (day 1 of 14); a practice server says so in every answer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sync.domain.control import control_text
from tests.integration.server.conftest import (
    Backend,
    ServerProcess,
    enrolled,
    phone_record,
    start_server,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_move_and_a_home_isolation_reach_the_phones(
    backend: Backend, server: ServerProcess
) -> None:
    world, (other_team,) = enrolled(backend, server.url, "volunteer_b")
    other_team.pull_all()
    assert world.household_a not in {o.entity_id for o in other_team.received.values()}
    assert other_team.sync().practice is False  # a live server

    out = backend.cli("place", "move", world.unit_a, "--to", world.building_b).stdout
    assert "观海轩 2栋/1单元" in out
    backend.cli("control", "set", world.household_a, "home_isolation")
    other_team.pull_all()

    got = {o.entity_id for o in other_team.received.values()}
    assert {world.unit_a, world.household_a, world.resident_a, world.assignment_a} <= got
    unit = phone_record(other_team, "place", world.unit_a)
    assert unit is not None and unit["parent_id"] == world.building_b
    home = phone_record(other_team, "household", world.household_a)
    assert home is not None and home["control"] == "home_isolation"
    assert [e["to"] for e in home["control_log"]] == ["home_isolation"]
    today = datetime.now(SHANGHAI).date()
    assert control_text(home, today, SHANGHAI, "en") == "Home isolation · day 1 of 14"


def test_a_practice_server_marks_every_answer(backend: Backend) -> None:
    backend.cli("init", "--practice")
    server = start_server(backend)
    try:
        _world, (phone,) = enrolled(backend, server.url, "volunteer_a")
        assert phone.sync().practice is True
    finally:
        server.stop()
