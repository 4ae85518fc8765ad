"""``apply_op``/``merge``/``join_records``: the record format and the merge rules, case by case."""

from __future__ import annotations

import copy
import json

from sync.merge import CLOCK, apply_op, join_records, join_states, merge
from sync.ops import Op
from tests.unit.domain.factories import HOUSEHOLD, op, visit

MS = 1_648_800_000_000


def note(text: str, *, ms: int = MS, device: str = "dev-a", counter: int = 0) -> Op:
    return op("household", "hh-1", set={"note": text}, ms=ms, device=device, counter=counter)


def test_a_new_record_holds_fields_stamps_and_nothing_else() -> None:
    created = op("household", "hh-1", set=HOUSEHOLD, ms=MS)
    record = apply_op(None, created)
    stamp = f"{created.hlc}@{created.device}"
    assert record == {"id": "hh-1", **HOUSEHOLD, CLOCK: dict.fromkeys(HOUSEHOLD, stamp)}
    assert json.loads(json.dumps(record)) == record


def test_later_writer_wins_per_field_in_either_order() -> None:
    early, late = note("早", ms=MS), note("晚", ms=MS + 1)
    assert apply_op(apply_op(None, early), late)["note"] == "晚"
    assert apply_op(apply_op(None, late), early)["note"] == "晚"


def test_fields_merge_independently() -> None:
    phone = op("household", "hh-1", set={"phone": "13800000001"}, ms=MS + 5, device="dev-b")
    first_note = note("一楼", ms=MS + 9)
    both = apply_op(apply_op(None, first_note), phone)
    assert (both["note"], both["phone"]) == ("一楼", "13800000001")
    assert both[CLOCK]["phone"].endswith("@dev-b")


def test_same_time_breaks_ties_by_device_then_by_value() -> None:
    a, b = note("甲", device="dev-a"), note("乙", device="dev-b")
    assert apply_op(apply_op(None, a), b)["note"] == "乙"
    assert apply_op(apply_op(None, b), a)["note"] == "乙"
    x, y = note("x"), note("y")  # same (hlc, device): cannot happen with a correct clock
    assert apply_op(apply_op(None, x), y) == apply_op(apply_op(None, y), x)


def test_apply_never_mutates_its_inputs() -> None:
    team = apply_op(None, op("team", "tm-1", set={"area": ["pl-b1"]}, ms=MS))
    task = apply_op(None, op("assignment", "as-1", add={"visits": (visit("done"),)}, ms=MS))
    before = copy.deepcopy((team, task))
    wider = apply_op(team, op("team", "tm-1", set={"area": ["pl-b1", "pl-b2"]}, ms=MS + 1))
    more = apply_op(task, op("assignment", "as-1", add={"visits": (visit("revisit", vid="v-2"),)}))
    assert (team, task) == before
    wider["area"].append("pl-b3")
    more["visits"][0]["note"] = "改"
    assert (team, task) == before
    assert len(more["visits"]) == 2


def test_children_are_a_union_sorted_by_time_then_id() -> None:
    v_late = visit("done", vid="v-a", at="2022-04-01T10:00:00Z")
    v_early = visit("no_answer", vid="v-b", at="2022-04-01T09:00:00Z")
    v_tie = visit("refused", vid="v-0", at="2022-04-01T10:00:00Z")
    ops = [
        op("assignment", "as-1", add={"visits": (v,)}, ms=MS + i)
        for i, v in enumerate([v_late, v_early, v_tie])
    ]
    record = None
    for o in ops:
        record = apply_op(record, o)
    assert record is not None
    assert [v["id"] for v in record["visits"]] == ["v-b", "v-0", "v-a"]
    assert record[CLOCK] == {}  # children only: the record exists without fields
    assert all(isinstance(v, dict) and v[CLOCK] for v in record["visits"])


def test_the_first_writer_of_a_child_id_is_kept_in_either_order() -> None:
    first = op(
        "request",
        "rq-1",
        add={
            "notes": ({"id": "n-1", "at": "2022-04-01T09:00:00Z", "member": "mb-1", "text": "先"},)
        },
        ms=MS,
    )
    second = op(
        "request",
        "rq-1",
        add={
            "notes": ({"id": "n-1", "at": "2022-04-01T09:00:00Z", "member": "mb-2", "text": "后"},)
        },
        ms=MS + 1,
    )
    for order in ([first, second], [second, first]):
        record = None
        for o in order:
            record = apply_op(record, o)
        assert record is not None
        assert [n["text"] for n in record["notes"]] == ["先"]


def test_applying_an_op_twice_changes_nothing() -> None:
    visited = op(
        "assignment", "as-1", set={"title": "采样"}, add={"visits": (visit("done"),)}, ms=MS
    )
    once = apply_op(None, visited)
    assert apply_op(once, visited) == once


def test_merge_skips_and_reports_invalid_ops() -> None:
    good = note("好")
    bad = op("household", "hh-1", set={"phone": "12"}, ms=MS + 1)
    alien = op("spaceship", "s-1", set={"name": "x"})
    state = {("household", "hh-0"): {"id": "hh-0", CLOCK: {}}}
    result = merge(state, [good, bad, alien])
    assert result.state[("household", "hh-1")]["note"] == "好"
    assert [(i, e.code) for i, e in result.rejected] == [
        (bad.op_id, "validation.phone"),
        (alien.op_id, "op.unknown_kind"),
    ]
    assert ("spaceship", "s-1") not in result.state
    assert state == {("household", "hh-0"): {"id": "hh-0", CLOCK: {}}}


def test_join_equals_applying_the_ops() -> None:
    ops = [
        note("一", ms=MS),
        note("二", ms=MS + 2, device="dev-b"),
        op("assignment", "hh-1", add={"visits": (visit("done"),)}, ms=MS + 1),
    ]
    left = apply_op(None, ops[0])
    right = apply_op(apply_op(None, ops[1]), ops[2])
    everything = apply_op(apply_op(apply_op(None, ops[0]), ops[1]), ops[2])
    assert join_records(left, right) == everything == join_records(right, left)
    assert join_states({("household", "hh-1"): left}, {("household", "hh-1"): right}) == {
        ("household", "hh-1"): everything
    }
