"""Build sync frames byte by byte from the layout in docs/protocol.md, to forge hostile bodies."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from sync.crypto import sealing
from sync.crypto.signing import SigningKey
from sync.protocol import REQUEST_INFO, canonical_json

REQUEST, RESPONSE = 1, 2


@dataclass(frozen=True)
class Parts:
    kind: int
    header: bytes
    sealed: bytes
    sig: bytes


def split(body: bytes) -> Parts:
    """The documented frame fields of ``body`` (assumes it is well formed)."""
    assert body[:4] == b"LNLI"
    kind = body[4]
    (hlen,) = struct.unpack(">H", body[5:7])
    header = body[7 : 7 + hlen]
    (slen,) = struct.unpack(">I", body[7 + hlen : 11 + hlen])
    sealed = body[11 + hlen : 11 + hlen + slen]
    assert len(body) == 11 + hlen + slen + 64
    return Parts(kind, header, sealed, body[-64:])


def build(kind: int, header: bytes, sealed: bytes, signer: SigningKey) -> bytes:
    unsigned = (
        b"LNLI"
        + bytes([kind])
        + struct.pack(">H", len(header))
        + header
        + struct.pack(">I", len(sealed))
        + sealed
    )
    return unsigned + signer.sign(unsigned)


def request_header(device: str, batch: str, counter: int = 1, v: int = 1) -> bytes:
    return canonical_json(
        {"v": v, "device": device, "batch": batch, "counter": counter, "sent_at": 1}
    )


def forged_request(
    signer: SigningKey,
    server_sealing_public: bytes,
    payload_bytes: bytes,
    *,
    header: bytes | None = None,
    compress: bool = True,
) -> bytes:
    """A request frame whose (compressed) payload is exactly ``payload_bytes``."""
    header = header or request_header("dev-1", "b-forged")
    inner = zlib.compress(payload_bytes, 9) if compress else payload_bytes
    sealed = sealing.seal(server_sealing_public, inner, REQUEST_INFO, header)
    return build(REQUEST, header, sealed, signer)
