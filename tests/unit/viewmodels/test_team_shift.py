"""Shift handover notes and the end-of-shift summary, on a real lead's phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.team import HandoverViewModel, ShiftSummaryViewModel, pick_shift
from sync.domain import changes
from tests.unit.client.fakes import FakeServerTransport
from tests.unit.viewmodels.phone import (
    NOW,
    PIN,
    RecordingNavigator,
    Seeder,
    at,
    fixed_now,
    identity,
    open_phone,
)

pytestmark = pytest.mark.usefixtures("chinese")


@pytest.fixture
def phone(lead_phone: Device) -> Device:
    return lead_phone


def base(device: Device) -> Seeder:
    s = Seeder(device)
    s.team()
    s.member("mb-li", "李建国", "team_lead")
    s.member("mb-wang", "王桂兰")
    s.household("hh-1", "3栋", "2单元", "1201")
    return s


# -- which shift ---------------------------------------------------------------


def test_pick_shift_prefers_the_running_one_then_the_last_ended_then_the_next() -> None:
    def shift(sid: str, starts: float, ends: float) -> dict[str, str]:
        return {"id": sid, "starts": at(starts), "ends": at(ends)}

    morning, evening, earlier = shift("m", -2, 6), shift("e", 6, 14), shift("x", -20, -12)
    assert pick_shift([earlier, morning, evening], NOW) == (morning, "current")
    assert pick_shift([earlier, evening], NOW) == (earlier, "past")
    assert pick_shift([evening], NOW) == (evening, "upcoming")
    assert pick_shift([], NOW) == (None, "")
    assert pick_shift([{"id": "broken"}], NOW) == (None, "")


# -- handover --------------------------------------------------------------------


def test_without_a_shift_the_screen_explains_and_refuses_notes(phone: Device) -> None:
    base(phone)
    vm = HandoverViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert vm.shift is None and vm.shift_label == ""
    vm.draft = "3栋 1202 明早需复访"
    assert not vm.append()
    assert vm.error and "班次" in vm.error
    assert phone.require_store().pending_count() == 0


def test_append_a_handover_note_durably(phone: Device) -> None:
    s = base(phone)
    s.shift("sh-morning", -2, 6)
    s.shift("sh-night", -14, -2)
    nav = RecordingNavigator()
    vm = HandoverViewModel(phone, nav, now=fixed_now)
    assert vm.shift is not None and vm.shift["id"] == "sh-morning"
    assert vm.phase == "current" and vm.shift_label.startswith("当前班次")
    assert vm.notes == []

    vm.draft = "   "
    assert not vm.append() and vm.error == "请先填写交接内容。"

    vm.draft = "3栋 2单元 1202 无人应答，明早复访"
    assert vm.append()
    assert vm.draft == "" and vm.error is None
    assert nav.notices and not nav.notices[-1][1]
    assert [(n.author, n.text) for n in vm.notes] == [
        ("李建国", "3栋 2单元 1202 无人应答，明早复访")
    ]
    stored = phone.get("shift", "sh-morning")
    assert stored is not None and len(stored["handover"]) == 1
    pending = phone.require_store().pending_ops()
    assert [op.kind for op in pending] == ["shift"] and "handover" in pending[0].add

    # kept: the note is still there after locking and unlocking
    phone.lock()
    phone.unlock(PIN)
    again = HandoverViewModel(phone, nav, now=fixed_now)
    assert [n.text for n in again.notes] == ["3栋 2单元 1202 无人应答，明早复访"]


def test_notes_from_others_arrive_newest_first(phone: Device) -> None:
    s = base(phone)
    shift = s.shift("sh-1", -2, 6)
    vm = HandoverViewModel(phone, RecordingNavigator(), now=fixed_now)
    updates: list[int] = []
    vm.subscribe(lambda: updates.append(len(vm.notes)))
    for i, text in enumerate(("上午采样完成 40 户", "5 户无人应答")):
        op = changes.add_note(
            shift,
            text,
            kind="shift",
            clock=s.clock,
            device="dev-wang",
            member="mb-wang",
            at=at(-1 + i * 0.5),
        )
        s._apply(op)
    assert updates[-1] == 2
    assert [n.text for n in vm.notes] == ["5 户无人应答", "上午采样完成 40 户"]
    assert vm.notes[0].author == "王桂兰"
    vm.close()


def test_a_too_long_note_says_why(phone: Device) -> None:
    s = base(phone)
    s.shift("sh-1", -2, 6)
    vm = HandoverViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.draft = "很" * 1001
    assert not vm.append()
    assert vm.error and "1000" in vm.error
    assert phone.require_store().pending_count() == 0


# -- end-of-shift summary --------------------------------------------------------


def summary_phone(tmp_path: Path) -> tuple[Device, FakeServerTransport, Seeder]:
    server = FakeServerTransport()
    device = open_phone(tmp_path / "lead", identity(server), server)
    s = base(device)
    s.assignment("as-1", "hh-1", "done", assignee="mb-wang")
    s.assignment("as-2", "hh-1", "pending", assignee="mb-wang", due=at(-1))
    s.assignment("as-3", "hh-1", "no_answer", assignee="mb-wang")
    s.request("rq-routine", "routine")
    s.request("rq-urgent", "urgent", created_hours=-5)  # 1 h overdue
    s.request("rq-emergency", "emergency", created_hours=-0.5)
    s.request("rq-done", "emergency", status="resolved")
    return device, server, s


def test_summary_counts_and_open_urgent_requests(tmp_path: Path) -> None:
    device, _, _ = summary_phone(tmp_path)
    sync = SyncService(device)
    nav = RecordingNavigator()
    vm = ShiftSummaryViewModel(device, sync, nav, now=fixed_now)
    try:
        p = vm.progress
        assert (p.done, p.todo, p.revisit, p.overdue) == (1, 1, 1, 1)
        assert [r.id for r in vm.urgent] == ["rq-emergency", "rq-urgent"]
        assert vm.urgent[1].overdue and not vm.urgent[0].overdue
        assert vm.urgent[0].place == "观海轩 3栋 2单元 1201"
        vm.open_request("rq-urgent")
        assert nav.routes == ["/request/rq-urgent"]
    finally:
        vm.close()
        device.lock()


def test_summary_sync_now_sends_everything(tmp_path: Path) -> None:
    device, server, _ = summary_phone(tmp_path)
    sync = SyncService(device)
    vm = ShiftSummaryViewModel(device, sync, RecordingNavigator(), now=fixed_now)
    try:
        device.change("assignment", "as-2", set={"assignee_id": "mb-li"})
        assert vm.unsynced == 1
        assert vm.sync_now()
        assert vm.unsynced == 0 and vm.error is None
        assert vm.message == "同步完成：发送 1 条，收到 0 条，被拒 0 条。"
        assert [op.entity_id for op in server.log] == ["as-2"]
    finally:
        vm.close()
        device.lock()


def test_summary_sync_now_offline_keeps_the_changes_and_says_so(tmp_path: Path) -> None:
    device, server, _ = summary_phone(tmp_path)
    server.drop_requests = 1
    sync = SyncService(device)
    vm = ShiftSummaryViewModel(device, sync, RecordingNavigator(), now=fixed_now)
    try:
        device.change("assignment", "as-2", set={"assignee_id": "mb-li"})
        assert not vm.sync_now()
        assert vm.error and "本机" in vm.error
        assert vm.unsynced == 1
        assert not vm.syncing
    finally:
        vm.close()
        device.lock()


def test_due_times_are_local_and_dated(tmp_path: Path) -> None:
    device, _, _ = summary_phone(tmp_path)
    vm = ShiftSummaryViewModel(device, SyncService(device), RecordingNavigator(), now=fixed_now)
    try:
        local = (NOW + timedelta(hours=-5 + 4)).astimezone().strftime("%m-%d %H:%M")
        assert vm.urgent[1].due == local
    finally:
        vm.close()
        device.lock()


def test_a_lead_can_start_a_shift_when_none_runs(phone: Device) -> None:
    s = base(phone)
    s.shift("sh-night", -14, -2)
    nav = RecordingNavigator()
    vm = HandoverViewModel(phone, nav, now=fixed_now)
    assert vm.phase == "past" and vm.can_start_shift
    assert vm.start_shift()
    assert vm.phase == "current" and not vm.can_start_shift
    assert vm.shift is not None and (vm.shift["starts"], vm.shift["ends"]) == (at(0), at(8))
    assert vm.shift["team_id"] == "tm-guanhai"
    assert [op.kind for op in phone.require_store().pending_ops()] == ["shift"]
    assert not vm.start_shift()  # one is running now
    vm.draft = "交班：3栋已全部采样"
    assert vm.append()


def test_a_volunteer_cannot_start_a_shift(tmp_path: Path) -> None:
    device = open_phone(tmp_path / "v", identity(role="volunteer", member_id="mb-wang"))
    try:
        base(device)
        vm = HandoverViewModel(device, RecordingNavigator(), now=fixed_now)
        assert not vm.can_start_shift and not vm.start_shift()
        assert device.require_store().pending_count() == 0
    finally:
        device.lock()
