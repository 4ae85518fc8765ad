"""Enrollment: a device proves it holds a one-time code; the server MACs its keys with it.

Version 2 (:data:`ENROLL_VERSION`) seals what is personal under keys derived from the code: the
device's label in the request, the member's ids, name, role and team in the answer (AES-256-GCM,
padded to 512-byte blocks). A listener without the code learns only that an enrollment happened.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlsplit

from sync.crypto import sealing, signing
from sync.crypto.symmetric import Aead, AuthenticationFailed, hkdf_expand
from sync.errors import SyncError, ValidationError
from sync.protocol.envelope import strict_json
from sync.protocol.keys import FINGERPRINT_HEX, DeviceKeys, ServerKeys, server_fingerprint
from sync.protocol.wire import (
    b64d,
    b64e,
    canonical_json,
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
# their own keys with it nor swap the server's keys. The sealing keys are expanded from the two
# stored keys (``label_key`` from ``request_key``, ``answer_key`` from ``response_key``), so a
# code issued before version 2 seals and opens like a new one.

_ENROLL_SALT = b"linli enroll v1"
_ENROLL_SCRYPT_N = 2**12
_MAX_LABEL = 100
_ENROLL_FIELDS = ("device_id", "member_id", "name", "role")

#: Version 2 seals the label and the member details (version 1, their clear form, is refused).
ENROLL_VERSION: Final = 2
_PAD = 512  # sealed JSON is padded with spaces to a multiple of this: lengths say nothing
_REQUEST_AAD = b"linli enroll v2 request\x00"
_ANSWER_AAD = b"linli enroll v2 answer\x00"
_REQUEST_PUBLIC = ("v", "code_id", "signing_public", "sealing_public")
_ANSWER_PUBLIC = ("v", "server_signing_public", "server_sealing_public", "server_time")


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


def _label_key(secret: EnrollSecret) -> bytes:
    return hkdf_expand(secret.request_key, b"linli enroll v2 label key")


def _answer_key(secret: EnrollSecret) -> bytes:
    return hkdf_expand(secret.response_key, b"linli enroll v2 answer key")


def enroll_code_id(code: str | EnrollSecret) -> str:
    """What the server stores next to a code to find it when a device enrolls."""
    return enroll_secret(code).code_id


def _mac(key: bytes, body: Mapping[str, Any], drop: str) -> str:
    rest = {k: v for k, v in body.items() if k != drop}
    return b64e(hmac.new(key, canonical_json(rest), hashlib.sha256).digest())


def _seal(key: bytes, context: bytes, content: Mapping[str, Any], bound: Mapping[str, Any]) -> str:
    """``content`` as padded canonical JSON, AES-256-GCM under ``key``, bound to ``bound``."""
    plain = canonical_json(content)
    plain += b" " * (-len(plain) % _PAD)
    return b64e(Aead(key).seal(plain, context + canonical_json(bound)))


def _open(key: bytes, context: bytes, body: Mapping[str, Any], bound: Mapping[str, Any]) -> Any:
    """The JSON object sealed by :func:`_seal`; ``sync.cannot_open`` if it does not open."""
    blob = b64d(body.get("sealed"), "sealed")
    try:
        plain = Aead(key).open(blob, context + canonical_json(bound))
    except AuthenticationFailed as exc:
        raise SyncError("sync.cannot_open") from exc
    content = strict_json(plain, "enroll")
    if len(plain) % _PAD or not isinstance(content, dict):
        raise malformed("sealed")
    return content


def _public(body: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: body.get(k) for k in fields}


def _check_version(body: Mapping[str, Any]) -> None:
    """Only :data:`ENROLL_VERSION` is accepted: a clear version-1 body is ``sync.bad_version``."""
    v = body.get("v")
    if type(v) is not int or v != ENROLL_VERSION:
        raise SyncError("sync.bad_version", got=str(v), want=ENROLL_VERSION)


def enroll_request(code: str | EnrollSecret, device: DeviceKeys, label: str) -> dict[str, Any]:
    """The ``POST /v1/enroll`` JSON body: code id, the device's public keys, sealed label, proof."""
    secret = enroll_secret(code)
    body: dict[str, Any] = {
        "v": ENROLL_VERSION,
        "code_id": secret.code_id,
        **device.public_bundle(),
    }
    body["sealed"] = _seal(
        _label_key(secret), _REQUEST_AAD, {"label": label[:_MAX_LABEL]}, dict(body)
    )
    body["proof"] = _mac(secret.request_key, body, "proof")
    return body


@dataclass(frozen=True, slots=True)
class EnrollRequest:
    code_id: str
    signing_public: bytes = field(repr=False)
    sealing_public: bytes = field(repr=False)


def parse_enroll_request(body: Any) -> EnrollRequest:
    """Shape and keys of an enroll body (proof and label are checked once the code is found)."""
    if not isinstance(body, dict):
        raise malformed("enroll")
    _check_version(body)
    b64d(body.get("sealed"), "sealed")
    return EnrollRequest(
        code_id=get_field(body, "code_id", str),
        signing_public=signing.check_public(b64d(body.get("signing_public"), "signing_public")),
        sealing_public=sealing.check_public(b64d(body.get("sealing_public"), "sealing_public")),
    )


def open_enroll_label(code: str | EnrollSecret, body: Mapping[str, Any]) -> str:
    """The device's label sealed in a request whose proof verified; ``sync.cannot_open`` or
    ``sync.malformed`` if it does not open to one."""
    secret = enroll_secret(code)
    content = _open(_label_key(secret), _REQUEST_AAD, body, _public(body, _REQUEST_PUBLIC))
    label = content.get("label")
    if not isinstance(label, str) or len(label) > _MAX_LABEL:
        raise malformed("label")
    return label


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
) -> dict[str, Any]:
    """The server's enroll answer: member details sealed under the code, the whole MACed."""
    secret = enroll_secret(code)
    body: dict[str, Any] = {
        "v": ENROLL_VERSION,
        "server_signing_public": b64e(server.signing.public_bytes()),
        "server_sealing_public": b64e(server.sealing.public_bytes()),
        "server_time": now_ms() if server_time is None else server_time,
    }
    member = {
        "device_id": device_id,
        "member_id": member_id,
        "name": name,
        "role": role,
        "team_id": team_id,
    }
    body["sealed"] = _seal(_answer_key(secret), _ANSWER_AAD, member, dict(body))
    body["mac"] = enroll_mac(secret, body)
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
    """Verify the MAC (``enroll.bad_mac`` if it fails), then open and parse the answer."""
    secret = enroll_secret(code)
    if not verify_enroll_response(secret, body):
        raise SyncError("enroll.bad_mac")
    _check_version(body)
    member = _open(_answer_key(secret), _ANSWER_AAD, body, _public(body, _ANSWER_PUBLIC))
    device_id, member_id, name, role = (get_field(member, k, str) for k in _ENROLL_FIELDS)
    return EnrollResponse(
        device_id=device_id,
        member_id=member_id,
        name=name,
        role=role,
        team_id=opt_str(member, "team_id"),
        server_signing_public=signing.check_public(
            b64d(body.get("server_signing_public"), "server_signing_public")
        ),
        server_sealing_public=sealing.check_public(
            b64d(body.get("server_sealing_public"), "server_sealing_public")
        ),
        server_time=get_field(body, "server_time", int),
    )


# -- the enrollment link (the QR code's text) ---------------------------------------------------
LINK_SCHEME: Final = "linli://enroll"


@dataclass(frozen=True, slots=True)
class EnrollLink:
    """What an enrollment QR code (or a pasted link) says: the server's URL, the one-time code
    and, when given, the server's key fingerprint (:func:`~sync.protocol.keys.server_fingerprint`)."""

    server: str
    code: str
    fingerprint: str | None = None


def enroll_link(server_url: str, code: str, fingerprint: str | None = None) -> str:
    """``linli://enroll?server=<url-encoded URL>&code=<code>[&fp=<fingerprint>]``."""
    link = f"{LINK_SCHEME}?server={quote(server_url, safe='')}&code={quote(code, safe='-')}"
    return f"{link}&fp={fingerprint}" if fingerprint else link


def parse_enroll_link(text: str) -> EnrollLink:
    """The parts of a ``linli://enroll`` link; ``enroll.bad_link`` if it is not one."""
    parts = urlsplit(text.strip())
    query = parse_qs(parts.query)
    server, code = query.get("server", [""])[0], query.get("code", [""])[0]
    fp = query.get("fp", [""])[0].lower() or None
    if (
        f"{parts.scheme}://{parts.netloc}" != LINK_SCHEME
        or not server.startswith(("http://", "https://"))
        or not normalize_code(code)
        or (fp is not None and (len(fp) != FINGERPRINT_HEX or not _is_hex(fp)))
    ):
        raise ValidationError("enroll.bad_link")
    return EnrollLink(server, code, fp)


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdef" for ch in text)


def check_fingerprint(response: EnrollResponse, expected: str | None) -> None:
    """Refuse (``enroll.wrong_server``) an answer whose server keys are not the ones the link
    named. ``None``: the link gave no fingerprint (a typed code), nothing to compare."""
    if expected is None:
        return
    found = server_fingerprint(response.server_signing_public, response.server_sealing_public)
    if not hmac.compare_digest(found, expected.lower()):
        raise SyncError("enroll.wrong_server")
