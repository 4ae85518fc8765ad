"""Sync over HTTP against the real server process, with the real protocol codec."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from sync import protocol
from sync.ops import Op
from sync.protocol import DeviceKeys
from tests.integration.server.conftest import (
    Backend,
    Phone,
    ServerProcess,
    no_answer_op,
    phone_op,
    phone_record,
)
from tests.integration.server.helpers import fingerprint
from tests.integration.server.world import World, build_world, code_for


@dataclass
class Scene:
    backend: Backend
    server: ServerProcess
    world: World
    a: Phone  # volunteer of team A (building 1)
    b: Phone  # volunteer of team B (building 2)
    k: Phone  # coordinator


@pytest.fixture
def scene(backend: Backend, server: ServerProcess) -> Iterator[Scene]:
    rt = backend.runtime()
    try:
        world = build_world(rt)
        phones = []
        for member in (world.volunteer_a, world.volunteer_b, world.coordinator):
            phone = Phone(server.url)
            assert phone.enroll(code_for(rt, member)).status_code == 200
            phones.append(phone)
    finally:
        rt.close()
    yield Scene(backend, server, world, *phones)


def state(scene: Scene) -> dict:
    rt = scene.backend.runtime()
    try:
        return fingerprint(rt)
    finally:
        rt.close()


def test_push_then_pull_through_the_server(scene: Scene) -> None:
    a, k, w = scene.a, scene.k, scene.world
    a.pull_all()
    k.pull_all()
    op = no_answer_op(a, w.assignment_a, "v-http-1")
    resp = a.sync([op])
    assert resp.acks == [op.op_id] and resp.rejected == []
    assert resp.receipt is not None
    assert protocol.verify_receipt(resp.receipt, a.server_signing)
    k.pull_all()
    record = phone_record(k, "assignment", w.assignment_a)
    assert record is not None and record["status"] == "no_answer"
    assert [v["id"] for v in record["visits"]] == ["v-http-1"]


def test_a_retried_batch_is_answered_the_same_and_applied_once(scene: Scene) -> None:
    a, w = scene.a, scene.world
    a.pull_all()
    op = phone_op(a, "assignment", w.assignment_a, set={"status": "in_progress"})
    req = a.request([op])
    body = a.seal(req)
    first = protocol.open_response(a.post(body).content, a.keys, a.server_signing, req.batch_id)
    after_first = state(scene)
    again = protocol.open_response(a.post(body).content, a.keys, a.server_signing, req.batch_id)
    assert (again.acks, again.rejected, again.receipt) == (
        first.acks,
        first.rejected,
        first.receipt,
    )
    assert state(scene)["ops"] == after_first["ops"]
    assert state(scene)["feed"] == after_first["feed"]


def test_rejected_ops_change_nothing(scene: Scene) -> None:
    a, w = scene.a, scene.world
    a.pull_all()
    before = state(scene)
    foreign = phone_op(
        a,
        "request",
        None,
        set={
            "household_id": w.household_b,
            "category": "food_goods",
            "urgency": "routine",
            "created_at": "2022-04-01T08:00:00Z",
            "status": "new",
            "description": "需要大米",
        },
    )
    forbidden = phone_op(a, "resident", w.resident_a, set={"phone": "13800000099"})
    resp = a.sync([foreign, forbidden])
    assert resp.acks == [] and resp.receipt is None
    assert {r.op_id: r.code for r in resp.rejected} == {
        foreign.op_id: "op.out_of_scope",
        forbidden.op_id: "op.forbidden_role",
    }
    after = state(scene)
    assert {k: after[k] for k in ("ops", "feed", "records", "head")} == {
        k: before[k] for k in ("ops", "feed", "records", "head")
    }


def test_ops_with_unstorable_ids_are_rejected_not_crashed(scene: Scene) -> None:
    a, w = scene.a, scene.world
    a.pull_all()
    good = phone_op(a, "assignment", w.assignment_a, set={"status": "in_progress"})
    nul = Op(
        "op-\x00x",
        good.kind,
        good.entity_id,
        good.hlc,
        good.device,
        good.member,
        set=good.set,
        seen=good.seen,
    )
    resp = a.sync([nul, good])
    assert resp.acks == [good.op_id]
    assert [(r.op_id, r.code) for r in resp.rejected] == [(nul.op_id, "op.malformed")]
    forged = protocol.enroll_request("AAAA-BBBB-CCCC", DeviceKeys.generate(), "x")
    forged["code_id"] = "id\x00"
    r = httpx.post(f"{a.url}/v1/enroll", json=forged, timeout=30)
    assert (r.status_code, a.problem(r).code) == (404, "enroll.unknown_code")


def test_a_team_never_receives_another_teams_residents(scene: Scene) -> None:
    a, b, k, w = scene.a, scene.b, scene.k, scene.world
    for phone in (a, b, k):
        phone.pull_all()
    kinds = lambda p, kind: {o.entity_id for o in p.received.values() if o.kind == kind}  # noqa: E731
    assert kinds(a, "resident") == {w.resident_a}
    assert kinds(b, "resident") == {w.resident_b}
    assert kinds(k, "resident") == {w.resident_a, w.resident_b}
    assert w.household_b not in kinds(a, "household")
    assert w.assignment_b not in kinds(a, "assignment")
    # new data written later keeps to its scope too
    request = phone_op(
        b,
        "request",
        None,
        set={
            "household_id": w.household_b,
            "category": "medicine",
            "urgency": "urgent",
            "created_at": "2022-04-01T09:00:00Z",
            "status": "new",
            "description": "需要胰岛素",
        },
    )
    assert b.sync([request]).acks == [request.op_id]
    a.pull_all()
    k.pull_all()
    assert request.op_id not in a.received
    assert request.op_id in k.received


def test_a_revoked_device_gets_a_signed_revocation(scene: Scene) -> None:
    a, backend = scene.a, scene.backend
    a.sync()
    listing = backend.cli("devices").stdout
    assert a.device_id in listing and "active" in listing
    assert a.device_id in backend.cli("revoke", a.device_id).stdout
    before = state(scene)
    r = a.post(a.seal(a.request()))
    assert r.status_code == 403
    problem = a.problem(r)  # verifies the server's signature
    assert (problem.code, problem.device) == ("sync.revoked", a.device_id)
    assert state(scene) == before
    assert "revoked" in backend.cli("devices").stdout
    assert backend.cli("revoke", a.device_id, check=False).returncode == 1
