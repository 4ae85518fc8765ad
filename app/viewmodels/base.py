"""The pieces every view-model shares: change notification and the navigator port."""

from __future__ import annotations

from typing import Any, Protocol

from app.i18n import language
from app.services.observable import Observable
from sync import i18n
from sync.errors import LinliError

__all__ = ["Navigator", "Observable", "error_text"]


class Navigator(Protocol):
    """What a view-model may ask of the screen: go somewhere, go back, tell the person something."""

    def go(self, route: str) -> None: ...

    def back(self) -> None: ...

    def notify(self, message: str, *, error: bool = False) -> None: ...

    def refresh(self) -> None:
        """Rebuild the screens on the stack (after the language changed)."""
        ...


def error_text(exc: BaseException, **_: Any) -> str:
    """What to show a person for an error: the catalog text of a coded error, else a generic one."""
    if isinstance(exc, LinliError):
        return exc.describe(language())
    return i18n.t("error.internal", language())
