"""Invented data and op builders shared by the store tests."""

from __future__ import annotations

from typing import Any

from bench.store import household_fields
from sync.hlc import HybridClock
from sync.ops import Op, new_id

PIN = "246810"
DEVICE = "dev-test-01"
MEMBER = "m-test-01"

RESIDENTS: list[tuple[str, str]] = [
    ("张秀英", "13912345678"),
    ("李建国", "13800000001"),
    ("王桂兰", "13700000002"),
    ("刘德明", "13600000003"),
]


def make_op(
    clock: HybridClock,
    kind: str,
    entity_id: str,
    *,
    set: dict[str, Any] | None = None,
    add: dict[str, tuple[dict[str, Any], ...]] | None = None,
    seen: dict[str, Any] | None = None,
    device: str = DEVICE,
) -> Op:
    return Op(
        op_id=new_id("op-"),
        kind=kind,
        entity_id=entity_id,
        hlc=clock.now(),
        device=device,
        member=MEMBER,
        set=set or {},
        add=add or {},
        seen=seen or {},
    )


def resident_op(
    clock: HybridClock, entity_id: str, name: str, phone: str, household_id: str = "hh-0001"
) -> Op:
    return make_op(
        clock,
        "resident",
        entity_id,
        set={
            "household_id": household_id,
            "name": name,
            "phone": phone,
            "age_band": "60-79",
            "care_flags": ["elderly_alone"],
            "care_note": "独居老人，每日上门询问",
        },
    )


def household_op(clock: HybridClock, entity_id: str, n: int) -> Op:
    return make_op(clock, "household", entity_id, set=household_fields(n, buildings=12, rooms=2800))


def note_op(clock: HybridClock, entity_id: str, note: str) -> Op:
    return make_op(clock, "household", entity_id, set={"note": note})


def record(store: Any, kind: str, entity_id: str) -> dict[str, Any]:
    """The stored record, which the test expects to exist."""
    found: dict[str, Any] | None = store.get(kind, entity_id)
    assert found is not None, f"{kind} {entity_id} missing"
    return found
