"""The evolution contract, run end to end with a "next version" of the domain: assignments gain
an optional field (``gate_code``) and a new priority value (``critical``), and the schema version
goes up by one. Real phone stores and sync engines, the real server service in process; the
transport edge decides which version each side runs.

- new phone ↔ old server: the new op is refused as ``op.schema_too_new``, TEMPORARILY — it waits
  in the phone's outbox — and is accepted once the server is upgraded;
- old phone ↔ new server: the old phone keeps the op it cannot judge (deferred, not skipped: its
  cursor moves on), still syncs its own work, shows the new value as "Other (critical)";
- after the old phone's upgrade its deferred op is applied and every replica equals the server.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import sync.client.engine as engine_module
import sync.domain.changes as changes_module
import sync.domain.schema as schema_module
import sync.domain.validation as validation_module
from app.store import LocalStore
from sync import protocol
from sync.client import SyncEngine
from sync.client.ports import TransportResponse
from sync.domain import label, make_op, record_visit
from sync.domain.values import text
from sync.hlc import HybridClock
from sync.server import enrollment
from sync.server.problems import Refusal
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import World, build_world

OLD_SCHEMA = schema_module.SCHEMA_VERSION
OLD_KINDS = validation_module.KINDS
PIN = "246810"


def _next_kinds() -> MappingProxyType[str, Any]:
    spec = OLD_KINDS["assignment"]
    old_priority = spec.fields["priority"]

    def priority(field: str, value: Any) -> None:
        if value != "critical":
            old_priority(field, value)

    fields = {**spec.fields, "priority": priority, "gate_code": text(20)}
    return MappingProxyType(
        {**OLD_KINDS, "assignment": dataclasses.replace(spec, fields=MappingProxyType(fields))}
    )


NEXT_KINDS = _next_kinds()


def run_version(new: bool) -> None:
    """Make this process's domain the current one or the next."""
    version = OLD_SCHEMA + 1 if new else OLD_SCHEMA
    for module in (schema_module, validation_module, changes_module, engine_module):
        module.SCHEMA_VERSION = version  # type: ignore[attr-defined]
    validation_module.KINDS = NEXT_KINDS if new else OLD_KINDS  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def current_version_after() -> Iterator[None]:
    yield
    run_version(False)


class Wire:
    """The transport edge: hands each body to the in-process server running ``server_new``'s
    version, then puts the calling phone's version back."""

    def __init__(self, rt: Runtime, service: SyncService) -> None:
        self.rt, self.service = rt, service
        self.server_new = False
        self.phone_new = False

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        run_version(self.server_new)
        try:
            if path == protocol.ENROLL_PATH:
                answer = enrollment.enroll(self.rt, json.loads(body))
                return TransportResponse(200, protocol.canonical_json(answer))
            return TransportResponse(200, self.service.handle(body))
        except Refusal as exc:
            raise AssertionError(f"refused: {exc.error.code}") from exc
        finally:
            run_version(self.phone_new)

    def get(self, path: str) -> TransportResponse:
        raise AssertionError(path)


@dataclasses.dataclass
class Handset:
    store: LocalStore
    engine: SyncEngine
    wire: Wire
    new: bool = False

    def sync(self) -> Any:
        self.wire.phone_new = self.new
        run_version(self.new)
        return self.engine.sync()

    def author(self) -> dict[str, Any]:
        assert self.engine.identity is not None
        ident = self.engine.identity
        return {"clock": HybridClock(), "device": ident.device_id, "member": ident.member_id}


def stored_record(rt: Runtime, assignment_id: str) -> dict[str, Any]:
    with rt.db.read() as conn:
        record = rt.ledger.world(conn).record("assignment", assignment_id)
    assert record is not None
    return record


def handset(rt: Runtime, service: SyncService, path: Path, member: str) -> Handset:
    wire = Wire(rt, service)
    store = LocalStore.create(path, PIN)
    engine = SyncEngine(store, wire)
    engine.enroll(wire, enrollment.issue(rt, member).code, "测试手机")
    return Handset(store, engine, wire)


def test_old_and_new_builds_lose_nothing_and_converge(rt: Runtime, tmp_path: Path) -> None:
    world: World = build_world(rt)
    service = SyncService(rt)

    old_phone = handset(rt, service, tmp_path / "old", world.volunteer_a)
    new_phone = handset(rt, service, tmp_path / "new", world.lead_a)
    try:
        old_phone.sync()
        new_phone.sync()

        # the lead's phone is updated first; the server is not
        new_phone.new = True
        run_version(True)
        current = new_phone.store.get("assignment", world.assignment_a)
        newer = make_op(
            "assignment",
            world.assignment_a,
            set={"gate_code": "3号门", "priority": "critical"},
            current=current,
            **new_phone.author(),
        )
        assert newer.schema == OLD_SCHEMA + 1
        new_phone.store.record_change(newer)
        summary = new_phone.sync()
        assert summary.acked == 0 and summary.rejected == []  # temporary: kept, not dropped
        assert new_phone.store.pending_count() == 1
        assert "gate_code" not in stored_record(rt, world.assignment_a)

        # the server is upgraded: the waiting op goes through on the next sync
        new_phone.wire.server_new = old_phone.wire.server_new = True
        assert new_phone.sync().acked == 1
        stored = stored_record(rt, world.assignment_a)
        assert (stored["gate_code"], stored["priority"]) == ("3号门", "critical")

        # the volunteer's phone still runs the old build: it keeps what it cannot judge
        run_version(False)
        mine = old_phone.store.get("assignment", world.assignment_a)
        visit = record_visit(mine or {}, "done", result={"condition": "ok"}, **old_phone.author())
        old_phone.store.record_change(visit)
        summary = old_phone.sync()
        assert summary.acked == 1
        assert old_phone.store.deferred_count() == 1
        held = old_phone.store.get("assignment", world.assignment_a)
        assert held is not None and "gate_code" not in held
        assert label("assignment.priority", "critical", "zh-CN") == "其他（critical）"

        # the old phone is updated: its deferred op is applied and everyone converges
        old_phone.new = True
        run_version(True)
        assert old_phone.store.apply_deferred() == 1
        assert old_phone.store.deferred_count() == 0
        new_phone.sync()
        old_phone.sync()
        stored = stored_record(rt, world.assignment_a)
        assert old_phone.store.get("assignment", world.assignment_a) == stored
        assert new_phone.store.get("assignment", world.assignment_a) == stored
        assert len(stored["visits"]) == 1 and stored["status"] == "done"
    finally:
        old_phone.store.close()
        new_phone.store.close()
