"""Properties of the server's judgement (``sync.server.authz``) over random sequences of a
volunteer's ops — from a modified app, so any claimed ``seen``, any status, reused child ids and
other members' names — each judged against the record as it then stands and merged as the
ledger does:

* no accepted op moves the status in a way the machine or the role table forbids from the
  status the record HAD (whatever the op claimed to have seen);
* a done or cancelled task never leaves its final status by a volunteer's hand;
* a child, once stored, never changes; every stored child is its author's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.domain.enums import ASSIGNMENT_STATUSES, VISIT_OUTCOMES
from sync.domain.machines import ASSIGNMENT_MACHINE, OUTCOME_STATUS
from sync.errors import LinliError
from sync.hlc import encode
from sync.merge import CLOCK, Merger
from sync.ops import Op
from sync.server.authz import Actor, authorize
from tests.unit.server.fakeworld import community_world

VOLUNTEER = Actor("dA", "VA", "volunteer", "TA", frozenset({"B1"}))
MEMBERS = ("VA", "VA2", "LA")
BASE_MS = 1_648_800_000_000


class World:
    """The fake community, its assignment A1 a live record the ops are merged into."""

    def __init__(self, start: str, assignee: str | None, done_by_lead: bool) -> None:
        self.base = community_world()
        stamp = f"{encode(BASE_MS, 0)}@dL"
        self.a1: dict[str, Any] = {
            "id": "A1",
            **self.base.records[("assignment", "A1")],
            "status": start,
            "assignee_id": assignee,
            "visits": [
                {
                    "id": "v-lead",
                    "at": "2022-04-01T07:00:00Z",
                    "member": "LA",
                    "outcome": "done",
                    CLOCK: stamp,
                }
            ]
            if done_by_lead
            else [],
            CLOCK: {"status": stamp, "assignee_id": stamp},
        }

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        return self.record(kind, entity_id)

    def record(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        if (kind, entity_id) == ("assignment", "A1"):
            return self.a1
        return self.base.records.get((kind, entity_id))


@st.composite
def volunteer_op(draw: st.DrawFn, n: int) -> Op:
    ms = BASE_MS + draw(st.integers(-5, 50)) * 1000
    set_: dict[str, Any] = {}
    add: dict[str, Any] = {}
    if draw(st.booleans()):
        set_["status"] = draw(st.sampled_from(ASSIGNMENT_STATUSES))
        if set_["status"] == "no_answer":
            set_["revisit_due"] = "2022-04-01T10:00:00Z"
    if draw(st.booleans()):
        set_["assignee_id"] = draw(st.sampled_from(MEMBERS))
    if draw(st.booleans()) or not set_:
        visit = {
            "id": draw(st.sampled_from(("v-lead", "v-1", "v-2", f"v-{n}"))),
            "at": f"2022-04-01T08:{draw(st.integers(0, 59)):02d}:00Z",
            "member": draw(st.sampled_from(MEMBERS)),
            "outcome": draw(st.sampled_from(VISIT_OUTCOMES)),
        }
        add["visits"] = (visit,)
    seen = {"status": draw(st.sampled_from(ASSIGNMENT_STATUSES))} if "status" in set_ else {}
    return Op(
        f"op-{n}", "assignment", "A1", encode(ms, n), "dA", "VA", set=set_, add=add, seen=seen
    )


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(ASSIGNMENT_STATUSES),
    assignee=st.sampled_from(("VA", "VA2", None)),
    done_by_lead=st.booleans(),
    data=st.data(),
)
def test_no_volunteer_sequence_escapes_the_role_table(
    start: str, assignee: str | None, done_by_lead: bool, data: st.DataObject
) -> None:
    world = World(start, assignee, done_by_lead)
    stored: dict[str, dict[str, Any]] = {
        v["id"]: {k: x for k, x in v.items() if k != CLOCK} for v in world.a1["visits"]
    }
    for n in range(data.draw(st.integers(1, 12))):
        op = data.draw(volunteer_op(n))
        before = world.a1["status"]
        try:
            verdict = authorize(VOLUNTEER, op, world)
        except LinliError:
            continue
        merger = Merger()
        merger.apply(world.a1, verdict.op)
        merger.finish()
        after = world.a1["status"]
        if after != before:
            visits = verdict.op.add.get("visits") or ()
            by_visit = any(OUTCOME_STATUS.get(v["outcome"]) == after for v in visits)
            assert not ASSIGNMENT_MACHINE.is_final(before), (before, after, op)
            assert by_visit or ASSIGNMENT_MACHINE.allows(before, after), (before, after, op)
            assert "volunteer" in ASSIGNMENT_MACHINE.roles_for(before, after) or by_visit
        for visit in world.a1["visits"]:
            content = {k: x for k, x in visit.items() if k != CLOCK}
            assert stored.setdefault(visit["id"], content) == content  # never rewritten
            assert visit["member"] == "VA" or visit["id"] == "v-lead"  # the author's own
