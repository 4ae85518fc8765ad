"""Key pairs of a device and of the server, with their storage and public encodings."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from sync.crypto.sealing import SealingKey
from sync.crypto.signing import SigningKey
from sync.protocol.wire import b64d, b64e


@dataclass(frozen=True, slots=True)
class KeyPair:
    signing: SigningKey
    sealing: SealingKey

    @classmethod
    def generate(cls) -> Self:
        return cls(SigningKey.generate(), SealingKey.generate())

    def public_bundle(self) -> dict[str, str]:
        """The public halves, base64url: ``{"signing_public", "sealing_public"}``."""
        return {
            "signing_public": b64e(self.signing.public_bytes()),
            "sealing_public": b64e(self.sealing.public_bytes()),
        }

    def to_dict(self) -> dict[str, str]:
        """The PRIVATE keys, base64url, for encrypted storage only."""
        return {
            "signing": b64e(self.signing.private_bytes()),
            "sealing": b64e(self.sealing.private_bytes()),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        """Load keys saved with :meth:`to_dict`; bad input raises ``sync.malformed``/``sync.bad_key``."""
        return cls(
            SigningKey.from_private_bytes(b64d(raw.get("signing"), "signing key")),
            SealingKey.from_private_bytes(b64d(raw.get("sealing"), "sealing key")),
        )


@dataclass(frozen=True, slots=True)
class DeviceKeys(KeyPair):
    """A device's own key pairs (the device signs requests; responses are sealed to it)."""


@dataclass(frozen=True, slots=True)
class ServerKeys(KeyPair):
    """The server's key pairs (requests are sealed to it; it signs responses, receipts, problems)."""


#: hex digits of a server key fingerprint (128 bits)
FINGERPRINT_HEX = 32


def server_fingerprint(signing_public: bytes, sealing_public: bytes) -> str:
    """The server's key fingerprint, as printed in enrollment QR codes (``fp=``): the first
    128 bits of ``SHA-256("linli server keys v1\n" ‖ signing public ‖ sealing public)``, lower-case
    hex. A phone compares it with the keys the enrollment answer carries."""
    digest = hashlib.sha256(b"linli server keys v1\n" + signing_public + sealing_public)
    return digest.hexdigest()[:FINGERPRINT_HEX]


def fingerprint_of(keys: KeyPair) -> str:
    """:func:`server_fingerprint` of a key pair's public halves."""
    return server_fingerprint(keys.signing.public_bytes(), keys.sealing.public_bytes())


def signer_of(keys: KeyPair | SigningKey) -> SigningKey:
    return keys if isinstance(keys, SigningKey) else keys.signing
