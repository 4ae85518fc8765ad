"""One assignment: household and residents, result fields by type, one-tap visit outcomes
(status, revisit, durability), visit history, and the server's rejections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.assignment import AssignmentViewModel, result_fields
from sync.domain import REVISIT_DELAY, to_iso
from sync.domain.visits import people_sampled, task_result
from tests.unit.client.fakes import FakeServerTransport
from tests.unit.viewmodels.phone import (
    LEAD,
    MATE,
    PIN,
    RecordingNavigator,
    Seeder,
    at,
    fixed_now,
    open_phone,
)

pytestmark = pytest.mark.usefixtures("field_time")


def seed_door(device: Device, status: str = "pending", **kw: object) -> Seeder:
    s = Seeder(device)
    s.crew()
    s.household("hh-1", "3栋", "2单元", "1201", phone="13800000001")
    s.resident("rs-1", "hh-1", "张秀英", age_band="80+", phone="13800000002")
    s.resident(
        "rs-2",
        "hh-1",
        "李建国",
        age_band="60-79",
        care_flags=["elderly_alone", "chronic_illness"],
        care_note="需定期上门探访",
    )
    s.resident("rs-3", "hh-1", "王子轩", age_band="7-17")
    s.assignment("as-1", "hh-1", status, due=at(3), instructions="请提前电话联系", **kw)  # type: ignore[arg-type]
    return s


def test_shows_household_residents_and_what_to_do(phone: Device) -> None:
    seed_door(phone, priority="high")
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert vm.found
    assert vm.address == "观海轩 3栋 2单元 1201"
    assert (vm.type_label, vm.title, vm.instructions) == (
        "核酸采样",
        "核酸采样上门",
        "请提前电话联系",
    )
    assert (vm.priority_label, vm.status_label, vm.due_label) == ("高", "待处理", "21:00")
    assert vm.key_care and not vm.overdue
    # key-care residents first, each with words for why
    assert [r.name for r in vm.residents] == ["张秀英", "李建国", "王子轩"]
    assert vm.residents[0].care_labels == ("80 岁以上",)
    assert vm.residents[1].care_labels == ("独居老人", "慢性病患者")
    assert vm.residents[1].care_note == "需定期上门探访"
    assert vm.residents[2].care_labels == () and not vm.residents[2].key_care
    assert vm.household_id == "hh-1"


def test_missing_assignment_is_reported(phone: Device) -> None:
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-nope", now=fixed_now)
    assert not vm.found and not vm.can_record
    assert vm.record("done") is False


@pytest.mark.parametrize(
    ("kind", "names", "required"),
    [
        ("nucleic_acid_sampling", ["people_sampled", "people_absent", "summary"], "people_sampled"),
        ("supply_delivery", ["items", "quantity", "summary"], "items"),
        ("welfare_check", ["condition", "summary"], "condition"),
        ("flow_investigation", ["contacts_found", "summary"], "contacts_found"),
        ("dispute_handling", ["summary"], "summary"),
    ],
)
def test_result_fields_follow_the_type(kind: str, names: list[str], required: str) -> None:
    fields = result_fields(kind, "zh-CN")
    assert [f.name for f in fields] == names
    assert [f.name for f in fields if f.required] == [required]
    if kind == "welfare_check":
        assert fields[0].input == "choice"
        assert ("needs_help", "需要帮助") in fields[0].choices


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("done", "done"), ("no_answer", "no_answer"), ("refused", "refused"), ("revisit", "revisit")],
)
def test_one_tap_outcome_sets_status_and_is_durable(
    tmp_path: Path, phone: Device, outcome: str, status: str
) -> None:
    seed_door(phone)
    nav = RecordingNavigator()
    vm = AssignmentViewModel(phone, nav, "as-1", now=fixed_now)
    assert vm.record(outcome) is True
    assert vm.status == status
    assert nav.notices and nav.notices[-1][1] is False
    assert "已保存在本机" in nav.notices[-1][0]
    # kept on disk with its outbox entry: a fresh unlock of the same store still has both
    phone.lock()
    phone.unlock(PIN)
    stored = phone.get("assignment", "as-1")
    assert stored is not None and stored["status"] == status
    assert [v["outcome"] for v in stored["visits"]] == [outcome]
    assert phone.require_store().pending_count() == 1


def test_no_answer_schedules_and_shows_the_revisit(phone: Device) -> None:
    seed_door(phone)
    nav = RecordingNavigator()
    vm = AssignmentViewModel(phone, nav, "as-1", now=fixed_now)
    vm.record("no_answer")
    stored = phone.get("assignment", "as-1")
    assert stored is not None
    assert stored["revisit_due"] == to_iso(fixed_now() + REVISIT_DELAY)
    assert vm.revisit_label == "复访 20:00"
    assert nav.notices[-1][0] == "已保存在本机，联网后自动同步。已安排在 20:00 复访。"


def test_note_and_result_go_with_the_visit(phone: Device) -> None:
    seed_door(phone)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    vm.note = "  家中 3 人，1 人外出  "
    vm.set_result("people_sampled", "2")
    vm.set_result("people_absent", "1")
    assert vm.record("done")
    stored = phone.get("assignment", "as-1")
    assert stored is not None
    assert "result" not in stored  # the visit carries it; the task's is derived
    assert stored["visits"][0]["result"] == {"people_sampled": 2, "people_absent": 1}
    assert task_result(stored) == {"people_sampled": 2, "people_absent": 1}
    assert stored["visits"][0]["note"] == "家中 3 人，1 人外出"
    assert vm.note == ""
    assert vm.result["people_sampled"] == ""  # the form is ready for the next visit
    assert vm.visits[0].result_label == "已采样人数 2 · 未采样人数 1"
    assert vm.visits[0].unsent  # not yet sent to the command centre


def test_a_revisit_adds_its_own_numbers(phone: Device) -> None:
    seed_door(phone)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    vm.set_result("people_sampled", "2")
    vm.set_result("people_absent", "1")
    assert vm.record("revisit")
    vm.set_result("people_sampled", "1")
    assert vm.record("done")
    stored = phone.get("assignment", "as-1")
    assert stored is not None
    assert people_sampled(stored) == 3
    assert len({v["id"] for v in stored["visits"]}) == 2


def test_bad_result_is_explained_and_nothing_is_kept(phone: Device) -> None:
    seed_door(phone)
    nav = RecordingNavigator()
    vm = AssignmentViewModel(phone, nav, "as-1", now=fixed_now)
    vm.set_result("people_sampled", "两")
    assert vm.record("done") is False
    assert vm.error is not None and "已采样人数" in vm.error
    assert nav.notices[-1][1] is True
    vm.set_result("people_sampled", "")
    vm.set_result("people_absent", "1")  # without the required count
    assert vm.record("done") is False
    assert vm.error is not None and "已采样人数" in vm.error
    assert phone.require_store().pending_count() == 0
    assert vm.status == "pending"


def test_welfare_condition_is_a_choice(phone: Device) -> None:
    seed_door(phone, type="welfare_check")
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    vm.set_result("condition", "needs_help")
    vm.set_result("summary", "需要送药")
    assert vm.record("done")
    stored = phone.get("assignment", "as-1")
    assert stored is not None
    assert task_result(stored) == {"condition": "needs_help", "summary": "需要送药"}


def test_visit_history_is_newest_first_with_names(phone: Device) -> None:
    s = seed_door(phone)
    s.visit("as-1", "no_answer", -3)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    vm.note = "再次敲门"
    vm.record("done")
    assert [(v.outcome_label, v.member) for v in vm.visits] == [
        ("已完成", "张秀英"),
        ("无人应答", "王桂兰"),
    ]
    assert vm.visits[0].note == "再次敲门"
    assert vm.visits[1].at_label == "15:00"


def test_a_visit_on_a_teammates_task_is_recorded(phone: Device) -> None:
    seed_door(phone, assignee=MATE)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert vm.can_record  # a visit is a fact: the server keeps it whoever holds the task
    vm.set_result("people_sampled", "3")
    assert vm.record("done")
    assert vm.status == "done"
    assert phone.require_store().pending_count() == 1


def test_a_pool_visit_claims_the_task(phone: Device) -> None:
    seed_door(phone, assignee=None)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    vm.set_result("people_sampled", "1")
    assert vm.can_record and vm.record("done")
    stored = phone.get("assignment", "as-1")
    assert stored is not None and stored["assignee_id"] == phone.member_id


def test_volunteer_cannot_record_on_another_teams_task(phone: Device) -> None:
    seed_door(phone, assignee="mb-other", team_id="tm-other")
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert not vm.can_record
    assert vm.record("done") is False
    assert vm.error == "这项任务属于其他队伍，不能在本机登记走访。如需处理，请联系指挥部。"
    assert phone.require_store().pending_count() == 0


def test_lead_records_on_any_team_task(tmp_path: Path) -> None:
    lead = open_phone(tmp_path / "lead", role="team_lead", member_id=LEAD)
    try:
        seed_door(lead, assignee=MATE)
        vm = AssignmentViewModel(lead, RecordingNavigator(), "as-1", now=fixed_now)
        assert vm.can_record and vm.record("refused")
        assert vm.status == "refused"
    finally:
        lead.lock()


def test_overdue_when_past_due(phone: Device) -> None:
    seed_door(phone)
    vm = AssignmentViewModel(
        phone, RecordingNavigator(), "as-1", now=lambda: fixed_now() + timedelta(hours=4)
    )
    assert vm.overdue


def test_log_request_goes_to_the_form_for_this_household(phone: Device) -> None:
    seed_door(phone)
    nav = RecordingNavigator()
    AssignmentViewModel(phone, nav, "as-1", now=fixed_now).log_request()
    assert nav.routes == ["/assignment/as-1/request"]


def test_server_rejection_is_shown_on_the_record_until_dismissed(tmp_path: Path) -> None:
    server = FakeServerTransport(reject=lambda op: "op.forbidden_role")
    phone = open_phone(tmp_path / "phone", server=server)
    try:
        seed_door(phone)
        sync = SyncService(phone)
        vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", sync, now=fixed_now)
        assert vm.record("done")
        assert vm.rejection is None
        sync.sync_now()
        assert sync.status.rejections  # the engine kept the refusal
        assert vm.rejection is not None
        assert vm.rejection.text.startswith("服务器未接受这项修改：")
        assert "任务" in vm.rejection.text  # the record kind in words, not "assignment"
        # a screen opened later shows it too (kept in the store across restarts)
        again = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
        assert again.rejection is not None
        vm.dismiss_rejection()
        assert vm.rejection is None
        assert AssignmentViewModel(phone, RecordingNavigator(), "as-1").rejection is None
    finally:
        phone.lock()


def test_the_household_shows_its_control_status_with_day_n_of_14(phone: Device) -> None:
    s = seed_door(phone)
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert vm.control == ""  # nothing under control
    # the unit's building is sealed (no dates: a record from before schema 4)
    s.put("place", "pl-unit", level="unit", name="2单元", parent_id="pl-b3")
    s.put("place", "pl-b3", level="building", name="3栋", control="sealed")
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert vm.control == "封控区"
    # the household itself: home isolation from 10 April (Shanghai), release on the 24th
    s.put(
        "household",
        "hh-1",
        control="home_isolation",
        control_since="2022-04-09T16:00:00Z",
        control_until="2022-04-23T16:00:00Z",
    )
    vm = AssignmentViewModel(phone, RecordingNavigator(), "as-1", now=fixed_now)
    assert vm.control == "居家隔离 · 第 3 天/共 14 天"  # NOW is 12 April, 18:00 local
