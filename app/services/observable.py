"""Change notification shared by services and view-models (no UI library involved).

Changes are announced from whichever thread made them — a tap's handler, the background sync,
the idle-lock timer. Screens must only be changed from the UI's own thread (Flet 1.0 tracks
changed control properties in an unguarded ``_dirty`` dict: a property set by another thread
while the UI thread computes a patch is cleared unsent, and the screen keeps the old value). So
the UI installs :attr:`Observable.deliver`, which hands every notification to its event loop;
without it (tests, tools) subscribers are called at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import ClassVar

log = logging.getLogger(__name__)

Call = Callable[[], None]


class Observable:
    """A tiny, thread-safe subscriber list. Views subscribe; view-models call :meth:`changed`."""

    #: How a notification reaches the subscribers; ``None``: at once, in the announcing thread.
    deliver: ClassVar[Callable[[Call], None] | None] = None

    def __init__(self) -> None:
        self._subscribers: list[Call] = []
        self._sub_lock = threading.Lock()

    def subscribe(self, callback: Call) -> Call:
        with self._sub_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def changed(self) -> None:
        deliver = Observable.deliver
        if deliver is None:
            self._notify()
        else:
            deliver(self._notify)

    def _notify(self) -> None:
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            # One broken subscriber (a screen torn down mid-update) must not stop the others,
            # nor the thread that announced the change — the background sync among them.
            try:
                callback()
            except Exception:
                log.exception("a change subscriber failed")
