"""``key.json``: the data key wrapped by the PIN, and the wrong-PIN counter with its lockout.

The file holds no secret in the clear: a store id, the scrypt salt and parameters, the random
256-bit data key sealed with AES-256-GCM under ``scrypt(PIN, salt)`` (associated data binds it to
the key-file version, the store id and the scrypt parameters), the count of consecutive wrong PINs
and the time until which unlocking is refused. It is always rewritten atomically.

Format 2 (``"v": 2``) adds ``check``, a SHA-256 of every other field: a damaged file (one flipped
bit in the wrapped key) is ``StoreDamaged``, never a wrong PIN that counts toward the lockout. The
check is not a secret — anyone with the file can recompute it — so it stops accidents, not edits.
Format 1 (no check, ``scrypt n=2**15``) still unlocks and is re-wrapped as format 2 with
:data:`PIN_SCRYPT` after the next right PIN (:meth:`KeyFile.upgrade`).

PIN derivation cost: :data:`PIN_SCRYPT` is ``n=2**17, r=8, p=1`` (128 MiB, ≥ 0.3 s here; see
docs/security.md). :func:`unlock_kdf_ms` times one derivation for ``bench app``.

Lockout: the first four wrong PINs answer :class:`WrongPin` with the tries left; the fifth and
every later one lock unlocking for 30 s, doubling each time (capped at a day), persisted here so
restarting the app does not reset it. A right PIN resets the count.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.store import files, formats
from sync.crypto import symmetric
from sync.crypto.symmetric import AuthenticationFailed, ScryptParams
from sync.errors import PinLockout, StoreDamaged, StoreWriteFailed, ValidationError, WrongPin

KEY_FILE = "key.json"
MAX_TRIES = 5
LOCKOUT_BASE_S = 30
LOCKOUT_CAP_S = 24 * 3600
PIN_MIN = 6
PIN_MAX = 64
#: scrypt cost for PINs: 128 MiB and ≥ 0.3 s per guess on the development machine.
PIN_SCRYPT = ScryptParams(n=2**17, r=8, p=1)
_WRAP_AAD = {1: b"linli/data-key/v1", 2: b"linli/data-key/v2"}


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


def unlock_kdf_ms(params: ScryptParams = PIN_SCRYPT) -> float:
    """Milliseconds one PIN derivation takes with ``params`` (``bench app``'s ``unlock_kdf_ms``)."""
    start = time.perf_counter()
    symmetric.derive_key("000000", symmetric.new_salt(), params)
    return (time.perf_counter() - start) * 1000


def _check_of(raw: dict[str, Any]) -> str:
    fields = {k: v for k, v in raw.items() if k != "check"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        #: Milliseconds the last :meth:`unlock` spent deriving the PIN key (0: none yet).
        self.kdf_ms = 0.0
        version = raw.get("v")
        if isinstance(version, int) and version > formats.KEY_FORMAT:
            raise formats.too_new(KEY_FILE, version, formats.KEY_FORMAT)
        try:
            if version not in (1, 2) or isinstance(version, bool):
                raise ValueError("unknown key file version")
            if version == 2 and raw.get("check") != _check_of(raw):
                raise ValueError("key file checksum")
            self.version: int = version
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
        params: ScryptParams = PIN_SCRYPT,
        clock: Callable[[], float] | None = None,
    ) -> KeyFile:
        """A key file for a new store (not yet written: call :meth:`save`)."""
        check_new_pin(pin)
        store_id = os.urandom(16)
        salt = symmetric.new_salt()
        kek = symmetric.derive_key(pin, salt, params)
        wrapped = symmetric.wrap_key(kek, data_key, _wrap_aad(2, store_id, params))
        raw: dict[str, Any] = {
            "v": 2,
            "store_id": store_id.hex(),
            "salt": _b64(salt),
            "scrypt": params.to_dict(),
            "wrapped_key": _b64(wrapped),
        }
        raw["check"] = _check_of(raw)
        return cls(directory / KEY_FILE, raw, clock)

    def to_dict(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "v": self.version,
            "store_id": self.store_id.hex(),
            "salt": _b64(self.salt),
            "scrypt": self.params.to_dict(),
            "wrapped_key": _b64(self.wrapped),
            "failures": self.failures,
            "locked_until": self.locked_until,
        }
        if self.version >= 2:
            raw["check"] = _check_of(raw)
        return raw

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
        start = time.perf_counter()
        kek = symmetric.derive_key(pin if isinstance(pin, str) else "", self.salt, self.params)
        self.kdf_ms = (time.perf_counter() - start) * 1000
        aad = _wrap_aad(self.version, self.store_id, self.params)
        try:
            key = symmetric.unwrap_key(kek, self.wrapped, aad)
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
        self._wrap(data_key, new_pin)

    @property
    def needs_upgrade(self) -> bool:
        """An older format or weaker scrypt parameters: re-wrap after the next right PIN."""
        return self.version < formats.KEY_FORMAT or self.params != PIN_SCRYPT

    def upgrade(self, data_key: bytes, pin: str) -> None:
        """Re-wrap under the same (right) ``pin`` as format 2 with :data:`PIN_SCRYPT`. A PIN
        shorter than today's minimum is kept: the app asks for a new one separately."""
        if self.needs_upgrade:
            self._wrap(data_key, pin)

    def _wrap(self, data_key: bytes, pin: str) -> None:
        salt = symmetric.new_salt()
        kek = symmetric.derive_key(pin, salt, PIN_SCRYPT)
        wrap = (self.version, self.params, self.salt, self.wrapped)
        tries = (self.failures, self.locked_until)
        self.version, self.params, self.salt = formats.KEY_FORMAT, PIN_SCRYPT, salt
        aad = _wrap_aad(self.version, self.store_id, self.params)
        self.wrapped = symmetric.wrap_key(kek, data_key, aad)
        self.failures, self.locked_until = 0, 0.0
        try:
            self.save()
        except StoreWriteFailed:
            self.version, self.params, self.salt, self.wrapped = wrap
            self.failures, self.locked_until = tries
            raise


def _wrap_aad(version: int, store_id: bytes, params: ScryptParams) -> bytes:
    params_text = json.dumps(params.to_dict(), sort_keys=True).encode("ascii")
    return _WRAP_AAD[version] + store_id + params_text
