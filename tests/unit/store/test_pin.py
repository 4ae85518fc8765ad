from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from app.store import LocalStore, keyfile
from sync.crypto import symmetric
from sync.crypto.symmetric import ScryptParams
from sync.errors import PinLockout, StoreDamaged, ValidationError, WrongPin
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


def lock_out(store_dir: Path) -> None:
    """Four wrong PINs are refused one by one; the fifth locks the store."""
    for _ in range(4):
        with pytest.raises(WrongPin):
            LocalStore.open(store_dir, "000000")
    with pytest.raises(PinLockout):
        LocalStore.open(store_dir, "000000")


def test_lockout_survives_a_restart(created: Path, fake_now: FakeClock) -> None:
    lock_out(created)
    saved = json.loads((created / "key.json").read_text(encoding="utf-8"))
    assert saved["failures"] == 5
    assert saved["locked_until"] == fake_now.t + 30
    # a fresh process reads the file again: still locked
    fake_now.t += 5
    with pytest.raises(PinLockout) as err:
        LocalStore.open(created, PIN)
    assert err.value.params == {"seconds": 25}


def test_clock_moved_back_never_lengthens_the_wait(created: Path, fake_now: FakeClock) -> None:
    lock_out(created)
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


@pytest.mark.parametrize("pin", ["", "123", "2468", "13579", "   1234", "9" * 65])
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


def test_new_pins_need_six_digits(created: Path) -> None:
    with pytest.raises(ValidationError) as err:
        LocalStore.create(created.parent / "other", "13579")
    assert err.value.params == {"min": 6}
    s = LocalStore.open(created, PIN)
    with pytest.raises(ValidationError):
        s.change_pin(PIN, "13579")
    assert not s.needs_new_pin
    s.close()


def test_one_flipped_bit_in_the_wrapped_key_is_damage_not_a_wrong_pin(created: Path) -> None:
    path = created / "key.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    wrapped = bytearray(base64.b64decode(raw["wrapped_key"]))
    wrapped[20] ^= 0x01
    raw["wrapped_key"] = base64.b64encode(bytes(wrapped)).decode("ascii")
    path.write_text(json.dumps(raw), encoding="utf-8")
    for _ in range(6):  # the right PIN, again and again: never a wrong PIN, never a lockout
        with pytest.raises(StoreDamaged) as err:
            LocalStore.open(created, PIN)
        assert err.value.params == {"what": "key.json"}
    assert json.loads(path.read_text(encoding="utf-8"))["failures"] == 0


def test_editing_the_failure_count_by_hand_is_noticed(created: Path, fake_now: FakeClock) -> None:
    for _ in range(5):
        with pytest.raises((WrongPin, PinLockout)):
            LocalStore.open(created, "000000")
    path = created / "key.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["failures"], raw["locked_until"] = 0, 0.0  # a naive edit; see docs/security.md
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(StoreDamaged):
        LocalStore.open(created, PIN)


def test_pin_key_derivation_costs_at_least_300_ms(created: Path) -> None:
    assert keyfile.PIN_SCRYPT.n * keyfile.PIN_SCRYPT.r >= 2**17 * 8  # 128 MiB per guess
    assert min(keyfile.unlock_kdf_ms() for _ in range(2)) >= 300
    s = LocalStore.open(created, PIN)
    assert s.unlock_kdf_ms >= 300
    s.close()


def test_old_key_file_is_rewrapped_with_the_new_cost_after_the_right_pin(
    created: Path, fake_now: FakeClock
) -> None:
    # a format-1 key file (as main wrote it: n=2**15, no checksum) with one wrong try on it
    s = LocalStore.open(created, PIN)
    assert s._data_key is not None
    legacy = keyfile.KeyFile.load(created)
    legacy.version, legacy.params = 1, ScryptParams(n=2**15, r=8, p=1)
    legacy.salt = symmetric.new_salt()
    kek = symmetric.derive_key(PIN, legacy.salt, legacy.params)
    legacy.wrapped = symmetric.wrap_key(
        kek, s._data_key, keyfile._wrap_aad(1, legacy.store_id, legacy.params)
    )
    s.close()
    legacy.failures = 1
    legacy.save()
    assert "check" not in json.loads((created / "key.json").read_text(encoding="utf-8"))
    with pytest.raises(WrongPin) as err:
        LocalStore.open(created, "000000")
    assert err.value.params == {"remaining": 3}  # the old file still counts tries
    LocalStore.open(created, PIN).close()
    raw = json.loads((created / "key.json").read_text(encoding="utf-8"))
    assert raw["v"] == 2 and raw["scrypt"] == {"n": 2**17, "r": 8, "p": 1}
    assert raw["failures"] == 0
    LocalStore.open(created, PIN).close()
