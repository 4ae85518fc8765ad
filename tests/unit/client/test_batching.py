"""Batch planning: the priority lane and the size limits."""

from __future__ import annotations

from sync.client.batching import is_urgent, plan_batches
from sync.ops import Op

from ..protocol.sample_ops import shift_ops


def op(i: int, kind: str = "assignment", entity: str | None = None, **fields: object) -> Op:
    return Op(f"o{i}", kind, entity or f"e{i}", f"{i:015d}:00000", "d", "m", set=fields)


def mixed_ops() -> list[Op]:
    """Two routine ops around a routine request, then an emergency and its follow-up."""
    return [
        op(1),
        op(2, "request", "r1", urgency="routine"),
        op(3, "request", "r2", urgency="emergency"),
        op(4, "request", "r2", status="in_progress"),
        op(5),
    ]


def test_urgency_decides_the_lane() -> None:
    assert is_urgent(op(1, "request", urgency="urgent"))
    assert is_urgent(op(1, "request", urgency="emergency"))
    assert not is_urgent(op(1, "request", urgency="routine"))
    assert not is_urgent(op(1, "assignment", urgency="urgent"))


def test_priority_batches_come_first_and_order_is_kept() -> None:
    ops = mixed_ops()
    batches = plan_batches(ops, single_trip_bytes=0)
    assert [(b.priority, [o.op_id for o in b.ops]) for b in batches] == [
        (True, ["o3", "o4"]),
        (False, ["o1", "o2", "o5"]),
    ]


def test_a_small_push_is_one_request_with_urgent_ops_at_its_head() -> None:
    ops = mixed_ops()
    batches = plan_batches(ops)
    assert [(b.priority, [o.op_id for o in b.ops]) for b in batches] == [
        (False, ["o3", "o4", "o1", "o2", "o5"]),
    ]
    # an end-of-shift push of 500 realistic ops is still small enough for one round trip
    shift = shift_ops(500, urgent_every=20)
    assert len(plan_batches(shift)) == 1


def test_sizes_are_capped_by_count_and_bytes() -> None:
    ops = shift_ops(1234, urgent_every=20)
    batches = plan_batches(ops, batch_size=500, priority_batch_size=25)
    assert sum(len(b.ops) for b in batches) == 1234
    assert all(len(b.ops) <= (25 if b.priority else 500) for b in batches)
    assert [b.priority for b in batches] == sorted((b.priority for b in batches), reverse=True)
    small = plan_batches(ops[:40], max_bytes=2000)
    assert len(small) > 1 and sum(len(b.ops) for b in small) == 40


def test_nothing_pending_plans_nothing() -> None:
    assert plan_batches([]) == []
