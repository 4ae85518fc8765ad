"""The sync wire protocol, version 1, shared by the phone's sync client and the server.

- :mod:`.wire` — constants, canonical JSON, base64url, shared parse checks;
- :mod:`.keys` — :class:`DeviceKeys` / :class:`ServerKeys`;
- :mod:`.messages` — headers, :class:`SyncRequest`, :class:`SyncResponse`, receipts;
- :mod:`.envelope` — the sealed + signed body of ``POST /v1/sync`` and its reply;
- :mod:`.problems` — signed error bodies;
- :mod:`.enrollment` — ``POST /v1/enroll``: code proof, the MAC over the server's keys, the label
  and member details sealed under the code (enrollment message version 2).

Everything is re-exported here: ``from sync import protocol; protocol.open_request(...)``. The
byte-level description, enough to write another client, is ``docs/protocol.md``. Every failure
to read a peer's message raises :class:`sync.errors.SyncError` with a specific code.
"""

from sync.protocol.enrollment import (
    ENROLL_VERSION,
    EnrollRequest,
    EnrollResponse,
    EnrollSecret,
    enroll_code_id,
    enroll_mac,
    enroll_request,
    enroll_response,
    enroll_secret,
    normalize_code,
    open_enroll_label,
    parse_enroll_request,
    parse_enroll_response,
    verify_enroll_request,
    verify_enroll_response,
)
from sync.protocol.envelope import (
    open_request,
    open_response,
    peek_header,
    seal_request,
    seal_response,
)
from sync.protocol.keys import DeviceKeys, ServerKeys
from sync.protocol.messages import (
    WIPE_REASONS,
    ClientReport,
    Receipt,
    Rejection,
    RequestHeader,
    ResponseHeader,
    ServerCopy,
    SyncRequest,
    SyncResponse,
    make_receipt,
    verify_receipt,
)
from sync.protocol.problems import (
    Problem,
    parse_problem,
    problem_body,
    sign_problem,
    verify_problem,
)
from sync.protocol.wire import (
    DEFAULT_PULL_LIMIT,
    ENROLL_PATH,
    HEALTH_PATH,
    JSON_CONTENT_TYPE,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_OPS_PER_REQUEST,
    MAX_PAYLOAD_BYTES,
    MAX_PULL_BYTES,
    MAX_PULL_LIMIT,
    PROTOCOL_VERSION,
    REQUEST_INFO,
    RESPONSE_INFO,
    SIGNATURE_HEADER,
    SYNC_CONTENT_TYPE,
    SYNC_PATH,
    b64d,
    b64e,
    canonical_json,
    now_ms,
)

__all__ = [
    "DEFAULT_PULL_LIMIT",
    "ENROLL_PATH",
    "ENROLL_VERSION",
    "HEALTH_PATH",
    "JSON_CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_OPS_PER_REQUEST",
    "MAX_PAYLOAD_BYTES",
    "MAX_PULL_BYTES",
    "MAX_PULL_LIMIT",
    "PROTOCOL_VERSION",
    "REQUEST_INFO",
    "RESPONSE_INFO",
    "SIGNATURE_HEADER",
    "SYNC_CONTENT_TYPE",
    "SYNC_PATH",
    "WIPE_REASONS",
    "ClientReport",
    "DeviceKeys",
    "EnrollRequest",
    "EnrollResponse",
    "EnrollSecret",
    "Problem",
    "Receipt",
    "Rejection",
    "RequestHeader",
    "ResponseHeader",
    "ServerCopy",
    "ServerKeys",
    "SyncRequest",
    "SyncResponse",
    "b64d",
    "b64e",
    "canonical_json",
    "enroll_code_id",
    "enroll_mac",
    "enroll_request",
    "enroll_response",
    "enroll_secret",
    "make_receipt",
    "normalize_code",
    "now_ms",
    "open_enroll_label",
    "open_request",
    "open_response",
    "parse_enroll_request",
    "parse_enroll_response",
    "parse_problem",
    "peek_header",
    "problem_body",
    "seal_request",
    "seal_response",
    "sign_problem",
    "verify_enroll_request",
    "verify_enroll_response",
    "verify_problem",
    "verify_receipt",
]
