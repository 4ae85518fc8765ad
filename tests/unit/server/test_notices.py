"""Notices and the contact directory through their service functions, on a real SQLite runtime,
and what phones (the real sync service, in process) receive of them: building targets, edits,
withdrawals, a notice that leaves a building, directory entries and their removal."""

from __future__ import annotations

import pytest

from sync.errors import ValidationError
from sync.server import contacts, localtime, notices
from sync.server.names import Directory
from sync.server.runtime import Runtime
from sync.server.service import SyncService
from tests.integration.server.world import World, build_world
from tests.unit.server.inproc import LocalPhone

NOW = "2022-04-01T00:00:00Z"


@pytest.fixture
def world(rt: Runtime) -> World:
    return build_world(rt)


def phones(rt: Runtime, world: World) -> tuple[LocalPhone, LocalPhone]:
    service = SyncService(rt)
    a = LocalPhone.enrolled(rt, service, world.volunteer_a)
    b = LocalPhone.enrolled(rt, service, world.volunteer_b)
    return a, b


def test_publish_edit_withdraw_and_the_states(rt: Runtime, world: World) -> None:
    nid = notices.publish(
        rt,
        kind="daily",
        title="今日核酸",
        body="8:00 开始",
        community_id=world.community,
        expires_at="2022-04-02T10:00:00Z",
        now=NOW,
    )
    n = notices.get(rt, nid)
    assert n is not None and n.state(NOW) == notices.ACTIVE
    assert n.state("2022-04-02T10:00:00Z") == notices.EXPIRED
    assert notices.edit(rt, nid, {"title": "今日核酸（改）", "expires_at": None}, now=NOW)
    assert not notices.edit(rt, nid, {"title": "今日核酸（改）"}, now=NOW)  # nothing differs
    n = notices.get(rt, nid)
    assert n is not None and n.title == "今日核酸（改）" and n.expires_at is None
    assert n.edited_at == NOW and n.published_at == NOW
    notices.withdraw(rt, nid, now="2022-04-01T01:00:00Z")
    n = notices.get(rt, nid)
    assert n is not None and n.state() == notices.WITHDRAWN
    with pytest.raises(ValidationError) as err:
        notices.edit(rt, nid, {"body": "x"})
    assert err.value.code == "notice.withdrawn"
    with pytest.raises(ValidationError) as err:
        notices.withdraw(rt, nid)
    assert err.value.code == "notice.withdrawn"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"buildings": ["unit"]}, "notice.not_in_community"),
        ({"expires_at": "2000-01-01T00:00:00Z"}, "notice.expiry_past"),
        ({"kind": "gossip"}, "notice.bad_kind"),
        ({"community": "building"}, "notice.not_a_community"),
        ({"buildings": ["pl-nowhere"]}, "admin.not_found"),
    ],
)
def test_bad_notices_are_refused_with_a_code_and_nothing_written(
    rt: Runtime, world: World, kw: dict[str, object], code: str
) -> None:
    swap = {"unit": world.unit_a, "building": world.building_a}
    values: dict[str, object] = {
        "kind": "daily",
        "title": "t",
        "body": "b",
        "community_id": world.community,
    }
    for key, value in kw.items():
        if key == "community":
            values["community_id"] = swap[str(value)]
        elif key == "buildings":
            values["buildings"] = [swap.get(str(v), str(v)) for v in value]  # type: ignore[attr-defined]
        else:
            values[key] = value
    with pytest.raises(ValidationError) as err:
        notices.publish(rt, **values)  # type: ignore[arg-type]
    assert err.value.code == code
    assert notices.listing(rt) == []


def test_a_building_notice_reaches_only_that_buildings_team_and_follows_an_edit(
    rt: Runtime, world: World
) -> None:
    a, b = phones(rt, world)
    nid = notices.publish(
        rt,
        kind="policy",
        title="1栋今晚消杀",
        body="请关好门窗",
        community_id=world.community,
        buildings=[world.building_a],
    )
    a.pull_all()
    b.pull_all()
    assert nid in a.seen_ids("notice")
    assert nid not in b.seen_ids("notice")  # another building's team never receives it
    # moved to building 2: team B receives its whole history, team A hears that it left
    notices.edit(rt, nid, {"buildings": [world.building_b], "body": "改为2栋"})
    a.pull_all()
    b.pull_all()
    assert (b.record("notice", nid) or {}).get("body") == "改为2栋"
    assert (b.record("notice", nid) or {}).get("title") == "1栋今晚消杀"
    assert (a.record("notice", nid) or {}).get("buildings") == [world.building_b]
    # withdrawn: both phones that ever had it learn it
    notices.withdraw(rt, nid)
    b.pull_all()
    assert (b.record("notice", nid) or {}).get("withdrawn_at")
    # a community-wide notice reaches both
    everyone = notices.publish(
        rt, kind="daily", title="全体", body="b", community_id=world.community
    )
    a.pull_all()
    b.pull_all()
    assert everyone in a.seen_ids("notice") and everyone in b.seen_ids("notice")


def test_the_wechat_text_is_plain_with_title_local_date_and_body(rt: Runtime, world: World) -> None:
    nid = notices.publish(
        rt,
        kind="rumour_rebuttal",
        title="网传“明天解封”不实",
        body="以指挥部通告为准。\n请勿转发。",
        community_id=world.community,
        buildings=[world.building_a],
        expires_at="2022-04-03T10:00:00Z",
        now=NOW,
    )
    n = notices.get(rt, nid)
    assert n is not None
    zone = localtime.zone("Asia/Shanghai")
    zh = notices.wechat_text(n, Directory(rt), zone, "zh-CN")
    assert zh.splitlines() == [
        "【辟谣】网传“明天解封”不实",
        "观海轩社区 观海轩 1栋 · 2022-04-01 08:00",
        "",
        "以指挥部通告为准。",
        "请勿转发。",
        "",
        "有效期至 2022-04-03 18:00",
    ]
    en = notices.wechat_text(n, Directory(rt), zone, "en")
    assert en.startswith("【Rumour rebuttal】") and "Valid until 2022-04-03 18:00" in en
    assert "<" not in zh and "Z" not in zh.splitlines()[1]


def test_the_directory_add_from_a_member_edit_remove(rt: Runtime, world: World) -> None:
    a, b = phones(rt, world)
    with pytest.raises(ValidationError) as err:
        contacts.from_member(rt, world.lead_a)  # the world's lead has no phone on record
    assert err.value.code == "contact.member_no_phone"
    doctor = contacts.add(
        rt,
        community_id=world.community,
        kind="duty_doctor",
        label="社区健康服务中心",
        name="林医生",
        phone="+86 138-0000-3333",
        note="24小时",
    )
    hotline = contacts.add(
        rt, community_id=world.community, kind="hotline", label="急救", phone="120"
    )
    lead = contacts.add(
        rt,
        community_id=world.community,
        kind="team_lead",
        label="观海轩1栋邻里服务队",
        name="刘志强",
        phone="13900000001",
        team_id=world.team_a,
    )
    found = contacts.get(rt, doctor)
    assert found is not None and found.phone == "13800003333" and found.name == "林医生"
    assert [c.kind for c in contacts.listing(rt)] == ["team_lead", "duty_doctor", "hotline"]
    a.pull_all()
    b.pull_all()
    for phone in (a, b):  # the whole community's phones hold the directory
        assert {doctor, hotline, lead} <= phone.seen_ids("contact")
    assert contacts.edit(rt, doctor, {"name": "林晓", "note": ""})
    assert not contacts.edit(rt, doctor, {"name": "林晓"})
    contacts.remove(rt, hotline)
    assert [c.id for c in contacts.listing(rt)] == [lead, doctor]
    assert len(contacts.listing(rt, removed=True)) == 3
    a.pull_all()
    assert (a.record("contact", doctor) or {}).get("name") == "林晓"
    assert (a.record("contact", doctor) or {}).get("note") is None
    assert (a.record("contact", hotline) or {}).get("removed_at")
    for bad, code in (
        ({"phone": "12"}, "contact.bad_phone"),
        ({"label": " "}, "contact.no_label"),
        ({"kind": "friend"}, "contact.bad_kind"),
        ({"colour": "red"}, "contact.not_editable"),
    ):
        with pytest.raises(ValidationError) as err:
            contacts.edit(rt, doctor, bad)
        assert err.value.code == code
    with pytest.raises(ValidationError) as err:
        contacts.edit(rt, hotline, {"label": "x"})
    assert err.value.code == "contact.removed"


def test_a_team_of_another_community_is_refused(rt: Runtime, world: World) -> None:
    from sync.server import admin

    other = admin.write(
        rt, lambda a: a.op("place", set={"level": "community", "name": "别的社区"}).entity_id
    )[0]
    with pytest.raises(ValidationError) as err:
        contacts.add(
            rt, community_id=other, kind="team_lead", label="x", phone="120", team_id=world.team_a
        )
    assert err.value.code == "contact.team_elsewhere"
    assert contacts.listing(rt) == []
