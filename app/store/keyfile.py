"""``key.json``: the data key wrapped by the PIN, and the wrong-PIN counter with its lockout.

The file holds no secret in the clear: a store id, the scrypt salt and parameters, the random
256-bit data key sealed with AES-256-GCM under ``scrypt(PIN, salt)`` (associated data binds it to
the store id and the scrypt parameters), the count of consecutive wrong PINs and the time until
which unlocking is refused. It is always rewritten atomically.

Lockout: the first four wrong PINs answer :class:`WrongPin` with the tries left; the fifth and
every later one lock unlocking for 30 s, doubling each time (capped at a day), persisted here so
restarting the app does not reset it. A right PIN resets the count.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.store import files
from sync.crypto import symmetric
from sync.crypto.symmetric import AuthenticationFailed, ScryptParams
from sync.errors import PinLockout, StoreDamaged, StoreWriteFailed, ValidationError, WrongPin

KEY_FILE = "key.json"
MAX_TRIES = 5
LOCKOUT_BASE_S = 30
LOCKOUT_CAP_S = 24 * 3600
PIN_MIN = 4
PIN_MAX = 64
_WRAP_AAD = b"linli/data-key/v1"


def now() -> float:
    """Wall-clock seconds (a module function so tests can move time)."""
    return time.time()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def check_new_pin(pin: str) -> None:
    if not isinstance(pin, str) or len(pin.strip()) < PIN_MIN:
        raise ValidationError("store.pin_too_short", min=PIN_MIN)
    if len(pin) > PIN_MAX:
        raise ValidationError("store.pin_too_long", max=PIN_MAX)


def lockout_seconds(failures: int) -> int:
    """How long unlocking is refused after ``failures`` consecutive wrong PINs (0: not at all)."""
    if failures < MAX_TRIES:
        return 0
    return int(min(LOCKOUT_CAP_S, LOCKOUT_BASE_S * 2 ** min(failures - MAX_TRIES, 20)))


class KeyFile:
    """The parsed ``key.json`` of one data directory."""

    def __init__(
        self, path: Path, raw: dict[str, Any], clock: Callable[[], float] | None = None
    ) -> None:
        self.path = path
        self._clock = clock or now
        try:
            if raw.get("v") != 1:
                raise ValueError("unknown key file version")
            self.store_id = bytes.fromhex(raw["store_id"])
            self.salt = _unb64(raw["salt"])
            self.params = ScryptParams.from_dict(raw["scrypt"])
            self.wrapped = _unb64(raw["wrapped_key"])
            self.failures = int(raw.get("failures", 0))
            self.locked_until = float(raw.get("locked_until", 0.0))
            if len(self.store_id) != 16 or self.failures < 0:
                raise ValueError("bad key file fields")
        except (KeyError, ValueError, TypeError) as exc:
            raise StoreDamaged(what=KEY_FILE) from exc

    @classmethod
    def load(cls, directory: Path, clock: Callable[[], float] | None = None) -> KeyFile:
        path = directory / KEY_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreDamaged(what=KEY_FILE) from exc
        if not isinstance(raw, dict):
            raise StoreDamaged(what=KEY_FILE)
        return cls(path, raw, clock)

    @classmethod
    def new(
        cls,
        directory: Path,
        pin: str,
        data_key: bytes,
        params: ScryptParams = symmetric.DEFAULT_SCRYPT,
        clock: Callable[[], float] | None = None,
    ) -> KeyFile:
        """A key file for a new store (not yet written: call :meth:`save`)."""
        check_new_pin(pin)
        store_id = os.urandom(16)
        salt = symmetric.new_salt()
        kek = symmetric.derive_key(pin, salt, params)
        wrapped = symmetric.wrap_key(kek, data_key, _wrap_aad(store_id, params))
        raw = {
            "v": 1,
            "store_id": store_id.hex(),
            "salt": _b64(salt),
            "scrypt": params.to_dict(),
            "wrapped_key": _b64(wrapped),
        }
        return cls(directory / KEY_FILE, raw, clock)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "store_id": self.store_id.hex(),
            "salt": _b64(self.salt),
            "scrypt": self.params.to_dict(),
            "wrapped_key": _b64(self.wrapped),
            "failures": self.failures,
            "locked_until": self.locked_until,
        }

    def save(self) -> None:
        data = json.dumps(self.to_dict(), indent=1).encode("utf-8")
        try:
            files.atomic_write(self.path, data)
        except OSError as exc:
            raise StoreWriteFailed(reason=files.errno_name(exc)) from exc

    def lockout_remaining(self) -> int:
        """Whole seconds until a PIN may be tried again (0: now)."""
        current = self._clock()
        remaining = self.locked_until - current
        if remaining <= 0:
            return 0
        longest = lockout_seconds(self.failures)
        if remaining > longest:  # the clock went back: never wait longer than the rule says
            self.locked_until = current + longest
            remaining = longest
        return max(1, math.ceil(remaining))

    def unlock(self, pin: str) -> bytes:
        """The data key, or :class:`WrongPin`/:class:`PinLockout` (the attempt is persisted)."""
        remaining = self.lockout_remaining()
        if remaining:
            raise PinLockout(seconds=remaining)
        kek = symmetric.derive_key(pin if isinstance(pin, str) else "", self.salt, self.params)
        try:
            key = symmetric.unwrap_key(kek, self.wrapped, _wrap_aad(self.store_id, self.params))
        except AuthenticationFailed:
            self.failures += 1
            wait = lockout_seconds(self.failures)
            self.locked_until = self._clock() + wait if wait else 0.0
            self.save()
            if wait:
                raise PinLockout(seconds=wait) from None
            raise WrongPin(remaining=MAX_TRIES - self.failures) from None
        if self.failures or self.locked_until:
            self.failures, self.locked_until = 0, 0.0
            self.save()
        return key

    def rewrap(self, data_key: bytes, new_pin: str) -> None:
        """Wrap ``data_key`` under ``new_pin`` with a fresh salt and save; the data is untouched."""
        check_new_pin(new_pin)
        salt = symmetric.new_salt()
        kek = symmetric.derive_key(new_pin, salt, self.params)
        before = (self.salt, self.wrapped, self.failures, self.locked_until)
        self.salt = salt
        self.wrapped = symmetric.wrap_key(kek, data_key, _wrap_aad(self.store_id, self.params))
        self.failures, self.locked_until = 0, 0.0
        try:
            self.save()
        except StoreWriteFailed:
            self.salt, self.wrapped, self.failures, self.locked_until = before
            raise


def _wrap_aad(store_id: bytes, params: ScryptParams) -> bytes:
    return _WRAP_AAD + store_id + json.dumps(params.to_dict(), sort_keys=True).encode("ascii")
