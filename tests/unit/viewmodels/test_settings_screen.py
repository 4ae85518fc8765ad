"""Settings: language, PIN change, who am I, lock, on a real phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import i18n
from app.config import PYPROJECT
from app.services.device import META_LANGUAGE, Device
from app.viewmodels.settings import SettingsViewModel, app_version
from sync.errors import WrongPin
from tests.unit.viewmodels.phone import (
    PIN,
    RecordingNavigator,
    Seeder,
    identity,
    open_phone,
)

pytestmark = pytest.mark.usefixtures("chinese")


@pytest.fixture
def phone(lead_phone: Device) -> Device:
    return lead_phone


def test_switching_language_applies_keeps_and_rebuilds(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = SettingsViewModel(phone, nav)
    assert vm.language == "zh-CN"
    assert vm.languages() == [("zh-CN", "中文"), ("en", "English")]
    vm.set_language("en")
    assert i18n.language() == "en" and vm.language == "en"
    assert nav.refreshes == 1
    assert i18n.tr("ui.team.unassigned") == "Not assigned"
    # kept in the encrypted store: a later unlock finds it
    phone.lock()
    phone.unlock(PIN)
    assert phone.require_store().get_meta(META_LANGUAGE) == "en"
    vm.set_language("zh-CN")
    assert phone.require_store().get_meta(META_LANGUAGE) == "zh-CN"
    assert nav.refreshes == 2


@pytest.mark.parametrize(
    ("old", "new", "again", "expected"),
    [
        ("", "135799", "135799", "请输入当前 PIN。"),
        (PIN, "", "", "请输入新 PIN（至少 6 位）。"),
        (PIN, "135799", "135798", "两次输入的新 PIN 不一致，请重新输入。"),
        (PIN, PIN, PIN, "新 PIN 与当前 PIN 相同，请换一个。"),
    ],
)
def test_pin_form_errors_are_clear(
    phone: Device, old: str, new: str, again: str, expected: str
) -> None:
    vm = SettingsViewModel(phone, RecordingNavigator())
    vm.pin.old, vm.pin.new, vm.pin.again = old, new, again
    assert not vm.change_pin()
    assert vm.pin_error == expected


def test_pin_too_short_and_wrong_old_pin_come_from_the_store(phone: Device) -> None:
    vm = SettingsViewModel(phone, RecordingNavigator())
    vm.pin.old, vm.pin.new, vm.pin.again = PIN, "12", "12"
    assert not vm.change_pin()
    assert vm.pin_error and "6" in vm.pin_error
    vm.pin.old, vm.pin.new, vm.pin.again = "999999", "135799", "135799"
    assert not vm.change_pin()
    assert vm.pin_error == WrongPin(remaining=4).describe("zh-CN")
    assert vm.pin.old == "" and not vm.pin_busy


def test_changed_pin_unlocks_and_old_one_does_not(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = SettingsViewModel(phone, nav)
    vm.pin.old, vm.pin.new, vm.pin.again = PIN, "135799", "135799"
    assert vm.change_pin()
    assert vm.pin_error is None and vm.pin.old == vm.pin.new == vm.pin.again == ""
    assert nav.notices == [("PIN 已修改。下次解锁请用新 PIN。", False)]
    phone.lock()
    with pytest.raises(WrongPin):
        phone.unlock(PIN)
    phone.unlock("135799")
    assert phone.state == "unlocked"


def test_who_am_i_server_and_about(phone: Device) -> None:
    Seeder(phone).team()
    vm = SettingsViewModel(phone, RecordingNavigator())
    me = vm.who_am_i()
    assert me is not None
    assert (me.name, me.role, me.team, me.device_id) == (
        "李建国",
        "队长",
        "观海轩第一志愿服务队",
        "dev-mb-li",
    )
    assert vm.server_url == "http://127.0.0.1:8800"
    assert app_version() in vm.about() and "v1" in vm.about()


def test_team_not_yet_pulled_shows_its_id(tmp_path: Path) -> None:
    device = open_phone(tmp_path / "p", identity(team_id="tm-new", role="volunteer"))
    try:
        me = SettingsViewModel(device, RecordingNavigator()).who_am_i()
        assert me is not None and me.team == "tm-new" and me.role == "志愿者"
    finally:
        device.lock()


def test_lock_now_and_link_to_sync(phone: Device) -> None:
    nav = RecordingNavigator()
    vm = SettingsViewModel(phone, nav)
    vm.open_sync()
    vm.lock_now()
    assert phone.state == "locked"
    assert nav.routes == ["/sync", "/unlock"]


def test_app_version_comes_from_the_project() -> None:
    import tomllib

    with PYPROJECT.open("rb") as f:
        expected = tomllib.load(f)["project"]["version"]
    assert app_version() == expected
