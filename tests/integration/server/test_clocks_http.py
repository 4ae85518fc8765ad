"""One wrong clock never breaks a phone: real phones (real encrypted store, real engine, real HTTP)
against a REAL server process on SQLite and PostgreSQL. Only the phone's wall clock is faked.

Before the fix a phone whose date read 2100 had its edit refused as ``op.clock_ahead`` and
dropped, and kept a 2100 stamp on the record, so it never took a later change from the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from app.services.device import Device
from sync import hlc, protocol
from sync.domain import changes
from sync.merge import CLOCK
from sync.protocol.messages import TIME_HEADER, parse_time_header
from tests.integration.server.conftest import Backend, ServerProcess
from tests.integration.server.world import World, build_world, code_for

PIN = "246810"
YEAR_2100_MS = 4_102_444_800_000


class FakeWall:
    """The phone's wall clock (the one part faked): real time unless ``fixed`` is set."""

    def __init__(self) -> None:
        self.fixed: int | None = None

    def __call__(self) -> int:
        return hlc.wall_ms() if self.fixed is None else self.fixed


def _world(backend: Backend) -> tuple[World, str, str]:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        return world, code_for(rt, world.volunteer_a), code_for(rt, world.lead_a)
    finally:
        rt.close()


def _phone(tmp_path: Path, name: str, wall: FakeWall) -> Device:
    return Device(tmp_path / name, wall=wall)


def _reopened(tmp_path: Path, name: str, wall: FakeWall) -> Device:
    """The same phone after the app restarted (a new process knows no server time yet)."""
    device = _phone(tmp_path, name, wall)
    device.unlock(PIN)
    return device


def _stamps(record: dict[str, Any]) -> list[str]:
    out = list(record[CLOCK].values())
    out += [v[CLOCK] for v in record.get("visits", [])]
    return out


def _visit(device: Device, assignment_id: str, outcome: str) -> str:
    assignment = device.get("assignment", assignment_id)
    assert assignment is not None
    op = changes.record_visit(assignment, outcome, "门口无人应答", **device.author())
    device.record(op)
    return op.op_id


def test_an_edit_made_under_a_2100_clock_is_kept_and_later_changes_still_arrive(
    backend: Backend, server: ServerProcess, tmp_path: Path
) -> None:
    world, volunteer_code, lead_code = _world(backend)
    wall = FakeWall()
    volunteer = _phone(tmp_path, "volunteer", wall)
    volunteer.enroll(server.url, volunteer_code, PIN)
    volunteer.lock()

    wall.fixed = YEAR_2100_MS  # the date is wrong when the app next starts, offline
    volunteer = _reopened(tmp_path, "volunteer", wall)
    _visit(volunteer, world.assignment_a, "no_answer")
    assert volunteer.require_store().pending_ops()[0].hlc.startswith(f"{YEAR_2100_MS:015d}")

    summary = volunteer.sync()
    assert summary.rejected == [] and summary.clock_ahead == []
    assert summary.acked == 1 and volunteer.require_store().pending_count() == 0
    assert volunteer.engine is not None and volunteer.engine.rejections() == []
    assert volunteer.clock_wrong  # shown on the sync screen while the date stays wrong
    limit = hlc.wall_ms() + hlc.AHEAD_WINDOW_MS
    record = volunteer.get("assignment", world.assignment_a)
    assert record is not None and record["status"] == "no_answer"
    assert all(hlc.wall_of(s.partition("@")[0]) <= limit for s in _stamps(record))
    assert hlc.wall_of(volunteer.clock.last) <= limit
    volunteer.lock()
    wall.fixed = None  # the date is set right again
    volunteer = _reopened(tmp_path, "volunteer", wall)
    assert hlc.wall_of(volunteer.clock.last) <= limit  # no 2100 was persisted

    lead = _phone(tmp_path, "lead", FakeWall())
    lead.enroll(server.url, lead_code, PIN)
    seen = lead.get("assignment", world.assignment_a)
    assert seen is not None and seen["status"] == "no_answer"
    assert len(seen["visits"]) == 1  # the volunteer's visit reached the server
    _visit(lead, world.assignment_a, "done")
    assert lead.sync().acked == 1

    volunteer.sync()
    assert not volunteer.clock_wrong
    record = volunteer.get("assignment", world.assignment_a)
    assert record is not None and record["status"] == "done"  # the later change arrived
    assert len(record["visits"]) == 2


def test_a_record_left_with_a_2100_stamp_and_no_pending_op_takes_later_changes(
    backend: Backend, server: ServerProcess, tmp_path: Path
) -> None:
    """A phone that an older app left with a far-future stamp on a record (its op refused and
    dropped) is healed on its first sync: the local value stays until the server changes it."""
    world, volunteer_code, lead_code = _world(backend)
    wall = FakeWall()
    volunteer = _phone(tmp_path, "volunteer", wall)
    volunteer.enroll(server.url, volunteer_code, PIN)
    wall.fixed = YEAR_2100_MS
    volunteer.lock()
    volunteer = _reopened(tmp_path, "volunteer", wall)
    op_id = _visit(volunteer, world.assignment_a, "refused")
    volunteer.require_store().acknowledge([op_id])  # what the older app did with the refusal
    volunteer.lock()
    wall.fixed = None
    volunteer = _reopened(tmp_path, "volunteer", wall)
    assert hlc.wall_of(volunteer.clock.last) == YEAR_2100_MS  # the older app persisted it

    volunteer.sync()
    limit = hlc.wall_ms() + hlc.AHEAD_WINDOW_MS
    record = volunteer.get("assignment", world.assignment_a)
    assert record is not None and record["status"] == "refused"  # nothing local was lost
    assert all(hlc.wall_of(s.partition("@")[0]) <= limit for s in _stamps(record))

    lead = _phone(tmp_path, "lead", FakeWall())
    lead.enroll(server.url, lead_code, PIN)
    _visit(lead, world.assignment_a, "done")
    assert lead.sync().acked == 1
    volunteer.sync()
    record = volunteer.get("assignment", world.assignment_a)
    assert record is not None and record["status"] == "done"


def test_every_answer_says_the_servers_time(backend: Backend, server: ServerProcess) -> None:
    before = hlc.wall_ms()
    answers = [
        httpx.get(f"{server.url}{protocol.HEALTH_PATH}", timeout=30),
        httpx.post(f"{server.url}{protocol.SYNC_PATH}", content=b"not a frame", timeout=30),
        httpx.post(f"{server.url}{protocol.ENROLL_PATH}", json={"v": 1}, timeout=30),
    ]
    after = hlc.wall_ms()
    assert answers[0].status_code == 200
    assert all(r.status_code >= 400 for r in answers[1:])
    for r in answers:
        stamp = parse_time_header(r.headers.get(TIME_HEADER))
        assert stamp is not None and before <= stamp <= after, (r.status_code, r.headers)
