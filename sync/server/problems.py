"""The server's ONE mapping from coded errors to HTTP answers (signed problem bodies).

Every refusal is ``{"error": {"code", "params"}, "device"?, "batch"?}`` (canonical JSON) with the
server's ``X-Linli-Signature``; a ``sync.revoked`` problem always names the device. Unknown
exceptions become a signed ``internal`` 500 that carries no detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync import protocol
from sync.errors import LinliError
from sync.protocol import ServerKeys

STATUS: dict[str, int] = {
    "sync.malformed": 400,
    "sync.bad_version": 400,
    "sync.app_too_old": 426,
    "sync.bad_key": 400,
    "sync.cannot_open": 400,
    "sync.bad_signature": 401,
    "sync.unknown_device": 401,
    "sync.revoked": 403,
    "sync.replay": 409,
    "sync.too_large": 413,
    "sync.server_busy": 503,
    "sync.bad_text": 400,
    "sync.body_timeout": 408,
    "server.not_ready": 503,
    "server.schema_behind": 503,
    "server.schema_ahead": 503,
    "enroll.bad_proof": 401,
    "enroll.unknown_code": 404,
    "enroll.used": 409,
    "enroll.expired": 410,
}

# The 5xx answers that keep their code and params and carry ``Retry-After`` (not faults).
RETRYABLE = frozenset(
    {"sync.server_busy", "server.not_ready", "server.schema_behind", "server.schema_ahead"}
)


class Refusal(Exception):
    """A coded error with the device and batch it concerns (for the problem body)."""

    def __init__(
        self, error: LinliError, *, device: str | None = None, batch: str | None = None
    ) -> None:
        super().__init__(error.code)
        self.error = error
        self.device = device
        self.batch = batch


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


def status_for(error: LinliError) -> int:
    status = STATUS.get(error.code)
    if status is not None:
        return status
    return error.http_status if 400 <= error.http_status < 600 else 500


def problem(
    error: LinliError,
    keys: ServerKeys,
    *,
    device: str | None = None,
    batch: str | None = None,
) -> Answer:
    status = status_for(error)
    coded = status < 500 or error.code in RETRYABLE
    params = error.to_dict()["params"] if coded else {}
    code = error.code if coded else "internal"
    body = protocol.problem_body(code, params, device=device, batch=batch)
    headers = {
        protocol.SIGNATURE_HEADER: protocol.sign_problem(body, keys),
        "Content-Type": protocol.JSON_CONTENT_TYPE,
    }
    if code in RETRYABLE:
        headers["Retry-After"] = str(error.params.get("retry_after", 5))
    return Answer(status, body, headers)


def internal(keys: ServerKeys) -> Answer:
    return problem(LinliError("internal"), keys)
