"""Server-side authorization of every op, by role and scope."""

from __future__ import annotations

from typing import Any

import pytest

from sync.errors import OpRejected
from sync.ops import Op
from sync.server.authz import Actor, authorize
from tests.unit.server.fakeworld import community_world

HLC = "000001795924030282:00000"
VOLUNTEER_A = Actor("dA", "VA", "volunteer", "TA", frozenset({"B1"}))
LEAD_A = Actor("dL", "LA", "team_lead", "TA", frozenset({"B1"}))
COORDINATOR = Actor("dK", "K", "coordinator", None)


def op(actor: Actor, kind: str, entity: str, **body: Any) -> Op:
    return Op("o1", kind, entity, HLC, actor.device_id, actor.member_id, **body)


def refused(actor: Actor, the_op: Op) -> str:
    with pytest.raises(OpRejected) as info:
        authorize(actor, the_op, community_world())
    return info.value.code


def allowed(actor: Actor, the_op: Op) -> None:
    authorize(actor, the_op, community_world())


def test_ops_must_name_the_sending_device_and_member() -> None:
    forged = Op("o1", "assignment", "A1", HLC, "dA", "VA2", set={"status": "in_progress"})
    assert refused(VOLUNTEER_A, forged) == "op.wrong_author"
    other_device = Op("o1", "assignment", "A1", HLC, "dX", "VA", set={"status": "in_progress"})
    assert refused(VOLUNTEER_A, other_device) == "op.wrong_author"


def test_volunteer_updates_own_assignment_only() -> None:
    allowed(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", set={"status": "in_progress"}))
    visit = {"id": "v1", "at": "2022-04-01T08:00:00Z", "member": "VA", "outcome": "done"}
    allowed(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", add={"visits": (visit,)}))
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", set={"title": "x"})) == (
        "op.forbidden_role"
    )
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A2", set={"status": "done"})) == (
        "op.out_of_scope"
    )
    colleague = Actor("dA2", "VA2", "volunteer", "TA", frozenset({"B1"}))
    assert refused(colleague, op(colleague, "assignment", "A1", set={"status": "done"})) == (
        "op.forbidden_role"
    )


def test_volunteer_cannot_create_assignments() -> None:
    new = op(
        VOLUNTEER_A,
        "assignment",
        "A9",
        set={"target_kind": "household", "target_id": "H1", "team_id": "TA", "status": "pending"},
    )
    assert refused(VOLUNTEER_A, new) == "op.forbidden_role"


def test_volunteer_creates_requests_and_notes_in_area_only() -> None:
    allowed(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q9", set={"household_id": "H1"}))
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q9", set={"household_id": "H2"})) == (
        "op.out_of_scope"
    )
    note = {"id": "n1", "at": "2022-04-01T08:00:00Z", "member": "VA", "text": "已联系"}
    allowed(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q1", add={"notes": (note,)}))
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q2", add={"notes": (note,)})) == (
        "op.out_of_scope"
    )
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q1", set={"status": "resolved"})) == (
        "op.forbidden_role"
    )


def test_nothing_moves_out_of_scope() -> None:
    moved = op(LEAD_A, "request", "Q1", set={"household_id": "H2", "team_id": "TB"})
    assert refused(LEAD_A, moved) == "op.out_of_scope"
    grab = op(LEAD_A, "assignment", "A2", set={"team_id": "TA"})
    assert refused(LEAD_A, grab) == "op.out_of_scope"


def test_lead_manages_team_work_and_shifts() -> None:
    allowed(LEAD_A, op(LEAD_A, "assignment", "A1", set={"assignee_id": "VA2"}))
    allowed(LEAD_A, op(LEAD_A, "request", "Q1", set={"status": "acknowledged"}))
    assert refused(LEAD_A, op(LEAD_A, "assignment", "A1", set={"assignee_id": "VB"})) == (
        "op.out_of_scope"
    )
    handover = {"id": "h1", "at": "2022-04-01T20:00:00Z", "member": "LA", "text": "交接"}
    allowed(LEAD_A, op(LEAD_A, "shift", "S1", add={"handover": (handover,)}))
    allowed(LEAD_A, op(LEAD_A, "shift", "S9", set={"team_id": "TA"}))
    assert refused(LEAD_A, op(LEAD_A, "shift", "S9", set={"team_id": "TB"})) == "op.out_of_scope"
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "shift", "S1", add={"handover": (handover,)})) == (
        "op.forbidden_role"
    )


@pytest.mark.parametrize(
    "kind", ["place", "household", "resident", "team", "member", "notice", "contact"]
)
def test_directory_kinds_are_coordinator_only(kind: str) -> None:
    for actor in (VOLUNTEER_A, LEAD_A):
        assert refused(actor, op(actor, kind, "X1", set={"name": "x"})) == "op.forbidden_role"
    allowed(COORDINATOR, op(COORDINATOR, kind, "X1", set={"name": "x"}))


def test_a_member_without_a_team_is_out_of_scope() -> None:
    drifter = Actor("dZ", "VZ", "team_lead", None)
    assert refused(drifter, op(drifter, "shift", "S9", set={"starts": "x"})) == "op.out_of_scope"


def test_only_leads_reopen_a_done_assignment() -> None:
    reopen = {"set": {"status": "in_progress"}, "seen": {"status": "done"}}
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", **reopen)) == (
        "op.forbidden_role"
    )
    allowed(LEAD_A, op(LEAD_A, "assignment", "A1", **reopen))
    finish = {"set": {"status": "done"}, "seen": {"status": "in_progress"}}
    allowed(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", **finish))
