"""A small invented community for server tests, written through the server's own admin path.

观海轩社区 with two buildings: team A (邻里服务队) covers building 1, team B (三人小组) covers
building 2. One household with one resident in each building, an assignment for each team.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import update

from sync.server import admin, db, enrollment
from sync.server.admin import Author
from sync.server.enrollment import IssuedCode
from sync.server.runtime import Runtime


@dataclass(frozen=True)
class World:
    community: str
    building_a: str
    building_b: str
    unit_a: str
    unit_b: str
    household_a: str
    household_b: str
    resident_a: str
    resident_b: str
    team_a: str
    team_b: str
    volunteer_a: str
    lead_a: str
    volunteer_b: str
    coordinator: str
    assignment_a: str
    assignment_b: str


def build_world(rt: Runtime) -> World:
    def build(a: Author) -> World:
        def place(parent: str | None, level: str, name: str) -> str:
            values = {"level": level, "name": name}
            if parent:
                values["parent_id"] = parent
            return a.op("place", set=values).entity_id

        district = place(None, "district", "大鹏湾区")
        community = place(district, "community", "观海轩社区")
        building_a = place(community, "building", "观海轩 1栋")
        building_b = place(community, "building", "观海轩 2栋")
        unit_a = place(building_a, "unit", "1单元")
        unit_b = place(building_b, "unit", "2单元")

        def household(unit: str, address: str) -> str:
            return a.op("household", set={"place_id": unit, "address": address}).entity_id

        household_a = household(unit_a, "观海轩 1栋 1单元 1201")
        household_b = household(unit_b, "观海轩 2栋 2单元 803")
        resident_a = a.op(
            "resident",
            set={
                "household_id": household_a,
                "name": "张秀英",
                "phone": "13800000001",
                "care_flags": ["elderly_alone"],
            },
        ).entity_id
        resident_b = a.op(
            "resident", set={"household_id": household_b, "name": "李建国", "phone": "13800000002"}
        ).entity_id

        def team(name: str, kind: str, area: str) -> str:
            values = {"name": name, "kind": kind, "community_id": community, "area": [area]}
            return a.op("team", set=values).entity_id

        team_a = team("观海轩1栋邻里服务队", "neighbour_service", building_a)
        team_b = team("观海轩2栋三人小组", "three_person", building_b)

        def member(name: str, role: str, team_id: str | None) -> str:
            values = {"name": name, "role": role}
            if team_id:
                values["team_id"] = team_id
            return a.op("member", set=values).entity_id

        volunteer_a = member("王桂兰", "volunteer", team_a)
        lead_a = member("刘志强", "team_lead", team_a)
        volunteer_b = member("陈玉梅", "volunteer", team_b)
        coordinator = member("赵国华", "coordinator", None)

        def assignment(household_id: str, team_id: str, assignee: str) -> str:
            values = {
                "type": "welfare_check",
                "target_kind": "household",
                "target_id": household_id,
                "team_id": team_id,
                "assignee_id": assignee,
                "title": "重点人群关爱探访",
                "status": "pending",
            }
            return a.op("assignment", set=values).entity_id

        return World(
            community=community,
            building_a=building_a,
            building_b=building_b,
            unit_a=unit_a,
            unit_b=unit_b,
            household_a=household_a,
            household_b=household_b,
            resident_a=resident_a,
            resident_b=resident_b,
            team_a=team_a,
            team_b=team_b,
            volunteer_a=volunteer_a,
            lead_a=lead_a,
            volunteer_b=volunteer_b,
            coordinator=coordinator,
            assignment_a=assignment(household_a, team_a, volunteer_a),
            assignment_b=assignment(household_b, team_b, volunteer_b),
        )

    return admin.write(rt, build)[0]


def code_for(rt: Runtime, member_id: str, ttl_s: int = 3600) -> str:
    return enrollment.issue(rt, member_id, ttl_s).code


def expired_code(rt: Runtime, member_id: str) -> IssuedCode:
    """A one-time code for ``member_id`` that ran out a millisecond ago."""
    issued = enrollment.issue(rt, member_id, ttl_s=60)
    with rt.db.write() as conn:
        conn.execute(
            update(db.enroll_codes)
            .where(db.enroll_codes.c.code_id == issued.code_id)
            .values(expires_at=int(time.time() * 1000) - 1)
        )
    return issued
