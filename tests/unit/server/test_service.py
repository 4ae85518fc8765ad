"""The sync service end to end in-process: push, idempotency, counters, scope, revocation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from sync import protocol
from sync.ops import Op
from sync.protocol import Rejection
from sync.server import db, devices, review
from sync.server.batches import BatchAnswer
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import World, build_world
from tests.unit.server.inproc import LocalPhone


@pytest.fixture
def world(rt: Runtime) -> World:
    return build_world(rt)


@pytest.fixture
def service(rt: Runtime) -> Iterator[SyncService]:
    yield SyncService(rt)


def phone(rt: Runtime, service: SyncService, member: str) -> LocalPhone:
    return LocalPhone.enrolled(rt, service, member)


@pytest.fixture
def pair(rt: Runtime, service: SyncService, world: World) -> tuple[LocalPhone, LocalPhone]:
    """A volunteer's phone and a coordinator's, each pulled up to date."""
    a, k = phone(rt, service, world.volunteer_a), phone(rt, service, world.coordinator)
    a.pull_all()
    k.pull_all()
    return a, k


@pytest.fixture
def a(rt: Runtime, service: SyncService, world: World) -> LocalPhone:
    """The volunteer's (volunteer_a's) phone, pulled up to date."""
    phone_a = phone(rt, service, world.volunteer_a)
    phone_a.pull_all()
    return phone_a


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(db.ops)).scalar_one(),
            conn.execute(select(func.count()).select_from(db.feed)).scalar_one(),
            db.get_counter(conn, "head"),
        )


def server_record(rt: Runtime, kind: str, entity_id: str) -> dict[str, Any]:
    """The server's merged record (``{}`` if there is none)."""
    with rt.db.read() as conn:
        return rt.ledger.world(conn).record(kind, entity_id) or {}


def test_push_is_acked_with_a_verifiable_receipt_and_merged(
    rt: Runtime, service: SyncService, world: World, a: LocalPhone
) -> None:
    op = a.op("assignment", world.assignment_a, set={"status": "in_progress"})
    resp = a.sync([op])
    assert resp.acks == [op.op_id] and resp.rejected == []
    assert resp.receipt is not None and resp.receipt.ops == [op.op_id]
    assert protocol.verify_receipt(resp.receipt, rt.keys.signing.public_bytes())
    assert server_record(rt, "assignment", world.assignment_a)["status"] == "in_progress"
    assert op.op_id not in a.received  # a device is not sent its own ops back


def test_a_retried_batch_gets_the_same_answer_and_applies_nothing_twice(
    rt: Runtime, service: SyncService, world: World, a: LocalPhone
) -> None:
    visit = {"id": "v-1", "at": "2022-04-01T08:00:00Z", "member": a.member_id, "outcome": "done"}
    op = a.op("assignment", world.assignment_a, set={"status": "done"}, add={"visits": (visit,)})
    req = a.request([op])
    first = a.send(req)
    before = counts(rt)
    again = a.send(req)
    assert (again.acks, again.rejected, again.receipt) == (
        first.acks,
        first.rejected,
        first.receipt,
    )
    assert counts(rt) == before
    # the same op in a NEW batch is acked again, not applied twice
    third = a.sync([op])
    assert third.acks == [op.op_id]
    assert counts(rt) == before
    assert len(server_record(rt, "assignment", world.assignment_a)["visits"]) == 1


def test_rejected_ops_change_nothing_and_come_back_coded(
    rt: Runtime, service: SyncService, world: World, a: LocalPhone
) -> None:
    before = counts(rt)
    foreign = a.op(
        "request",
        None,
        set={
            "household_id": world.household_b,
            "category": "medicine",
            "urgency": "urgent",
            "created_at": "2022-04-01T08:00:00Z",
            "status": "new",
        },
    )
    resident_edit = a.op("resident", world.resident_a, set={"care_note": "已改"})
    title = a.op("assignment", world.assignment_a, set={"title": "改标题"})
    resp = a.sync([foreign, resident_edit, title])
    assert resp.acks == [] and resp.receipt is None
    assert [(r.op_id, r.code) for r in resp.rejected] == [
        (foreign.op_id, "op.out_of_scope"),
        (resident_edit.op_id, "op.forbidden_role"),
        (title.op_id, "op.forbidden_role"),
    ]
    assert counts(rt) == before
    assert server_record(rt, "request", foreign.entity_id) == {}
    assert "care_note" not in server_record(rt, "resident", world.resident_a)


def test_invalid_and_future_ops_are_rejected_alone(
    rt: Runtime, service: SyncService, world: World, a: LocalPhone
) -> None:
    good = a.op("assignment", world.assignment_a, set={"status": "in_progress"})
    future = Op(
        "op-future",
        "assignment",
        world.assignment_a,
        "999999999999999:00000",
        a.device_id,
        a.member_id,
        set={"status": "done"},
        seen={"status": "in_progress"},
    )
    invalid = Op(
        "op-bad",
        "assignment",
        world.assignment_a,
        good.hlc,
        a.device_id,
        a.member_id,
        set={"status": "teleported"},
    )
    resp = a.sync([future, good, invalid])
    assert resp.acks == [good.op_id]
    codes = {r.op_id: r.code for r in resp.rejected}
    assert codes["op-future"] == "op.clock_ahead"
    assert codes["op-bad"].startswith("validation.")


def test_counters_must_increase_and_batch_ids_belong_to_one_device(
    rt: Runtime, service: SyncService, world: World
) -> None:
    a = phone(rt, service, world.volunteer_a)
    b = phone(rt, service, world.volunteer_b)
    a.sync(counter=10)
    a.counter = 10
    assert a.refused(a.seal(a.request(counter=10))) == "sync.replay"
    assert a.refused(a.seal(a.request(counter=3))) == "sync.replay"
    taken = a.request()
    a.send(taken)
    assert b.refused(b.seal(b.request(batch=taken.batch_id))) == "sync.replay"


def test_pull_is_scoped_to_the_team_and_coordinators_see_all(
    rt: Runtime, service: SyncService, world: World
) -> None:
    a = phone(rt, service, world.volunteer_a)
    b = phone(rt, service, world.volunteer_b)
    k = phone(rt, service, world.coordinator)
    for p in (a, b, k):
        p.pull_all()
    assert a.seen_ids("resident") == {world.resident_a}
    assert b.seen_ids("resident") == {world.resident_b}
    assert k.seen_ids("resident") == {world.resident_a, world.resident_b}
    assert a.seen_ids("household") == {world.household_a}
    assert world.building_b not in a.seen_ids("place")
    assert world.community in a.seen_ids("place")
    assert a.seen_ids("team") == {world.team_a}


def test_pages_follow_the_limit_and_the_cursor(
    rt: Runtime, service: SyncService, world: World
) -> None:
    k = phone(rt, service, world.coordinator)
    seen: list[str] = []
    pages = 0
    while True:
        resp = k.sync(limit=4)
        pages += 1
        assert len(resp.changes) <= 4
        seen.extend(op.op_id for op in resp.changes)
        if not resp.more:
            break
    assert len(seen) == len(set(seen)) == counts(rt)[0]
    assert pages == -(-len(seen) // 4) or pages == -(-len(seen) // 4) + 1
    assert k.sync().changes == []


def test_moving_a_team_area_feeds_the_history_to_the_team(
    rt: Runtime, world: World, pair: tuple[LocalPhone, LocalPhone]
) -> None:
    a, k = pair
    assert world.resident_b not in a.seen_ids("resident")
    grow = k.op("team", world.team_a, set={"area": [world.building_a, world.building_b]})
    assert k.sync([grow]).acks == [grow.op_id]
    a.pull_all()
    assert world.resident_b in a.seen_ids("resident")
    assert (a.record("resident", world.resident_b) or {}).get("name") == "李建国"
    assert world.building_b in a.seen_ids("place")


def test_moving_a_household_feeds_its_residents_to_the_new_team(
    rt: Runtime, world: World, pair: tuple[LocalPhone, LocalPhone]
) -> None:
    a, k = pair
    move = k.op("household", world.household_b, set={"place_id": world.unit_a})
    assert k.sync([move]).acks == [move.op_id]
    a.pull_all()
    assert world.resident_b in a.seen_ids("resident")
    assert world.assignment_b in a.seen_ids("assignment")


def test_a_revoked_device_hands_its_ops_to_review_then_is_refused(
    rt: Runtime, service: SyncService, world: World
) -> None:
    a = phone(rt, service, world.volunteer_a)
    a.sync()
    with rt.db.write() as conn:
        assert devices.revoke(conn, a.device_id, protocol.now_ms())
        assert not devices.revoke(conn, a.device_id, protocol.now_ms())
    before = counts(rt)
    op = a.op("assignment", world.assignment_a, set={"status": "in_progress"})
    answer = a.sync([op])
    assert answer.acks == [] and answer.receipt is None and answer.changes == []
    assert [(r.op_id, r.code) for r in answer.rejected] == [(op.op_id, review.REVOKED_CODE)]
    assert answer.wipe == "revoked"
    assert counts(rt) == before  # nothing entered the data
    with rt.db.read() as conn:
        assert [i.op_id for i in review.listing(conn, rt.vault)] == [op.op_id]
    assert a.refused(a.seal(a.request())) == "sync.revoked"  # nothing left to hand over
    assert counts(rt) == before


def test_unknown_devices_are_refused(rt: Runtime, service: SyncService, world: World) -> None:
    stranger = LocalPhone(rt, service, device_id="dv-nobody")
    assert stranger.refused(stranger.seal(stranger.request())) == "sync.unknown_device"
    system = LocalPhone(rt, service, device_id=devices.SYSTEM_DEVICE)
    assert system.refused(system.seal(system.request())) == "sync.unknown_device"


def test_role_changes_apply_at_the_next_sync(
    rt: Runtime, world: World, pair: tuple[LocalPhone, LocalPhone]
) -> None:
    a, k = pair
    title = a.op("assignment", world.assignment_a, set={"title": "换人跟进"})
    assert a.sync([title]).rejected[0].code == "op.forbidden_role"
    promote = k.op("member", world.volunteer_a, set={"role": "team_lead"})
    assert k.sync([promote]).acks == [promote.op_id]
    again = a.op("assignment", world.assignment_a, set={"title": "换人跟进"})
    assert a.sync([again]).acks == [again.op_id]


def test_a_member_moved_to_another_team_receives_its_history(
    rt: Runtime, world: World, pair: tuple[LocalPhone, LocalPhone]
) -> None:
    a, k = pair
    assert world.resident_b not in a.seen_ids("resident")
    move = k.op("member", world.volunteer_a, set={"team_id": world.team_b})
    assert k.sync([move]).acks == [move.op_id]
    a.pull_all()
    assert world.resident_b in a.seen_ids("resident")
    assert world.team_b in a.seen_ids("team")


def test_a_restart_survives_a_lost_answer(rt: Runtime, service: SyncService, world: World) -> None:
    a = phone(rt, service, world.volunteer_a)
    k = phone(rt, service, world.coordinator)
    a.pull_all()
    k.pull_all()
    grow = k.op("team", world.team_a, set={"area": [world.building_a, world.building_b]})
    assert k.sync([grow]).acks == [grow.op_id]
    req = a.request(limit=1000)
    service.handle(a.seal(req))  # the answer is lost on the way
    retry = a.send(req)  # the same batch again
    assert world.resident_b in {op.entity_id for op in retry.changes}


def test_the_stored_batch_answer_keeps_the_shape_already_stored() -> None:
    answer = BatchAnswer(
        acks=["op-1"],
        rejected=[Rejection("op-2", "op.forbidden", {"kind": "team"})],
        receipt=None,
        restart=True,
    )
    raw = answer.to_dict()
    assert raw == {
        "acks": ["op-1"],
        "rejected": [{"op": "op-2", "code": "op.forbidden", "params": {"kind": "team"}}],
        "receipt": None,
        "restart": True,
    }
    assert BatchAnswer.from_dict(raw) == answer
    older = {k: v for k, v in raw.items() if k != "restart"}  # stored before restarts existed
    assert BatchAnswer.from_dict(older).restart is False


def test_a_leads_phone_is_told_how_the_teams_phones_last_reported(
    rt: Runtime, service: SyncService, world: World
) -> None:
    volunteer = phone(rt, service, world.volunteer_a)
    lead = phone(rt, service, world.lead_a)
    other_team = phone(rt, service, world.volunteer_b)
    req = volunteer.request()
    volunteer.send(dataclasses.replace(req, client=protocol.ClientReport("0.9.1", 3, pending=4)))
    other_team.sync()
    answer = lead.sync()
    assert answer.team is not None
    told = {p.member: p for p in answer.team}
    assert set(told) == {world.volunteer_a, world.lead_a}  # the team's phones only
    mine = told[world.volunteer_a]
    assert (mine.pending, mine.app) == (4, "0.9.1") and mine.last_sync is not None
    assert volunteer.sync().team is None  # a volunteer is not told
