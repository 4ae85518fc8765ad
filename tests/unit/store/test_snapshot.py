from __future__ import annotations

import os
import pickle
import struct

import pytest

from app.store.snapshot import decode_snapshot, encode_snapshot, snapshot_aad
from sync.crypto import symmetric
from sync.crypto.symmetric import Aead
from sync.errors import StoreDamaged

STORE_ID = b"\x01" * 16


def sealed(aead: Aead, gen: int, *objects: object) -> bytes:
    body = b""
    for obj in objects:
        chunk = pickle.dumps(obj, protocol=5)
        body += struct.pack(">I", len(chunk)) + chunk
    return b"LLSNAP02" + aead.seal(body, snapshot_aad(STORE_ID, gen))


def test_round_trip_in_chunks() -> None:
    aead = Aead(symmetric.random_key())
    state = {
        "household": {
            f"hh-{i}": {"id": f"hh-{i}", "room": str(i), "tags": [i]} for i in range(1203)
        },
        "meta": {},
    }
    blob = encode_snapshot(aead, STORE_ID, 7, state)
    assert decode_snapshot(blob, aead, STORE_ID, 7, "snapshot-7.bin") == state
    with pytest.raises(StoreDamaged):
        decode_snapshot(blob, aead, STORE_ID, 8, "snapshot-8.bin")  # another generation


def test_a_chunk_that_names_code_is_refused_even_when_authentic() -> None:
    aead = Aead(symmetric.random_key())
    ok = sealed(aead, 1, {"v": 2}, ("meta", {}))
    assert decode_snapshot(ok, aead, STORE_ID, 1, "s") == {"meta": {}}
    evil = sealed(aead, 1, {"v": 2}, ("meta", {"k": {"v": os.getcwd}}))
    with pytest.raises(StoreDamaged):
        decode_snapshot(evil, aead, STORE_ID, 1, "s")


@pytest.mark.parametrize(
    "objects",
    [
        ({"v": 99},),
        ({"v": 2}, ["meta", {}, 1]),
        ({"v": 2}, (1, {})),
        ({"v": 2}, ("meta", [])),
    ],
)
def test_malformed_contents_are_damage(objects: tuple[object, ...]) -> None:
    aead = Aead(symmetric.random_key())
    with pytest.raises(StoreDamaged):
        decode_snapshot(sealed(aead, 1, *objects), aead, STORE_ID, 1, "s")


def test_cut_chunk_is_damage() -> None:
    aead = Aead(symmetric.random_key())
    chunk = pickle.dumps({"v": 2}, protocol=5)
    body = struct.pack(">I", len(chunk) + 10) + chunk
    blob = b"LLSNAP02" + aead.seal(body, snapshot_aad(STORE_ID, 1))
    with pytest.raises(StoreDamaged):
        decode_snapshot(blob, aead, STORE_ID, 1, "s")
