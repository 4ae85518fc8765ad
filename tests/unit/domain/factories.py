"""Invented records and a plain op builder for the domain tests (no validation, no defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.hlc import encode
from sync.ops import Op, new_id

DEVICE = "dev-test-a"
MEMBER = "mb-zhang"

HOUSEHOLD = {
    "place_id": "pl-unit-03-2",
    "building": "3栋",
    "unit": "2单元",
    "room": "1201",
    "address": "观海轩 3栋 2单元 1201",
    "phone": "13800000000",
    "control": "sealed",
}
RESIDENT = {
    "household_id": "hh-0001",
    "name": "张秀英",
    "phone": "13912345678",
    "age_band": "80+",
    "care_flags": ["elderly_alone", "chronic_illness"],
    "care_note": "独居，高血压，每日上门询问",
}
ASSIGNMENT = {
    "type": "nucleic_acid_sampling",
    "target_kind": "household",
    "target_id": "hh-0001",
    "priority": "high",
    "status": "pending",
    "title": "上门采样：观海轩 3栋 2单元 1201",
}
REQUEST = {
    "household_id": "hh-0001",
    "category": "medicine",
    "urgency": "urgent",
    "created_at": "2022-04-01T08:00:00Z",
    "due": "2022-04-01T12:00:00Z",
    "status": "new",
    "description": "需要降压药（硝苯地平）",
    "contact": "13700000002",
}


def op(
    kind: str,
    entity_id: str = "e-1",
    *,
    set: Mapping[str, Any] | None = None,
    add: Mapping[str, tuple[Mapping[str, Any], ...]] | None = None,
    seen: Mapping[str, Any] | None = None,
    ms: int = 1_648_800_000_000,
    counter: int = 0,
    device: str = DEVICE,
    member: str = MEMBER,
) -> Op:
    return Op(
        op_id=new_id("op-"),
        kind=kind,
        entity_id=entity_id,
        hlc=encode(ms, counter),
        device=device,
        member=member,
        set=set or {},
        add=add or {},
        seen=seen or {},
    )


def visit(
    outcome: str, *, vid: str = "v-1", at: str = "2022-04-01T09:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {"id": vid, "at": at, "member": MEMBER, "outcome": outcome, **extra}
