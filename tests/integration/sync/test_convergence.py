"""Property: whatever the phones do offline and in whatever order they sync, once everyone has
synced until quiet every phone holds exactly the server's records for its scope.

Six real phones per example on one real server (started once per module): two leads and two
phones of the same volunteer in team A — all editing the same few assignments and requests
(same fields, status moves, visits and notes appended) — team B's volunteer and the coordinator.
Each phone is offline for random stretches (its changes pile up in its outbox) and syncs at
random moments.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.audit import audit
from bench.harness import LiveServer
from bench.phones import Crew, Fleet, crew
from bench.workload import Shift, result_for

PHONES = 6
Step = tuple[int, str, int]

steps = st.lists(
    st.tuples(
        st.integers(0, PHONES - 1),
        st.sampled_from(("change", "change", "sync", "toggle")),
        st.integers(1, 4),
    ),
    min_size=8,
    max_size=30,
)


@pytest.fixture(scope="module")
def people(live: LiveServer) -> Crew:
    """The demo crew plus a second lead in team A (so two leads edit the same records)."""
    demo = crew(live)

    def second_lead(a: Any) -> str:
        values = {"name": "周春梅", "role": "team_lead", "team_id": demo.team_a}
        return str(a.op("member", set=values).entity_id)

    live.write(second_lead)
    return crew(live)


def _focus(fleet: Fleet, rng: random.Random) -> frozenset[str]:
    """A few assignments of the doubled volunteer and a few of team A's requests."""
    volunteer = fleet.phones[2]
    mine = sorted(
        str(r["id"])
        for r in volunteer.store.all("assignment")
        if r.get("assignee_id") == volunteer.member_id
    )
    requests = sorted(str(r["id"]) for r in fleet.phones[0].store.all("request"))
    return frozenset(
        rng.sample(mine, min(2, len(mine))) + rng.sample(requests, min(2, len(requests)))
    )


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    plan=steps,
    offline=st.lists(st.booleans(), min_size=PHONES, max_size=PHONES),
    seed=st.integers(0, 2**16),
)
def test_replicas_converge(
    live: LiveServer,
    people: Crew,
    tmp_path_factory: pytest.TempPathFactory,
    plan: list[Step],
    offline: list[bool],
    seed: int,
) -> None:
    leads_a = sorted(
        str(m["id"])
        for m in live.members()
        if m.get("team_id") == people.team_a and m["role"] == "team_lead"
    )
    members = [
        leads_a[0],
        leads_a[1],
        people.volunteers_a[0],
        people.volunteers_a[0],  # the same volunteer's second phone
        people.volunteers_b[0],
        people.coordinator,
    ]
    fleet = Fleet(live, tmp_path_factory.mktemp("fleet"))
    try:
        phones = [fleet.add(m) for m in members]
        fleet.sync_until_quiet()
        rng = random.Random(seed)
        focus = _focus(fleet, rng)
        shifts = [Shift(p, random.Random(rng.random()), focus=focus) for p in phones]
        away = list(offline)
        for i, action, n in plan:
            if action == "toggle":
                away[i] = not away[i]
            elif action == "change":
                shifts[i].run(n)
            elif not away[i]:
                summary = phones[i].sync()
                assert not summary.rejected, summary.rejected
        fleet.sync_until_quiet()
        audit(live, phones, fleet.created()).assert_clean()
    finally:
        fleet.close()


def test_concurrent_edits_of_one_record(
    live: LiveServer, people: Crew, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two leads, two phones of one volunteer and the coordinator change the same request and
    assignment while offline; last writer wins per field, every visit and note is kept."""
    from sync.domain import add_note, make_op, new_request, record_visit, transition

    leads_a = sorted(
        str(m["id"])
        for m in live.members()
        if m.get("team_id") == people.team_a and m["role"] == "team_lead"
    )
    members = [leads_a[0], leads_a[1], people.volunteers_a[0], people.volunteers_a[0]]
    fleet = Fleet(live, tmp_path_factory.mktemp("conflict"))
    try:
        a1, a2, v1, v2 = phones = [fleet.add(m) for m in members]
        coordinator = fleet.add(people.coordinator)
        phones.append(coordinator)
        fleet.sync_until_quiet()
        household = sorted(str(h["id"]) for h in a1.store.all("household"))[0]
        new = new_request(
            household, "medicine", "urgent", "需要降压药", team_id=people.team_a, **a1.author()
        )
        a1.record(new)
        fleet.sync_until_quiet()  # everyone has the new request; now they all go offline
        rid = new.entity_id
        task = sorted(
            (r for r in v1.store.all("assignment") if r.get("assignee_id") == v1.member_id),
            key=lambda r: str(r["id"]),
        )[0]
        tid = str(task["id"])

        texts = {
            a1: "需要降压药，家属已联系",
            a2: "需要降压药和血压计",
            coordinator: "已转社区医生处理",
        }
        for phone, text in texts.items():
            phone.record(
                make_op(
                    "request",
                    rid,
                    set={"description": text},
                    current=phone.store.get("request", rid),
                    **phone.author(),
                )
            )
            phone.record(
                add_note(phone.store.get("request", rid), f"{text}（备注）", **phone.author())
            )
        a2.record(transition("request", a2.store.get("request", rid), "cancelled", **a2.author()))
        v1.record(
            record_visit(
                v1.store.get("assignment", tid),
                "done",
                "已上门采样",
                result=result_for(str(task["type"]), random.Random(1)),
                **v1.author(),
            )
        )
        v2.record(
            record_visit(v2.store.get("assignment", tid), "no_answer", "家中无人", **v2.author())
        )
        v2.record(add_note(v2.store.get("request", rid), "居民电话无人接听", **v2.author()))

        for phone in (a2, v2, coordinator, a1, v1):
            phone.sync()
        fleet.sync_until_quiet()
        audit(live, phones, fleet.created()).assert_clean()

        created = fleet.created()
        final = live.records()
        wrote = [op for op in created if op.kind == "request" and "description" in op.set]
        winner = max(wrote, key=lambda op: op.order)
        assert final[("request", rid)]["description"] == winner.set["description"]
        notes = {str(n["id"]) for n in final[("request", rid)]["notes"]}
        added = {str(c["id"]) for op in created for c in op.add.get("notes", ())}
        assert added <= notes and len(added) == 4
        visits = {str(v["id"]) for v in final[("assignment", tid)]["visits"]}
        assert {str(c["id"]) for op in created for c in op.add.get("visits", ())} <= visits
    finally:
        fleet.close()
