"""Signed error bodies: ``{"error": {"code", "params"}}`` plus ``X-Linli-Signature``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.crypto import signing
from sync.crypto.signing import SigningKey
from sync.errors import SyncError
from sync.protocol.keys import ServerKeys, signer_of
from sync.protocol.wire import PROBLEM_CONTEXT, b64d, b64e, canonical_json


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    params: dict[str, Any]
    device: str | None = None
    batch: str | None = None


def problem_body(
    code: str,
    params: Mapping[str, Any] | None = None,
    *,
    device: str | None = None,
    batch: str | None = None,
) -> bytes:
    """An error body ``{"error": {"code", "params"}, "device"?, "batch"?}`` as canonical JSON.

    A ``sync.revoked`` body MUST name the ``device`` it is for: a device acts on a revocation
    only when the signature verifies AND the body names that device (no cross-device replay).
    """
    body: dict[str, Any] = {"error": {"code": code, "params": dict(params or {})}}
    if device is not None:
        body["device"] = device
    if batch is not None:
        body["batch"] = batch
    return canonical_json(body)


def sign_problem(body_bytes: bytes, server: ServerKeys | SigningKey) -> str:
    """The ``X-Linli-Signature`` header value for an error body."""
    return b64e(signer_of(server).sign(PROBLEM_CONTEXT + body_bytes))


def verify_problem(body_bytes: bytes, sig_header: str | None, server_signing_public: bytes) -> bool:
    """True only if ``sig_header`` is the server's signature of exactly these body bytes."""
    if not sig_header:
        return False
    try:
        sig = b64d(sig_header.strip(), "signature")
    except SyncError:
        return False
    return signing.verify(server_signing_public, sig, PROBLEM_CONTEXT + body_bytes)


def parse_problem(body_bytes: bytes) -> Problem | None:
    """The problem in an error body, or ``None`` if it is not one. Does NOT verify it."""
    try:
        obj = json.loads(body_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    err = obj.get("error") if isinstance(obj, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str):
        return None
    params = err.get("params")
    device, batch = obj.get("device"), obj.get("batch")
    return Problem(
        code=err["code"],
        params=params if isinstance(params, dict) else {},
        device=device if isinstance(device, str) else None,
        batch=batch if isinstance(batch, str) else None,
    )
