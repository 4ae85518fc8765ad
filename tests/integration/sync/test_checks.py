"""The end-to-end checks themselves must catch what they look for (no check that cannot fail)."""

from __future__ import annotations

from bench.audit import duplicated_children, missing_effects
from sync.hlc import HybridClock
from sync.merge import apply_op
from sync.ops import Op


def _op(clock: HybridClock, device: str, **kw: object) -> Op:
    return Op(f"op-{device}-{clock.now()}", "request", "rq-1", clock.now(), device, "mb-1", **kw)  # type: ignore[arg-type]


def test_missing_effects_sees_a_lost_child_and_a_lost_field() -> None:
    clock = HybridClock()
    note = {"id": "n-1", "at": "2022-04-01T08:30:00Z", "member": "mb-1", "text": "需要大米"}
    first = _op(clock, "dv-a", set={"description": "需要大米和食用油"})
    second = _op(clock, "dv-b", add={"notes": (note,)})
    record = apply_op(None, first)
    assert missing_effects(first, record) == []
    assert missing_effects(second, record) == ["notes:n-1"]
    assert missing_effects(second, apply_op(record, second)) == []
    later = _op(clock, "dv-d", set={"description": "新的描述"})
    assert missing_effects(later, record) == ["field:description"]
    assert missing_effects(first, apply_op(record, later)) == []  # superseded, not lost
    assert missing_effects(first, None) == ["record"]


def test_duplicated_children_are_reported() -> None:
    visit = {"id": "v-1", "at": "2022-04-01T08:30:00Z", "outcome": "done"}
    assert duplicated_children([{"id": "as-1", "visits": [visit]}]) == []
    assert duplicated_children([{"id": "as-1", "visits": [visit, dict(visit)]}]) == [
        ("as-1", "v-1")
    ]
