"""The 队伍 Teams page in-process: create, edit, members, scope refusals, the enrollment sheet
and the roster import (preview lists every problem; the fixed file commits)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import protocol
from sync.protocol import now_ms
from sync.server import admin, audit, demo, teams
from sync.server.accounts import users
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.unit.console.test_console import PASSWORD, client, csrf_of, login
from tests.unit.server.conftest import make_runtime


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Runtime, demo.DemoSummary]]:
    rt = make_runtime(tmp_path / "server")
    summary = demo.seed(rt)
    users.add(rt, "coord", "coordinator", [summary.community_id], password=PASSWORD, by="c", now=1)
    yield rt, summary
    rt.close()


def _entries(rt: Runtime, action: str) -> list[audit.Entry]:
    with rt.db.read() as conn:
        return [e for e in audit.listing(conn) if e.action == action]


def test_create_a_team_set_its_area_add_and_move_a_member(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/teams")
    assert page.status_code == 200 and 'id="teams-table"' in page.text
    token = csrf_of(page.text)
    r = c.post(
        "/console/teams",
        data={"csrf": token, "name": "七号楼服务队", "kind": "three_person",
              "community": summary.community_id},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    team_id = r.headers["location"].split("/teams/")[1].split("?")[0]
    page = c.get(r.headers["location"])
    assert "七号楼服务队" in page.text and 'id="team-done"' in page.text
    area = re.findall(r'name="area" value="([^"]+)"', page.text)
    assert area, "the community's buildings are offered as the area"
    r = c.post(
        f"/console/teams/{team_id}/edit",
        data={"csrf": token, "name": "七号楼服务队", "kind": "three_person", "area": area[:1]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=edited")
    assert Directory(rt).records("team")[team_id]["area"] == area[:1]
    r = c.post(
        f"/console/teams/{team_id}/members",
        data={"csrf": token, "name": "周五", "phone": "+86 139-0000-0005", "role": "team_lead"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    member = next(m for m in teams.members(Directory(rt), {}) if m.name == "周五")
    assert member.phone == "13900000005"
    other = next(iter(summary.teams.values()))
    r = c.post(
        f"/console/members/{member.member_id}/move",
        data={"csrf": token, "team": other},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert Directory(rt).records("member")[member.member_id]["team_id"] == other
    assert len(_entries(rt, audit.TEAM_CHANGE)) == 4
    assert _entries(rt, audit.VIEW_PERSONAL)


def test_a_post_without_csrf_changes_nothing(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    before = len(Directory(rt).records("team"))
    r = c.post(
        "/console/teams",
        data={"name": "x", "kind": "three_person", "community": summary.community_id},
    )
    assert r.status_code == 403 and "console.csrf" in r.text
    assert len(Directory(rt).records("team")) == before


def test_another_communitys_team_is_refused_and_audited(world) -> None:
    rt, summary = world
    street = Directory(rt).records("place")[summary.community_id]["parent_id"]

    def build(a: admin.Author) -> str:
        place = a.op("place", set={"name": "别的社区", "level": "community", "parent_id": street})
        team = a.op(
            "team",
            set={"name": "别队", "kind": "three_person", "community_id": place.entity_id},
        )
        return team.entity_id

    foreign, _ = admin.write(rt, build)
    c = client(rt)
    login(c, "coord")
    assert "别队" not in c.get("/console/teams").text
    r = c.get(f"/console/teams/{foreign}")
    assert r.status_code == 403
    token = csrf_of(c.get("/console/teams").text)
    r = c.post(f"/console/teams/{foreign}/codes", data={"csrf": token})
    assert r.status_code == 403
    denied = _entries(rt, audit.ACCESS_DENIED)
    assert [e.target for e in denied] == [foreign, foreign]
    assert not _entries(rt, audit.ENROLL)


def test_team_codes_render_a_sheet_with_one_qr_per_member(world) -> None:
    rt, summary = world
    team_id = next(iter(summary.teams.values()))
    c = client(rt)
    login(c, "coord")
    page = c.get(f"/console/teams/{team_id}")
    token = csrf_of(page.text)
    members = [m for m in teams.members(Directory(rt), {}) if m.team_id == team_id]
    r = c.post(f"/console/teams/{team_id}/codes", data={"csrf": token, "expires": "72h"})
    assert r.status_code == 200 and 'id="enroll-sheet"' in r.text
    cards = re.findall(r'<li class="card" data-code="([^"]+)"', r.text)
    assert len(cards) == len(members)
    titles = re.findall(r"<title>([^<]+)</title>", r.text)
    links = [t.replace("&amp;", "&") for t in titles if t.startswith("linli://")]
    assert len(links) == len(members)
    first = protocol.parse_enroll_link(links[0])
    assert first.code == cards[0] and first.fingerprint == protocol.fingerprint_of(rt.keys)
    assert r.text.count("<svg") == len(members)
    for m in members:
        assert m.name in r.text
    entry = _entries(rt, audit.ENROLL)[-1]
    assert entry.target == team_id and entry.details["codes"] == len(members)


def _upload(c, token: str, community: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return c.post(
        "/console/teams/roster",
        data={"csrf": token, "community": community},
        files={"file": (name, data, "text/csv")},
        follow_redirects=False,
    )


def test_roster_import_lists_every_problem_then_commits_the_fixed_file(world) -> None:
    rt, summary = world
    team_name = Directory(rt).name("team", next(iter(summary.teams.values())))
    c = client(rt)
    login(c, "coord")
    token = csrf_of(c.get("/console/teams").text)
    bad = f"姓名,电话,角色,队伍\n王一,138abc,队长,{team_name}\n,13800000002,,{team_name}\n李二,13800000003,厨师,{team_name}\n"
    r = _upload(c, token, summary.community_id, "名单.csv", bad.encode("gbk"))
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert page.text.count('class="problem"') == 3 and 'id="roster-commit"' not in page.text
    good = (
        f"姓名,电话,角色,队伍\n王一,13800000001,队长,{team_name}\n李二,13800000003,,{team_name}\n"
    )
    r = _upload(c, token, summary.community_id, "名单.csv", good.encode("gbk"))
    page = c.get(r.headers["location"])
    assert 'id="roster-commit"' in page.text
    action = re.search(r'action="([^"]+/commit)"', page.text)
    assert action
    r = c.post(action.group(1), data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    names = {m.name for m in teams.members(Directory(rt), {})}
    assert {"王一", "李二"} <= names
    assert _entries(rt, audit.IMPORT)[-1].details == {"kind": "roster", "members": 2}


def test_bad_uploads_are_refused_with_a_code_and_nothing_written(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    token = csrf_of(c.get("/console/teams").text)
    r = _upload(c, token, summary.community_id, "x.csv", b"\x00\x01\x02\xff" * 4000)
    page = c.get(r.headers["location"])
    assert 'id="roster-error"' in page.text and 'id="roster-commit"' not in page.text
    big = b"a" * (20 * 1024 * 1024 + 200_000)
    r = _upload(c, token, summary.community_id, "big.csv", big)
    assert r.status_code == 413 and "import.too_big" in r.text
    r = c.post(
        "/console/teams/roster",
        data={"community": summary.community_id},
        files={"file": ("x.csv", b"a,b\n", "text/csv")},
    )
    assert r.status_code == 403 and "console.csrf" in r.text
    assert not _entries(rt, audit.IMPORT)


def test_devices_lists_members_never_enrolled_and_filters_silent_phones(world) -> None:
    rt, summary = world
    team_id = next(iter(summary.teams.values()))
    member_id = teams.add_member(rt, name="从未登记", role="volunteer", team_id=team_id)
    from sync.server import devices as device_table

    with rt.db.write() as conn:
        conn.execute(
            device_table.db.devices.insert().values(
                device_id="d-quiet",
                member_id=member_id,
                role="volunteer",
                team_id=team_id,
                enrolled_at=1,
                last_counter=0,
                system=False,
                last_sync_at=1,
            )
        )
        conn.execute(
            device_table.db.devices.insert().values(
                device_id="d-busy", member_id=member_id, role="volunteer", team_id=team_id,
                enrolled_at=1, last_counter=0, system=False, last_sync_at=now_ms(),
            )
        )  # fmt: skip
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/devices")
    assert 'id="never-table"' in page.text and f'id="never-{member_id}"' not in page.text
    quiet = c.get("/console/devices?silent=24")
    assert 'id="device-d-quiet"' in quiet.text and 'id="device-d-busy"' not in quiet.text
    assert 'id="device-d-busy"' in page.text
    other = teams.add_member(rt, name="新来的", role="volunteer", team_id=team_id)
    assert f'id="never-{other}"' in c.get("/console/devices").text
