"""The phone's encrypted, crash-safe local store (the only package that imports TinyDB).

``LocalStore.create(dir, pin)`` / ``LocalStore.open(dir, pin)``; see ``docs/store.md``.
``unlock_kdf_ms()`` times one PIN key derivation with today's parameters (``bench app``).
"""

from app.store.keyfile import unlock_kdf_ms
from app.store.local import CURSOR_KEY, LocalStore
from app.store.tables import KINDS

__all__ = ["CURSOR_KEY", "KINDS", "LocalStore", "unlock_kdf_ms"]
