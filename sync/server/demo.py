"""``demo``: seed an invented district, written as ops through the normal merge path.

大鹏湾区 (district) → 南澳街道 (street) → 观海轩社区 (a sealed community) with 2 buildings × 3
units × 10 floors × 2 rooms = 120 households, 1–4 residents each (key-care people among them),
3 teams (neighbour service for building 1, three-person for building 2, targeted service for the
whole community), a coordinator, leads and volunteers, assignments of several types, residents'
requests, notices (one a rumour rebuttal) and a contact directory. Every name, phone number and
address is invented; a fixed seed makes the same data each time. Seeding twice is refused.
:func:`console_account` adds the command centre's demo coordinator (:data:`DEMO_ACCOUNT`, scoped
to the community, with the published password :data:`DEMO_PASSWORD`: a demo server only).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.domain.times import to_iso
from sync.errors import ValidationError
from sync.server import db
from sync.server.admin import Author, write
from sync.server.runtime import Runtime

SEED = 20220401
#: the demo server's command-centre login (printed by ``demo`` and ``make demo``)
DEMO_ACCOUNT = "demo"
DEMO_PASSWORD = "linli-demo-2022"
SURNAMES = "张王李赵刘陈杨黄周吴徐孙朱马胡郭林何高罗"
GIVEN = (
    "秀英", "建国", "桂兰", "志强", "玉梅", "国华", "淑珍", "海涛", "丽娟", "德胜",
    "文静", "子轩", "雨桐", "浩然", "春梅", "建华", "晓燕", "明辉", "佳怡", "俊杰",
)  # fmt: skip
BUILDINGS = ("1栋", "2栋")
UNITS = ("1单元", "2单元", "3单元")
FLOORS = 10
ROOMS_PER_FLOOR = 2


@dataclass(slots=True)
class DemoSummary:
    counts: Counter[str] = field(default_factory=Counter)
    community_id: str = ""
    teams: dict[str, str] = field(default_factory=dict)
    members: list[tuple[str, str, str, str | None]] = field(default_factory=list)


class _Seeder:
    def __init__(self, a: Author) -> None:
        self.a = a
        self.rng = random.Random(SEED)
        self.phone_seq = 0
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.out = DemoSummary()

    def op(self, kind: str, values: dict[str, Any], **kw: Any) -> str:
        self.out.counts[kind] += 1
        return self.a.op(kind, set=values, **kw).entity_id

    def phone(self) -> str:
        self.phone_seq += 1
        return f"1380000{self.phone_seq:04d}"

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def at(self, hours: float) -> str:
        return to_iso(self.now + timedelta(hours=hours))

    def place(self, parent: str | None, level: str, name: str, control: str = "normal") -> str:
        values: dict[str, Any] = {"level": level, "name": name, "control": control}
        if parent:
            values["parent_id"] = parent
        return self.op("place", values)

    def run(self) -> DemoSummary:
        district = self.place(None, "district", "大鹏湾区")
        street = self.place(district, "street", "南澳街道")
        community = self.place(street, "community", "观海轩社区", "sealed")
        self.out.community_id = community
        households: dict[str, list[str]] = {}
        key_care: list[str] = []
        for building_name in BUILDINGS:
            building = self.place(community, "building", f"观海轩 {building_name}", "sealed")
            households[building] = []
            for unit_name in UNITS:
                unit = self.place(building, "unit", unit_name, "sealed")
                for floor in range(1, FLOORS + 1):
                    for room in range(1, ROOMS_PER_FLOOR + 1):
                        hh = self.household(building_name, unit, unit_name, floor * 100 + room)
                        households[building].append(hh)
                        if self.residents(hh):
                            key_care.append(hh)
        b1, b2 = list(households)
        teams = {
            "neighbour_service": ("观海轩1栋邻里服务队", [b1]),
            "three_person": ("观海轩2栋三人小组", [b2]),
            "targeted_service": ("观海轩重点人群帮扶队", [community]),
        }
        team_ids: dict[str, str] = {}
        for kind, (name, area) in teams.items():
            values = {"name": name, "kind": kind, "community_id": community, "area": area}
            team_ids[kind] = self.op("team", values)
        self.out.teams = {name: team_ids[kind] for kind, (name, _) in teams.items()}
        self.member("coordinator", None)
        crews = {kind: self.crew(team_id) for kind, team_id in team_ids.items()}
        self.assignments(team_ids, crews, households[b1], households[b2], key_care)
        self.requests(
            {
                team_ids["neighbour_service"]: households[b1],
                team_ids["three_person"]: households[b2],
            }
        )
        self.notices(community)
        self.contacts(community, team_ids)
        return self.out

    def household(self, building: str, unit: str, unit_name: str, room: int) -> str:
        values = {
            "place_id": unit,
            "building": building,
            "unit": unit_name,
            "room": str(room),
            "address": f"观海轩 {building} {unit_name} {room}",
            "phone": self.phone(),
            "control": "sealed",
        }
        return self.op("household", values)

    def residents(self, household: str) -> bool:
        """1–4 residents; True if one of them needs key care."""
        care = False
        for i in range(self.rng.randint(1, 4)):
            band = self.rng.choice(("0-6", "7-17", "18-59", "18-59", "60-79", "80+"))
            values: dict[str, Any] = {"household_id": household, "name": self.person()}
            values["age_band"] = band
            if i == 0:
                values["phone"] = self.phone()
            flags: list[str] = []
            if band in ("60-79", "80+") and self.rng.random() < 0.3:
                flags.append("elderly_alone")
            if self.rng.random() < 0.05:
                flags.append("chronic_illness")
            if band == "18-59" and self.rng.random() < 0.03:
                flags.append("pregnant")
            if flags:
                values["care_flags"] = flags
                values["care_note"] = "需定期上门探访，注意用药情况"
                care = True
            self.op("resident", values)
        return care

    def member(self, role: str, team: str | None) -> str:
        name = self.person()
        values: dict[str, Any] = {"name": name, "role": role, "phone": self.phone()}
        if team:
            values["team_id"] = team
        member_id = self.op("member", values)
        self.out.members.append((member_id, name, role, team))
        return member_id

    def crew(self, team: str) -> list[str]:
        """The lead first, then three volunteers."""
        return [self.member("team_lead", team)] + [self.member("volunteer", team) for _ in range(3)]

    def assignments(
        self,
        teams: dict[str, str],
        crews: dict[str, list[str]],
        b1: list[str],
        b2: list[str],
        key_care: list[str],
    ) -> None:
        plan = [
            ("neighbour_service", "nucleic_acid_sampling", b1[:12], "核酸采样上门"),
            ("three_person", "nucleic_acid_sampling", b2[:12], "核酸采样上门"),
            ("neighbour_service", "supply_delivery", b1[12:18], "生活物资配送"),
            ("three_person", "flow_investigation", b2[12:15], "流调信息核实"),
            ("targeted_service", "welfare_check", key_care[:10], "重点人群关爱探访"),
            ("targeted_service", "psychological_support", key_care[10:13], "心理疏导"),
        ]
        for kind, kind_of_work, targets, title in plan:
            volunteers = crews[kind][1:]
            for i, household in enumerate(targets):
                values = {
                    "type": kind_of_work,
                    "target_kind": "household",
                    "target_id": household,
                    "team_id": teams[kind],
                    "assignee_id": volunteers[i % len(volunteers)],
                    "priority": "high" if kind_of_work == "welfare_check" else "normal",
                    "due": self.at(6 + i % 4),
                    "title": title,
                    "status": "pending",
                }
                self.op("assignment", values)

    def requests(self, households_of: dict[str, list[str]]) -> None:
        """Residents' requests, each for a household in the area of the team that handles it."""
        wanted = [
            ("medicine", "urgent", "需要降压药（硝苯地平），家中已断药"),
            ("food_goods", "routine", "需要大米和食用油"),
            ("medical_care", "emergency", "老人胸闷气短，需要尽快就医"),
            ("psychological", "routine", "长期居家情绪低落，希望有人聊聊"),
            ("information", "routine", "咨询下一轮核酸采样时间"),
            ("food_goods", "urgent", "婴儿奶粉快用完了"),
        ]
        teams = list(households_of)
        for i, (category, urgency, text) in enumerate(wanted):
            team = teams[i % len(teams)]
            households = households_of[team]
            household = households[(i * 17) % len(households)]
            values = {
                "household_id": household,
                "category": category,
                "urgency": urgency,
                "created_at": self.at(-1 - i),
                "description": text,
                "team_id": team,
                "status": "new",
            }
            self.op("request", values)

    def notices(self, community: str) -> None:
        for kind, title, body in (
            ("daily", "今日核酸采样安排", "今天 8:00–11:00 按楼栋上门采样，请居民在家等候，戴好口罩。"),
            ("policy", "封控期间物资配送说明", "生活物资由志愿者统一配送到户，请勿下楼聚集。"),
            ("rumour_rebuttal", "辟谣：网传“明天全区解封”不实", "以指挥部正式通告为准，请勿转发未经证实的消息。"),
        ):  # fmt: skip
            values = {
                "kind": kind,
                "title": title,
                "body": body,
                "community_id": community,
                "published_at": self.at(-2),
            }
            self.op("notice", values)

    def contacts(self, community: str, teams: dict[str, str]) -> None:
        """The community's directory: office, duty doctor, hotlines, and each team's lead."""
        entries: list[dict[str, Any]] = [
            {"kind": "office", "label": "观海轩社区居委会", "phone": "0755-26881234"},
            {"kind": "duty_doctor", "label": "社区健康服务中心", "name": self.person(),
             "phone": self.phone(), "note": "24小时值班"},
            {"kind": "hotline", "label": "急救", "phone": "120"},
            {"kind": "hotline", "label": "政务服务便民热线", "phone": "12345"},
            {"kind": "hotline", "label": "心理援助热线", "phone": self.phone()},
        ]  # fmt: skip
        names = {team_id: name for name, team_id in self.out.teams.items()}
        for member_id, name, role, team in self.out.members:
            if role == "team_lead" and team is not None and team in names:
                lead = self.a.record("member", member_id) or {}
                entries.append(
                    {"kind": "team_lead", "label": names[team], "name": name,
                     "phone": lead.get("phone"), "team_id": team}
                )  # fmt: skip
        for values in entries:
            self.op("contact", {"community_id": community, **values})


def seed(rt: Runtime) -> DemoSummary:
    """Seed the demo district once (``admin.demo_exists`` the second time)."""

    def build(a: Author) -> DemoSummary:
        if db.get_meta(a.world.conn, "demo_seeded"):
            raise ValidationError("admin.demo_exists")
        summary = _Seeder(a).run()
        db.set_meta(a.world.conn, "demo_seeded", summary.community_id)
        return summary

    return write(rt, build)[0]


def console_account(rt: Runtime, community_id: str) -> tuple[str, str]:
    """The demo coordinator of ``community_id`` for the command centre; its name and password."""
    from sync.protocol import now_ms
    from sync.server.accounts import users

    users.add(
        rt, DEMO_ACCOUNT, users.COORDINATOR, [community_id],
        password=DEMO_PASSWORD, by="demo", now=now_ms(),
    )  # fmt: skip
    return DEMO_ACCOUNT, DEMO_PASSWORD
