from __future__ import annotations

import json

import pytest

from sync.errors import ValidationError
from sync.hlc import HybridClock
from sync.ops import Op, new_id


def make() -> Op:
    return Op(
        op_id=new_id(),
        kind="assignment",
        entity_id="as-1",
        hlc=HybridClock().now(),
        device="dev-1",
        member="m-1",
        set={"status": "done"},
        add={"visits": ({"id": "v1", "outcome": "done", "at": "2026-11-29T03:00:00Z"},)},
        seen={"status": "in_progress"},
    )


def test_round_trip_through_json() -> None:
    op = make()
    again = Op.from_dict(json.loads(json.dumps(op.to_dict())))
    assert again.to_dict() == op.to_dict()
    assert again.order == (op.hlc, "dev-1")


def test_new_ids_are_unique_and_prefixed() -> None:
    ids = {new_id("r-") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("r-") for i in ids)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("i"),
        lambda d: d.update(t="yesterday"),
        lambda d: d.update(k=""),
        lambda d: d.update(s=["status"]),
        lambda d: d.update(a={"visits": [{"outcome": "done"}]}),
        lambda d: d.update(e="x" * 500),
    ],
)
def test_malformed_ops_are_refused_with_a_code(mutate) -> None:
    raw = make().to_dict()
    mutate(raw)
    with pytest.raises(ValidationError) as info:
        Op.from_dict(raw)
    assert info.value.code == "op.malformed"


def test_not_an_object() -> None:
    with pytest.raises(ValidationError):
        Op.from_dict(["i", "k"])
