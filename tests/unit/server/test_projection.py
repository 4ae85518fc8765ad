"""The counting projection: every commit keeps it in step with the records, moves re-place it,
and a backfill from the stored records gives exactly the rows the commits kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from sync.server import admin, db, grid, projection
from sync.server.admin import Author
from sync.server.runtime import Runtime
from tests.integration.server.world import build_world


def facts(rt: Runtime) -> dict[str, dict[str, Any]]:
    with rt.db.read() as conn:
        return {r["assignment_id"]: r for r in projection.rows(conn)}


def visit(rt: Runtime, assignment_id: str, outcome: str, sampled: int | None = None) -> None:
    def build(a: Author) -> None:
        child: dict[str, Any] = {
            "id": f"v-{assignment_id}-{outcome}",
            "at": "2026-11-30T01:00:00Z",
            "member": "m-1",
            "outcome": outcome,
        }
        if sampled is not None:
            child["result"] = {"people_sampled": sampled}
        values: dict[str, Any] = {"status": outcome}
        if outcome == "no_answer":
            values["revisit_due"] = "2026-11-30T08:00:00Z"
        a.op("assignment", assignment_id, set=values, add={"visits": (child,)})

    admin.write(rt, build)


def sampling_task(rt: Runtime, household: str, team: str) -> str:
    values = {
        "type": "nucleic_acid_sampling",
        "target_kind": "household",
        "target_id": household,
        "team_id": team,
    }
    return admin.assign(rt, values)


def test_a_commit_writes_the_plaintext_row_of_each_assignment_it_changes(rt: Runtime) -> None:
    w = build_world(rt)
    rows = facts(rt)
    assert set(rows) == {w.assignment_a, w.assignment_b}
    a = rows[w.assignment_a]
    assert (a["community_id"], a["building_id"], a["unit_id"], a["place_id"]) == (
        w.community,
        w.building_a,
        w.unit_a,
        w.unit_a,
    )
    assert a["household_id"] == w.household_a and a["street_id"] is None
    assert (a["type"], a["status"], a["outcome"], a["people_sampled"]) == (
        "welfare_check",
        "pending",
        "pending",
        0,
    )
    assert (a["team_id"], a["assignee_id"], a["round_id"]) == (w.team_a, w.volunteer_a, None)
    # nothing personal in the row: only ids, enums, counts and times
    assert not any("观海轩" in str(v) or "张秀英" in str(v) for v in a.values())

    visit(rt, w.assignment_a, "no_answer")
    assert facts(rt)[w.assignment_a]["outcome"] == "no_answer"
    assert facts(rt)[w.assignment_a]["revisit_due"] == "2026-11-30T08:00:00Z"
    sampling = sampling_task(rt, w.household_b, w.team_b)
    visit(rt, sampling, "done", sampled=3)
    b = facts(rt)[sampling]
    assert (b["status"], b["outcome"], b["people_sampled"]) == ("done", "done", 3)
    assert facts(rt)[w.assignment_a]["status"] == "no_answer"  # untouched by b's commit


def test_moving_a_household_or_a_building_re_places_the_rows_beneath(rt: Runtime) -> None:
    w = build_world(rt)

    def move_home(a: Author) -> None:
        a.op("household", w.household_a, set={"place_id": w.unit_b})

    admin.write(rt, move_home)
    a = facts(rt)[w.assignment_a]
    assert (a["building_id"], a["unit_id"]) == (w.building_b, w.unit_b)

    def street(a: Author) -> str:
        values = {"level": "street", "name": "南澳街道"}
        return a.op("place", set=values).entity_id

    street_id = admin.write(rt, street)[0]
    grid.move_place(rt, w.community, street_id)
    assert {r["street_id"] for r in facts(rt).values()} == {street_id}


def test_backfill_gives_the_rows_the_commits_kept(rt: Runtime) -> None:
    w = build_world(rt)
    visit(rt, sampling_task(rt, w.household_b, w.team_b), "done", sampled=2)
    visit(rt, w.assignment_a, "no_answer")
    kept = facts(rt)
    with rt.db.write() as conn:
        conn.execute(delete(db.assignment_facts))
        assert projection.backfill(conn, rt.vault) == 3
    assert facts(rt) == kept


def test_a_projection_marked_stale_is_rebuilt_when_the_server_opens_it(rt: Runtime) -> None:
    w = build_world(rt)
    kept = facts(rt)
    with rt.db.write() as conn:
        conn.execute(delete(db.assignment_facts))
        db.set_meta(conn, projection.STALE, "1")
    assert projection.rebuild_if_stale(rt.db, rt.vault)
    assert facts(rt) == kept and w.assignment_a in kept
    assert not projection.rebuild_if_stale(rt.db, rt.vault)
