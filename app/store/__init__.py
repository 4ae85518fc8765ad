"""The phone's encrypted, crash-safe local store (the only package that imports TinyDB).

``LocalStore.create(dir, pin)`` / ``LocalStore.open(dir, pin)``; see ``docs/store.md``.
"""

from app.store.local import CURSOR_KEY, LocalStore
from app.store.tables import KINDS

__all__ = ["CURSOR_KEY", "KINDS", "LocalStore"]
