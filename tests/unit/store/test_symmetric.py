from __future__ import annotations

import pytest

from sync.crypto import symmetric
from sync.crypto.symmetric import Aead, AuthenticationFailed, ScryptParams


def test_seal_open_round_trip_and_random_nonces() -> None:
    aead = Aead(symmetric.random_key())
    one = aead.seal("观海轩 3栋".encode(), b"aad")
    two = aead.seal("观海轩 3栋".encode(), b"aad")
    assert one != two  # fresh nonce each time
    assert len(one) == len("观海轩 3栋".encode()) + symmetric.OVERHEAD
    assert aead.open(one, b"aad").decode() == "观海轩 3栋"


@pytest.mark.parametrize("where", ["aad", "byte", "key", "short"])
def test_tampering_fails_authentication(where: str) -> None:
    key = symmetric.random_key()
    blob = Aead(key).seal(b"13912345678", b"frame-1")
    aad, opener = b"frame-1", Aead(key)
    if where == "aad":
        aad = b"frame-2"
    elif where == "byte":
        blob = blob[:15] + bytes([blob[15] ^ 1]) + blob[16:]
    elif where == "key":
        opener = Aead(symmetric.random_key())
    else:
        blob = blob[:10]
    with pytest.raises(AuthenticationFailed):
        opener.open(blob, aad)


def test_key_wrapping_needs_the_same_pin_and_salt() -> None:
    params = ScryptParams(n=2**10, r=8, p=1)
    salt = symmetric.new_salt()
    data_key = symmetric.random_key()
    kek = symmetric.derive_key("246810", salt, params)
    wrapped = symmetric.wrap_key(kek, data_key, b"store")
    again = symmetric.derive_key("246810", salt, params)
    assert symmetric.unwrap_key(again, wrapped, b"store") == data_key
    with pytest.raises(AuthenticationFailed):
        symmetric.unwrap_key(symmetric.derive_key("246811", salt, params), wrapped, b"store")
    with pytest.raises(AuthenticationFailed):
        other_salt = symmetric.new_salt()
        symmetric.unwrap_key(symmetric.derive_key("246810", other_salt, params), wrapped, b"store")


def test_pin_is_normalised_before_derivation() -> None:
    params = ScryptParams(n=2**10, r=8, p=1)
    salt = b"s" * 16
    composed, decomposed = "\u00e9", "e\u0301"
    assert symmetric.derive_key(composed, salt, params) == symmetric.derive_key(
        decomposed, salt, params
    )


@pytest.mark.parametrize(
    "raw", [{"n": 3, "r": 8, "p": 1}, {"n": 2**15, "r": 0, "p": 1}, {"n": 2**15}, [], {"n": True}]
)
def test_bad_scrypt_params_are_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        ScryptParams.from_dict(raw)


def test_default_params_round_trip() -> None:
    assert ScryptParams.from_dict(symmetric.DEFAULT_SCRYPT.to_dict()) == symmetric.DEFAULT_SCRYPT
    assert symmetric.DEFAULT_SCRYPT.n >= 2**15
