"""Ed25519 signatures: device and server identities.

Keys travel as raw bytes (32-byte private seed, 32-byte public key); callers base64url them for
JSON. Every signed message in the protocol is prefixed by its own context string by the caller
(see :mod:`sync.protocol`), so a signature made for one purpose never verifies for another.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.errors import SyncError

PUBLIC_BYTES = 32
PRIVATE_BYTES = 32
SIGNATURE_BYTES = 64


class SigningKey:
    """An Ed25519 private key. Immutable and safe to share between threads."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._public = key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> SigningKey:
        """Load a key saved with :meth:`private_bytes`; bad input raises ``sync.bad_key``."""
        if len(data) != PRIVATE_BYTES:
            raise SyncError("sync.bad_key", what="signing private")
        return cls(Ed25519PrivateKey.from_private_bytes(data))

    def private_bytes(self) -> bytes:
        return self._key.private_bytes_raw()

    def public_bytes(self) -> bytes:
        return self._public

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(public={self._public.hex()[:16]}…)"


def check_public(public: bytes) -> bytes:
    """``public`` if it is a usable Ed25519 public key, else ``SyncError("sync.bad_key")``."""
    if not isinstance(public, bytes) or len(public) != PUBLIC_BYTES:
        raise SyncError("sync.bad_key", what="signing public")
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise SyncError("sync.bad_key", what="signing public") from exc
    return public


def verify(public: bytes, sig: bytes, data: bytes) -> bool:
    """True only if ``sig`` is a valid Ed25519 signature of ``data`` by ``public``. Never raises."""
    if len(public) != PUBLIC_BYTES or len(sig) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, data)
    except (InvalidSignature, ValueError):
        return False
    return True
