"""Symmetric primitives: AES-256-GCM AEAD, scrypt PIN key derivation, HKDF-Expand, random keys,
key wrapping.

- A sealed blob is ``nonce (12 random bytes) || ciphertext || tag (16 bytes)``: 28 bytes of
  overhead. Nonces are random, never derived from counters, so a frame rewritten after a crash
  (same position, new content) can never reuse a nonce under the same key.
- ``aad`` (associated data) is authenticated but not encrypted; callers bind each blob to where it
  belongs (store id, generation, frame number) so a blob cannot be moved, replayed or reordered.
- A PIN becomes a key-encryption key with scrypt (``n=2**15, r=8, p=1`` ≈ 80 ms here, 32 MiB).
  The PIN only wraps a random 256-bit data key, so changing the PIN re-wraps 32 bytes and never
  touches the data.

Failures to authenticate raise :class:`AuthenticationFailed`; callers map it to the person-facing
error that fits (a wrong PIN, a damaged file) at their own boundary.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = NONCE_BYTES + TAG_BYTES
SALT_BYTES = 16


def hkdf_expand(prk: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-Expand-SHA256 (RFC 5869 §2.3) of a pseudorandom key ``prk`` for ``info``."""
    return HKDFExpand(algorithm=SHA256(), length=length, info=info).derive(prk)


class AuthenticationFailed(ValueError):
    """A blob did not authenticate: wrong key, wrong associated data, or altered bytes."""


@dataclass(frozen=True, slots=True)
class ScryptParams:
    n: int = 2**15
    r: int = 8
    p: int = 1

    def to_dict(self) -> dict[str, int]:
        return {"n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_dict(cls, raw: object) -> ScryptParams:
        """Parse stored parameters; ``ValueError`` if they are missing or out of sane bounds."""
        if not isinstance(raw, dict):
            raise ValueError("scrypt parameters must be an object")
        n, r, p = raw.get("n"), raw.get("r"), raw.get("p")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p)):
            raise ValueError("scrypt parameters must be integers")
        assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
        if n < 2**10 or n > 2**22 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range")
        return cls(n=n, r=r, p=p)


DEFAULT_SCRYPT = ScryptParams()


def random_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def derive_key(secret: str, salt: bytes, params: ScryptParams = DEFAULT_SCRYPT) -> bytes:
    """A 256-bit key from a PIN or passphrase (NFC-normalised UTF-8) with scrypt."""
    material = unicodedata.normalize("NFC", secret).encode("utf-8")
    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=params.n, r=params.r, p=params.p)
    return kdf.derive(material)


class Aead:
    """AES-256-GCM with a random nonce per message. Keep one per key: it caches the cipher."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        self._cipher = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes | memoryview, aad: bytes) -> bytes:
        if len(blob) < OVERHEAD:
            raise AuthenticationFailed("blob shorter than nonce and tag")
        view = memoryview(blob)
        try:
            return self._cipher.decrypt(bytes(view[:NONCE_BYTES]), view[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise AuthenticationFailed("blob failed authentication") from exc


def wrap_key(kek: bytes, key: bytes, aad: bytes) -> bytes:
    """``key`` encrypted and authenticated under the key-encryption key ``kek``."""
    return Aead(kek).seal(key, aad)


def unwrap_key(kek: bytes, wrapped: bytes, aad: bytes) -> bytes:
    """The key inside ``wrapped``; :class:`AuthenticationFailed` for a wrong ``kek`` or ``aad``."""
    key = Aead(kek).open(wrapped, aad)
    if len(key) != KEY_BYTES:
        raise AuthenticationFailed("wrapped key has the wrong length")
    return key
