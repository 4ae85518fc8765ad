"""The status machines, judged through ``validate_op`` for every pair of statuses."""

from __future__ import annotations

import itertools

import pytest

from sync.domain import ASSIGNMENT_MACHINE, OUTCOME_STATUS, REQUEST_MACHINE, validate_op
from sync.domain.enums import ASSIGNMENT_STATUSES, REQUEST_STATUSES, VISIT_OUTCOMES
from sync.errors import OpRejected, ValidationError
from sync.ops import Op
from tests.unit.domain.factories import ASSIGNMENT as NEW_ASSIGNMENT
from tests.unit.domain.factories import REQUEST as NEW_REQUEST
from tests.unit.domain.factories import op, visit

# Written out from the product rules, not derived from the code under test.
ASSIGNMENT_MOVES = {
    ("pending", "in_progress"),
    ("in_progress", "done"),
    ("pending", "no_answer"),
    ("pending", "refused"),
    ("in_progress", "no_answer"),
    ("in_progress", "refused"),
    ("no_answer", "revisit"),
    ("refused", "revisit"),
    ("revisit", "in_progress"),
    ("revisit", "done"),
    ("revisit", "no_answer"),
    ("revisit", "refused"),
    ("pending", "cancelled"),
    ("in_progress", "cancelled"),
    ("no_answer", "cancelled"),
    ("refused", "cancelled"),
    ("revisit", "cancelled"),
    ("done", "in_progress"),  # reopen, leads only
}
REQUEST_MOVES = {
    ("new", "acknowledged"),
    ("acknowledged", "in_progress"),
    ("in_progress", "resolved"),
    ("resolved", "confirmed"),
    ("new", "cancelled"),
    ("acknowledged", "cancelled"),
    ("in_progress", "cancelled"),
    ("resolved", "in_progress"),
}
REVISIT_DUE = "2022-04-01T11:00:00Z"


def assignment_move(frm: str, to: str) -> Op:
    extra = {"revisit_due": REVISIT_DUE} if to == "no_answer" else {}
    return op("assignment", set={"status": to, **extra}, seen={"status": frm})


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(ASSIGNMENT_STATUSES, repeat=2)))
def test_assignment_transitions(frm: str, to: str) -> None:
    candidate = assignment_move(frm, to)
    if (frm, to) in ASSIGNMENT_MOVES:
        validate_op(candidate)
    else:
        with pytest.raises(OpRejected) as info:
            validate_op(candidate)
        assert info.value.code == "op.bad_transition"
        assert info.value.params == {"kind": "assignment", "frm": frm, "to": to}


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(REQUEST_STATUSES, repeat=2)))
def test_request_transitions(frm: str, to: str) -> None:
    candidate = op("request", set={"status": to}, seen={"status": frm})
    if (frm, to) in REQUEST_MOVES:
        validate_op(candidate)
    else:
        with pytest.raises(OpRejected, match=r"op.bad_transition"):
            validate_op(candidate)


def test_final_states() -> None:
    assert {s for s in ASSIGNMENT_STATUSES if ASSIGNMENT_MACHINE.is_final(s)} == {
        "done",
        "cancelled",
    }
    assert {s for s in REQUEST_STATUSES if REQUEST_MACHINE.is_final(s)} == {
        "confirmed",
        "cancelled",
    }
    assert ASSIGNMENT_MACHINE.next_states("cancelled") == ()
    assert ASSIGNMENT_MACHINE.next_states("pending") == (
        "in_progress",
        "no_answer",
        "refused",
        "cancelled",
    )


def test_only_leads_may_reopen_a_done_assignment() -> None:
    assert ASSIGNMENT_MACHINE.roles_for("done", "in_progress") == {"team_lead", "coordinator"}
    assert "volunteer" in ASSIGNMENT_MACHINE.roles_for("pending", "in_progress")
    assert "volunteer" in REQUEST_MACHINE.roles_for("resolved", "in_progress")


@pytest.mark.parametrize("status", ["in_progress", "done", "revisit", "cancelled"])
def test_a_new_record_must_start_in_the_initial_state(status: str) -> None:
    with pytest.raises(OpRejected) as info:
        validate_op(op("assignment", set={**NEW_ASSIGNMENT, "status": status}))
    assert info.value.code == "op.bad_initial_state"
    with pytest.raises(OpRejected, match=r"op.bad_initial_state"):
        validate_op(op("request", set={**NEW_REQUEST, "status": "resolved"}))


def test_no_answer_needs_a_revisit_time() -> None:
    with pytest.raises(ValidationError) as info:
        validate_op(op("assignment", set={"status": "no_answer"}, seen={"status": "pending"}))
    assert (info.value.code, info.value.params["field"]) == ("validation.required", "revisit_due")


@pytest.mark.parametrize(
    ("frm", "outcome"),
    list(
        itertools.product(
            ("pending", "in_progress", "no_answer", "refused", "revisit"), VISIT_OUTCOMES
        )
    ),
)
def test_a_visit_sets_its_outcome_status_from_any_open_status(frm: str, outcome: str) -> None:
    to = OUTCOME_STATUS[outcome]
    extra = {"revisit_due": REVISIT_DUE} if to == "no_answer" else {}
    validate_op(
        op(
            "assignment",
            set={"status": to, **extra},
            seen={"status": frm},
            add={"visits": (visit(outcome),)},
        )
    )


def test_visit_outcomes_map_to_statuses() -> None:
    assert dict(OUTCOME_STATUS) == {
        "done": "done",
        "no_answer": "no_answer",
        "refused": "refused",
        "revisit": "revisit",
    }


@pytest.mark.parametrize("frm", ["done", "cancelled"])
def test_a_visit_cannot_move_a_closed_assignment(frm: str) -> None:
    moving = op(
        "assignment",
        set={"status": "revisit"},
        seen={"status": frm},
        add={"visits": (visit("revisit"),)},
    )
    with pytest.raises(OpRejected, match=r"op.visit_status_mismatch"):
        validate_op(moving)
    validate_op(op("assignment", add={"visits": (visit("revisit"),)}))


def test_a_visit_status_must_match_the_latest_visit() -> None:
    earlier = visit("no_answer", vid="v-1", at="2022-04-01T09:00:00Z")
    later = visit("done", vid="v-2", at="2022-04-01T15:00:00Z")
    both = {"visits": (later, earlier)}
    validate_op(op("assignment", set={"status": "done"}, seen={"status": "pending"}, add=both))
    with pytest.raises(OpRejected) as info:
        validate_op(
            op(
                "assignment",
                set={"status": "no_answer", "revisit_due": REVISIT_DUE},
                seen={"status": "pending"},
                add=both,
            )
        )
    assert info.value.params == {"kind": "assignment", "outcome": "done", "to": "no_answer"}
