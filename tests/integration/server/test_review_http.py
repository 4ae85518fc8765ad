"""The review queue, retire and revoke against a REAL server process (``python -m sync.server
serve``) on SQLite and PostgreSQL, with the real command line and — for retire and revoke — real
phones (real encrypted store, real engine, real sync service, real HTTP).

- a volunteer's change refused for her role lands in ``review list``; ``review show`` says why;
  ``review apply`` makes it take effect and the phones receive it; ``dismiss`` closes one;
- a RETIRED phone holding 4 unsynced visits: after its next sync the server holds all 4 and the
  phone has wiped itself;
- a REVOKED phone holding 4 unsynced visits: none of them is in the server's records, the review
  queue holds exactly those 4 ops, and the phone has wiped itself; it is refused from then on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.services.device import Device
from app.services.sync_service import SyncService
from app.store import LocalStore
from sync.domain import changes
from sync.server import admin, review
from tests.integration.server.conftest import Backend, enrolled, phone_op, phone_record
from tests.integration.server.world import World, build_world, code_for

PIN = "246810"


def server_record(backend: Backend, kind: str, entity_id: str) -> dict[str, Any]:
    """The server's merged record, read from its database."""
    with backend.runtime() as rt, rt.db.read() as conn:
        return rt.ledger.world(conn).record(kind, entity_id) or {}


def review_rows(backend: Backend, state: str = "all") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        backend.cli("review", "list", "--state", state, "--json").stdout
    )
    return rows


def test_a_change_refused_for_role_is_reviewed_applied_and_reaches_the_phones(
    backend: Backend, server: Any
) -> None:
    world, (volunteer, lead) = enrolled(backend, server.url, "volunteer_a", "lead_a")
    volunteer.pull_all()
    lead.pull_all()
    fix = phone_op(volunteer, "resident", world.resident_a, set={"phone": "13900000009"})
    other = phone_op(volunteer, "resident", world.resident_a, set={"name": "张秀英（改）"})
    answer = volunteer.sync([fix, other])
    assert [r.code for r in answer.rejected] == ["op.forbidden_role"] * 2
    assert server_record(backend, "resident", world.resident_a)["phone"] == "13800000001"

    rows = review_rows(backend, "open")
    assert sorted(r["op_id"] for r in rows) == sorted([fix.op_id, other.op_id])
    by_op = {r["op_id"]: r for r in rows}
    assert {r["device"] for r in rows} == {volunteer.device_id}
    listed = backend.cli("review", "list").stdout
    assert "王桂兰" in listed and "op.forbidden_role" in listed

    shown = backend.cli("review", "show", str(by_op[fix.op_id]["id"])).stdout
    assert "Your role (volunteer) may not make this change to a resident record" in shown
    assert "王桂兰" in shown and '"13900000009"' in shown

    applied = backend.cli("review", "apply", str(by_op[fix.op_id]["id"]), "--by", "赵国华")
    assert "Applied review" in applied.stdout
    assert server_record(backend, "resident", world.resident_a)["phone"] == "13900000009"
    for phone in (volunteer, lead):
        phone.pull_all()
        got = phone_record(phone, "resident", world.resident_a)
        assert got is not None and got["phone"] == "13900000009"

    backend.cli("review", "dismiss", str(by_op[other.op_id]["id"]), "--by", "赵国华")
    assert review_rows(backend, "open") == []
    decided = {r["op_id"]: (r["state"], r["decided_by"]) for r in review_rows(backend)}
    assert decided == {fix.op_id: ("applied", "赵国华"), other.op_id: ("dismissed", "赵国华")}
    assert server_record(backend, "resident", world.resident_a)["name"] == "张秀英"


def _world_with_doors(backend: Backend) -> tuple[World, list[str], str]:
    """The invented world, four more doors for volunteer A, and an enrollment code for her."""
    rt = backend.runtime()
    try:
        world = build_world(rt)
        doors = [
            admin.assign(
                rt,
                {
                    "type": "welfare_check",
                    "target_kind": "household",
                    "target_id": world.household_a,
                    "team_id": world.team_a,
                    "assignee_id": world.volunteer_a,
                    "title": f"探访 {n}",
                },
            )
            for n in range(4)
        ]
        return world, doors, code_for(rt, world.volunteer_a)
    finally:
        rt.close()


def _phone_with_four_visits(
    backend: Backend, url: str, tmp_path: Path
) -> tuple[Device, list[str], list[str]]:
    """Volunteer A's real phone, enrolled and synced, then four doors visited offline: the
    phone, the doors and the visit ops (all still in its outbox)."""
    _world, doors, code = _world_with_doors(backend)
    device = Device(tmp_path / "phone")
    device.enroll(url, code, PIN)
    ops = []
    for door in doors:
        assignment = device.get("assignment", door)
        assert assignment is not None
        op = changes.record_visit(assignment, "done", "已探访，一切正常", **device.author())
        device.record(op)
        ops.append(op.op_id)
    assert device.require_store().pending_count() == 4
    return device, doors, ops


def _visit_ids(backend: Backend, doors: list[str]) -> list[list[str]]:
    return [
        [v["id"] for v in server_record(backend, "assignment", d).get("visits", [])] for d in doors
    ]


def test_a_retired_phone_sends_its_four_visits_then_wipes(
    backend: Backend, server: Any, tmp_path: Path
) -> None:
    device, doors, ops = _phone_with_four_visits(backend, server.url, tmp_path)
    visits = [
        [v["id"] for v in (device.get("assignment", d) or {}).get("visits", [])] for d in doors
    ]
    assert identity_device(device) in backend.cli("retire", identity_device(device)).stdout
    told: list[str] = []
    service = SyncService(device, on_wiped=told.append)
    summary = service.sync_now()
    assert summary is not None and summary.acked == 4 and summary.wipe == "retired"
    assert _visit_ids(backend, doors) == visits  # the server holds all four visits
    assert all(server_record(backend, "assignment", d)["status"] == "done" for d in doors)
    assert told == ["retired"] and device.state == "setup"
    assert not LocalStore.exists(tmp_path / "phone")
    assert review_rows(backend) == []
    rows = json.loads(backend.cli("devices", "--json").stdout)
    assert [r["status"] for r in rows] == ["retired"]
    assert sorted(op for r in summary.receipts for op in r.ops) == sorted(ops)  # signed for


def test_a_revoked_phone_hands_its_four_visits_to_review_then_wipes(
    backend: Backend, server: Any, tmp_path: Path
) -> None:
    device, doors, ops = _phone_with_four_visits(backend, server.url, tmp_path)
    device_id = identity_device(device)
    assert device_id in backend.cli("revoke", device_id).stdout
    told: list[str] = []
    service = SyncService(device, on_wiped=told.append)
    summary = service.sync_now()
    assert summary is not None and summary.acked == 0 and summary.wipe == "revoked"
    assert sorted(r.op_id for r in summary.rejected) == sorted(ops)
    assert _visit_ids(backend, doors) == [[], [], [], []]  # none entered the data
    assert all(server_record(backend, "assignment", d)["status"] == "pending" for d in doors)
    rows = review_rows(backend)
    assert sorted(r["op_id"] for r in rows) == sorted(ops)  # exactly those four
    assert {(r["code"], r["state"], r["device"]) for r in rows} == {
        (review.REVOKED_CODE, "open", device_id)
    }
    assert told == ["revoked"] and device.state == "setup"
    assert not LocalStore.exists(tmp_path / "phone")
    devices = json.loads(backend.cli("devices", "--json").stdout)
    assert [(r["status"], bool(r["revoked_at"])) for r in devices] == [("revoked", True)]


def test_a_revoked_phone_is_refused_once_it_has_nothing_to_hand_over(
    backend: Backend, server: Any
) -> None:
    world, (volunteer,) = enrolled(backend, server.url, "volunteer_a")
    volunteer.pull_all()
    backend.cli("revoke", volunteer.device_id)
    start = phone_op(volunteer, "assignment", world.assignment_a, set={"status": "in_progress"})
    held = volunteer.sync([start])
    assert held.wipe == "revoked" and held.changes == [] and held.acks == []
    refused = volunteer.post(volunteer.seal(volunteer.request()))
    assert refused.status_code == 403
    problem = volunteer.problem(refused)
    assert (problem.code, problem.device) == ("sync.revoked", volunteer.device_id)
    assert [r["op_id"] for r in review_rows(backend)] == [start.op_id]


def identity_device(device: Device) -> str:
    assert device.identity is not None
    return device.identity.device_id
