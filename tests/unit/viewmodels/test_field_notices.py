"""Notices (newest first, unread marks kept on the phone) and the contact directory."""

from __future__ import annotations

import pytest

from app.services.device import Device
from app.viewmodels.notices import (
    META_READ,
    ContactsViewModel,
    NoticesViewModel,
    NoticeViewModel,
)
from tests.unit.viewmodels.phone import (
    PIN,
    TEAM,
    TEAM_NAME,
    RecordingNavigator,
    Seeder,
    at,
    fixed_now,
)

pytestmark = pytest.mark.usefixtures("field_time")


@pytest.fixture
def phone(phone: Device) -> Device:
    """The volunteer's phone (see conftest) with what these tests read."""
    s = Seeder(phone)
    s.crew()
    for notice_id, kind, title, hours in (
        ("nt-old", "policy", "封控期间物资配送说明", -30),
        ("nt-new", "rumour_rebuttal", "辟谣：网传“明天全区解封”不实", -1),
        ("nt-mid", "daily", "今日核酸采样安排", -5),
    ):
        s.put(
            "notice",
            notice_id,
            kind=kind,
            title=title,
            body="以指挥部正式通告为准，请勿转发未经证实的消息。" * 5,
            published_at=at(hours),
            community_id="pl-c",
        )
    s.put("contact", "ct-hotline", community_id="pl-c", label="心理援助热线", phone="12356")
    s.put(
        "contact",
        "ct-lead",
        community_id="pl-c",
        label="邻里服务队队长",
        phone="13800000009",
        team_id=TEAM,
    )
    s.put(
        "contact", "ct-clinic", community_id="pl-c", label="社区健康服务中心", phone="0755-12345678"
    )
    s.put(
        "contact",
        "ct-other",
        community_id="pl-c",
        label="2栋三人小组组长",
        phone="13800000010",
        team_id="tm-other",
    )
    return phone


def test_newest_first_all_unread_at_first(phone: Device) -> None:
    vm = NoticesViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert [r.id for r in vm.rows] == ["nt-new", "nt-mid", "nt-old"]
    assert vm.unread == 3 and all(r.unread for r in vm.rows)
    first = vm.rows[0]
    assert first.kind_label == "辟谣"
    assert first.published_label == "17:00"
    assert vm.rows[2].published_label == "04-11 12:00"  # not today: the date shows
    assert len(first.excerpt) <= 60 and first.excerpt.endswith("…")


def test_reading_a_notice_marks_it_read_on_this_phone(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = NoticesViewModel(phone, nav, now=fixed_now)
    vm.open("nt-mid")
    assert nav.routes == ["/notice/nt-mid"]
    notice = NoticeViewModel(phone, nav, "nt-mid", now=fixed_now)
    assert notice.found and notice.title == "今日核酸采样安排" and notice.kind_label == "每日通报"
    assert vm.unread == 2  # the list below followed the change
    assert [r.id for r in vm.rows if not r.unread] == ["nt-mid"]
    NoticeViewModel(phone, nav, "nt-mid", now=fixed_now)  # reading again changes nothing
    assert phone.require_store().get_meta(META_READ) == ["nt-mid"]
    # kept across a lock/unlock; never queued for the server
    phone.lock()
    phone.unlock(PIN)
    assert NoticesViewModel(phone, nav, now=fixed_now).unread == 2
    assert phone.require_store().pending_count() == 0


def test_mark_all_read(phone: Device) -> None:
    vm = NoticesViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.mark_all_read()
    assert vm.unread == 0


def test_missing_notice(phone: Device) -> None:
    vm = NoticeViewModel(phone, RecordingNavigator(), "nt-nope", now=fixed_now)
    assert not vm.found and vm.body == ""
    assert vm.title == "本机没有这条通知。请同步后再试。"
    assert phone.require_store().get_meta(META_READ) is None


def test_contacts_team_first_then_community_with_call_links(phone: Device) -> None:
    nav = RecordingNavigator()
    NoticesViewModel(phone, nav, now=fixed_now).contacts()
    assert nav.routes == ["/contacts"]
    vm = ContactsViewModel(phone, nav)
    assert [c.id for c in vm.rows] == ["ct-lead", "ct-hotline", "ct-clinic", "ct-other"]
    assert vm.rows[0].team == TEAM_NAME
    assert vm.rows[1].team == ""
    assert vm.rows[2].tel_url == "tel:0755-12345678"
    assert vm.rows[1].tel_url == "tel:12356"


def test_withdrawn_expired_and_other_buildings_notices_leave_the_list(phone: Device) -> None:
    s = Seeder(phone)
    s.put("place", "pl-b1", level="building", name="1栋", parent_id="pl-c")  # this team's
    common = {"kind": "daily", "body": "b", "community_id": "pl-c", "published_at": at(-2)}
    s.put("notice", "nt-gone", title="撤回的", withdrawn_at=at(-1), **common)
    s.put("notice", "nt-past", title="过期的", expires_at=at(-1), **common)
    s.put("notice", "nt-later", title="未过期", expires_at=at(5), **common)
    s.put("notice", "nt-mine", title="1栋的", buildings=["pl-b1"], **common)
    s.put("notice", "nt-theirs", title="2栋的", buildings=["pl-b2"], **common)
    s.put("notice", "nt-edited", title="改过的", edited_at=at(-1), **common)
    vm = NoticesViewModel(phone, RecordingNavigator(), now=fixed_now)
    ids = [r.id for r in vm.rows]
    assert {"nt-later", "nt-mine", "nt-edited"} <= set(ids)
    assert not {"nt-gone", "nt-past", "nt-theirs"} & set(ids)
    edited = next(r for r in vm.rows if r.id == "nt-edited")
    assert edited.edited_label == "17:00 已修改"  # an hour before the fixed now, local time
    assert next(r for r in vm.rows if r.id == "nt-mine").edited_label == ""
    # opened from an old link: shown as no longer valid, not as news
    gone = NoticeViewModel(phone, RecordingNavigator(), "nt-gone", now=fixed_now)
    assert gone.found and gone.gone and gone.gone_text == "指挥部已撤回此通知，不再有效。"
    past = NoticeViewModel(phone, RecordingNavigator(), "nt-past", now=fixed_now)
    assert past.gone and "不再有效" in past.gone_text
    assert not NoticeViewModel(phone, RecordingNavigator(), "nt-later", now=fixed_now).gone


def test_contacts_show_names_kinds_notes_and_hide_removed_ones(phone: Device) -> None:
    s = Seeder(phone)
    s.put("contact", "ct-doctor", community_id="pl-c", kind="duty_doctor",
          label="社区健康服务中心", name="林医生", phone="13800000011", note="24小时")  # fmt: skip
    s.put("contact", "ct-120", community_id="pl-c", kind="hotline", label="急救", phone="120")
    s.put("contact", "ct-old", community_id="pl-c", kind="hotline", label="旧热线",
          phone="12320", removed_at=at(-1))  # fmt: skip
    vm = ContactsViewModel(phone, RecordingNavigator())
    ids = [c.id for c in vm.rows]
    assert "ct-old" not in ids
    assert ids.index("ct-doctor") < ids.index("ct-120") < ids.index("ct-hotline")
    doctor = next(c for c in vm.rows if c.id == "ct-doctor")
    assert (doctor.name, doctor.kind_label, doctor.note) == ("林医生", "值班医生", "24小时")
    assert doctor.tel_url == "tel:13800000011"
    old = next(c for c in vm.rows if c.id == "ct-hotline")  # written before schema 4
    assert (old.name, old.kind_label) == ("", "")
    assert NoticesViewModel(phone, RecordingNavigator(), now=fixed_now).contacts_count == 6
