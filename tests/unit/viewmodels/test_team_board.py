"""The team board, one member's list and reassigning, on a real lead's phone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app import i18n
from app.services.device import Device
from app.viewmodels.team import (
    UNASSIGNED,
    MemberListViewModel,
    ReassignViewModel,
    TeamBoardViewModel,
)
from tests.unit.viewmodels.phone import (
    PIN,
    TEAM,
    RecordingNavigator,
    Seeder,
    at,
    fixed_now,
    identity,
    open_phone,
)

WANG = "mb-wang"
ZHAO = "mb-zhao"


def assignee(device: Device, assignment_id: str) -> str | None:
    record = device.get("assignment", assignment_id)
    assert record is not None
    return record.get("assignee_id")


pytestmark = pytest.mark.usefixtures("chinese")


@pytest.fixture
def phone(lead_phone: Device) -> Device:
    return lead_phone


@pytest.fixture
def seeded(phone: Device) -> Seeder:
    s = Seeder(phone)
    s.team()
    s.member("mb-li", "李建国", "team_lead")
    s.member(WANG, "王桂兰")
    s.member(ZHAO, "赵志强")
    s.household("hh-1", "3栋", "2单元", "1201")
    s.household("hh-2", "3栋", "2单元", "1202")
    # 王桂兰: 2 done, 1 to do and overdue, 1 nobody home (revisit), 1 cancelled (not counted)
    s.assignment("as-1", "hh-1", "done", assignee=WANG)
    s.assignment("as-2", "hh-2", "done", assignee=WANG)
    s.assignment("as-3", "hh-1", "pending", assignee=WANG, due=at(-1))
    s.assignment("as-4", "hh-1", "no_answer", assignee=WANG, revisit_due=at(1))
    s.assignment("as-5", "hh-1", "cancelled", assignee=WANG)
    # 赵志强: 1 in progress (not yet due), 1 refused
    s.assignment("as-6", "hh-1", "in_progress", assignee=ZHAO, due=at(3))
    s.assignment("as-7", "hh-1", "refused", assignee=ZHAO)
    # nobody yet; and one of another team that must not show
    s.assignment("as-8", "hh-1", "pending", assignee=None)
    s.assignment("as-9", "hh-1", "pending", assignee=WANG, team_id="tm-other")
    # requests: two open for the team (one urgent), one resolved, one of another team
    s.request("rq-1", "urgent")
    s.request("rq-2", "routine")
    s.request("rq-3", "emergency", status="resolved")
    s.request("rq-4", "emergency", team_id="tm-other")
    return s


def test_board_counts_each_members_progress(seeded: Seeder) -> None:
    vm = TeamBoardViewModel(seeded.device, RecordingNavigator(), now=fixed_now)
    rows = {r.member_id: r for r in vm.rows}
    assert [r.member_id for r in vm.rows] == ["mb-li", WANG, ZHAO, UNASSIGNED]
    wang = rows[WANG].progress
    assert (wang.done, wang.todo, wang.revisit, wang.overdue) == (2, 1, 1, 1)
    assert wang.total == 4 and wang.fraction == 0.5
    zhao = rows[ZHAO].progress
    assert (zhao.done, zhao.todo, zhao.revisit, zhao.overdue) == (0, 1, 1, 0)
    assert rows[UNASSIGNED].progress.todo == 1
    assert rows["mb-li"].is_me and rows["mb-li"].role == "队长"
    assert (vm.totals.done, vm.totals.todo, vm.totals.revisit) == (2, 3, 2)
    assert vm.team_name == "观海轩第一志愿服务队"
    assert (vm.open_requests, vm.urgent_requests) == (2, 1)
    assert vm.allowed


def test_board_follows_changes_pulled_later(seeded: Seeder) -> None:
    vm = TeamBoardViewModel(seeded.device, RecordingNavigator(), now=fixed_now)
    seen: list[int] = []
    vm.subscribe(lambda: seen.append(vm.totals.done))
    seeded.put("assignment", "as-6", status="done")
    assert seen and seen[-1] == 3
    vm.close()
    seeded.put("assignment", "as-3", status="in_progress")
    assert len(seen) == 1  # closed: no more updates


def test_board_links(seeded: Seeder) -> None:
    nav = RecordingNavigator()
    vm = TeamBoardViewModel(seeded.device, nav, now=fixed_now)
    vm.open_member(WANG)
    vm.open_requests_list()
    vm.open_handover()
    vm.open_summary()
    assert nav.routes == [f"/team/member/{WANG}", "/requests", "/team/handover", "/team/summary"]


def test_a_volunteer_is_not_allowed(tmp_path: Path) -> None:
    device = open_phone(tmp_path / "vol", identity(role="volunteer", member_id=WANG))
    try:
        assert not TeamBoardViewModel(device, RecordingNavigator(), now=fixed_now).allowed
    finally:
        device.lock()


def test_member_list_puts_overdue_first_and_done_last(seeded: Seeder) -> None:
    nav = RecordingNavigator()
    vm = MemberListViewModel(seeded.device, nav, WANG, now=fixed_now)
    assert vm.name == "王桂兰"
    assert [r.id for r in vm.rows] == ["as-3", "as-4", "as-1", "as-2"]
    first = vm.rows[0]
    assert first.overdue and first.status_label == "待处理"
    assert first.place == "观海轩 3栋 2单元 1201"
    assert first.type == "核酸采样"
    assert first.due  # shown in local time
    assert not vm.rows[1].overdue  # its revisit is due in an hour
    vm.open("as-3")
    vm.reassign("as-3")
    assert nav.routes == ["/assignment/as-3", f"/team/member/{WANG}/reassign/as-3"]


def test_unassigned_list(seeded: Seeder) -> None:
    vm = MemberListViewModel(seeded.device, RecordingNavigator(), UNASSIGNED, now=fixed_now)
    assert [r.id for r in vm.rows] == ["as-8"]
    assert vm.name == "未分配"


def test_reassign_is_kept_on_the_phone_and_queued(seeded: Seeder, tmp_path: Path) -> None:
    nav = RecordingNavigator()
    device = seeded.device
    vm = ReassignViewModel(device, nav, "as-3", now=fixed_now)
    choices = {c.member_id: c for c in vm.choices}
    assert choices[WANG].current and not choices[ZHAO].current
    assert (choices[WANG].open_count, choices[ZHAO].open_count) == (2, 2)
    before = device.require_store().pending_count()
    assert vm.reassign(ZHAO)
    assert assignee(device, "as-3") == ZHAO
    assert device.require_store().pending_count() == before + 1
    assert nav.backs == 1 and "赵志强" in nav.notices[-1][0]
    # durable: a fresh unlock of the same data dir sees it
    device.lock()
    again = Device(device.data_dir)
    again.unlock(PIN)
    try:
        assert assignee(again, "as-3") == ZHAO
        assert again.require_store().pending_ops()[-1].set == {"assignee_id": ZHAO}
    finally:
        again.lock()


def test_reassign_to_the_same_member_changes_nothing(seeded: Seeder) -> None:
    nav = RecordingNavigator()
    vm = ReassignViewModel(seeded.device, nav, "as-3", now=fixed_now)
    before = seeded.store.pending_count()
    assert not vm.reassign(WANG)
    assert seeded.store.pending_count() == before
    assert nav.backs == 0 and nav.notices


def test_reassign_refuses_non_members_and_finished_work(seeded: Seeder) -> None:
    vm = ReassignViewModel(seeded.device, RecordingNavigator(), "as-3", now=fixed_now)
    assert not vm.reassign("mb-stranger")
    assert vm.error
    done = ReassignViewModel(seeded.device, RecordingNavigator(), "as-1", now=fixed_now)
    assert done.blocked and "已完成" in done.blocked
    assert not done.reassign(ZHAO)
    assert assignee(seeded.device, "as-1") == WANG
    missing = ReassignViewModel(seeded.device, RecordingNavigator(), "as-404", now=fixed_now)
    assert missing.assignment is None and missing.blocked


def test_english_labels(seeded: Seeder) -> None:
    i18n.set_language("en")
    vm = MemberListViewModel(seeded.device, RecordingNavigator(), UNASSIGNED, now=fixed_now)
    assert vm.name == "Not assigned"
    assert vm.rows[0].status_label == "Pending"
    assert TEAM  # the seeded team is the phone's


def test_board_says_how_each_phone_last_synced(seeded: Seeder) -> None:
    vm = TeamBoardViewModel(seeded.device, RecordingNavigator(), now=fixed_now)
    assert all(r.phone_label == "" for r in vm.rows)  # the server has not said yet
    synced = int(fixed_now().timestamp() * 1000) - 3_600_000  # an hour before "now"
    seeded.device.require_store().set_meta(
        "team.phones",
        {
            "at": synced,
            "phones": [{"member": WANG, "last_sync": synced, "pending": 3, "app": "0.1"}],
        },
    )
    vm.load()
    rows = {r.member_id: r for r in vm.rows}
    hour = datetime.fromtimestamp(synced / 1000).strftime("%H:%M")
    assert rows[WANG].phone_label == f"手机 {hour} 同步时还有 3 条未发送"
    assert rows[WANG].unsent == 3
    assert rows[ZHAO].phone_label == "手机从未同步"
