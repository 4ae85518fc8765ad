"""Hostile and broken requests: each refused with a signed, coded 4xx and no state change."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from sync import protocol
from sync.crypto import sealing
from sync.protocol import canonical_json
from tests.integration.server.conftest import Backend, Phone, ServerProcess, enrolled, phone_op
from tests.integration.server.world import World

PREFIX = struct.Struct(">4sBH")


def frame(header: bytes, sealed: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    unsigned = (
        PREFIX.pack(b"LNLI", 1, len(header)) + header + struct.pack(">I", len(sealed)) + sealed
    )
    return unsigned + sign(unsigned)


def split(body: bytes) -> tuple[bytes, bytes]:
    """(header, sealed) of a request frame."""
    _, _, hlen = PREFIX.unpack_from(body)
    header = body[7 : 7 + hlen]
    (slen,) = struct.unpack_from(">I", body, 7 + hlen)
    return header, body[11 + hlen : 11 + hlen + slen]


@pytest.fixture
def pair(backend: Backend, server: ServerProcess) -> Iterator[tuple[Phone, Phone, World]]:
    world, (a, b) = enrolled(backend, server.url, "volunteer_a", "volunteer_b")
    a.pull_all()
    b.pull_all()
    yield a, b, world


def test_every_bad_request_is_refused_coded_and_changes_nothing(
    backend: Backend, pair: tuple[Phone, Phone, World]
) -> None:
    a, b, w = pair
    op = phone_op(a, "assignment", w.assignment_a, set={"status": "in_progress"})
    req = a.request([op])
    body = a.seal(req)
    header, sealed = split(body)
    flipped = bytearray(body)
    flipped[len(body) - 64 - 100] ^= 0x01  # a byte inside the sealed payload
    resealed_by_a = frame(header, bytes(flipped[11 + len(header) : -64]), a.keys.signing.sign)
    b_header = protocol.RequestHeader(b.device_id, req.batch_id, 999, req.header().sent_at)
    stolen_payload = frame(b_header.to_bytes(), sealed, b.keys.signing.sign)
    v2_header = canonical_json(
        {"v": 2, "device": a.device_id, "batch": "b-v2", "counter": 5000, "sent_at": 1}
    )
    v2 = frame(
        v2_header,
        sealing.seal(a.server_sealing, zlib.compress(b"{}"), protocol.REQUEST_INFO, v2_header),
        a.keys.signing.sign,
    )
    v0_header = canonical_json(
        {"v": 0, "device": a.device_id, "batch": "b-v0", "counter": 5001, "sent_at": 1}
    )
    v0 = frame(
        v0_header,
        sealing.seal(a.server_sealing, zlib.compress(b"{}"), protocol.REQUEST_INFO, v0_header),
        a.keys.signing.sign,
    )
    stranger = Phone(
        a.url,
        device_id="dv-stranger",
        server_signing=a.server_signing,
        server_sealing=a.server_sealing,
    )
    bomb_payload = zlib.compress(b"[" * (40 * 1024 * 1024), 9)
    bomb_header = canonical_json(
        {"v": 1, "device": a.device_id, "batch": "b-bomb", "counter": 10**12, "sent_at": 1}
    )
    bomb = frame(
        bomb_header,
        sealing.seal(a.server_sealing, bomb_payload, protocol.REQUEST_INFO, bomb_header),
        a.keys.signing.sign,
    )

    def crafted(**fields: object) -> bytes:
        head = canonical_json(
            {"v": 1, "device": a.device_id, "batch": "b-x", "counter": 7, "sent_at": 1, **fields}
        )
        payload = zlib.compress(canonical_json({"ops": [], "cursor": None}))
        return frame(
            head,
            sealing.seal(a.server_sealing, payload, protocol.REQUEST_INFO, head),
            a.keys.signing.sign,
        )

    cases: list[tuple[str, bytes, int, str]] = [
        ("NUL in the device id", crafted(device="dv\x00x"), 400, "sync.malformed"),
        ("NUL in the batch id", crafted(batch="b\x00x"), 400, "sync.malformed"),
        ("counter beyond 64 bits", crafted(counter=2**70), 400, "sync.malformed"),
        ("flipped ciphertext byte", bytes(flipped), 401, "sync.bad_signature"),
        ("flipped and re-signed", resealed_by_a, 400, "sync.cannot_open"),
        ("bad signature", body[:-64] + bytes(64), 401, "sync.bad_signature"),
        (
            "signed by another device",
            body[:-64] + b.keys.signing.sign(body[:-64]),
            401,
            "sync.bad_signature",
        ),
        ("payload replayed under another device", stolen_payload, 400, "sync.cannot_open"),
        ("unknown device", stranger.seal(stranger.request()), 401, "sync.unknown_device"),
        ("protocol version 2", v2, 400, "sync.bad_version"),
        ("an app older than the oldest protocol", v0, 426, "sync.app_too_old"),
        ("malformed", b"LNLI\x01garbage", 400, "sync.malformed"),
        ("empty", b"", 400, "sync.malformed"),
        ("not a frame", canonical_json({"ops": []}), 400, "sync.malformed"),
        ("decompression bomb", bomb, 413, "sync.too_large"),
    ]
    before = backend.fingerprint()
    for name, bad, status, code in cases:
        r = a.post(bad)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert a.problem(r).code == code, name
        assert backend.fingerprint() == before, name
    # the genuine request still goes through afterwards
    assert a.send(req).acks == [op.op_id]


def test_replays_and_stale_counters(backend: Backend, pair: tuple[Phone, Phone, World]) -> None:
    a, b, w = pair
    first = a.request([phone_op(a, "assignment", w.assignment_a, set={"status": "in_progress"})])
    a.send(first)
    before = backend.fingerprint()
    # another device claiming a's batch id
    r = b.post(b.seal(b.request(batch=first.batch_id)))
    assert (r.status_code, b.problem(r).code) == (409, "sync.replay")
    # a new batch that does not advance the counter
    r = a.post(a.seal(a.request(counter=first.counter)))
    assert (r.status_code, a.problem(r).code) == (409, "sync.replay")
    assert backend.fingerprint()["ops"] == before["ops"]
    assert backend.fingerprint()["batches"] == before["batches"]


def test_oversized_bodies_are_refused_before_reading(pair: tuple[Phone, Phone, World]) -> None:
    a, _, _ = pair
    big = b"\0" * (protocol.MAX_BODY_BYTES + 1)
    r = a.post(big)
    assert (r.status_code, a.problem(r).code) == (413, "sync.too_large")

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"\0" * (1024 * 1024)

    r = httpx.post(f"{a.url}/v1/sync", content=chunks(), timeout=60)
    assert (r.status_code, a.problem(r).code) == (413, "sync.too_large")
    r = httpx.post(f"{a.url}/v1/enroll", content=b"{" * (200 * 1024), timeout=60)
    assert (r.status_code, a.problem(r).code) == (413, "sync.too_large")
