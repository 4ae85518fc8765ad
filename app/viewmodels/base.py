"""The pieces every view-model shares: change notification and the navigator port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from app.i18n import language, tr
from app.services.observable import Observable
from app.services.sync_service import SyncService, SyncStatus
from sync import i18n
from sync.client import SyncSummary
from sync.errors import LinliError

__all__ = [
    "Navigator",
    "Observable",
    "SyncOutcome",
    "ViewModel",
    "clock_warning",
    "error_text",
    "sync_now_text",
]


class Navigator(Protocol):
    """What a view-model may ask of the screen: go somewhere, go back, tell the person something."""

    def go(self, route: str) -> None: ...

    def back(self) -> None: ...

    def notify(self, message: str, *, error: bool = False) -> None: ...

    def refresh(self) -> None:
        """Rebuild the screens on the stack (after the language changed)."""
        ...


class ViewModel(Observable):
    """An observable screen state that follows other observables (the device, the sync status)
    until the screen closes it."""

    def __init__(self) -> None:
        super().__init__()
        self._watches: list[Callable[[], None]] = []

    def watch(self, source: Observable, callback: Callable[[], None]) -> None:
        self._watches.append(source.subscribe(callback))

    def close(self) -> None:
        for unsubscribe in self._watches:
            unsubscribe()
        self._watches = []


def error_text(exc: BaseException, **_: Any) -> str:
    """What to show a person for an error: the catalog text of a coded error, else a generic one."""
    if isinstance(exc, LinliError):
        return exc.describe(language())
    return i18n.t("error.internal", language())


def clock_warning(status: SyncStatus) -> str | None:
    """The sync bar's and sync screen's "this phone's clock is wrong" text, while it is."""
    return tr("ui.clock.wrong") if status.clock_wrong else None


def leaving_notice(status: SyncStatus) -> str | None:
    """While the server has told this phone to wipe but changes are still to send: why it will
    wipe, and that it sends them first."""
    if status.leaving is None:
        return None
    key = "ui.leaving.retired" if status.leaving == "retired" else "ui.leaving.revoked"
    return tr(key, pending=status.pending)


def sync_warning(status: SyncStatus) -> str | None:
    """Everything the sync bar warns about now (clock, leaving), one per line; ``None``: none."""
    found = [w for w in (clock_warning(status), leaving_notice(status)) if w]
    return "\n".join(found) or None


def sync_now_text(sync: SyncService, *, busy_key: str, done_key: str) -> SyncOutcome:
    """Run "Sync now" (off the UI thread) and word the result with the screen's own keys:
    ``done_key`` gets ``sent``/``received``/``rejected``; ``busy_key`` when a sync is running."""
    try:
        summary = sync.sync_now()
    except LinliError as exc:
        return SyncOutcome(None, error_text(exc), None)
    if summary is None:
        return SyncOutcome(None, None, tr(busy_key))
    message = tr(
        done_key, sent=summary.acked, received=summary.received, rejected=len(summary.rejected)
    )
    return SyncOutcome(summary, None, message)


class SyncOutcome(NamedTuple):
    summary: SyncSummary | None  # None: failed, or another sync was already running
    error: str | None
    message: str | None
