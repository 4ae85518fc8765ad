"""Sealing to a public key: RFC 9180 HPKE, base mode, single shot.

Suite: KEM ML-KEM-768 + X25519 (post-quantum hybrid), KDF HKDF-SHA256, AEAD ChaCha20-Poly1305.
A sealed message is ``enc (1120 bytes) || ciphertext || tag (16 bytes)``: 1,136 bytes of overhead.

Key encodings (raw bytes; base64url them for JSON):

- public  = ML-KEM-768 encapsulation key (1184 bytes) || X25519 public key (32 bytes) = 1216 bytes
- private = ML-KEM-768 seed (64 bytes) || X25519 private key (32 bytes) = 96 bytes

Associated data. The installed ``cryptography`` exposes single-shot HPKE without an ``aad``
argument, so the associated data is bound through the HPKE ``info`` instead: the effective info is
``info || 0x00 || SHA-256(aad)``. The info enters the HPKE key schedule, so a different ``aad``
yields a different key and opening fails exactly as an AEAD aad mismatch would. Any RFC 9180
library reproduces this with its plain ``info`` parameter (55 bytes for the protocol's infos).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from sync.errors import SyncError

SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_MLKEM_PUBLIC = 1184
_MLKEM_SEED = 64
_X25519 = 32
PUBLIC_BYTES = _MLKEM_PUBLIC + _X25519
PRIVATE_BYTES = _MLKEM_SEED + _X25519
TAG_BYTES = 16
OVERHEAD = hpke.KEM.MLKEM768_X25519.enc_length() + TAG_BYTES


def bound_info(info: bytes, aad: bytes) -> bytes:
    """The HPKE ``info`` actually used: ``info || 0x00 || SHA-256(aad)``."""
    return info + b"\x00" + hashlib.sha256(aad).digest()


@lru_cache(maxsize=4096)
def _public_key(public: bytes) -> hpke.MLKEM768X25519PublicKey:
    if len(public) != PUBLIC_BYTES:
        raise SyncError("sync.bad_key", what="sealing public")
    try:
        return hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC]),
            x25519.X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC:]),
        )
    except ValueError as exc:
        raise SyncError("sync.bad_key", what="sealing public") from exc


def check_public(public: bytes) -> bytes:
    """``public`` if it is a usable sealing public key, else ``SyncError("sync.bad_key")``."""
    if not isinstance(public, bytes):
        raise SyncError("sync.bad_key", what="sealing public")
    _public_key(public)
    return public


def seal(public: bytes, plaintext: bytes, info: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` so only the holder of the private key for ``public`` can read it."""
    return SUITE.encrypt(plaintext, _public_key(public), info=bound_info(info, aad))


class SealingKey:
    """An HPKE private key (ML-KEM-768 + X25519). Immutable and safe to share between threads."""

    __slots__ = ("_key", "_private", "_public")

    def __init__(self, mlkem_key: mlkem.MLKEM768PrivateKey, x_key: x25519.X25519PrivateKey) -> None:
        self._key = hpke.MLKEM768X25519PrivateKey(mlkem_key, x_key)
        self._private = mlkem_key.private_bytes_raw() + x_key.private_bytes_raw()
        self._public = (
            mlkem_key.public_key().public_bytes_raw() + x_key.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> SealingKey:
        return cls(mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> SealingKey:
        """Load a key saved with :meth:`private_bytes`; bad input raises ``sync.bad_key``."""
        if len(data) != PRIVATE_BYTES:
            raise SyncError("sync.bad_key", what="sealing private")
        try:
            return cls(
                mlkem.MLKEM768PrivateKey.from_seed_bytes(data[:_MLKEM_SEED]),
                x25519.X25519PrivateKey.from_private_bytes(data[_MLKEM_SEED:]),
            )
        except ValueError as exc:
            raise SyncError("sync.bad_key", what="sealing private") from exc

    def private_bytes(self) -> bytes:
        return self._private

    def public_bytes(self) -> bytes:
        return self._public

    def open(self, sealed: bytes, info: bytes, aad: bytes) -> bytes:
        """Decrypt a message sealed to this key; any failure raises ``sync.cannot_open``."""
        try:
            return SUITE.decrypt(sealed, self._key, info=bound_info(info, aad))
        except (InvalidTag, ValueError) as exc:
            raise SyncError("sync.cannot_open") from exc

    def __repr__(self) -> str:
        return f"SealingKey(public={hashlib.sha256(self._public).hexdigest()[:16]}…)"
