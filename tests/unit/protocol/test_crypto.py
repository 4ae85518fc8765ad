"""Ed25519 signing and HPKE sealing: round trips, key encodings, and refusal of anything altered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.crypto import sealing, signing
from sync.crypto.sealing import SealingKey
from sync.crypto.signing import SigningKey
from sync.errors import SyncError

INFO = b"linli test"
AAD = b'{"batch":"b1"}'

SEALER = SealingKey.generate()


def test_signature_round_trip_and_key_reload() -> None:
    key = SigningKey.generate()
    sig = key.sign(b"header+payload")
    assert signing.verify(key.public_bytes(), sig, b"header+payload")
    again = SigningKey.from_private_bytes(key.private_bytes())
    assert again.public_bytes() == key.public_bytes()
    assert signing.verify(again.public_bytes(), again.sign(b"x"), b"x")


def test_signature_refuses_other_data_other_key_and_junk() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    sig = key.sign(b"data")
    assert not signing.verify(key.public_bytes(), sig, b"datA")
    assert not signing.verify(other.public_bytes(), sig, b"data")
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert not signing.verify(key.public_bytes(), flipped, b"data")
    assert not signing.verify(key.public_bytes(), sig[:-1], b"data")
    assert not signing.verify(b"short", sig, b"data")


def test_bad_key_bytes_raise_coded_errors() -> None:
    with pytest.raises(SyncError) as err:
        SigningKey.from_private_bytes(b"\x01" * 31)
    assert err.value.code == "sync.bad_key"
    with pytest.raises(SyncError) as err:
        SealingKey.from_private_bytes(b"\x01" * 95)
    assert err.value.code == "sync.bad_key"
    with pytest.raises(SyncError) as err:
        sealing.seal(b"\x02" * 100, b"x", INFO, AAD)
    assert err.value.code == "sync.bad_key"
    with pytest.raises(SyncError):
        signing.check_public(b"\x00" * 5)


def test_seal_open_round_trip_and_reloaded_key() -> None:
    sealed = sealing.seal(SEALER.public_bytes(), "张秀英 13800000000".encode(), INFO, AAD)
    assert len(sealed) == len("张秀英 13800000000".encode()) + sealing.OVERHEAD
    assert SEALER.open(sealed, INFO, AAD) == "张秀英 13800000000".encode()
    reloaded = SealingKey.from_private_bytes(SEALER.private_bytes())
    assert reloaded.public_bytes() == SEALER.public_bytes()
    assert reloaded.open(sealed, INFO, AAD) == "张秀英 13800000000".encode()
    assert len(SEALER.public_bytes()) == sealing.PUBLIC_BYTES == 1216


def test_sealing_is_randomised() -> None:
    public = SEALER.public_bytes()
    assert sealing.seal(public, b"same", INFO, AAD) != sealing.seal(public, b"same", INFO, AAD)


@pytest.mark.parametrize(
    "change",
    ["flip_enc", "flip_ciphertext", "flip_tag", "truncate", "other_info", "other_aad", "other_key"],
)
def test_open_refuses_every_alteration_with_cannot_open(change: str) -> None:
    sealed = bytearray(sealing.seal(SEALER.public_bytes(), b"resident record", INFO, AAD))
    info, aad, key = INFO, AAD, SEALER
    if change == "flip_enc":
        sealed[10] ^= 1
    elif change == "flip_ciphertext":
        sealed[-20] ^= 1
    elif change == "flip_tag":
        sealed[-1] ^= 0x80
    elif change == "truncate":
        del sealed[-1]
    elif change == "other_info":
        info = b"linli other"
    elif change == "other_aad":
        aad = b'{"batch":"b2"}'
    else:
        key = SealingKey.generate()
    with pytest.raises(SyncError) as err:
        key.open(bytes(sealed), info, aad)
    assert err.value.code == "sync.cannot_open"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000))
def test_open_of_arbitrary_bytes_only_ever_raises_cannot_open(junk: bytes) -> None:
    with pytest.raises(SyncError) as err:
        SEALER.open(junk, INFO, AAD)
    assert err.value.code == "sync.cannot_open"
