"""Requests: the queue (order, filters, SLA countdowns, highlight) and one request (status
changes the machine and the role allow, assignee, notes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.device import Device
from app.viewmodels.request_detail import RequestDetailViewModel
from app.viewmodels.requests import OPEN, RequestListViewModel
from sync.domain import REQUEST_MACHINE
from tests.unit.viewmodels.phone import (
    LEAD,
    MATE,
    ME,
    OTHER_TEAM,
    RecordingNavigator,
    Seeder,
    fixed_now,
)

pytestmark = pytest.mark.usefixtures("field_time")


@pytest.fixture
def lead(lead_phone: Device) -> Device:
    return lead_phone


def seed(device: Device) -> Seeder:
    s = Seeder(device)
    s.crew()
    s.household("hh-1", "3栋", "2单元", "1201")
    s.household("hh-2", "3栋", "1单元", "502")
    return s


# ---------------------------------------------------------------------- the list


def test_open_requests_by_urgency_then_deadline(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-routine", "routine", created_hours=-2)  # due in 22 h
    s.request("rq-urgent-late", "urgent", created_hours=-1)  # due in 3 h
    s.request("rq-urgent-soon", "urgent", created_hours=-3.5)  # due in 30 min
    s.request("rq-emergency", "emergency", created_hours=-0.25)  # due in 45 min
    s.request("rq-done", "emergency", status="resolved")
    vm = RequestListViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert vm.status_filter == OPEN
    assert [r.id for r in vm.rows] == [
        "rq-emergency",
        "rq-urgent-soon",
        "rq-urgent-late",
        "rq-routine",
    ]
    assert (vm.open_count, vm.overdue_count) == (4, 0)
    first = vm.rows[0]
    assert first.highlight and first.urgency_label == "特急（1 小时内）"
    assert first.sla_text == "还剩 45 分钟"
    assert vm.rows[2].sla_text == "还剩 3 小时 0 分钟"
    assert not vm.rows[3].highlight
    assert first.address == "观海轩 3栋 2单元 1201"


def test_countdown_turns_into_overdue(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-1", "emergency", created_hours=-1.6)  # due 36 min ago
    s.request("rq-2", "routine", created_hours=-60)  # due 1 d 12 h ago
    vm = RequestListViewModel(phone, RecordingNavigator(), now=fixed_now)
    texts = {r.id: (r.sla_text, r.overdue) for r in vm.rows}
    assert texts == {"rq-1": ("已超时 36 分钟", True), "rq-2": ("已超时 1 天 12 小时", True)}
    assert vm.overdue_count == 2


def test_countdowns_move_with_the_clock(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-1", "urgent", created_hours=-1)
    clock = [fixed_now()]
    vm = RequestListViewModel(phone, RecordingNavigator(), now=lambda: clock[0])
    assert vm.rows[0].sla_text == "还剩 3 小时 0 分钟"
    clock[0] += timedelta(hours=3, minutes=35)
    vm.refresh()
    assert vm.rows[0].sla_text == "已超时 35 分钟"


def test_filters_by_status_and_urgency(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-new", "routine")
    s.request("rq-ack", "urgent", status="acknowledged")
    s.request("rq-resolved", "urgent", status="resolved")
    s.request("rq-confirmed", "routine", status="confirmed")
    vm = RequestListViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert {r.id for r in vm.rows} == {"rq-new", "rq-ack"}
    vm.set_status_filter(None)
    assert {r.id for r in vm.rows} == {"rq-new", "rq-ack", "rq-resolved", "rq-confirmed"}
    assert vm.rows[-1].sla_text == ""  # answered: no countdown
    vm.set_status_filter("resolved")
    assert [r.id for r in vm.rows] == ["rq-resolved"]
    vm.set_status_filter(None)
    vm.set_urgency_filter("urgent")
    assert {r.id for r in vm.rows} == {"rq-ack", "rq-resolved"}
    assert vm.status_options()[0] == (OPEN, "未办结")


def test_shows_the_team_queue_not_other_teams(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-ours", "routine")
    s.request("rq-nobody", "routine", team_id=None)
    s.request("rq-theirs", "routine", team_id=OTHER_TEAM)
    s.request("rq-theirs-mine", "routine", team_id=OTHER_TEAM, assignee=ME)
    vm = RequestListViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert {r.id for r in vm.rows} == {"rq-ours", "rq-nobody", "rq-theirs-mine"}


def test_new_and_open_navigate(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-1", "routine")
    nav = RecordingNavigator()
    vm = RequestListViewModel(phone, nav, now=fixed_now)
    vm.new()
    vm.open("rq-1")
    assert nav.routes == ["/requests/new", "/request/rq-1"]


# ---------------------------------------------------------------------- one request


@pytest.mark.parametrize("status", ["new", "acknowledged", "in_progress", "resolved", "confirmed"])
def test_lead_is_offered_the_machines_next_steps(lead: Device, status: str) -> None:
    seed(lead).request("rq-1", "urgent", status=status)
    vm = RequestDetailViewModel(lead, RecordingNavigator(), "rq-1", now=fixed_now)
    assert [to for to, _ in vm.actions()] == list(REQUEST_MACHINE.next_states(status))
    assert not any(text.startswith("ui.") for _, text in vm.actions())  # every text in catalogs


def test_action_texts_say_what_happens(lead: Device) -> None:
    seed(lead).request("rq-1", "urgent", status="resolved")
    vm = RequestDetailViewModel(lead, RecordingNavigator(), "rq-1", now=fixed_now)
    assert vm.actions() == [("in_progress", "重新办理"), ("confirmed", "居民已确认")]


def test_lead_walks_a_request_to_confirmed(lead: Device) -> None:
    seed(lead).request("rq-1", "emergency")
    nav = RecordingNavigator()
    vm = RequestDetailViewModel(lead, nav, "rq-1", now=fixed_now)
    for to in ("acknowledged", "in_progress", "resolved", "confirmed"):
        assert vm.set_status(to), vm.error
        assert vm.status == to
    assert vm.actions() == []
    assert vm.sla_text == ""
    assert lead.require_store().pending_count() == 4
    assert nav.notices[-1] == ("已保存在本机，联网后自动同步。", False)


def test_a_skip_the_machine_forbids_is_refused(lead: Device) -> None:
    seed(lead).request("rq-1", "routine")
    vm = RequestDetailViewModel(lead, RecordingNavigator(), "rq-1", now=fixed_now)
    assert vm.set_status("resolved") is False
    assert vm.error is not None and vm.status == "new"
    assert lead.require_store().pending_count() == 0


def test_volunteer_changes_status_only_when_assigned(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-theirs", "urgent", assignee=MATE)
    s.request("rq-mine", "urgent", assignee=ME)
    theirs = RequestDetailViewModel(phone, RecordingNavigator(), "rq-theirs", now=fixed_now)
    assert not theirs.can_change_status and theirs.actions() == []
    assert theirs.set_status("acknowledged") is False
    assert not theirs.can_assign
    mine = RequestDetailViewModel(phone, RecordingNavigator(), "rq-mine", now=fixed_now)
    assert mine.set_status("acknowledged")
    assert mine.status == "acknowledged"


def test_lead_assigns_a_team_member(lead: Device) -> None:
    seed(lead).request("rq-1", "urgent")
    vm = RequestDetailViewModel(lead, RecordingNavigator(), "rq-1", now=fixed_now)
    assert vm.can_assign
    assert vm.assignee == "尚未指派"
    assert dict(vm.members) == {ME: "张秀英", LEAD: "李建国", MATE: "王桂兰"}
    assert vm.assign(MATE)
    stored = lead.get("request", "rq-1")
    assert stored is not None and stored["assignee_id"] == MATE
    assert vm.assignee == "王桂兰"
    assert vm.assign("mb-zhao") is False  # another team's member
    assert lead.get("request", "rq-1")["assignee_id"] == MATE  # type: ignore[index]


def test_notes_are_appended_newest_first(phone: Device) -> None:
    seed(phone).request("rq-1", "routine")
    clock = [fixed_now()]
    vm = RequestDetailViewModel(phone, RecordingNavigator(), "rq-1", now=lambda: clock[0])
    vm.note = "   "
    assert vm.add_note() is False
    assert vm.error == "跟进记录是空的。请写下情况后再添加。"
    vm.note = "已电话联系居民"
    assert vm.add_note()
    clock[0] += timedelta(minutes=20)
    vm.note = "药已送到"
    assert vm.add_note()
    assert vm.note == ""
    assert [(n.text, n.member, n.at_label) for n in vm.notes] == [
        ("药已送到", "张秀英", "18:20"),
        ("已电话联系居民", "张秀英", "18:00"),
    ]
    assert all(n.unsent for n in vm.notes)  # on this phone only, until a sync takes them
    store = phone.require_store()
    store.acknowledge([op.op_id for op in store.pending_ops()])
    vm.refresh()
    assert not any(n.unsent for n in vm.notes)


def test_details_and_missing_request(phone: Device) -> None:
    s = seed(phone)
    s.request("rq-1", "urgent", created_hours=-1)
    vm = RequestDetailViewModel(phone, RecordingNavigator(), "rq-1", now=fixed_now)
    assert (vm.category_label, vm.urgency_label, vm.status_label) == (
        "购药",
        "紧急（4 小时内）",
        "新提交",
    )
    assert (vm.created_label, vm.due_label, vm.sla_text) == ("17:00", "21:00", "还剩 3 小时 0 分钟")
    assert vm.description == "需要降压药"
    missing = RequestDetailViewModel(phone, RecordingNavigator(), "rq-nope", now=fixed_now)
    missing.note = "已电话联系居民"
    assert not missing.found and missing.actions() == [] and missing.add_note() is False
    assert phone.require_store().pending_count() == 0
