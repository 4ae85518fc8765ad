"""History and transitions judged by the server, against a REAL server process (SQLite and
PostgreSQL): notes and visits cannot be rewritten or forged, a claimed ``seen`` status reopens
nothing, a visit is kept whoever holds the task now, the team pool goes to its first taker, and
a refused phone is corrected in one sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync.client import SyncEngine
from sync.domain import record_visit, transition
from sync.domain.visits import conflicting_visits, task_result
from sync.hlc import HybridClock
from sync.ops import Op
from sync.server.harness import ServerProcess
from tests.integration.server.conftest import Backend, Phone, enrolled, phone_op, phone_record
from tests.integration.server.helpers import server_record
from tests.integration.server.world import code_for


def note(phone: Phone, note_id: str, text: str, member: str | None = None) -> dict[str, Any]:
    return {
        "id": note_id,
        "at": "2022-04-01T09:00:00Z",
        "member": member or phone.member_id,
        "text": text,
    }


def visit_op(phone: Phone, assignment_id: str, outcome: str, **extra: Any) -> Op:
    record = phone_record(phone, "assignment", assignment_id)
    assert record is not None
    return record_visit(
        record,
        outcome,
        clock=HybridClock(),
        device=phone.device_id,
        member=phone.member_id,
        **extra,
    )


def claimed(phone: Phone, assignment_id: str, status: str) -> dict[str, Any]:
    """The phone's copy of the assignment with the status a modified app claims to have seen."""
    record = phone_record(phone, "assignment", assignment_id)
    assert record is not None
    return {**record, "status": status}


def lead_moves(lead: Phone, assignment_id: str, *steps: str, **values: Any) -> None:
    """The lead moves the assignment through ``steps`` (each one op, synced)."""
    for to in steps:
        record = phone_record(lead, "assignment", assignment_id)
        assert record is not None
        op = transition(
            "assignment",
            record,
            to,
            clock=HybridClock(),
            device=lead.device_id,
            member=lead.member_id,
            set=values or None,
        )
        resp = lead.sync([op])
        assert resp.acks == [op.op_id], resp.rejected
        lead.received[op.op_id] = op
        values = {}


def test_notes_cannot_be_rewritten_or_forged(backend: Backend, server: ServerProcess) -> None:
    world, (a, lead) = enrolled(backend, server.url, "volunteer_a", "lead_a")
    request = phone_op(
        lead,
        "request",
        None,
        set={
            "household_id": world.household_a,
            "category": "medicine",
            "urgency": "urgent",
            "created_at": "2022-04-01T08:00:00Z",
            "status": "new",
        },
    )
    written = note(lead, "n-lead-1", "已联系社区医生，下午送药")
    add_note = phone_op(lead, "request", request.entity_id, add={"notes": (written,)})
    assert lead.sync([request, add_note]).rejected == []
    a.pull_all()
    rewrite = phone_op(
        a,
        "request",
        request.entity_id,
        add={"notes": (note(a, "n-lead-1", "药已送到（改写）"),)},
    )
    forged = phone_op(
        a,
        "request",
        request.entity_id,
        add={"notes": (note(a, "n-forged", "队长：不用送了", member=lead.member_id),)},
    )
    resp = a.sync([rewrite, forged])
    assert {r.op_id: r.code for r in resp.rejected} == {
        rewrite.op_id: "op.child_exists",
        forged.op_id: "op.child_author",
    }
    stored = server_record(backend, "request", request.entity_id)
    assert [(n["id"], n["text"], n["member"]) for n in stored["notes"]] == [
        ("n-lead-1", "已联系社区医生，下午送药", lead.member_id)
    ]
    # the answer carries the server's copy, for the phone to rebuild from
    copies = {c.entity_id: c.record for c in resp.records}
    assert copies[request.entity_id] is not None
    assert [n["text"] for n in copies[request.entity_id]["notes"]] == ["已联系社区医生，下午送药"]


def test_a_claimed_status_reopens_nothing(backend: Backend, server: ServerProcess) -> None:
    world, (a, lead) = enrolled(backend, server.url, "volunteer_a", "lead_a")
    lead.pull_all()
    a.pull_all()
    lead_moves(lead, world.assignment_a, "in_progress", "done")
    reopen = phone_op(
        a,
        "assignment",
        world.assignment_a,
        set={"status": "in_progress"},
        current=claimed(a, world.assignment_a, "revisit"),
    )
    assert reopen.seen["status"] == "revisit"  # what the modified phone claims to have seen
    resp = a.sync([reopen])
    assert [(r.op_id, r.code) for r in resp.rejected] == [(reopen.op_id, "op.forbidden_role")]
    assert server_record(backend, "assignment", world.assignment_a)["status"] == "done"

    lead_moves(lead, world.assignment_a, "in_progress", "cancelled")
    a.pull_all()
    revive = phone_op(
        a,
        "assignment",
        world.assignment_a,
        set={"status": "in_progress"},
        current=claimed(a, world.assignment_a, "revisit"),
    )
    resp = a.sync([revive])
    assert [(r.code, r.params.get("status")) for r in resp.rejected] == [
        ("op.status_changed", "cancelled")
    ]
    assert server_record(backend, "assignment", world.assignment_a)["status"] == "cancelled"


def test_a_visit_is_kept_after_reassignment_and_cancellation(
    backend: Backend, server: ServerProcess
) -> None:
    world, (a, lead, k) = enrolled(backend, server.url, "volunteer_a", "lead_a", "coordinator")
    for p in (a, lead, k):
        p.pull_all()
    # the lead adds a second volunteer and reassigns the door to them while A is offline
    colleague = phone_op(
        k, "member", None, set={"name": "孙晓燕", "role": "volunteer", "team_id": world.team_a}
    )
    assert k.sync([colleague]).rejected == []
    lead.pull_all()
    offline_visit = visit_op(a, world.assignment_a, "done", result={"condition": "ok"})
    reassign = phone_op(
        lead, "assignment", world.assignment_a, set={"assignee_id": colleague.entity_id}
    )
    assert lead.sync([reassign]).rejected == []
    resp = a.sync([offline_visit])
    assert resp.acks == [offline_visit.op_id] and resp.rejected == [] and resp.partial == []
    stored = server_record(backend, "assignment", world.assignment_a)
    assert stored["status"] == "done"  # nobody knocks again
    assert stored["assignee_id"] == colleague.entity_id
    assert [v["id"] for v in stored["visits"]] == [offline_visit.add["visits"][0]["id"]]
    assert task_result(stored) == {"condition": "ok"}

    # the lead cancels the other door's follow-up; A's offline visit there is kept all the same
    lead_moves(lead, world.assignment_a, "in_progress", "cancelled")
    late = visit_op(a, world.assignment_a, "refused")  # A's copy still says done
    resp = a.sync([late])
    assert resp.acks == [late.op_id]
    stored = server_record(backend, "assignment", world.assignment_a)
    assert stored["status"] == "cancelled"
    assert len(stored["visits"]) == 2
    copies = {c.entity_id: c.record for c in resp.records}
    assert copies[world.assignment_a] == stored  # the phone is told what the server holds


def test_the_team_pool_goes_to_the_first_taker(backend: Backend, server: ServerProcess) -> None:
    world, (a, lead, k) = enrolled(backend, server.url, "volunteer_a", "lead_a", "coordinator")
    pool = phone_op(
        k,
        "assignment",
        None,
        set={
            "type": "welfare_check",
            "target_kind": "household",
            "target_id": world.household_a,
            "team_id": world.team_a,
            "status": "pending",
        },
    )
    assert k.sync([pool]).rejected == []
    a.pull_all()
    lead.pull_all()
    take = phone_op(lead, "assignment", pool.entity_id, set={"assignee_id": lead.member_id})
    visit = visit_op(a, pool.entity_id, "done", result={"condition": "ok"})
    assert visit.set["assignee_id"] == a.member_id  # a visit on a pool task claims it
    assert lead.sync([take]).rejected == []
    resp = a.sync([visit])
    assert resp.acks == [visit.op_id]
    assert [(r.code, r.params["by"], r.params["dropped"]) for r in resp.partial] == [
        ("op.already_claimed", lead.member_id, ["assignee_id"])
    ]
    stored = server_record(backend, "assignment", pool.entity_id)
    assert stored["assignee_id"] == lead.member_id and stored["status"] == "done"
    assert len(stored["visits"]) == 1


def test_a_refused_phone_equals_the_server_after_one_sync(
    backend: Backend, server: ServerProcess, tmp_path: Path
) -> None:
    from app.store import LocalStore

    world, (lead,) = enrolled(backend, server.url, "lead_a")
    rt = backend.runtime()
    try:
        code = code_for(rt, world.volunteer_a)
    finally:
        rt.close()
    store = LocalStore.create(tmp_path / "phone", "246810")
    try:
        engine = SyncEngine(store)
        me = engine.enroll(server.url, code, "王桂兰的手机")
        engine.sync()
        lead.pull_all()
        lead_moves(lead, world.assignment_a, "in_progress", "cancelled")
        mine = store.get("assignment", world.assignment_a)
        assert mine is not None and mine["status"] == "pending"
        visit = record_visit(
            mine,
            "done",
            clock=HybridClock(),
            device=me.device_id,
            member=me.member_id,
            result={"condition": "ok"},
        )
        store.record_change(visit)
        assert store.get("assignment", world.assignment_a)["status"] == "done"  # type: ignore[index]
        summary = engine.sync()
        assert summary.acked == 1 and [r.code for r in summary.partial] == ["op.status_changed"]
        stored = server_record(backend, "assignment", world.assignment_a)
        assert store.get("assignment", world.assignment_a) == stored
        assert stored["status"] == "cancelled" and len(stored["visits"]) == 1
        assert conflicting_visits(stored) == stored["visits"]
        assert engine.rejections()[-1]["partial"] is True
    finally:
        store.close()
