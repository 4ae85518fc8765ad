"""Enrollment: a device proves it holds a one-time code; the server MACs its keys with it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.crypto import sealing, signing
from sync.crypto.symmetric import hkdf_expand
from sync.errors import SyncError, ValidationError
from sync.protocol.keys import DeviceKeys, ServerKeys
from sync.protocol.wire import (
    PROTOCOL_VERSION,
    b64d,
    b64e,
    canonical_json,
    check_version,
    get_field,
    malformed,
    now_ms,
    opt_str,
)

# The one-time code never travels. Both sides stretch it (scrypt) into a pseudorandom key, then
# expand three values from it (HKDF-Expand-SHA256): ``code_id`` (what the device sends so the
# server can find the code), ``request_key`` (the device's proof that it holds the code, binding
# its public keys) and ``response_key`` (the server's MAC over its answer, binding the server
# keys the device will pin). Someone who sees the exchange but not the code can neither enroll
# their own keys with it nor swap the server's keys.

_ENROLL_SALT = b"linli enroll v1"
_ENROLL_SCRYPT_N = 2**12
_MAX_LABEL = 100
_ENROLL_FIELDS = ("device_id", "member_id", "name", "role")


def normalize_code(code: str) -> str:
    """Upper case, separators and spaces dropped: ``"k7qd-9xpm 2f"`` and ``"K7QD9XPM2F"`` match."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class EnrollSecret:
    """The values derived from one enrollment code (derive once: it costs a few milliseconds)."""

    code_id: str
    request_key: bytes = field(repr=False)
    response_key: bytes = field(repr=False)


def enroll_secret(code: str | EnrollSecret) -> EnrollSecret:
    if isinstance(code, EnrollSecret):
        return code
    norm = normalize_code(code)
    if not norm:
        raise ValidationError("validation.invalid", field="code", reason="empty")
    prk = hashlib.scrypt(norm.encode(), salt=_ENROLL_SALT, n=_ENROLL_SCRYPT_N, r=8, p=1, dklen=32)
    return EnrollSecret(
        code_id=b64e(hkdf_expand(prk, b"linli enroll id")[:16]),
        request_key=hkdf_expand(prk, b"linli enroll request"),
        response_key=hkdf_expand(prk, b"linli enroll response"),
    )


def enroll_code_id(code: str | EnrollSecret) -> str:
    """What the server stores next to a code to find it when a device enrolls."""
    return enroll_secret(code).code_id


def _mac(key: bytes, body: Mapping[str, Any], drop: str) -> str:
    rest = {k: v for k, v in body.items() if k != drop}
    return b64e(hmac.new(key, canonical_json(rest), hashlib.sha256).digest())


def enroll_request(code: str | EnrollSecret, device: DeviceKeys, label: str) -> dict[str, Any]:
    """The ``POST /v1/enroll`` JSON body: code id, the device's public keys, label, proof."""
    secret = enroll_secret(code)
    body: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "code_id": secret.code_id,
        **device.public_bundle(),
        "label": label[:_MAX_LABEL],
    }
    body["proof"] = _mac(secret.request_key, body, "proof")
    return body


@dataclass(frozen=True, slots=True)
class EnrollRequest:
    code_id: str
    signing_public: bytes = field(repr=False)
    sealing_public: bytes = field(repr=False)
    label: str = ""


def parse_enroll_request(body: Any) -> EnrollRequest:
    """Shape and keys of an enroll body (the proof is checked once the code is found)."""
    if not isinstance(body, dict):
        raise malformed("enroll")
    check_version(body)
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > _MAX_LABEL:
        raise malformed("label")
    return EnrollRequest(
        code_id=get_field(body, "code_id", str),
        signing_public=signing.check_public(b64d(body.get("signing_public"), "signing_public")),
        sealing_public=sealing.check_public(b64d(body.get("sealing_public"), "sealing_public")),
        label=label,
    )


def verify_enroll_request(code: str | EnrollSecret, body: Any) -> bool:
    """True only if the body was made by someone holding ``code``. Never raises."""
    if not isinstance(body, Mapping) or not isinstance(body.get("proof"), str):
        return False
    secret = enroll_secret(code)
    return body.get("code_id") == secret.code_id and hmac.compare_digest(
        body["proof"], _mac(secret.request_key, body, "proof")
    )


def enroll_mac(code: str | EnrollSecret, body: Mapping[str, Any]) -> str:
    """The ``mac`` of an enroll answer: HMAC-SHA256 over the canonical JSON of the rest."""
    return _mac(enroll_secret(code).response_key, body, "mac")


def enroll_response(
    code: str | EnrollSecret,
    *,
    device_id: str,
    member_id: str,
    name: str,
    role: str,
    team_id: str | None,
    server: ServerKeys,
    server_time: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The server's enroll answer, MACed with the code."""
    body: dict[str, Any] = {
        **(extra or {}),
        "device_id": device_id,
        "member_id": member_id,
        "name": name,
        "role": role,
        "team_id": team_id,
        "server_signing_public": b64e(server.signing.public_bytes()),
        "server_sealing_public": b64e(server.sealing.public_bytes()),
        "server_time": now_ms() if server_time is None else server_time,
    }
    body["mac"] = enroll_mac(code, body)
    return body


def verify_enroll_response(code: str | EnrollSecret, body: Any) -> bool:
    """True only if the answer's MAC matches ``code``. Never raises."""
    if not isinstance(body, Mapping) or not isinstance(body.get("mac"), str):
        return False
    return hmac.compare_digest(body["mac"], enroll_mac(code, body))


@dataclass(frozen=True, slots=True)
class EnrollResponse:
    device_id: str
    member_id: str
    name: str
    role: str
    team_id: str | None
    server_signing_public: bytes = field(repr=False)
    server_sealing_public: bytes = field(repr=False)
    server_time: int


def parse_enroll_response(code: str | EnrollSecret, body: Any) -> EnrollResponse:
    """Verify the MAC (``enroll.bad_mac`` if it fails), then parse the answer."""
    if not verify_enroll_response(code, body):
        raise SyncError("enroll.bad_mac")
    device_id, member_id, name, role = (get_field(body, k, str) for k in _ENROLL_FIELDS)
    return EnrollResponse(
        device_id=device_id,
        member_id=member_id,
        name=name,
        role=role,
        team_id=opt_str(body, "team_id"),
        server_signing_public=signing.check_public(
            b64d(body.get("server_signing_public"), "server_signing_public")
        ),
        server_sealing_public=sealing.check_public(
            b64d(body.get("server_sealing_public"), "server_sealing_public")
        ),
        server_time=get_field(body, "server_time", int),
    )
