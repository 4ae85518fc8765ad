"""An old phone meets data from a newer release, against a REAL server process (SQLite and
PostgreSQL): the ops it cannot judge are deferred — kept, never skipped — while its cursor moves
on and its own work still syncs; once the app is updated they are applied and the phone equals
the server again. (A newer server is stood in for by writing its op straight into the feed.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

import sync.domain.schema as schema_module
import sync.domain.validation as validation_module
from app.store import LocalStore
from sync.client import SyncEngine
from sync.domain import record_visit
from sync.domain.values import text
from sync.hlc import HybridClock
from sync.ops import Op
from sync.server import admin
from sync.server.harness import ServerProcess
from tests.integration.server.conftest import Backend
from tests.integration.server.helpers import server_record
from tests.integration.server.world import build_world, code_for

OLD_SCHEMA = schema_module.SCHEMA_VERSION


def newer_build(monkeypatch: Any) -> None:
    """This process's domain becomes the next release's: assignments gain ``gate_code``."""
    spec = validation_module.KINDS["assignment"]
    fields = MappingProxyType({**spec.fields, "gate_code": text(20)})
    kinds = {**validation_module.KINDS, "assignment": dataclasses.replace(spec, fields=fields)}
    monkeypatch.setattr(validation_module, "KINDS", MappingProxyType(kinds))
    monkeypatch.setattr(validation_module, "SCHEMA_VERSION", OLD_SCHEMA + 1)


def test_an_old_phone_defers_what_it_cannot_judge_and_loses_nothing(
    backend: Backend, server: ServerProcess, tmp_path: Path, monkeypatch: Any
) -> None:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        code = code_for(rt, world.volunteer_a)
    finally:
        rt.close()
    store = LocalStore.create(tmp_path / "phone", "246810")
    try:
        engine = SyncEngine(store, app_version="old")
        me = engine.enroll(server.url, code, "王桂兰的手机")
        engine.sync()

        # a newer release of the server writes a field this build has never heard of
        newer = Op(
            "op-from-the-next-release",
            "assignment",
            world.assignment_a,
            HybridClock().now(),
            "srv-system",
            "system",
            set=MappingProxyType({"gate_code": "3号门", "priority": "high"}),
            schema=OLD_SCHEMA + 1,
        )
        rt = backend.runtime()
        try:
            with rt.db.write() as conn:
                outcome = rt.ledger.commit(conn, admin.SYSTEM_ACTOR, [newer], validate=False)
            assert outcome.acks == [newer.op_id]
        finally:
            rt.close()

        mine = store.get("assignment", world.assignment_a)
        assert mine is not None
        visit = record_visit(
            mine,
            "done",
            clock=HybridClock(),
            device=me.device_id,
            member=me.member_id,
            result={"condition": "ok"},
        )
        store.record_change(visit)
        summary = engine.sync()
        assert summary.acked == 1  # its own work still goes through
        assert store.deferred_count() == 1  # kept, not skipped
        assert "gate_code" not in (store.get("assignment", world.assignment_a) or {})
        assert engine.sync().received == 0  # the cursor moved past it: nothing comes twice

        # the app is updated: the deferred op is applied when the store opens
        store.close()
        newer_build(monkeypatch)
        store = LocalStore.open(tmp_path / "phone", "246810")
        assert store.apply_deferred() == 1
        stored = server_record(backend, "assignment", world.assignment_a)
        assert store.get("assignment", world.assignment_a) == stored
        assert stored["gate_code"] == "3号门" and len(stored["visits"]) == 1
    finally:
        store.close()
