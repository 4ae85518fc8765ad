"""The one plain-copy helper and the one canonical JSON encoding."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from sync.domain.jsonlike import NotJson, canonical_json, canonical_text, plain
from sync.errors import ValidationError
from sync.ops import WIRE_KEYS, Op


def test_plain_copies_mappings_and_tuples_into_fresh_plain_containers() -> None:
    inner = {"at": "2022-04-01T08:00:00Z"}
    source = MappingProxyType({"visits": (inner,), "n": 1, "ok": True, "none": None})
    copy = plain(source)
    assert copy == {"visits": [{"at": "2022-04-01T08:00:00Z"}], "n": 1, "ok": True, "none": None}
    assert type(copy) is dict and type(copy["visits"]) is list
    assert copy["visits"][0] is not inner


@pytest.mark.parametrize("bad", [float("nan"), {1: "a"}, {"a": {1, 2}}, b"bytes", [object()]])
def test_plain_refuses_what_is_not_json(bad: object) -> None:
    with pytest.raises(NotJson):
        plain(bad)


def test_canonical_json_sorts_keys_keeps_chinese_and_has_no_spaces() -> None:
    value = {"b": [1, 2], "a": "李建国"}
    assert canonical_text(value) == '{"a":"李建国","b":[1,2]}'
    assert canonical_json(value) == canonical_text(value).encode()


def test_an_op_round_trips_through_the_one_wire_key_map() -> None:
    op = Op(
        op_id="op-1",
        kind="assignment",
        entity_id="as-1",
        hlc="000001648800000:00000",
        device="dv-1",
        member="mb-1",
        set=MappingProxyType({"status": "done"}),
        seen=MappingProxyType({"status": "pending"}),
        schema=2,
    )
    wire = op.to_dict()
    assert set(wire) == {WIRE_KEYS[n] for n in WIRE_KEYS if n != "add"}
    assert Op.from_dict(wire) == op


def test_a_first_schema_op_reads_and_writes_as_before_versioning() -> None:
    old = {
        "i": "op-1",
        "k": "request",
        "e": "rq-1",
        "t": "000001648800000:00000",
        "d": "dv-1",
        "m": "mb-1",
        "a": {"notes": [{"id": "n-1"}]},
    }
    op = Op.from_dict(old)
    assert op.schema == 1 and op.to_dict() == old
    for bad in (0, -1, "2", 2.0, True):
        with pytest.raises(ValidationError):
            Op.from_dict({**old, "v": bad})
