"""Setup refuses PINs under six digits; unlocking with an older, shorter PIN still works and
raises the flag that asks for a new PIN."""

from __future__ import annotations

from pathlib import Path

from app.services.device import Device
from app.store import LocalStore
from app.viewmodels.access import SetupViewModel, UnlockViewModel
from app.viewmodels.settings import SettingsViewModel
from sync import protocol
from sync.errors import ValidationError
from tests.unit.client.fakes import FakeServerTransport
from tests.unit.viewmodels.phone import PIN, RecordingNavigator, identity, open_phone

OLD_PIN = "2468"


def with_old_short_pin(path: Path) -> None:
    """Re-wrap the store's key under a 4-digit PIN, as a store made before the 6-digit rule."""
    store = LocalStore.open(path, PIN)
    assert store._data_key is not None
    store._keyfile._wrap(store._data_key, OLD_PIN)
    store.close()


def test_unlock_with_an_old_short_pin_asks_for_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "phone"
    open_phone(path, identity()).lock()
    with_old_short_pin(path)
    device, nav = Device(path), RecordingNavigator()
    vm = UnlockViewModel(device, nav)
    vm.pin = OLD_PIN
    assert vm.submit()
    assert vm.new_pin_needed and nav.routes == ["/settings"]
    settings = SettingsViewModel(device, nav)
    assert settings.pin_renewal_due
    device.require_store().change_pin(OLD_PIN, PIN)
    assert not settings.pin_renewal_due
    device.lock()
    again = UnlockViewModel(device, RecordingNavigator())
    again.pin = PIN
    assert again.submit() and not again.new_pin_needed and again.nav.routes == ["/home"]
    device.lock()


def test_setup_refuses_a_pin_under_six_digits_before_enrolling(tmp_path: Path) -> None:
    device = Device(tmp_path / "phone")
    vm = SetupViewModel(device, RecordingNavigator(), server_url="http://127.0.0.1:8800")
    vm.form.code, vm.form.pin, vm.form.pin_again = "ABCD-1234", "13579", "13579"
    assert not vm.submit()
    assert vm.error is not None and "6" in vm.error
    assert not LocalStore.exists(tmp_path / "phone")


def _link_setup(tmp_path: Path, fingerprint: str) -> tuple[SetupViewModel, FakeServerTransport]:
    server = FakeServerTransport()
    server.add_code("QW3E-R4TY-U5IO", "mem-1")
    device = Device(tmp_path / "phone", transport_factory=lambda url: server)
    vm = SetupViewModel(device, RecordingNavigator())
    vm.form.code = protocol.enroll_link("http://10.0.0.9:8700", "QW3E-R4TY-U5IO", fingerprint)
    vm.form.pin = vm.form.pin_again = PIN
    return vm, server


def test_setup_takes_an_enrollment_link_and_checks_the_server_fingerprint(tmp_path: Path) -> None:
    server_keys = FakeServerTransport().keys  # another server's keys: a different fingerprint
    vm, server = _link_setup(tmp_path / "a", protocol.fingerprint_of(server_keys))
    assert not vm.submit()
    assert vm.error == ValidationError("enroll.wrong_server").describe("zh-CN")
    assert vm.form.server_url == "http://10.0.0.9:8700" and vm.form.code == "QW3E-R4TY-U5IO"
    assert not LocalStore.exists(tmp_path / "a" / "phone")  # nothing kept
    vm, server = _link_setup(tmp_path / "b", "")
    vm.fingerprint = None
    vm.form.code = protocol.enroll_link(
        "http://10.0.0.9:8700", "QW3E-R4TY-U5IO", protocol.fingerprint_of(server.keys)
    )
    assert vm.submit() and vm.error is None
    assert vm.device.identity is not None
    assert vm.device.identity.server_url == "http://10.0.0.9:8700"
    vm.device.lock()


def test_setup_says_plainly_when_a_link_is_broken(tmp_path: Path) -> None:
    vm, _ = _link_setup(tmp_path, "")
    vm.form.code = "linli://enroll?code=QW3E"
    assert not vm.submit()
    assert vm.error == ValidationError("enroll.bad_link").describe("zh-CN")


def test_a_practice_phone_shows_the_banner_even_while_locked(tmp_path: Path) -> None:
    from app.services.sync_service import SyncService
    from sync.client.engine import META_PRACTICE

    path = tmp_path / "phone"
    device = open_phone(path, identity())
    sync = SyncService(device)
    try:
        assert not UnlockViewModel(device, RecordingNavigator()).practice
        device.require_store().set_meta(META_PRACTICE, True)  # as a sync from a practice server
        assert sync.status.practice and device.practice
        device.lock()
        assert UnlockViewModel(Device(path), RecordingNavigator()).practice
        device.unlock(PIN)
        device.require_store().set_meta(META_PRACTICE, None)  # the server is live after all
        assert not sync.status.practice and not Device(path).practice
    finally:
        sync.stop()
        if device.store is not None:
            device.lock()
