"""Request payloads are bounded while inflating (before any JSON is built), and text that can
never be stored is a coded ``sync.bad_text``."""

from __future__ import annotations

import json
import random
import tracemalloc
import zlib

import pytest

from sync import hlc, protocol
from sync.errors import SyncError
from sync.ops import Op
from sync.protocol import DeviceKeys, ServerKeys, canonical_json
from sync.protocol.envelope import (
    MAX_REQUEST_CONTAINERS,
    MAX_REQUEST_PAYLOAD_BYTES,
    MAX_REQUEST_QUOTES,
    inflate_request,
    strict_json,
)

from .frames import forged_request
from .sample_ops import shift_ops

SERVER = ServerKeys.generate()
DEVICE = DeviceKeys.generate()
SRV_SEAL = SERVER.sealing.public_bytes()
DEV_SIGN = DEVICE.signing.public_bytes()


def _open(payload: bytes, *, level: int = 9) -> protocol.SyncRequest:
    body = forged_request(DEVICE.signing, SRV_SEAL, zlib.compress(payload, level), compress=False)
    return protocol.open_request(body, SERVER, DEV_SIGN)


def test_an_object_bomb_is_refused_early_in_little_memory() -> None:
    bomb = b'{"ops":[' + b"[]," * (11 * 1024 * 1024) + b"[]]}"  # 33 MiB of empty arrays
    tracemalloc.start()
    with pytest.raises(SyncError) as err:
        _open(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert err.value.code == "sync.too_large"
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize(
    "payload",
    [
        b'{"ops":[],"x":"' + b"a" * (MAX_REQUEST_PAYLOAD_BYTES + 1) + b'"}',
        b'{"ops":[],"x":[' + b"{}," * MAX_REQUEST_CONTAINERS + b"{}]}",
        b'{"ops":[],"x":[' + b'"",' * (MAX_REQUEST_QUOTES // 2) + b'""]}',
    ],
    ids=["inflated-size", "containers", "strings"],
)
def test_each_bound_is_a_too_large_refusal(payload: bytes) -> None:
    with pytest.raises(SyncError) as err:
        _open(payload)
    assert err.value.code == "sync.too_large"


def test_a_legal_batch_far_over_what_the_phone_sends_still_opens() -> None:
    ops = shift_ops(2000)
    payload = canonical_json(
        {"ops": [o.to_dict() for o in ops], "cursor": None, "pull_limit": 10, "priority": False}
    )
    assert len(inflate_request(zlib.compress(payload))) == len(payload)
    assert len(_open(payload).ops) == 2000


@pytest.mark.parametrize(
    "text", ["\ud800", "a\udfffb", "\udc00\ud800", "\ud83d"], ids=["high", "low", "swapped", "cut"]
)
def test_lone_surrogates_are_bad_text(text: str) -> None:
    raw = json.dumps({"ops": [], "note": text}).encode("ascii")
    with pytest.raises(SyncError) as err:
        strict_json(raw, "payload")
    assert err.value.code == "sync.bad_text"
    with pytest.raises(SyncError) as err:
        _open(raw)
    assert err.value.code == "sync.bad_text"


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (b'{"n":"\\ud83d\\ude00"}', {"n": "😀"}),  # a proper pair is one character
        (b'{"n":"\\\\ud800"}', {"n": "\\ud800"}),  # an escaped backslash, not a surrogate
        ('{"n":"张秀英"}'.encode(), {"n": "张秀英"}),
    ],
)
def test_storable_text_is_kept(raw: bytes, want: dict[str, str]) -> None:
    assert strict_json(raw, "payload") == want


def test_encoded_surrogates_are_malformed_utf8() -> None:
    with pytest.raises(SyncError) as err:
        strict_json(b'{"n":"\xed\xa0\x80"}', "payload")
    assert err.value.code == "sync.malformed"


def test_a_full_pull_page_that_hardly_compresses_still_fits_one_answer() -> None:
    """``MAX_PULL_BYTES`` of op JSON (random text: zlib gains little), plus the acks and
    rejections of a full batch, seal under ``MAX_BODY_BYTES`` and open again."""
    rng = random.Random(11)
    changes: list[Op] = []
    size = 0
    while True:
        text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(600))
        op = Op(
            f"op-{len(changes):08d}",
            "household",
            "hh-1",
            hlc.encode(1, 0),
            "d",
            "m",
            set={"note": text},
        )
        grown = size + len(canonical_json(op.to_dict())) + 1
        if grown > protocol.MAX_PULL_BYTES:
            break
        changes.append(op)
        size = grown
    acks = [f"op-ack-{i:024d}" for i in range(protocol.MAX_OPS_PER_REQUEST // 2)]
    rejected = [
        protocol.Rejection(f"op-rej-{i:024d}", "op.forbidden_role", {"role": "volunteer"})
        for i in range(protocol.MAX_OPS_PER_REQUEST // 2)
    ]
    receipt = protocol.make_receipt("b-1", "dev-1", acks, 1_700_000_000_000, SERVER)
    resp = protocol.SyncResponse("b-1", acks, rejected, changes, "e.1", True, receipt, 1)
    body = protocol.seal_response(resp, SERVER, DEVICE.sealing.public_bytes())
    assert len(body) < protocol.MAX_BODY_BYTES
    opened = protocol.open_response(body, DEVICE, SERVER.signing.public_bytes(), "b-1")
    assert opened.changes == changes
