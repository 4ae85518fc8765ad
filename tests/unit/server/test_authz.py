"""Server-side authorization of every op, by role and scope."""

from __future__ import annotations

from typing import Any

import pytest

from sync.errors import OpRejected
from sync.ops import Op
from sync.server.authz import Actor, Verdict, authorize
from tests.unit.server.fakeworld import DictWorld, community_world

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
    own = {**handover, "member": "VA"}
    assert refused(VOLUNTEER_A, op(VOLUNTEER_A, "shift", "S1", add={"handover": (own,)})) == (
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


def world_with(**records: dict[str, Any]) -> DictWorld:
    """The community world with some records replaced: ``A1={...}`` → ("assignment", "A1")."""
    world = community_world()
    kinds = {"A": "assignment", "Q": "request", "S": "shift"}
    for key, record in records.items():
        world.records[(kinds[key[0]], key)] = record
    return world


A1 = community_world().records[("assignment", "A1")]
Q1 = community_world().records[("request", "Q1")]
LATER = "000001795924099999:00000@dL"
VISIT = {"id": "v1", "at": "2022-04-01T08:00:00Z", "member": "VA", "outcome": "done"}


def judged(actor: Actor, the_op: Op, world: DictWorld) -> Verdict:
    return authorize(actor, the_op, world)


def refused_in(actor: Actor, the_op: Op, world: DictWorld) -> OpRejected:
    with pytest.raises(OpRejected) as info:
        authorize(actor, the_op, world)
    return info.value


def test_only_leads_reopen_a_done_assignment() -> None:
    world = world_with(A1={**A1, "status": "done"})
    reopen = {"set": {"status": "in_progress"}, "seen": {"status": "done"}}
    assert refused_in(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", **reopen), world).code == (
        "op.forbidden_role"
    )
    judged(LEAD_A, op(LEAD_A, "assignment", "A1", **reopen), world)
    finish = {"set": {"status": "done"}, "seen": {"status": "in_progress"}}
    judged(
        VOLUNTEER_A,
        op(VOLUNTEER_A, "assignment", "A1", **finish),
        world_with(A1={**A1, "status": "in_progress"}),
    )


def test_transitions_are_judged_from_the_servers_status_not_the_claimed_one() -> None:
    claim = {"set": {"status": "in_progress"}, "seen": {"status": "revisit"}}
    done = world_with(A1={**A1, "status": "done"})
    assert refused_in(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", **claim), done).code == (
        "op.forbidden_role"
    )
    cancelled = world_with(A1={**A1, "status": "cancelled"})
    exc = refused_in(VOLUNTEER_A, op(VOLUNTEER_A, "assignment", "A1", **claim), cancelled)
    assert (exc.code, exc.params["status"]) == ("op.status_changed", "cancelled")
    assert refused_in(LEAD_A, op(LEAD_A, "assignment", "A1", **claim), cancelled).code == (
        "op.status_changed"
    )
    held = world_with(Q2={**community_world().records[("request", "Q2")], "status": "confirmed"})
    vb = Actor("dB", "VB", "volunteer", "TB", frozenset({"B2"}))
    reopen = {"set": {"status": "in_progress"}, "seen": {"status": "resolved"}}
    assert refused_in(vb, op(vb, "request", "Q2", **reopen), held).code == "op.status_changed"


def test_an_older_status_write_moves_nothing_and_is_not_judged() -> None:
    newer = world_with(A1={**A1, "status": "cancelled", "_clk": {"status": LATER}})
    stale = op(VOLUNTEER_A, "assignment", "A1", set={"status": "done"}, seen={"status": "pending"})
    assert judged(VOLUNTEER_A, stale, newer).dropped == ()


def test_history_is_append_only_and_authored() -> None:
    note = {"id": "n1", "at": "2022-04-01T08:00:00Z", "member": "LA", "text": "已送药"}
    world = world_with(Q1={**Q1, "notes": [{**note, "_clk": LATER}]})
    rewrite = {**note, "member": "VA", "text": "未送药"}
    exc = refused_in(
        VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q1", add={"notes": (rewrite,)}), world
    )
    assert exc.code == "op.child_exists"
    forged = {**note, "id": "n2"}
    exc = refused_in(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q1", add={"notes": (forged,)}), world)
    assert exc.code == "op.child_author"
    judged(LEAD_A, op(LEAD_A, "request", "Q1", add={"notes": (note,)}), world)  # resent as is
    exc = refused_in(
        VOLUNTEER_A,
        op(VOLUNTEER_A, "assignment", "A1", add={"visits": ({**VISIT, "member": "VA2"},)}),
        world,
    )
    assert exc.code == "op.child_author"


def test_a_visit_is_kept_when_its_status_move_is_refused() -> None:
    cancelled = world_with(A1={**A1, "status": "cancelled"})
    visit_done = op(
        VOLUNTEER_A,
        "assignment",
        "A1",
        set={"status": "done"},
        seen={"status": "pending"},
        add={"visits": (VISIT,)},
    )
    verdict = judged(VOLUNTEER_A, visit_done, cancelled)
    assert verdict.dropped == ("status",)
    assert verdict.reason is not None and verdict.reason.code == "op.status_changed"
    assert dict(verdict.op.set) == {} and verdict.op.add == visit_done.add
    assert "status" not in verdict.op.seen


def test_a_teammates_visit_counts_after_reassignment() -> None:
    colleague = Actor("dA2", "VA2", "volunteer", "TA", frozenset({"B1"}))
    visit = {**VISIT, "member": "VA2"}
    by_visit = op(
        colleague,
        "assignment",
        "A1",
        set={"status": "done"},
        seen={"status": "pending"},
        add={"visits": (visit,)},
    )
    assert judged(colleague, by_visit, community_world()).dropped == ()
    title = op(colleague, "assignment", "A1", set={"title": "x"}, add={"visits": (visit,)})
    verdict = judged(colleague, title, community_world())
    assert verdict.dropped == ("title",) and verdict.reason is not None


def test_the_team_pool_goes_to_the_first_taker() -> None:
    pool = world_with(A1={**A1, "assignee_id": None}, Q1=Q1)
    colleague = Actor("dA2", "VA2", "volunteer", "TA", frozenset({"B1"}))
    take = op(colleague, "assignment", "A1", set={"assignee_id": "VA2"})
    assert judged(colleague, take, pool).dropped == ()
    taken = world_with(A1={**A1, "assignee_id": "VA"})
    exc = refused_in(colleague, take, taken)
    assert (exc.code, exc.params["by"]) == ("op.already_claimed", "VA")
    work = op(colleague, "request", "Q1", set={"assignee_id": "VA2", "status": "acknowledged"})
    assert judged(colleague, work, pool).dropped == ()
    assign_other = op(colleague, "assignment", "A1", set={"assignee_id": "VA"})
    assert refused_in(colleague, assign_other, pool).code == "op.forbidden_role"
    visit = {**VISIT, "member": "VA2"}
    late = op(
        colleague,
        "assignment",
        "A1",
        set={"assignee_id": "VA2", "status": "done"},
        seen={"status": "pending"},
        add={"visits": (visit,)},
    )
    verdict = judged(colleague, late, taken)
    assert verdict.dropped == ("assignee_id",)
    assert dict(verdict.op.set) == {"status": "done"}


def test_a_volunteers_new_request_is_theirs_or_nobodys() -> None:
    new = {"household_id": "H1", "status": "new"}
    judged(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q9", set=new), community_world())
    mine = {**new, "assignee_id": "VA"}
    judged(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q9", set=mine), community_world())
    theirs = {**new, "assignee_id": "VA2"}
    exc = refused_in(VOLUNTEER_A, op(VOLUNTEER_A, "request", "Q9", set=theirs), community_world())
    assert exc.code == "op.forbidden_role"


def test_a_coordinators_visit_is_kept_too() -> None:
    cancelled = world_with(A1={**A1, "status": "cancelled"})
    k_visit = {**VISIT, "member": "K"}
    late = op(
        COORDINATOR,
        "assignment",
        "A1",
        set={"status": "done"},
        seen={"status": "pending"},
        add={"visits": (k_visit,)},
    )
    verdict = judged(COORDINATOR, late, cancelled)
    assert verdict.dropped == ("status",) and verdict.op.add == late.add
