"""One coded error catalog shared by the phone app and the server.

Hierarchy (every class carries a stable ``code``; the message text lives in the zh-CN/en
catalogs under ``error.<code>`` and always says what happened and what to do next)::

    LinliError
    ├── ValidationError        bad field values in a record or op           (400)
    │   └── OpRejected         an op that the merge rules refuse             (422)
    ├── StoreError             the phone's local store
    │   ├── StoreLocked        the store is locked (no PIN given yet)        (423)
    │   ├── WrongPin           the PIN does not unwrap the data key          (401)
    │   ├── PinLockout         too many wrong PINs; wait before trying again (429)
    │   ├── StoreDamaged       a snapshot or record failed its integrity check
    │   └── StoreWriteFailed   the disk refused a write; nothing was changed
    └── SyncError              moving data between device and server
        └── (codes defined by sync.protocol / sync.server)

Lower-library exceptions are mapped to the most specific class here at one boundary each
(``raise ... from exc``), never leaked raw to callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class LinliError(Exception):
    """Base of every error a person or a peer can meet. ``code`` is stable; text is in catalogs."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        self.code = code or type(self).code  # type: ignore[misc]
        self.params: dict[str, Any] = dict(params)
        super().__init__(self.code, self.params)

    @property
    def message_key(self) -> str:
        return f"error.{self.code}"

    def describe(self, lang: str = "zh-CN") -> str:
        """The catalog text for this error in ``lang``, with its parameters filled in."""
        from sync.i18n import t

        return t(self.message_key, lang, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": _jsonable(self.params)}

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        out[k] = v if isinstance(v, str | int | float | bool | type(None) | list | dict) else str(v)
    return out


class ValidationError(LinliError):
    code = "validation.invalid"
    http_status = 400


class OpRejected(ValidationError):
    code = "op.rejected"
    http_status = 422


class StoreError(LinliError):
    code = "store.error"
    http_status = 500


class StoreLocked(StoreError):
    code = "store.locked"
    http_status = 423


class WrongPin(StoreError):
    code = "store.wrong_pin"
    http_status = 401


class PinLockout(StoreError):
    code = "store.pin_lockout"
    http_status = 429


class StoreDamaged(StoreError):
    code = "store.damaged"


class StoreWriteFailed(StoreError):
    code = "store.write_failed"


class SyncError(LinliError):
    code = "sync.error"
    http_status = 400
