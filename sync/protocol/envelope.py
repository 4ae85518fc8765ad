"""The sealed and signed envelope of ``POST /v1/sync`` and its reply.

Frame::

    "LNLI" | kind u8 (1 request, 2 response) | header_len u16 BE | header JSON
           | sealed_len u32 BE | HPKE-sealed zlib(JSON payload) | Ed25519 signature (64 bytes)

The signature covers every byte before it; the header bytes are the sealing's associated data.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sync.crypto import sealing, signing
from sync.crypto.signing import SigningKey
from sync.errors import SyncError
from sync.protocol.keys import DeviceKeys, ServerKeys
from sync.protocol.messages import (
    ClientReport,
    Receipt,
    Rejection,
    RequestHeader,
    ResponseHeader,
    ServerCopy,
    SyncRequest,
    SyncResponse,
    TeamPhone,
    verify_receipt,
)
from sync.protocol.wire import (
    DEFAULT_PULL_LIMIT,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_OPS_PER_REQUEST,
    MAX_PAYLOAD_BYTES,
    MAX_PULL_LIMIT,
    REQUEST_INFO,
    RESPONSE_INFO,
    canonical_json,
    get_field,
    json_object,
    malformed,
    opt_str,
    parse_ops,
    str_list,
)

_MAGIC = b"LNLI"
_KIND_REQUEST = 1
_KIND_RESPONSE = 2
_PREFIX = struct.Struct(">4sBH")
_SEALED_LEN = struct.Struct(">I")

# Bounds on a REQUEST payload, checked while inflating, before any JSON is built. The phone sends
# at most ~1 MiB of JSON per batch (``sync.client.batching``); 32 MiB of ``[[],[],…]`` would parse
# into ~900 MB of Python lists, so the inflated size is capped at 4 MiB and containers (``[``,
# ``{``) and string quotes are counted with ``bytes.count`` (C speed) chunk by chunk. A legal op
# has about 5 containers and 40 quotes; the bounds keep the parsed payload under ~30 MB.
MAX_REQUEST_PAYLOAD_BYTES: Final = 4 * 1024 * 1024
MAX_REQUEST_CONTAINERS: Final = MAX_OPS_PER_REQUEST * 128
MAX_REQUEST_QUOTES: Final = MAX_OPS_PER_REQUEST * 64
_INFLATE_CHUNK = 256 * 1024
# A ``\uD800``-``\uDFFF`` escape: the only way valid UTF-8 JSON can carry a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True, slots=True)
class _Frame:
    header: bytes
    sealed: bytes
    signed: bytes
    sig: bytes


def _pack(kind: int, header: bytes, sealed: bytes, signer: SigningKey) -> bytes:
    unsigned = b"".join(
        (_PREFIX.pack(_MAGIC, kind, len(header)), header, _SEALED_LEN.pack(len(sealed)), sealed)
    )
    return unsigned + signer.sign(unsigned)


def _unpack(body: bytes, kind: int) -> _Frame:
    if len(body) > MAX_BODY_BYTES:
        raise SyncError("sync.too_large", limit=MAX_BODY_BYTES)
    tail = signing.SIGNATURE_BYTES
    if len(body) < _PREFIX.size + _SEALED_LEN.size + tail:
        raise malformed("frame too short")
    magic, got_kind, header_len = _PREFIX.unpack_from(body)
    if magic != _MAGIC or got_kind != kind:
        raise malformed("frame kind")
    pos = _PREFIX.size + header_len
    if header_len > MAX_HEADER_BYTES or pos + _SEALED_LEN.size > len(body) - tail:
        raise malformed("frame header")
    (sealed_len,) = _SEALED_LEN.unpack_from(body, pos)
    start = pos + _SEALED_LEN.size
    if start + sealed_len + tail != len(body):
        raise malformed("frame length")
    end = start + sealed_len
    return _Frame(
        bytes(body[_PREFIX.size : pos]),
        bytes(body[start:end]),
        bytes(body[:end]),
        bytes(body[end:]),
    )


def _deflate(payload: Mapping[str, Any]) -> bytes:
    return zlib.compress(canonical_json(payload), 6)


def _inflate(data: bytes) -> dict[str, Any]:
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, MAX_PAYLOAD_BYTES)
    except zlib.error as exc:
        raise malformed("compression") from exc
    if inflater.unconsumed_tail:
        raise SyncError("sync.too_large", limit=MAX_PAYLOAD_BYTES)
    if not inflater.eof or inflater.unused_data:
        raise malformed("compression")
    return json_object(raw, "payload")


def inflate_request(data: bytes) -> bytes:
    """Inflate a request payload chunk by chunk, refusing it (``sync.too_large``) as soon as it
    passes :data:`MAX_REQUEST_PAYLOAD_BYTES`, :data:`MAX_REQUEST_CONTAINERS` or
    :data:`MAX_REQUEST_QUOTES` — before it is all inflated and before any JSON is parsed."""
    inflater = zlib.decompressobj()
    out = bytearray()
    containers = quotes = 0
    pending = data
    try:
        while True:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
            containers += chunk.count(b"[") + chunk.count(b"{")
            quotes += chunk.count(b'"')
            if len(out) + len(chunk) > MAX_REQUEST_PAYLOAD_BYTES:
                raise SyncError("sync.too_large", limit=MAX_REQUEST_PAYLOAD_BYTES)
            if containers > MAX_REQUEST_CONTAINERS or quotes > MAX_REQUEST_QUOTES:
                raise SyncError("sync.too_large", limit=MAX_OPS_PER_REQUEST)
            out += chunk
            if not chunk and not pending:
                break
    except zlib.error as exc:
        raise malformed("compression") from exc
    if not inflater.eof or inflater.unused_data:
        raise malformed("compression")
    return bytes(out)


def strict_json(raw: bytes, what: str) -> Any:
    """Parse UTF-8 JSON whose every string is encodable text.

    Lone ``\\uD800``-style escapes (valid JSON, unencodable text) raise the coded
    ``sync.bad_text`` (400): such text can never be stored, so it is refused at the door instead
    of failing later on every resend. Invalid UTF-8 (encoded surrogates included, which
    ``json.loads`` of bytes would let through) and other malformed JSON raise ``sync.malformed``.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise malformed(what) from exc
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise malformed(what) from exc
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SyncError("sync.bad_text", field=what) from exc
    return obj


def seal_request(
    req: SyncRequest,
    device: DeviceKeys,
    server_signing_public: bytes,
    server_sealing_public: bytes,
) -> bytes:
    """The ``POST /v1/sync`` body for ``req``, sealed to the server and signed by the device."""
    signing.check_public(server_signing_public)
    header = req.header().to_bytes()
    payload: dict[str, Any] = {
        "ops": [op.to_dict() for op in req.ops],
        "cursor": req.cursor,
        "pull_limit": req.pull_limit,
        "priority": req.priority,
    }
    if req.client is not None:
        payload["client"] = req.client.to_dict()
    sealed = sealing.seal(server_sealing_public, _deflate(payload), REQUEST_INFO, header)
    return _pack(_KIND_REQUEST, header, sealed, device.signing)


def peek_header(body: bytes) -> RequestHeader:
    """The request header, UNVERIFIED: only to find which device's key to verify with."""
    return RequestHeader.from_bytes(_unpack(body, _KIND_REQUEST).header)


def open_request(body: bytes, server: ServerKeys, device_signing_public: bytes) -> SyncRequest:
    """Verify the device's signature, then open and parse a request. Raises coded SyncErrors."""
    frame = _unpack(body, _KIND_REQUEST)
    if not signing.verify(device_signing_public, frame.sig, frame.signed):
        raise SyncError("sync.bad_signature")
    header = RequestHeader.from_bytes(frame.header)
    payload = strict_json(
        inflate_request(server.sealing.open(frame.sealed, REQUEST_INFO, frame.header)), "payload"
    )
    if not isinstance(payload, dict):
        raise malformed("payload")
    ops = payload.get("ops")
    if isinstance(ops, list) and len(ops) > MAX_OPS_PER_REQUEST:
        raise SyncError("sync.too_large", limit=MAX_OPS_PER_REQUEST)
    pull_limit = payload.get("pull_limit", DEFAULT_PULL_LIMIT)
    if not isinstance(pull_limit, int) or isinstance(pull_limit, bool):
        raise malformed("pull_limit")
    if not isinstance(payload.get("priority", False), bool):
        raise malformed("priority")
    return SyncRequest(
        device_id=header.device,
        batch_id=header.batch,
        counter=header.counter,
        ops=parse_ops(ops, "ops"),
        cursor=opt_str(payload, "cursor"),
        pull_limit=max(0, min(pull_limit, MAX_PULL_LIMIT)),
        priority=payload.get("priority", False),
        sent_at=header.sent_at,
        client=ClientReport.from_dict(payload["client"]) if "client" in payload else None,
    )


def seal_response(resp: SyncResponse, server: ServerKeys, device_sealing_public: bytes) -> bytes:
    """The ``200`` reply body for ``resp``, sealed to the device and signed by the server."""
    header = ResponseHeader(resp.batch_id, resp.server_time).to_bytes()
    payload = {
        "batch": resp.batch_id,
        "acks": list(resp.acks),
        "rejected": [r.to_dict() for r in resp.rejected],
        "changes": [op.to_dict() for op in resp.changes],
        "cursor": resp.cursor,
        "more": resp.more,
        "receipt": resp.receipt.to_dict() if resp.receipt else None,
        "server_time": resp.server_time,
    }
    if resp.partial:
        payload["partial"] = [r.to_dict() for r in resp.partial]
    if resp.records:
        payload["records"] = [c.to_dict() for c in resp.records]
    if resp.wipe is not None:  # only when set: answers to other phones stay as they were
        payload["wipe"] = resp.wipe
    if resp.epoch is not None:
        payload["epoch"] = resp.epoch
    if resp.practice:  # only on a practice server: a live server's answers stay as they were
        payload["practice"] = True
    if resp.team is not None:
        payload["team"] = [p.to_dict() for p in resp.team]
    sealed = sealing.seal(device_sealing_public, _deflate(payload), RESPONSE_INFO, header)
    return _pack(_KIND_RESPONSE, header, sealed, server.signing)


def open_response(
    body: bytes, device: DeviceKeys, server_signing_public: bytes, expected_batch: str
) -> SyncResponse:
    """Verify the server's signature, check it answers ``expected_batch``, open and parse it."""
    frame = _unpack(body, _KIND_RESPONSE)
    if not signing.verify(server_signing_public, frame.sig, frame.signed):
        raise SyncError("sync.bad_signature")
    header = ResponseHeader.from_bytes(frame.header)
    if header.batch != expected_batch:
        raise SyncError("sync.stale_response")
    payload = _inflate(device.sealing.open(frame.sealed, RESPONSE_INFO, frame.header))
    if payload.get("batch") != expected_batch:
        raise SyncError("sync.stale_response")
    rejected = payload.get("rejected")
    if not isinstance(rejected, list) or not isinstance(payload.get("more"), bool):
        raise malformed("response")
    wipe = payload.get("wipe")
    if wipe is not None and (not isinstance(wipe, str) or not wipe):
        raise malformed("wipe")
    epoch = payload.get("epoch")
    if epoch is not None and (not isinstance(epoch, str) or not 0 < len(epoch) <= 64):
        raise malformed("epoch")
    practice = payload.get("practice", False)
    if not isinstance(practice, bool):
        raise malformed("practice")
    receipt = None
    if payload.get("receipt") is not None:
        receipt = Receipt.from_dict(payload["receipt"])
        if receipt.batch != expected_batch or not verify_receipt(receipt, server_signing_public):
            raise SyncError("sync.bad_signature")
    return SyncResponse(
        batch_id=expected_batch,
        acks=str_list(payload.get("acks"), "acks"),
        rejected=[Rejection.from_dict(r) for r in rejected],
        changes=parse_ops(payload.get("changes"), "changes"),
        cursor=opt_str(payload, "cursor"),
        more=payload["more"],
        receipt=receipt,
        server_time=get_field(payload, "server_time", int),
        partial=[Rejection.from_dict(r) for r in _list(payload, "partial")],
        records=[ServerCopy.from_dict(c) for c in _list(payload, "records")],
        wipe=wipe,
        epoch=epoch,
        practice=practice,
        team=[TeamPhone.from_dict(p) for p in _list(payload, "team")]
        if "team" in payload
        else None,
    )


def _list(payload: dict[str, Any], name: str) -> list[Any]:
    """An optional list of the payload (absent in answers of older servers)."""
    value = payload.get(name, [])
    if not isinstance(value, list):
        raise malformed(name)
    return value
