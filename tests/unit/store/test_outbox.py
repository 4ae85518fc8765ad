from __future__ import annotations

from pathlib import Path

import pytest

from app.store import LocalStore
from sync import hlc
from sync.errors import ValidationError
from sync.hlc import HybridClock
from sync.ops import Op, new_id
from tests.unit.store.helpers import PIN, household_op, make_op, note_op, record, resident_op


def test_outbox_keeps_record_order_and_limit(store: LocalStore, clock: HybridClock) -> None:
    ops = [household_op(clock, f"hh-{n}", n) for n in range(5)]
    ops.append(note_op(clock, "hh-0", "第二次"))
    for op in ops[:3]:
        store.record_change(op)
    store.record_changes(ops[3:])
    assert [o.op_id for o in store.pending_ops()] == [o.op_id for o in ops]
    assert [o.op_id for o in store.pending_ops(limit=2)] == [o.op_id for o in ops[:2]]
    assert store.pending_ops()[5] == ops[5]
    assert store.pending_count() == 6


def test_acknowledge_drops_exactly_the_given_ops(
    store: LocalStore, store_dir: Path, clock: HybridClock
) -> None:
    ops = [household_op(clock, f"hh-{n}", n) for n in range(6)]
    store.record_changes(ops)
    assert store.acknowledge([ops[1].op_id, ops[4].op_id, "op-unknown", ops[1].op_id]) == 2
    assert store.acknowledge(["op-unknown"]) == 0
    assert store.acknowledge([]) == 0
    left = [ops[i].op_id for i in (0, 2, 3, 5)]
    assert [o.op_id for o in store.pending_ops()] == left
    assert store.count("household") == 6  # acknowledging never touches records
    newer = household_op(clock, "hh-9", 9)
    store.record_change(newer)
    store.close()
    again = LocalStore.open(store_dir, PIN)
    assert [o.op_id for o in again.pending_ops()] == [*left, newer.op_id]
    again.close()


def test_recording_the_same_op_twice_queues_it_once(store: LocalStore, clock: HybridClock) -> None:
    op = household_op(clock, "hh-1", 1)
    store.record_change(op)
    store.record_changes([op, op])
    assert store.pending_count() == 1


def test_invalid_op_in_a_batch_writes_nothing(store: LocalStore, clock: HybridClock) -> None:
    good = household_op(clock, "hh-1", 1)
    bad = make_op(clock, "household", "hh-2", set={"no_such_field": "x"})
    with pytest.raises(ValidationError):
        store.record_changes([good, bad])
    assert store.pending_count() == 0
    assert store.get("household", "hh-1") is None


def test_apply_remote_merges_without_outbox_and_stores_cursor(
    store: LocalStore, store_dir: Path, clock: HybridClock
) -> None:
    other = HybridClock()
    remote = [
        household_op(other, "hh-1", 1),
        resident_op(other, "r-1", "李建国", "13800000001", household_id="hh-1"),
    ]
    heard: list[frozenset[str]] = []
    store.add_listener(heard.append)
    assert store.apply_remote(remote, "c-0001") == 2
    assert store.pending_count() == 0
    assert store.cursor() == "c-0001"
    assert record(store, "resident", "r-1")["name"] == "李建国"
    assert heard == [frozenset({"household", "resident", "meta"})]
    # the same ops again change nothing; a newer cursor still moves
    snapshot = store.all("household")
    assert store.apply_remote(remote, "c-0002") == 2
    assert store.all("household") == snapshot
    assert store.cursor() == "c-0002"
    assert store.apply_remote([], None) == 0
    assert store.cursor() == "c-0002"
    store.close()
    again = LocalStore.open(store_dir, PIN)
    assert again.cursor() == "c-0002"
    assert again.pending_count() == 0
    again.close()


def test_apply_remote_skips_invalid_ops_and_keeps_the_rest(
    store: LocalStore, clock: HybridClock
) -> None:
    bad = make_op(clock, "household", "hh-2", set={"no_such_field": "x"})
    alien = make_op(clock, "spaceship", "s-1", set={"name": "x"})
    good = household_op(clock, "hh-1", 1)
    assert store.apply_remote([bad, alien, good], "c-1") == 1
    assert [op_id for op_id, _code in store.last_rejected] == [bad.op_id, alien.op_id]
    assert store.get("household", "hh-1") is not None
    assert store.get("household", "hh-2") is None


def test_remote_ops_merge_last_writer_wins_with_local_edits(
    store: LocalStore, clock: HybridClock
) -> None:
    store.record_change(household_op(clock, "hh-1", 1))
    local = note_op(clock, "hh-1", "本机修改")
    store.record_change(local)
    wall = hlc.wall_of(local.hlc)

    def remote(ms: int, note: str) -> Op:
        return Op(
            new_id("op-"),
            "household",
            "hh-1",
            hlc.encode(ms, 0),
            "dev-remote",
            "m-2",
            set={"note": note},
        )

    store.apply_remote([remote(wall - 60_000, "远端较旧")], "c-1")
    assert record(store, "household", "hh-1")["note"] == "本机修改"
    store.apply_remote([remote(wall + 60_000, "远端较新")], "c-2")
    assert record(store, "household", "hh-1")["note"] == "远端较新"
    assert store.pending_count() == 2
