"""Request payloads are bounded while inflating (before any JSON is built), and text that can
never be stored is a coded ``sync.bad_text``."""

from __future__ import annotations

import json
import tracemalloc
import zlib

import pytest

from sync import protocol
from sync.errors import SyncError
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
