"""Logging a request: household search and prefill, validation, durable save, the priority
lane for urgent requests."""

from __future__ import annotations

import pytest

from app.services.device import Device
from app.viewmodels.request_form import NewRequestViewModel, household_of
from sync.client.batching import plan_batches
from sync.domain import SLA, to_iso
from tests.unit.viewmodels.phone import (
    PIN,
    TEAM,
    RecordingNavigator,
    Seeder,
    fixed_now,
)

pytestmark = pytest.mark.usefixtures("field_time")


@pytest.fixture
def phone(phone: Device) -> Device:
    """The volunteer's phone (see conftest) with what these tests read."""
    s = Seeder(phone)
    s.crew()
    s.household("hh-1", "3栋", "2单元", "1201", phone="13800000001")
    s.household("hh-2", "3栋", "2单元", "1202")
    s.household("hh-3", "12栋", "1单元", "101")
    s.resident("rs-1", "hh-2", "张秀英")
    s.resident("rs-2", "hh-3", "李建国")
    return phone


def test_search_finds_households_by_address_or_resident(phone: Device) -> None:
    vm = NewRequestViewModel(phone, RecordingNavigator(), now=fixed_now)
    assert vm.picking
    vm.search("3栋")
    assert [m.id for m in vm.matches] == ["hh-1", "hh-2"]
    vm.search("李建国")
    assert [(m.id, m.people) for m in vm.matches] == [("hh-3", "李建国")]
    vm.search("1201")
    assert [m.address for m in vm.matches] == ["观海轩 3栋 2单元 1201"]
    vm.search("  ")
    assert vm.matches == []


def test_choosing_a_household_prefills_its_phone(phone: Device) -> None:
    vm = NewRequestViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.search("1201")
    vm.choose_household("hh-1")
    assert not vm.picking
    assert (vm.household_id, vm.household_text) == ("hh-1", "观海轩 3栋 2单元 1201")
    assert vm.contact == "13800000001"
    assert vm.matches == [] and vm.query == ""
    vm.change_household()
    assert vm.picking


def test_opened_from_an_assignment_the_household_is_given(phone: Device) -> None:
    vm = NewRequestViewModel(phone, RecordingNavigator(), "hh-2", now=fixed_now)
    assert not vm.picking and vm.household_text == "观海轩 3栋 2单元 1202"
    assert vm.contact == ""  # that household has no phone on record
    unknown = NewRequestViewModel(phone, RecordingNavigator(), "hh-nope", now=fixed_now)
    assert unknown.picking and "household" in unknown.errors
    assignment = {"target_kind": "household", "target_id": "hh-2"}
    assert household_of(assignment) == "hh-2"
    assert household_of({"target_kind": "place", "target_id": "pl-1"}) is None
    assert household_of(None) is None


def test_missing_choices_and_bad_phone_are_explained(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = NewRequestViewModel(phone, nav, now=fixed_now)
    vm.contact = "1380000"
    assert vm.save() is False
    assert set(vm.errors) == {"household", "category", "contact"}
    assert vm.errors["contact"].startswith("电话号码格式不对")
    assert nav.backs == 0 and phone.require_store().pending_count() == 0
    vm.choose_household("hh-2")
    vm.set_category("medicine")
    vm.contact = "0755-12345678"
    assert vm.save() is True
    assert vm.errors == {}


def test_save_is_durable_with_deadline_team_and_contact(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = NewRequestViewModel(phone, nav, "hh-1", now=fixed_now)
    vm.set_category("food_goods")
    vm.description = "  需要大米和食用油 "
    assert vm.save()
    assert nav.backs == 1
    assert nav.notices == [("已保存在本机，联网后自动同步。", False)]
    phone.lock()
    phone.unlock(PIN)
    stored = phone.get("request", str(vm.saved_id))
    assert stored is not None
    assert stored["household_id"] == "hh-1" and stored["team_id"] == TEAM
    assert stored["category"] == "food_goods" and stored["urgency"] == "routine"
    assert stored["description"] == "需要大米和食用油"
    assert stored["contact"] == "13800000001"
    assert stored["status"] == "new"
    assert stored["created_at"] == to_iso(fixed_now())
    assert stored["due"] == to_iso(fixed_now() + SLA["routine"])
    assert phone.require_store().pending_count() == 1


def test_urgent_requests_travel_in_the_priority_lane(phone: Device) -> None:
    nav = RecordingNavigator()
    routine = NewRequestViewModel(phone, nav, "hh-2", now=fixed_now)
    routine.set_category("information")
    assert routine.urgency_hint == ""
    routine.save()
    urgent = NewRequestViewModel(phone, nav, "hh-3", now=fixed_now)
    urgent.set_category("medicine")
    urgent.set_urgency("emergency")
    assert urgent.urgency_hint == "紧急诉求会在联网时优先发送到指挥部。"
    urgent.save()
    assert nav.notices[-1][0] == "已保存在本机。特急（1 小时内）诉求联网后将优先发送。"
    pending = phone.require_store().pending_ops()
    # a small push is one request with the urgent request at its head …
    assert plan_batches(pending)[0].ops[0].entity_id == urgent.saved_id
    # … a large one sends it first in a priority batch of its own
    lane = plan_batches(pending, single_trip_bytes=0)[0]
    assert lane.priority and [op.entity_id for op in lane.ops] == [urgent.saved_id]


def test_unknown_urgency_is_ignored(phone: Device) -> None:
    vm = NewRequestViewModel(phone, RecordingNavigator(), now=fixed_now)
    vm.set_urgency("whenever")
    assert vm.urgency == "routine"
    assert [v for v, _ in vm.urgency_options()] == ["routine", "urgent", "emergency"]
