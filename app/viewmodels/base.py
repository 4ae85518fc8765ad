"""The pieces every view-model shares: change notification and the navigator port."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from app.i18n import language
from sync import i18n
from sync.errors import LinliError


class Navigator(Protocol):
    """What a view-model may ask of the screen: go somewhere, go back, tell the person something."""

    def go(self, route: str) -> None: ...

    def back(self) -> None: ...

    def notify(self, message: str, *, error: bool = False) -> None: ...


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
            callback()


def error_text(exc: BaseException, **_: Any) -> str:
    """What to show a person for an error: the catalog text of a coded error, else a generic one."""
    if isinstance(exc, LinliError):
        return exc.describe(language())
    return i18n.t("error.internal", language())
