"""The phone's REAL sync engine and HTTP transport against the REAL server process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync import protocol
from sync.client import DeviceRevoked, SyncEngine
from sync.domain import make_op, new_request, record_visit
from sync.domain.schema import SCHEMA_VERSION
from sync.hlc import HybridClock
from tests.integration.server.conftest import Backend, ServerProcess
from tests.integration.server.world import build_world, code_for
from tests.unit.client.fakes import MemoryOutbox as Outbox


def test_end_of_shift_sync_with_the_real_engine(backend: Backend, server: ServerProcess) -> None:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        code = code_for(rt, world.volunteer_a)
    finally:
        rt.close()
    outbox = Outbox()
    engine = SyncEngine(outbox, app_version="0.9.1")
    identity = engine.enroll(server.url, code, "王桂兰的手机")
    assert identity.team_id == world.team_a
    first = engine.sync()
    assert first.round_trips == 1 and first.received > 0
    assignment = outbox.record("assignment", world.assignment_a)
    assert assignment is not None

    clock = HybridClock()
    me: dict[str, Any] = {
        "clock": clock,
        "device": identity.device_id,
        "member": identity.member_id,
    }
    visit = record_visit(assignment, "done", "老人状态良好", **me)
    routine = new_request(world.household_a, "food_goods", "routine", "需要大米", **me)
    outbox.pending = [visit, routine]
    summary = engine.sync()
    assert summary.round_trips == 1  # the whole end-of-shift sync is one round trip
    assert summary.acked == 2 and summary.rejected == [] and outbox.pending == []
    receipt = outbox.receipts[-1]
    assert protocol.verify_receipt(receipt, identity.server_signing_public)
    assert set(receipt["ops"]) == {visit.op_id, routine.op_id}

    urgent = new_request(world.household_a, "medicine", "emergency", "急需胰岛素", **me)
    foreign = make_op(
        "resident",
        world.resident_a,
        set={"care_note": "已改"},
        current=outbox.record("resident", world.resident_a),
        **me,
    )
    outbox.pending = [foreign, urgent]
    summary = engine.sync()
    assert summary.round_trips == 1  # a small push: one request, the urgent op at its head
    assert summary.acked == 1
    assert [(r.op_id, r.code) for r in summary.rejected] == [(foreign.op_id, "op.forbidden_role")]
    assert engine.rejections()[-1]["code"] == "op.forbidden_role"

    # every sync reports the build, the schema and what still waits: `devices` shows it
    outbox.pending = [urgent]  # as if still unsent
    engine.sync()
    listed = json.loads(backend.cli("devices", "--json").stdout)
    mine = next(d for d in listed if d["device_id"] == identity.device_id)
    assert (mine["app_version"], mine["schema_version"], mine["pending"]) == (
        "0.9.1",
        SCHEMA_VERSION,
        1,
    )

    backend.cli("revoke", identity.device_id)
    with pytest.raises(DeviceRevoked):
        engine.sync()
