from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store import LocalStore, keyfile
from sync.errors import PinLockout, ValidationError, WrongPin
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, record, resident_op


class FakeClock:
    """Wall time the tests move by hand (patched in as ``app.store.keyfile.now``)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake_now(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(keyfile, "now", fake)
    return fake


@pytest.fixture
def created(store_dir: Path, clock: HybridClock) -> Path:
    s = LocalStore.create(store_dir, PIN)
    s.record_change(resident_op(clock, "r-1", "张秀英", "13912345678"))
    s.close()
    return store_dir


def test_wrong_pin_counts_down(created: Path, fake_now: FakeClock) -> None:
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin) as err:
            LocalStore.open(created, "000000")
        assert err.value.params == {"remaining": left}
    s = LocalStore.open(created, PIN)  # a right PIN resets the count
    s.close()
    with pytest.raises(WrongPin) as err:
        LocalStore.open(created, "000000")
    assert err.value.params == {"remaining": 4}


def test_fifth_wrong_pin_locks_out_and_doubles(created: Path, fake_now: FakeClock) -> None:
    for _ in range(4):
        with pytest.raises(WrongPin):
            LocalStore.open(created, "000000")
    with pytest.raises(PinLockout) as first:
        LocalStore.open(created, "000000")
    assert first.value.params == {"seconds": 30}
    # even the right PIN is not tried during the lockout
    fake_now.t += 10
    with pytest.raises(PinLockout) as during:
        LocalStore.open(created, PIN)
    assert during.value.params == {"seconds": 20}
    fake_now.t += 21
    with pytest.raises(PinLockout) as second:
        LocalStore.open(created, "111111")
    assert second.value.params == {"seconds": 60}
    fake_now.t += 61
    s = LocalStore.open(created, PIN)
    assert s.get("resident", "r-1") is not None
    s.close()


def test_lockout_survives_a_restart(created: Path, fake_now: FakeClock) -> None:
    for _ in range(4):
        with pytest.raises(WrongPin):
            LocalStore.open(created, "000000")
    with pytest.raises(PinLockout):
        LocalStore.open(created, "000000")
    saved = json.loads((created / "key.json").read_text(encoding="utf-8"))
    assert saved["failures"] == 5
    assert saved["locked_until"] == fake_now.t + 30
    # a fresh process reads the file again: still locked
    fake_now.t += 5
    with pytest.raises(PinLockout) as err:
        LocalStore.open(created, PIN)
    assert err.value.params == {"seconds": 25}


def test_clock_moved_back_never_lengthens_the_wait(created: Path, fake_now: FakeClock) -> None:
    for _ in range(4):
        with pytest.raises(WrongPin):
            LocalStore.open(created, "000000")
    with pytest.raises(PinLockout):
        LocalStore.open(created, "000000")
    fake_now.t -= 86_400
    with pytest.raises(PinLockout) as err:
        LocalStore.open(created, PIN)
    assert err.value.params == {"seconds": 30}


def test_lockout_schedule() -> None:
    assert [keyfile.lockout_seconds(n) for n in range(4, 9)] == [0, 30, 60, 120, 240]
    assert keyfile.lockout_seconds(60) == keyfile.LOCKOUT_CAP_S


def test_change_pin_rewraps_without_rewriting_data(created: Path) -> None:
    data = ("journal-1.log", "snapshot-1.bin")
    before = {name: (created / name).read_bytes() for name in data}
    s = LocalStore.open(created, PIN)
    with pytest.raises(WrongPin):
        s.change_pin("999999", "135790")
    s.change_pin(PIN, "135790")
    s.close()
    after = {name: (created / name).read_bytes() for name in data}
    assert after == before
    with pytest.raises(WrongPin):
        LocalStore.open(created, PIN)
    s = LocalStore.open(created, "135790")
    assert record(s, "resident", "r-1")["name"] == "张秀英"
    s.close()


@pytest.mark.parametrize("pin", ["", "123", "   1", "9" * 65])
def test_unusable_new_pins_are_refused(store_dir: Path, pin: str) -> None:
    with pytest.raises(ValidationError):
        LocalStore.create(store_dir, pin)
    assert not LocalStore.exists(store_dir)


def test_key_file_holds_no_key_in_the_clear(created: Path) -> None:
    raw = json.loads((created / "key.json").read_text(encoding="utf-8"))
    assert set(raw) == {
        "v",
        "store_id",
        "salt",
        "scrypt",
        "wrapped_key",
        "failures",
        "locked_until",
        "check",
    }
    assert raw["v"] == 2
    assert raw["scrypt"] == {"n": 2**17, "r": 8, "p": 1}
