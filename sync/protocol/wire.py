"""Wire constants, encodings (canonical JSON, base64url) and the checks every parser shares.

:func:`canonical_json` is the domain's (:mod:`sync.domain.jsonlike`) and :func:`now_ms` the hybrid
clock's wall clock (:func:`sync.hlc.wall_ms`); both are named here for the protocol's users.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from sync import hlc
from sync.domain.jsonlike import canonical_json as canonical_json
from sync.errors import SyncError, ValidationError
from sync.ops import Op

PROTOCOL_VERSION: Final = 1
#: the oldest protocol version this build still speaks with a peer (``docs/upgrades.md``, "The
#: evolution contract"): a server answers an older phone with a signed ``sync.app_too_old``
OLDEST_PROTOCOL_VERSION: Final = 1
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
MAX_PAYLOAD_BYTES: Final = 32 * 1024 * 1024
MAX_HEADER_BYTES: Final = 1024
MAX_OPS_PER_REQUEST: Final = 2000
DEFAULT_PULL_LIMIT: Final = 1000
#: the most entries one page may hold (a phone's first pull asks for this many)
MAX_PULL_LIMIT: Final = 10_000
#: the most op JSON one page may hold (UTF-8 bytes, before compression): the server ends a page
#: early rather than pass it, so a sealed answer stays under :data:`MAX_BODY_BYTES` even if it
#: does not compress at all (zlib adds ~0.03 % then; acks, rejections and the receipt of a
#: ``MAX_OPS_PER_REQUEST`` batch add well under 0.5 MiB)
MAX_PULL_BYTES: Final = 3 * 1024 * 1024
REQUEST_INFO: Final = b"linli sync v1 request"
RESPONSE_INFO: Final = b"linli sync v1 response"
RECEIPT_CONTEXT: Final = b"linli receipt v1\x00"
PROBLEM_CONTEXT: Final = b"linli problem v1\x00"
SYNC_PATH: Final = "/v1/sync"
ENROLL_PATH: Final = "/v1/enroll"
HEALTH_PATH: Final = "/healthz"
SYNC_CONTENT_TYPE: Final = "application/octet-stream"
JSON_CONTENT_TYPE: Final = "application/json"
SIGNATURE_HEADER: Final = "X-Linli-Signature"
MAX_ID: Final = 200

#: milliseconds since the epoch: the one wall clock, :func:`sync.hlc.wall_ms`
now_ms: Final = hlc.wall_ms


def b64e(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: Any, what: str = "base64") -> bytes:
    """Strict inverse of :func:`b64e`; anything else raises ``sync.malformed``."""
    if not isinstance(text, str) or len(text) > 16_384 or "=" in text:
        raise SyncError("sync.malformed", reason=what)
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise SyncError("sync.malformed", reason=what) from exc
    if b64e(data) != text:
        raise SyncError("sync.malformed", reason=what)
    return data


def malformed(reason: str) -> SyncError:
    return SyncError("sync.malformed", reason=reason)


def get_field(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise malformed(key)
    if isinstance(value, str) and (not value or len(value) > MAX_ID):
        raise malformed(key)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise malformed(key)
    return value


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    return None if obj.get(key) is None else get_field(obj, key, str)


def str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v) <= MAX_ID for v in value
    ):
        raise malformed(what)
    return value


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise malformed(what) from exc
    if not isinstance(obj, dict):
        raise malformed(what)
    return obj


def check_version(obj: Mapping[str, Any]) -> None:
    """A peer's protocol version within ``[OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION]``: an older
    one (0 for builds before versioning) is ``sync.app_too_old`` (the phone must be updated; its records stay on it), a newer or
    malformed one ``sync.bad_version`` (this side must be updated)."""
    v = obj.get("v")
    if type(v) is int and v < OLDEST_PROTOCOL_VERSION:
        raise SyncError("sync.app_too_old", got=v, oldest=OLDEST_PROTOCOL_VERSION)
    if type(v) is not int or not OLDEST_PROTOCOL_VERSION <= v <= PROTOCOL_VERSION:
        raise SyncError("sync.bad_version", got=str(obj.get("v")), want=PROTOCOL_VERSION)


def parse_ops(value: Any, what: str) -> list[Op]:
    if not isinstance(value, list):
        raise malformed(what)
    try:
        return [Op.from_dict(raw) for raw in value]
    except ValidationError as exc:
        raise malformed(f"{what}: {exc.params.get('reason', exc.code)}") from exc
