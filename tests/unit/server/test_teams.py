"""Teams, members, roster import and team enrollment codes (the service the CLI and the console
share), on a real SQLite runtime with the demo's operation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from sync import protocol
from sync.errors import LinliError, ValidationError
from sync.server import demo, enrollment, teams
from sync.server.importing import Source, roster
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.unit.server.conftest import make_runtime


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Runtime, demo.DemoSummary]]:
    rt = make_runtime(tmp_path / "server")
    summary = demo.seed(rt)
    yield rt, summary
    rt.close()


def _building(rt: Runtime, community_id: str) -> str:
    places = Directory(rt).records("place")
    return next(p for p, r in places.items() if r.get("parent_id") == community_id)


def test_create_edit_disable_a_team_with_its_area(world) -> None:
    rt, summary = world
    building = _building(rt, summary.community_id)
    team_id = teams.create_team(
        rt, name="新队", kind="targeted_service", community_id=summary.community_id, area=[building]
    )
    row = next(r for r in teams.listing(rt) if r.team_id == team_id)
    assert (row.name, row.kind, row.area, row.disabled_at) == (
        "新队",
        "targeted_service",
        (building,),
        None,
    )
    assert teams.edit_team(rt, team_id, name="新队二", area=[]) is True
    assert teams.edit_team(rt, team_id, name="新队二") is False  # nothing differs: no op
    assert teams.set_disabled(rt, "team", team_id, True) is True
    assert teams.set_disabled(rt, "team", team_id, True) is False
    row = next(r for r in teams.listing(rt) if r.team_id == team_id)
    assert row.name == "新队二" and row.area == () and row.disabled_at is not None
    with pytest.raises(ValidationError) as err:
        teams.add_member(rt, name="甲", role="volunteer", team_id=team_id)
    assert err.value.code == "team.disabled"
    assert teams.set_disabled(rt, "team", team_id, False) is True
    assert teams.add_member(rt, name="甲", role="volunteer", team_id=team_id).startswith("mb-")


def test_a_team_area_outside_its_community_is_refused(world) -> None:
    rt, summary = world
    from sync.server.importing.places import add_place

    street = Directory(rt).records("place")[summary.community_id]["parent_id"]
    other = add_place(rt, level="community", name="别的社区", parent_id=street)
    with pytest.raises(ValidationError) as err:
        teams.create_team(
            rt, name="越界", kind="three_person", community_id=summary.community_id, area=[other]
        )
    assert err.value.code == "team.bad_area"
    assert err.value.describe("zh-CN") != "error.team.bad_area"


def test_move_and_disable_a_member(world) -> None:
    rt, summary = world
    first, second = list(summary.teams.values())[:2]
    member_id = teams.add_member(
        rt, name="乙", role="volunteer", team_id=first, phone="13800001111"
    )
    assert teams.move_member(rt, member_id, second) is True
    assert teams.move_member(rt, member_id, second) is False
    assert teams.set_disabled(rt, "member", member_id, True) is True
    row = next(m for m in teams.members(Directory(rt), {}) if m.member_id == member_id)
    assert row.team_id == second and row.disabled_at is not None


def test_team_codes_only_for_active_members_without_a_phone(world) -> None:
    rt, summary = world
    team_id = next(iter(summary.teams.values()))
    before = [m for m in teams.members(Directory(rt), {}) if m.team_id == team_id]
    quiet = teams.add_member(rt, name="丙", role="volunteer", team_id=team_id)
    gone = teams.add_member(rt, name="丁", role="volunteer", team_id=team_id)
    teams.set_disabled(rt, "member", gone, True)
    codes = teams.issue_team_codes(rt, team_id, ttl_s=3600)
    ids = {c.member_id for c in codes}
    assert quiet in ids and gone not in ids
    assert len(codes) == len(before) + 1  # the demo's members of the team have no phone yet
    fp = protocol.fingerprint_of(rt.keys)
    link = protocol.parse_enroll_link(codes[0].link)
    assert link.server == rt.settings.public_url and link.fingerprint == fp
    assert link.code == codes[0].code
    assert enrollment.parse_qr_content(codes[0].link) == (link.server, link.code)


def test_enroll_link_round_trip_and_refusals() -> None:
    text = protocol.enroll_link("http://10.0.0.5:8700/x", "ABCD-EFGH-JKMN", "0" * 32)
    assert (
        text
        == "linli://enroll?server=http%3A%2F%2F10.0.0.5%3A8700%2Fx&code=ABCD-EFGH-JKMN&fp="
        + "0" * 32
    )
    assert protocol.parse_enroll_link(text) == protocol.EnrollLink(
        "http://10.0.0.5:8700/x", "ABCD-EFGH-JKMN", "0" * 32
    )
    for bad in (
        "https://example.invalid/?code=1",
        "linli://enroll?server=ftp%3A%2F%2Fx&code=AB",
        "linli://enroll?server=http%3A%2F%2Fx",
        "linli://enroll?server=http%3A%2F%2Fx&code=AB&fp=xyz",
    ):
        with pytest.raises(ValidationError) as err:
            protocol.parse_enroll_link(bad)
        assert err.value.code == "enroll.bad_link"


def _csv(text: str, encoding: str = "gbk") -> Source:
    return Source("roster.csv", text.encode(encoding))


def test_roster_preview_lists_every_problem_then_commits(world) -> None:
    rt, summary = world
    names = Directory(rt)
    team_name = names.name("team", next(iter(summary.teams.values())))
    bad = _csv(
        "序号,姓名,电话,角色,队伍\n"
        f"1,王一,138-0000-1234,队长,{team_name}\n"
        f"2,,13800001235,志愿者,{team_name}\n"
        f"3,李二,138-abc,志愿者,{team_name}\n"
        "4,赵三,13800001236,厨师,没有这个队\n"
    )
    p = roster.preview(rt, bad, summary.community_id)
    assert p.ignored == ["序号"] and p.mapping["姓名"] == "name"
    found = [(x.line, x.column, x.reason) for x in p.problems]
    assert found == [
        (3, "姓名", "required"),
        (4, "电话", "phone"),
        (5, "角色", "role"),
        (5, "队伍", "roster_team_unknown"),
    ]
    with pytest.raises(ValidationError):
        roster.commit(rt, p)
    good = _csv(
        "姓名,电话,角色,队伍\n"
        f"王一,+86 138 0000 1234,队长,{team_name}\n"
        f"李二,13800001237,,{team_name}\n"
    )
    p = roster.preview(rt, good, summary.community_id)
    assert p.ready and p.members.new == 2
    assert roster.commit(rt, p) == 2
    again = roster.preview(rt, good, summary.community_id)
    assert again.members.unchanged == 2 and not again.plan
    people = {m.name: m for m in teams.members(Directory(rt), {})}
    assert people["王一"].role == "team_lead" and people["王一"].phone == "13800001234"


def test_roster_xlsx_moves_a_member_to_another_team(world) -> None:
    rt, summary = world
    first, second = list(summary.teams.values())[:2]
    names = Directory(rt)
    member_id = teams.add_member(
        rt, name="钱四", role="volunteer", team_id=first, phone="13900000001"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "手机号", "队伍"])
    sheet.append(["钱四", "13900000001", names.name("team", second)])
    buf = io.BytesIO()
    book.save(buf)
    p = roster.preview(rt, Source("名单.xlsx", buf.getvalue()), summary.community_id)
    assert p.ready and p.members.changed == 1
    assert p.plan[0].member_id == member_id and dict(p.plan[0].set) == {"team_id": second}
    roster.commit(rt, p)
    assert Directory(rt).records("member")[member_id]["team_id"] == second


def test_roster_binary_file_is_refused(world) -> None:
    rt, summary = world
    with pytest.raises(LinliError) as err:
        roster.preview(rt, Source("x.csv", b"\x00\x01\x02" * 100), summary.community_id)
    assert err.value.code == "import.binary"


def test_schema_3_team_ops_still_merge_and_a_schema_4_one_disables() -> None:
    """The evolution contract for ``disabled_at``: an op of schema 3 (no such field) is read and
    merged as before; the schema-4 op sets it; a schema-3 build would defer the schema-4 op."""
    import dataclasses

    from sync.domain import make_op
    from sync.domain.schema import SCHEMA_VERSION
    from sync.domain.validation import validate_op
    from sync.hlc import HybridClock
    from sync.merge import apply_op

    assert SCHEMA_VERSION == 4
    clock = HybridClock()
    values = {"name": "队", "kind": "three_person", "community_id": "pl-1", "area": []}
    created = make_op("team", None, set=values, current=None, clock=clock, device="d", member="m")
    old = dataclasses.replace(created, schema=3)
    validate_op(old)
    record = apply_op(None, old)
    assert record is not None and "disabled_at" not in record
    off = make_op(
        "team", old.entity_id, set={"disabled_at": "2022-04-01T00:00:00Z"}, current=record,
        clock=clock, device="d", member="m",
    )  # fmt: skip
    assert off.schema == 4
    validate_op(off)
    assert (apply_op(record, off) or {})["disabled_at"] == "2022-04-01T00:00:00Z"
