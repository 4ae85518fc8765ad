"""Change notification shared by services and view-models (no UI library involved)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Observable:
    """A tiny, thread-safe subscriber list. Views subscribe; view-models call :meth:`changed`."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[], None]] = []
        self._sub_lock = threading.Lock()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        with self._sub_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def changed(self) -> None:
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            # One broken subscriber (a screen torn down mid-update) must not stop the others,
            # nor the thread that announced the change — the background sync among them.
            try:
                callback()
            except Exception:
                log.exception("a change subscriber failed")
