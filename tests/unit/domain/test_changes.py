"""Change builders: the ops they make, the ``seen`` they fill, what they derive and refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

import pytest

from sync.domain import add_note, make_op, new_request, record_visit, transition
from sync.errors import OpRejected, ValidationError
from sync.hlc import HybridClock
from sync.merge import apply_op
from tests.unit.domain.factories import HOUSEHOLD

T0 = 1_648_800_000_000  # 2022-04-01T08:00:00Z


class Who(TypedDict):
    clock: HybridClock
    device: str
    member: str


@pytest.fixture
def who() -> Who:
    ticks = iter(range(T0, T0 + 10**9, 1000))
    return {
        "clock": HybridClock(clock=lambda: next(ticks)),
        "device": "dev-a",
        "member": "mb-zhang",
    }


def new_assignment(who: Who) -> dict[str, Any]:
    created = make_op(
        "assignment",
        set={"type": "nucleic_acid_sampling", "target_kind": "household", "target_id": "hh-0001"},
        current=None,
        **who,
    )
    return apply_op(None, created)


def test_create_fills_defaults_and_a_prefixed_id(who: Who) -> None:
    created = make_op(
        "assignment",
        set={"type": "welfare_check", "target_kind": "household", "target_id": "hh-0001"},
        current=None,
        **who,
    )
    assert created.entity_id.startswith("as-")
    assert created.set["status"] == "pending" and created.set["priority"] == "normal"
    assert not created.seen
    resident = make_op(
        "resident", set={"household_id": "hh-0001", "name": "李建国"}, current=None, **who
    )
    assert resident.set["care_flags"] == []
    assert (
        make_op("household", "hh-0001", set=HOUSEHOLD, current=None, **who).entity_id == "hh-0001"
    )


def test_create_without_required_fields_is_refused(who: Who) -> None:
    with pytest.raises(ValidationError) as info:
        make_op("household", set={"note": "x"}, current=None, **who)
    assert (info.value.code, info.value.params["field"]) == ("validation.required", "address")
    with pytest.raises(ValidationError, match=r"validation.required"):
        make_op("assignment", set={"title": "采样"}, current=None, **who)


def test_a_record_with_only_children_is_still_new(who: Who) -> None:
    early = {"id": "hh-0002", "_clk": {}}
    created = make_op("household", set=HOUSEHOLD, current=early, **who)
    assert created.entity_id == "hh-0002" and created.set["control"] == "sealed"
    with pytest.raises(ValidationError):
        make_op("household", set={"note": "x"}, current=early, **who)


def test_updates_quote_the_status_they_move_from(who: Who) -> None:
    record = new_assignment(who)
    started = transition("assignment", record, "in_progress", **who)
    assert dict(started.seen) == {"status": "pending"}
    assert started.entity_id == record["id"]
    record = apply_op(record, started)
    titled = make_op("assignment", set={"title": "上门采样"}, current=record, **who)
    assert not titled.seen and "status" not in titled.set


def test_unchanged_status_and_creation_fields_sent_back_by_a_form_are_left_out(who: Who) -> None:
    record = new_assignment(who)
    form = {k: record[k] for k in ("type", "target_kind", "target_id", "status", "priority")}
    saved = make_op("assignment", set={**form, "title": "复采"}, current=record, **who)
    assert dict(saved.set) == {"priority": record["priority"], "title": "复采"}
    assert not saved.seen
    with pytest.raises(OpRejected, match=r"op.create_only"):
        make_op("assignment", set={"type": "welfare_check"}, current=record, **who)


def test_transition_refuses_a_move_the_machine_forbids(who: Who) -> None:
    record = new_assignment(who)
    with pytest.raises(OpRejected) as info:
        transition("assignment", record, "done", **who)
    assert info.value.params == {"kind": "assignment", "frm": "pending", "to": "done"}


def test_no_answer_schedules_a_revisit(who: Who) -> None:
    record = new_assignment(who)
    now = datetime(2022, 4, 1, 9, 30, tzinfo=UTC)
    missed = transition("assignment", record, "no_answer", now=now, **who)
    assert missed.set["revisit_due"] == "2022-04-01T11:30:00Z"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("done", "done"), ("no_answer", "no_answer"), ("refused", "refused"), ("revisit", "revisit")],
)
def test_record_visit_adds_the_visit_and_sets_the_status(
    who: Who, outcome: str, status: str
) -> None:
    record = new_assignment(who)
    visited = record_visit(record, outcome, "敲门三次", at="2022-04-01T09:00:00Z", **who)
    assert visited.set["status"] == status
    assert visited.seen["status"] == "pending"
    (child,) = visited.add["visits"]
    assert (child["outcome"], child["note"], child["member"]) == (outcome, "敲门三次", "mb-zhang")
    if outcome == "no_answer":
        assert visited.set["revisit_due"] == "2022-04-01T11:00:00Z"
    else:
        assert "revisit_due" not in visited.set
    after = apply_op(record, visited)
    assert after["status"] == status and [v["id"] for v in after["visits"]] == [child["id"]]


def test_record_visit_with_a_result_quotes_the_type(who: Who) -> None:
    record = new_assignment(who)
    visited = record_visit(record, "done", result={"people_sampled": 3, "people_absent": 0}, **who)
    assert visited.seen["type"] == "nucleic_acid_sampling"
    with pytest.raises(ValidationError, match=r"validation.required"):
        record_visit(record, "done", result={"people_absent": 1}, **who)


def test_a_visit_to_a_closed_assignment_is_kept_without_moving_it(who: Who) -> None:
    record = new_assignment(who)
    record = apply_op(record, transition("assignment", record, "cancelled", **who))
    late = record_visit(record, "done", **who)
    assert "status" not in late.set and len(late.add["visits"]) == 1
    assert apply_op(record, late)["status"] == "cancelled"


def test_new_request_derives_its_due_time(who: Who) -> None:
    urgent = new_request(
        "hh-0001",
        "medicine",
        "urgent",
        "需要降压药",
        contact="13700000002",
        created_at="2022-04-01T08:00:00Z",
        **who,
    )
    assert urgent.set["due"] == "2022-04-01T12:00:00Z" and urgent.set["status"] == "new"
    assert "team_id" not in urgent.set
    record = apply_op(None, urgent)
    raised = make_op("request", set={"urgency": "emergency"}, current=record, **who)
    assert raised.set["due"] == "2022-04-01T09:00:00Z"
    assert dict(raised.seen) == {"created_at": "2022-04-01T08:00:00Z"}
    with pytest.raises(ValidationError, match=r"validation.phone"):
        new_request("hh-0001", "food_goods", "routine", contact="12", **who)


def test_notes_and_handover(who: Who) -> None:
    request = {"id": "rq-1", "_clk": {}}
    noted = add_note(request, "已联系药店，下午送达", **who)
    (child,) = noted.add["notes"]
    assert child["text"] == "已联系药店，下午送达" and child["id"].startswith("n-")
    shift = {"id": "sh-1", "_clk": {}}
    handed = add_note(shift, "3栋 1201 明早复访", kind="shift", **who)
    assert handed.add["handover"][0]["member"] == "mb-zhang"
    with pytest.raises(OpRejected, match=r"op.unknown_child"):
        add_note({"id": "hh-1"}, "x", kind="household", **who)
    with pytest.raises(OpRejected, match=r"op.unknown_kind"):
        add_note({"id": "x-1"}, "x", kind="spaceship", **who)
    with pytest.raises(ValidationError, match=r"validation.empty"):
        add_note(request, "  ", **who)


def test_ops_are_stamped_in_clock_order(who: Who) -> None:
    record = new_assignment(who)
    first = transition("assignment", record, "in_progress", **who)
    second = make_op("assignment", set={"title": "x"}, current=record, **who)
    assert first.order < second.order and first.op_id != second.op_id
