"""The sync engine against a fake server transport running the real protocol code."""

from __future__ import annotations

import pytest

from sync import protocol
from sync.client import DeviceRevoked, Identity, SyncEngine, SyncProgress
from sync.client.engine import META_COUNTER, META_INFLIGHT, META_REJECTIONS
from sync.errors import SyncError
from sync.ops import Op
from sync.protocol import ServerKeys

from ..protocol.sample_ops import shift_ops
from .fakes import FakeServerTransport, MemoryOutbox, Problem

CODE = "PQ7R-X2KD-M9TA"


def enrolled(
    ops: list[Op] | None = None, **server_kw: object
) -> tuple[SyncEngine, FakeServerTransport, MemoryOutbox]:
    server = FakeServerTransport(**server_kw)  # type: ignore[arg-type]
    server.add_code(CODE, "mem-7")
    outbox = MemoryOutbox(ops or [])
    engine = SyncEngine(outbox)
    engine.enroll(server, CODE, "张秀英的手机")
    return engine, server, outbox


# -- enrollment -----------------------------------------------------------


def test_enroll_pins_the_server_keys_and_round_trips_the_identity() -> None:
    engine, server, _ = enrolled()
    ident = engine.identity
    assert ident is not None
    assert ident.device_id in server.devices
    assert (ident.member_id, ident.name, ident.role, ident.team_id) == (
        "mem-7",
        "王桂兰",
        "volunteer",
        "team-1",
    )
    assert ident.server_signing_public == server.keys.signing.public_bytes()
    assert ident.server_sealing_public == server.keys.sealing.public_bytes()
    assert server.devices[ident.device_id].signing_public == ident.keys.signing.public_bytes()
    again = Identity.from_dict(ident.to_dict())
    assert again.to_dict() == ident.to_dict()


def test_enroll_refuses_a_swapped_server_key() -> None:
    server = FakeServerTransport(mitm_server_keys=ServerKeys.generate())
    server.add_code(CODE, "mem-7")
    engine = SyncEngine(MemoryOutbox())
    with pytest.raises(SyncError) as err:
        engine.enroll(server, CODE, "phone")
    assert err.value.code == "enroll.bad_mac"
    assert engine.identity is None


@pytest.mark.parametrize(
    ("served", "shown"),
    [("enroll.bad_proof", "enroll.bad_proof"), ("enroll.no_such_text", "sync.server_problem")],
)
def test_enroll_refusal_shows_the_servers_code_when_it_has_text(served: str, shown: str) -> None:
    server = FakeServerTransport(problems=[Problem(401, served, signed=False)])
    server.add_code(CODE, "mem-7")
    engine = SyncEngine(MemoryOutbox())
    with pytest.raises(SyncError) as err:
        engine.enroll(server, CODE, "phone")
    assert err.value.code == shown
    assert engine.identity is None


def test_sync_before_enrolling_is_refused() -> None:
    with pytest.raises(SyncError) as err:
        SyncEngine(MemoryOutbox()).sync()
    assert err.value.code == "sync.not_enrolled"


# -- push, pull, batching ---------------------------------------------------


def test_end_of_shift_sync_is_one_round_trip() -> None:
    ops = shift_ops(300)
    engine, server, outbox = enrolled(ops)
    summary = engine.sync()
    assert summary.round_trips == 1
    assert (summary.sent, summary.acked, summary.pending) == (300, 300, 0)
    assert outbox.pending == []
    assert [op.op_id for op in server.log] == [op.op_id for op in ops]
    assert len(outbox.receipts) == 1 and sorted(outbox.receipts[0]["ops"]) == sorted(
        op.op_id for op in ops
    )
    assert outbox.cursor() == "300"
    assert summary.received == 300  # the server echoes this device's own ops back in the pull


def test_large_outbox_goes_in_batches_of_at_most_500() -> None:
    engine, server, outbox = enrolled(shift_ops(1200))
    summary = engine.sync()
    assert [len(r.ops) for r in server.requests] == [500, 500, 200]
    assert len({r.batch_id for r in server.requests}) == 3
    counters = [r.counter for r in server.requests]
    assert counters == sorted(set(counters))
    assert summary.acked == 1200 and outbox.pending == []


def test_priority_lane_goes_first_with_follow_ups_of_urgent_requests() -> None:
    ops = shift_ops(60, urgent_every=10)
    urgent = ops[0]
    follow_up = Op(
        "o-follow",
        "request",
        urgent.entity_id,
        ops[-1].hlc,
        "dev-1",
        "mem-1",
        set={"status": "in_progress"},
    )
    ops.append(follow_up)
    engine, server, _ = enrolled(ops)
    engine.single_trip_bytes = 0  # as if the push were too big for one request
    engine.sync()
    first, second = server.requests[0], server.requests[1]
    assert first.priority and not second.priority
    lane = {op.op_id for op in first.ops}
    assert "o-follow" in lane
    assert all(op.kind == "request" for op in first.ops)
    assert lane == {op.op_id for op in ops if op.set.get("urgency") in ("urgent", "emergency")} | {
        "o-follow"
    }
    assert len(first.ops) + len(second.ops) == len(ops)
    assert first.pull_limit <= 100


def test_keeps_pulling_while_the_server_has_more() -> None:
    engine, server, outbox = enrolled()
    server.log.extend(shift_ops(250, device="dev-other", seed=3))
    engine.pull_limit = engine.first_pull_limit = 100
    summary = engine.sync()
    assert summary.round_trips == 3
    assert summary.received == 250 and not summary.more
    assert len(outbox.remote) == 250 and outbox.cursor() == "250"
    assert [r.ops for r in server.requests] == [[], [], []]


def test_pull_stops_at_the_round_trip_cap_and_says_more() -> None:
    engine, server, _ = enrolled()
    server.log.extend(shift_ops(5, device="dev-other"))
    engine.sync()  # the first pull: a cursor from now on
    server.log.extend(shift_ops(50, device="dev-another"))
    engine.pull_limit, engine.max_round_trips = 10, 2
    summary = engine.sync()
    assert summary.round_trips == 2 and summary.more


def test_a_first_pull_runs_past_the_cap_to_the_end_with_progress() -> None:
    engine, server, outbox = enrolled()
    server.log.extend(shift_ops(50, device="dev-other"))
    engine.first_pull_limit, engine.max_round_trips = 10, 2
    steps: list[SyncProgress] = []
    summary = engine.sync(steps.append)
    assert summary.round_trips == 5 and not summary.more
    assert summary.received == 50 and len(outbox.remote) == 50
    pulled = [s.received for s in steps]
    assert pulled == sorted(pulled) and pulled[-1] == 50


def test_a_first_pull_asks_for_large_pages_later_syncs_for_ordinary_ones() -> None:
    engine, server, outbox = enrolled()
    server.log.extend(shift_ops(30, device="dev-other"))
    engine.pull_limit, engine.first_pull_limit = 10, 25
    assert engine.sync().round_trips == 2  # 25 + 5, past no cursor to the end
    server.log.extend(shift_ops(30, device="dev-another", seed=5))
    assert engine.sync().round_trips == 3  # 10 + 10 + 10
    assert [r.pull_limit for r in server.requests] == [25, 25, 10, 10, 10]
    assert len(outbox.remote) == 60


def test_the_default_first_pull_page_is_the_servers_cap() -> None:
    engine, server, _ = enrolled()
    engine.sync()
    engine.sync()
    assert [r.pull_limit for r in server.requests] == [
        protocol.MAX_PULL_LIMIT,
        protocol.DEFAULT_PULL_LIMIT,
    ]


# -- acks only after verification, retries ---------------------------------


def test_tampered_response_drops_nothing_and_retry_reuses_the_batch() -> None:
    ops = shift_ops(20)
    engine, server, outbox = enrolled(ops, tamper_responses=1)
    with pytest.raises(SyncError) as err:
        engine.sync()
    assert err.value.code == "sync.bad_signature"
    assert len(outbox.pending) == 20 and outbox.receipts == []
    summary = engine.sync()
    first, retry = server.requests
    assert (retry.batch_id, retry.counter) == (first.batch_id, first.counter)
    assert [op.op_id for op in retry.ops] == [op.op_id for op in first.ops]
    assert summary.acked == 20 and outbox.pending == []
    assert len(server.log) == 20


def test_lost_response_is_retried_with_the_same_batch_and_identical_receipt() -> None:
    engine, server, outbox = enrolled(shift_ops(40), lose_responses=1)
    with pytest.raises(SyncError):
        engine.sync()
    assert len(outbox.pending) == 40
    inflight = outbox.meta[META_INFLIGHT]
    assert inflight["batch"] == server.requests[0].batch_id
    engine.sync()
    assert outbox.pending == []
    assert server.requests[1].batch_id == server.requests[0].batch_id
    stored = server.batches[server.requests[0].batch_id]["receipt"].to_dict()
    assert outbox.receipts == [stored]
    assert len(server.log) == 40 and outbox.meta[META_INFLIGHT] is None


def test_counter_and_inflight_batch_are_persisted_before_sending() -> None:
    engine, server, outbox = enrolled(shift_ops(5), drop_requests=1)
    with pytest.raises(SyncError):
        engine.sync()
    assert server.requests == []  # nothing reached the server
    keys = [k for k, _ in outbox.meta_writes]
    assert keys[:2] == [META_COUNTER, META_INFLIGHT]
    counter = outbox.meta[META_COUNTER]
    assert outbox.meta[META_INFLIGHT]["counter"] == counter
    engine.sync()
    assert server.requests[0].counter == counter
    assert outbox.pending == []


def test_new_ops_recorded_after_a_lost_response_go_in_a_later_batch() -> None:
    engine, server, outbox = enrolled(shift_ops(10), lose_responses=1)
    with pytest.raises(SyncError):
        engine.sync()
    outbox.pending.extend(shift_ops(3, seed=99))
    engine.sync()
    first, retry, fresh = server.requests
    assert retry.batch_id == first.batch_id and len(retry.ops) == 10
    assert fresh.batch_id != first.batch_id and len(fresh.ops) == 3
    assert fresh.counter > first.counter
    assert outbox.pending == []


def test_counter_restored_from_an_old_backup_still_increases() -> None:
    engine, server, outbox = enrolled(shift_ops(2))
    engine.sync()
    outbox.meta[META_COUNTER] = 0  # store restored from an older copy
    outbox.pending.extend(shift_ops(2, seed=5))
    engine.sync()
    assert server.requests[1].counter > server.requests[0].counter


# -- rejections and problems -------------------------------------------------


def test_rejected_ops_are_recorded_then_removed() -> None:
    ops = shift_ops(30)
    engine, _, outbox = enrolled(
        ops, reject=lambda op: "op.out_of_scope" if op.kind == "resident" else None
    )
    summary = engine.sync()
    residents = [op for op in ops if op.kind == "resident"]
    assert residents and outbox.pending == []
    assert {r.op_id for r in summary.rejected} == {op.op_id for op in residents}
    kept = outbox.meta[META_REJECTIONS]
    assert {r["op"] for r in kept} == {op.op_id for op in residents}
    assert all(r["code"] == "op.out_of_scope" and r["kind"] == "resident" for r in kept)
    assert engine.rejections() == kept
    assert summary.acked == 30 - len(residents)


def test_verified_revocation_raises_device_revoked() -> None:
    engine, server, outbox = enrolled(shift_ops(5))
    server.problems.append(Problem(403, "sync.revoked"))
    with pytest.raises(DeviceRevoked):
        engine.sync()
    assert len(outbox.pending) == 5


@pytest.mark.parametrize(
    "problem",
    [Problem(403, "sync.revoked", signed=False), Problem(403, "sync.revoked", device="dev-99")],
    ids=["unsigned", "other-device"],
)
def test_unverifiable_revocation_is_only_a_transient_failure(problem: Problem) -> None:
    engine, server, outbox = enrolled(shift_ops(5))
    server.problems.append(problem)
    with pytest.raises(SyncError) as err:
        engine.sync()
    assert not isinstance(err.value, DeviceRevoked)
    assert err.value.code == "sync.server_problem"
    assert len(outbox.pending) == 5
    batch = outbox.meta[META_INFLIGHT]["batch"]
    engine.sync()
    assert server.requests[0].batch_id == batch and outbox.pending == []


def test_revocation_signed_by_an_impostor_is_not_believed() -> None:
    engine, server, outbox = enrolled(shift_ops(3))
    server.keys = ServerKeys.generate()  # someone else answers now
    server.problems.append(Problem(403, "sync.revoked"))
    with pytest.raises(SyncError) as err:
        engine.sync()
    assert not isinstance(err.value, DeviceRevoked)
    assert len(outbox.pending) == 3


def test_verified_problem_clears_the_inflight_batch() -> None:
    engine, server, outbox = enrolled(shift_ops(4))
    server.problems.append(Problem(503, "sync.server_busy"))
    with pytest.raises(SyncError) as err:
        engine.sync()
    assert err.value.code in ("sync.server_busy", "sync.server_problem")
    assert outbox.meta[META_INFLIGHT] is None and len(outbox.pending) == 4
    engine.sync()
    assert outbox.pending == [] and len(server.requests) == 1


def test_acks_for_ops_not_in_the_batch_are_ignored() -> None:
    ops = shift_ops(6)
    engine, server, outbox = enrolled(ops[:3])
    original = server._apply

    def greedy(req):  # the server claims more than it was sent
        stored = original(req)
        stored["acks"] = stored["acks"] + [op.op_id for op in ops[3:]]
        return stored

    server._apply = greedy  # type: ignore[method-assign]
    outbox.pending.extend(ops[3:])
    engine.batch_size = 3  # ops[:3] go first and the server "acks" ops[3:] with them
    summary = engine.sync()
    first, second = server.requests
    assert [op.op_id for op in first.ops] == [op.op_id for op in ops[:3]]
    assert [op.op_id for op in second.ops] == [op.op_id for op in ops[3:]]
    assert summary.acked == 6 and outbox.pending == []


# -- progress ------------------------------------------------------------


def test_progress_reports_phases_and_rising_fractions() -> None:
    engine, _, _ = enrolled(shift_ops(1100, urgent_every=50))
    seen: list[SyncProgress] = []
    engine.sync(seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert 0.0 <= fractions[0] < 1.0 and fractions[-1] == 1.0
    assert seen[-1].phase == "done" and seen[-1].sent == 1100 == seen[-1].total
    assert {p.phase for p in seen[:-1]} == {"sending"}
    assert seen[-1].round_trip == seen[-1].planned


def test_a_restored_server_gets_every_kept_op_again_in_the_same_sync() -> None:
    ops = shift_ops(30)
    engine, server, outbox = enrolled(ops, epoch="e1")
    assert engine.sync().acked == 30
    assert outbox.pending == [] and len(outbox.sent) == 30
    # the server is restored from a backup taken before any of them arrived
    server.log.clear()
    server.epoch = "e2"
    later = shift_ops(2)
    outbox.pending = list(later)
    summary = engine.sync()
    assert summary.resent == 30
    assert {op.op_id for op in server.log} == {op.op_id for op in ops + later}
    assert outbox.pending == [] and outbox.get_meta("sync.epoch") == "e2"
    again = engine.sync()  # the same epoch: nothing is sent twice
    assert again.resent == 0 and again.sent == 0


def test_a_practice_server_is_kept_in_meta_until_the_server_says_otherwise() -> None:
    engine, server, outbox = enrolled(shift_ops(1))
    engine.sync()
    assert outbox.get_meta("server.practice") is None
    server.practice = True
    engine.sync()
    assert outbox.get_meta("server.practice") is True
    server.practice = False  # e.g. the phone was enrolled again to a live server
    engine.sync()
    assert outbox.get_meta("server.practice") is None
