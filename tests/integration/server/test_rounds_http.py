"""Rounds through real server processes, on SQLite and PostgreSQL: a round made with the CLI
reaches an enrolled phone in its normal sync and the phone's visit shows in the round's progress;
a recurring round is generated once per slot even with two server processes at work."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sync.server.harness import ServerProcess
from tests.integration.server.conftest import Backend, enrolled, phone_op, start_server


def test_a_round_reaches_an_enrolled_phone_and_its_visits_count(
    backend: Backend, server: ServerProcess
) -> None:
    world, (phone,) = enrolled(backend, server.url, "volunteer_a")
    made = json.loads(
        backend.cli(
            "round", "create", "--type", "nucleic_acid_sampling", "--place", world.building_a,
            "--place", world.building_b, "--pool", world.team_a, "--due", "2026-12-01 10:00",
            "--json",
        ).stdout
    )  # fmt: skip
    assert made["created"] == 2
    phone.pull_all()
    mine = {
        op.entity_id: op
        for op in phone.received.values()
        if op.kind == "assignment" and op.set.get("round_id") == made["round_id"]
    }
    # the pool is team A's: its phone receives both doors, with no assignee (anyone may take one)
    assert {op.set["target_id"] for op in mine.values()} == {world.household_a, world.household_b}
    assert all("assignee_id" not in op.set for op in mine.values())
    task_id = next(i for i, op in mine.items() if op.set["target_id"] == world.household_a)
    visit = {"id": "v-round-1", "at": "2026-12-01T01:30:00Z", "member": phone.member_id,
             "outcome": "done", "result": {"people_sampled": 3}}  # fmt: skip
    done = phone_op(phone, "assignment", task_id, set={"status": "done"}, add={"visits": (visit,)})
    assert phone.sync([done]).rejected == []
    shown = json.loads(backend.cli("round", "show", made["round_id"], "--json").stdout)
    assert shown["progress"]["outcomes"]["done"] == 1
    assert shown["progress"]["outcomes"]["pending"] == 1
    assert shown["progress"]["people_sampled"] == 3
    assert shown["due"] == "2026-12-01 10:00"


def test_a_recurring_round_is_generated_once_with_two_server_processes(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINLI_ROUNDS_TICK_S", "0.3")
    rt = backend.runtime()
    try:
        from tests.integration.server.world import build_world

        world = build_world(rt)
    finally:
        rt.close()
    # two processes on one database: two serve processes (PostgreSQL), two workers (SQLite)
    if backend.database is None:
        servers = [start_server(backend, workers=2)]
    else:
        servers = [start_server(backend), start_server(backend)]
    try:
        local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
        if local.second > 45:  # keep the slot and the round's making in the same minute
            time.sleep(61 - local.second)
            local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
        slot = local.strftime("%H:%M")
        template = json.loads(
            backend.cli(
                "round", "create", "--type", "welfare_check", "--place", world.community,
                "--flag", "elderly_alone", "--pool", world.team_a, "--at", slot, "--json",
            ).stdout
        )["round_id"]  # fmt: skip
        deadline = time.monotonic() + 30
        runs: list[list[str]] = []
        while time.monotonic() < deadline and not runs:
            time.sleep(0.5)
            runs = json.loads(backend.cli("round", "show", template, "--json").stdout)[
                "generations"
            ]
        assert len(runs) == 1, runs
        time.sleep(2)  # several more ticks of every process
        runs = json.loads(backend.cli("round", "show", template, "--json").stdout)["generations"]
        assert runs[0][0] == local.strftime(f"%Y-%m-%d {slot}") and len(runs) == 1
        listed = json.loads(backend.cli("round", "list", "--json").stdout)
        generated = [r for r in listed if r["source"] == template]
        assert len(generated) == 1
        assert generated[0]["progress"]["total"] == 1  # the one elderly-alone household
    finally:
        for s in servers:
            s.stop()
