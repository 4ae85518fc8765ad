"""My shift (home): today's assignments, grouping by building and unit, counts, coverage,
search, filters, the lead's mine/team switch, overdue and key-care marks."""

from __future__ import annotations

import pytest

from app.services.device import Device
from app.viewmodels.shift import MINE, TEAM, ShiftViewModel
from sync.domain import changes
from sync.domain.progress import Progress as Counts
from tests.unit.viewmodels.phone import (
    LEAD,
    MATE,
    RecordingNavigator,
    Seeder,
    at,
    fixed_now,
)

pytestmark = pytest.mark.usefixtures("field_time")


def seed_block(device: Device) -> Seeder:
    """Two buildings (10栋 and 2栋), key-care residents in 2栋 1单元 301."""
    s = Seeder(device)
    s.crew()
    s.household("hh-1", "2栋", "1单元", "301")
    s.household("hh-2", "2栋", "1单元", "102")
    s.household("hh-3", "2栋", "2单元", "201")
    s.household("hh-4", "10栋", "1单元", "101")
    s.resident("rs-1", "hh-1", "张秀英", age_band="80+")
    s.resident("rs-2", "hh-2", "李建国", age_band="18-59")
    s.resident("rs-3", "hh-3", "刘德明", care_flags=["chronic_illness"])
    s.resident("rs-4", "hh-4", "陈玉梅", age_band="60-79")
    return s


def ids(vm: ShiftViewModel) -> list[str]:
    return [row.id for g in vm.groups for u in g.units for row in u.rows]


def test_groups_by_building_then_unit_in_natural_order(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-a", "hh-1", due=at(2))
    s.assignment("as-b", "hh-2", due=at(3))
    s.assignment("as-c", "hh-3", due=at(4))
    s.assignment("as-d", "hh-4", due=at(1))
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert [g.name for g in vm.groups] == ["2栋", "10栋"]
    assert [u.name for u in vm.groups[0].units] == ["1单元", "2单元"]
    # door order inside a unit: room 102 before 301
    assert [r.id for r in vm.groups[0].units[0].rows] == ["as-b", "as-a"]
    assert ids(vm) == ["as-b", "as-a", "as-c", "as-d"]
    row = vm.groups[0].units[0].rows[0]
    assert row.address == "观海轩 2栋 1单元 102"
    assert row.type_label == "核酸采样"
    assert row.status_label == "待处理"


def test_shows_only_my_assignments_for_today(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-open-old", "hh-1", due=at(-30))  # open work from days ago stays in sight
    s.assignment("as-done-today", "hh-2", "done")
    s.visit("as-done-today", "done", -1)
    s.assignment("as-done-before", "hh-3", "done", due=at(-48))
    s.visit("as-done-before", "done", -40)
    s.assignment("as-cancelled", "hh-4", "cancelled")
    s.assignment("as-mate", "hh-4", assignee=MATE)
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert sorted(ids(vm)) == ["as-done-today", "as-open-old"]


def test_counts_by_bucket_and_overdue(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-1", "hh-1", "pending", due=at(-1))  # overdue
    s.assignment("as-2", "hh-2", "in_progress", due=at(2))
    s.assignment("as-3", "hh-3", "no_answer", due=at(5))
    s.assignment("as-4", "hh-4", "refused", due=at(5))
    s.assignment("as-5", "hh-4", "done", due=at(1))
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert vm.counts == Counts(done=1, todo=2, revisit=2, overdue=1)
    overdue = {r.id for g in vm.groups for u in g.units for r in u.rows if r.overdue}
    assert overdue == {"as-1"}


def test_overdue_rows_and_revisit_time_show(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-1", "hh-1", "no_answer", due=at(5))  # revisit due at(2), i.e. 20:00 local
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    row = vm.groups[0].units[0].rows[0]
    assert row.revisit_label == "复访 20:00"
    assert not row.overdue
    later = ShiftViewModel(phone, RecordingNavigator(), now=lambda: fixed_now().replace(hour=13))
    assert later.groups[0].units[0].rows[0].overdue  # the revisit time has passed


def test_key_care_households_stand_out(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-80", "hh-1")  # aged 80+
    s.assignment("as-plain", "hh-2")
    s.assignment("as-flag", "hh-3")  # chronic illness
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    care = {r.id: r.key_care for g in vm.groups for u in g.units for r in u.rows}
    assert care == {"as-80": True, "as-plain": False, "as-flag": True}


def test_coverage_counts_doors_visited_per_building(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-1", "hh-1")
    s.assignment("as-2", "hh-2", "no_answer")
    s.visit("as-2", "no_answer", -1)
    s.assignment("as-3", "hh-3", "done")
    s.visit("as-3", "done", -2)
    s.assignment("as-4", "hh-4")
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    coverage = {g.name: (g.visited, g.assigned) for g in vm.groups}
    assert coverage == {"2栋": (2, 3), "10栋": (0, 1)}
    assert vm.groups[0].coverage_text == "已走访 2/3 户"


def test_search_matches_address_and_resident_name(phone: Device) -> None:
    s = seed_block(phone)
    for n, hh in enumerate(("hh-1", "hh-2", "hh-3", "hh-4")):
        s.assignment(f"as-{n}", hh)
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.set_query("李建国")
    assert ids(vm) == ["as-1"]
    vm.set_query("10栋")
    assert ids(vm) == ["as-3"]
    vm.set_query("2单元 201")
    assert ids(vm) == ["as-2"]
    vm.set_query("王五")
    assert ids(vm) == []
    assert vm.empty_text == "没有符合条件的任务。请修改搜索或筛选条件。"
    # counts and coverage describe the whole shift, not the search
    assert vm.counts.todo == 4
    vm.clear_filters()
    assert len(ids(vm)) == 4


def test_filters_by_type_status_and_priority(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-sample", "hh-1", priority="high")
    s.assignment("as-food", "hh-2", "in_progress", type="supply_delivery")
    s.assignment("as-care", "hh-3", type="welfare_check", priority="urgent")
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.set_filter("type", "supply_delivery")
    assert ids(vm) == ["as-food"]
    vm.set_filter("type", None)
    vm.set_filter("status", "pending")
    assert sorted(ids(vm)) == ["as-care", "as-sample"]
    vm.set_filter("priority", "urgent")
    assert ids(vm) == ["as-care"]
    assert ("cancelled", "已取消") not in vm.filter_options("status")
    assert ("welfare_check", "关爱探访") in vm.filter_options("type")


def test_lead_switches_between_mine_and_team(lead_phone: Device) -> None:
    s = seed_block(lead_phone)
    s.assignment("as-lead", "hh-1", assignee=LEAD)
    s.assignment("as-mate", "hh-2", assignee=MATE)
    s.assignment("as-none", "hh-3", assignee=None)
    s.assignment("as-elsewhere", "hh-4", assignee="mb-zhao", team_id="tm-other")
    vm = ShiftViewModel(lead_phone, RecordingNavigator(), now=fixed_now)
    assert vm.can_see_team
    assert sorted(ids(vm)) == ["as-lead", "as-none"]  # the team's pool is anyone's to take
    vm.set_scope(TEAM)
    assert sorted(ids(vm)) == ["as-lead", "as-mate", "as-none"]
    assignees = {r.id: r.assignee for g in vm.groups for u in g.units for r in u.rows}
    assert assignees["as-mate"] == "王桂兰"
    vm.set_scope(MINE)
    assert sorted(ids(vm)) == ["as-lead", "as-none"]


def test_volunteer_cannot_switch_to_team(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-mate", "hh-2", assignee=MATE)
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert not vm.can_see_team
    vm.set_scope(TEAM)
    assert vm.scope == MINE
    assert ids(vm) == []
    assert vm.empty_text == "今天暂无分配给你的任务。新任务同步到本机后会显示在这里。"


def test_tap_opens_the_assignment(phone: Device) -> None:
    s = seed_block(phone)
    s.assignment("as-1", "hh-1")
    nav = RecordingNavigator()
    vm = ShiftViewModel(phone, nav, now=fixed_now)
    vm.open("as-1")
    assert nav.routes == ["/assignment/as-1"]


def test_follows_local_and_pulled_changes(phone: Device) -> None:
    s = seed_block(phone)
    a = s.assignment("as-1", "hh-1")
    vm = ShiftViewModel(phone, RecordingNavigator(), now=fixed_now)
    seen: list[Counts] = []
    vm.subscribe(lambda: seen.append(vm.counts))
    phone.record(changes.record_visit(a, "done", at=at(0), **phone.author()))
    assert vm.counts == Counts(done=1)
    s.assignment("as-2", "hh-2")  # pulled from the server
    assert vm.counts == Counts(done=1, todo=1)
    assert seen[-1] == Counts(done=1, todo=1)
    vm.close()
    s.assignment("as-3", "hh-3")
    assert vm.counts == Counts(done=1, todo=1)  # no longer listening
