"""The phone's REAL sync engine and HTTP transport against the REAL server process."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from sync import protocol
from sync.client import DeviceRevoked, SyncEngine
from sync.domain import make_op, new_request, record_visit
from sync.hlc import HybridClock
from sync.merge import apply_op
from sync.ops import Op
from tests.integration.server.conftest import Backend, ServerProcess
from tests.integration.server.world import build_world, code_for


class Outbox:
    """A minimal in-memory phone store (the real one lives in ``app/``)."""

    def __init__(self) -> None:
        self.pending: list[Op] = []
        self.remote: dict[str, Op] = {}
        self._cursor: str | None = None
        self.receipts: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        return list(self.pending if limit is None else self.pending[:limit])

    def pending_count(self) -> int:
        return len(self.pending)

    def acknowledge(self, op_ids: Iterable[str]) -> int:
        drop = set(op_ids)
        before = len(self.pending)
        self.pending = [op for op in self.pending if op.op_id not in drop]
        return before - len(self.pending)

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        for op in ops:
            self.remote[op.op_id] = op
        self._cursor = cursor
        return 0

    def cursor(self) -> str | None:
        return self._cursor

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        self.receipts.append(receipt)

    def get_meta(self, key: str, default: Any = None) -> Any:
        return json.loads(json.dumps(self.meta.get(key, default)))

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = json.loads(json.dumps(value))

    def record(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = None
        for op in sorted(self.remote.values(), key=lambda o: o.order):
            if (op.kind, op.entity_id) == (kind, entity_id):
                found = apply_op(found, op)
        return found


def test_end_of_shift_sync_with_the_real_engine(backend: Backend, server: ServerProcess) -> None:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        code = code_for(rt, world.volunteer_a)
    finally:
        rt.close()
    outbox = Outbox()
    engine = SyncEngine(outbox)
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

    backend.cli("revoke", identity.device_id)
    with pytest.raises(DeviceRevoked):
        engine.sync()
