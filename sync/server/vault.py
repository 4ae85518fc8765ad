"""At-rest encryption of everything in the database that may hold resident data.

Op bodies, merged record bodies, stored batch answers, member names on enrollment codes and device
labels are AES-256-GCM blobs under the server's data key (``server-keys.json``). Each blob is bound
to its row by its associated data (``b"op:" + op_id`` …) so a blob copied into another row does not
open. Ids, kinds, sequence numbers and scope keys stay in plaintext: they are what the server
queries by and name no one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sync.crypto.symmetric import OVERHEAD, Aead, AuthenticationFailed
from sync.errors import StoreDamaged


class Vault:
    """Seal/open JSON values under the data key. One per process (it caches the cipher)."""

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, data_key: bytes) -> None:
        self._aead = Aead(data_key)
        self._mac_key = hmac.new(data_key, b"linli tag key v1", hashlib.sha256).digest()

    def tag(self, text: str) -> str:
        """A short MAC of ``text`` under a key derived from the data key (to recognise values
        this server handed out, such as pull cursors)."""
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()[:24]

    def tagged(self, text: str, tag: str) -> bool:
        return hmac.compare_digest(self.tag(text), tag)

    def seal(self, value: Any, aad: str) -> bytes:
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return self._aead.seal(raw, aad.encode())

    @staticmethod
    def plain_size(blob: bytes) -> int:
        """The bytes of the JSON sealed in ``blob`` (known without opening it)."""
        return len(blob) - OVERHEAD

    def open(self, blob: bytes, aad: str) -> Any:
        try:
            raw = self._aead.open(blob, aad.encode())
        except AuthenticationFailed as exc:
            raise StoreDamaged("server.damaged", what=aad.partition(":")[0]) from exc
        return json.loads(raw)
