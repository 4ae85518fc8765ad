"""Server-authored data: atomic writes, the demo seed, and what each team then pulls."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sync.errors import LinliError, ValidationError
from sync.server import admin, db, demo, notices
from sync.server.admin import Author
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import build_world
from tests.unit.server.inproc import LocalPhone


def head(rt: Runtime) -> int:
    with rt.db.read() as conn:
        return db.get_counter(conn, "head")


def test_a_failing_build_writes_nothing(rt: Runtime) -> None:
    world = build_world(rt)
    before = head(rt)

    def build(a: Author) -> None:
        a.op(
            "notice",
            set={
                "kind": "daily",
                "title": "今日安排",
                "body": "八点采样",
                "community_id": world.community,
                "published_at": "2022-04-01T08:00:00Z",
            },
        )
        a.op("household", set={"place_id": world.unit_a})  # no address: invalid

    with pytest.raises(LinliError):
        admin.write(rt, build)
    assert head(rt) == before


def test_admin_helpers_check_references(rt: Runtime) -> None:
    world = build_world(rt)
    with pytest.raises(ValidationError) as info:
        admin.assign(
            rt,
            {
                "type": "welfare_check",
                "target_kind": "household",
                "target_id": "hh-none",
                "team_id": world.team_a,
            },
        )
    assert info.value.code == "admin.not_found"
    assignment = admin.assign(
        rt,
        {
            "type": "supply_delivery",
            "target_kind": "household",
            "target_id": world.household_a,
            "team_id": world.team_a,
            "assignee_id": world.volunteer_a,
            "title": "送菜",
        },
    )
    team = admin.create_team(
        rt,
        name="观海轩夜班队",
        kind="three_person",
        community_id=world.community,
        area=[world.unit_b],
    )
    member = admin.create_member(rt, name="孙丽娟", role="volunteer", team_id=team)
    notice = notices.publish(
        rt,
        kind="rumour_rebuttal",
        title="辟谣",
        body="网传消息不实",
        community_id=world.community,
        now="2022-04-01T08:00:00Z",
    )
    with rt.db.read() as conn:
        w = rt.ledger.world(conn)
        assert (w.refs("assignment", assignment) or {}).get("assignee_id") == world.volunteer_a
        assert (w.refs("team", team) or {}).get("area") == [world.unit_b]
        assert w.refs("member", member) == {"role": "volunteer", "team_id": team}
        assert (w.record("notice", notice) or {}).get("kind") == "rumour_rebuttal"


def test_demo_seeds_what_it_says_once(rt: Runtime) -> None:
    summary = demo.seed(rt)
    counts = summary.counts
    assert counts["household"] == 120
    assert counts["team"] == 3 and counts["notice"] >= 3 and counts["contact"] >= 3
    with rt.db.read() as conn:
        w = rt.ledger.world(conn)
        rows = conn.execute(
            select(db.records.c.kind, db.records.c.entity_id).where(
                db.records.c.kind.in_(["team", "resident", "assignment", "notice", "place"])
            )
        ).all()
        records = {(k, e): w.record(k, e) or {} for k, e in rows}
        total = conn.execute(select(func.count()).select_from(db.records)).scalar_one()
    by_kind: dict[str, list[dict]] = {}
    for (kind, _), record in records.items():
        by_kind.setdefault(kind, []).append(record)
    assert {t["kind"] for t in by_kind["team"]} == {
        "neighbour_service",
        "three_person",
        "targeted_service",
    }
    assert any(r.get("care_flags") for r in by_kind["resident"])
    assert len({a["type"] for a in by_kind["assignment"]}) >= 4
    assert "rumour_rebuttal" in {n["kind"] for n in by_kind["notice"]}
    levels = [p["level"] for p in by_kind["place"]]
    assert levels.count("district") == levels.count("street") == levels.count("community") == 1
    assert levels.count("building") == 2
    communities = [p for p in by_kind["place"] if p["level"] == "community"]
    assert communities[0]["control"] == "sealed"
    assert total == sum(counts.values())
    with pytest.raises(ValidationError) as again:
        demo.seed(rt)
    assert again.value.code == "admin.demo_exists"


def test_demo_teams_pull_only_their_own_households(rt: Runtime) -> None:
    summary = demo.seed(rt)
    service = SyncService(rt)
    by_team: dict[str | None, set[str]] = {}
    for member_id, _, role, team in summary.members:
        if role == "volunteer" and team not in by_team:
            phone = LocalPhone.enrolled(rt, service, member_id)
            phone.pull_all()
            by_team[team] = phone.seen_ids("household")
    sizes = sorted(len(s) for s in by_team.values())
    assert sizes == [60, 60, 120]  # two buildings, and the community-wide targeted team
    one, two, everyone = sorted(by_team.values(), key=len)
    assert not one & two and one | two == everyone


def test_demo_requests_belong_to_a_team_whose_area_holds_the_household(rt: Runtime) -> None:
    summary = demo.seed(rt)
    service = SyncService(rt)
    for member_id, _, role, team in summary.members:
        if role != "volunteer" or team is None:
            continue
        phone = LocalPhone.enrolled(rt, service, member_id)
        phone.pull_all()
        households = phone.seen_ids("household")
        for request_id in phone.seen_ids("request"):
            record = phone.record("request", request_id)
            assert record is not None
            if record.get("team_id") == team:
                assert record["household_id"] in households, request_id
