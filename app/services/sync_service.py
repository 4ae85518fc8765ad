"""Background sync: notices when the server is reachable again and syncs by itself.

One daemon thread. While the device is unlocked it probes the server (``GET /healthz``) and
syncs when the server answers and there are pending changes (or the last sync is stale). While
the server is out of reach, or a sync fails, it waits with the same capped exponential backoff
and full jitter as the transport's retries (:func:`sync.client.full_jitter`: windows of 2 s,
4 s … 60 s, never less than 2 s — never a busy loop). A local change, unlocking or :meth:`wake`
(e.g. the network coming back) wakes it at once. A verified revocation wipes the device; so does
a verified answer telling it to wipe (retired or revoked), once its outbox is empty
(:meth:`Device.wipe_if_told`) — until then :attr:`SyncStatus.leaving` says why it will.

Races it is built against: a change made while a sync runs wakes the loop, which then waits for
that sync to end rather than skipping its own; a lock landing mid-round (the store closing under
it) ends the round, not the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.services.device import Device
from app.services.observable import Observable
from sync.client import DeviceRevoked, SyncProgress, SyncSummary, full_jitter
from sync.client.engine import META_PRACTICE
from sync.errors import LinliError, StoreLocked, SyncError

log = logging.getLogger(__name__)

PROBE_MIN_S = 2.0
PROBE_MAX_S = 60.0
STALE_S = 600.0  # sync at least this often while online, even with nothing to send


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None = None  # None: not probed yet
    pending: int = 0
    last_sync_ms: int | None = None
    syncing: bool = False
    progress: float | None = None
    last_summary: SyncSummary | None = None
    last_error: LinliError | None = None
    rejections: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: this phone's date is further than the server's window from the server's time
    clock_wrong: bool = False
    #: the server told this phone to wipe (``retired`` / ``revoked``) but changes are still to
    #: send: it wipes after they are sent
    leaving: str | None = None
    #: the server is a practice (training) server: every screen shows the 演练 banner
    practice: bool = False

    @property
    def last_sync_label(self) -> str | None:
        if self.last_sync_ms is None:
            return None
        return datetime.fromtimestamp(self.last_sync_ms / 1000).strftime("%H:%M")


class SyncService(Observable):
    """Owns the background sync thread for one :class:`Device`."""

    def __init__(
        self,
        device: Device,
        *,
        on_wiped: Callable[[str], None] | None = None,
        probe_min_s: float = PROBE_MIN_S,
        probe_max_s: float = PROBE_MAX_S,
        stale_s: float = STALE_S,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        super().__init__()
        self.device = device
        #: called with the reason (``retired`` / ``revoked``) after the phone wiped itself
        self.on_wiped = on_wiped
        self.probe_min_s, self.probe_max_s, self.stale_s = probe_min_s, probe_max_s, stale_s
        self._wall_ms = wall_ms
        self.status = SyncStatus()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._run_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._delay = probe_min_s
        self._failures = 0  # probes or syncs failed in a row: the backoff's attempt number
        device.subscribe(self._device_changed)

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="linli-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wake(self) -> None:
        """Probe (and sync if due) at once, backoff restarted: e.g. the network came back."""
        self._failures = 0
        self._wake.set()

    def _device_changed(self) -> None:
        self._wake.set()  # first: a refresh failing (the store just closed) must not lose it
        self._refresh_pending()

    def _set(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self.changed()

    def _refresh_pending(self) -> None:
        store = self.device.store
        pending = store.pending_count() if store is not None else 0
        last = store.get_meta("last_sync_ms") if store is not None else None
        if store is not None:
            practice = bool(store.get_meta(META_PRACTICE))
            if practice != self.device.practice:
                self.device.mark_practice(practice)
        else:
            practice = self.device.practice
        if (pending, last, practice) != (
            self.status.pending,
            self.status.last_sync_ms,
            self.status.practice,
        ):
            self._set(pending=pending, last_sync_ms=last, practice=practice)

    # ------------------------------------------------------------------ work

    def sync_now(self) -> SyncSummary | None:
        """Sync at once in the calling thread (a view runs it off the UI thread)."""
        return self._sync(manual=True)

    def _sync(self, *, manual: bool) -> SyncSummary | None:
        """A manual sync gives way to one already running (``None``); the background one waits
        for it and then syncs only if something is still due (a change made meanwhile)."""
        if not self._run_lock.acquire(blocking=not manual):
            return None
        try:
            if self.device.engine is None or not (manual or self._due()):
                return None
            return self._run(manual=manual)
        finally:
            self._run_lock.release()

    def _run(self, *, manual: bool) -> SyncSummary | None:
        try:
            self._set(syncing=True, progress=0.0, last_error=None)
            summary = self.device.sync(self._progress)
        except DeviceRevoked as exc:
            self._revoked(exc)
            return None
        except (SyncError, StoreLocked) as exc:
            self._set(
                syncing=False,
                progress=None,
                online=False,
                last_error=exc,
                clock_wrong=self.device.clock_wrong,
            )
            if manual:
                raise
            return None
        reason = self.device.wipe_if_told(summary)
        if reason is not None:
            self._wiped(reason, None)
            return summary
        now = self._wall_ms()
        store = self.device.store
        if store is not None:
            store.set_meta("last_sync_ms", now)
        engine = self.device.engine
        self._set(
            syncing=False,
            progress=None,
            online=True,
            last_sync_ms=now,
            last_summary=summary,
            pending=store.pending_count() if store is not None else 0,
            rejections=tuple(engine.rejections()) if engine is not None else (),
            clock_wrong=self.device.clock_wrong,
            leaving=summary.wipe,
        )
        return summary

    def _due(self) -> bool:
        """Pending changes, or no sync for ``stale_s`` (or a last sync "in the future": it was
        timed by a clock that has since been set right)."""
        self._refresh_pending()
        last = self.status.last_sync_ms
        if self.status.pending > 0 or last is None:
            return True
        now = self._wall_ms()
        return now - last > self.stale_s * 1000 or last > now

    def _progress(self, step: SyncProgress) -> None:
        self._set(progress=step.fraction)

    def _revoked(self, exc: DeviceRevoked) -> None:
        log.warning("device revoked by the server")
        self.device.wipe("revoked")
        self._wiped("revoked", exc)

    def _wiped(self, reason: str, exc: LinliError | None) -> None:
        self._set(syncing=False, progress=None, pending=0, last_error=exc, leaving=None)
        if self.on_wiped is not None:
            self.on_wiped(reason)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self._delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._delay = self._round()
            except Exception:  # e.g. the store closed mid-round: end the round, not the thread
                log.exception("background sync round failed")
                self._delay = self._backoff()

    def _round(self) -> float:
        """Probe, sync if due; the seconds to wait before the next round."""
        engine = self.device.engine
        if engine is None or engine.transport is None:
            return self.probe_max_s  # locked: unlocking wakes the loop
        try:
            reachable = bool(getattr(engine.transport, "reachable", lambda: True)())
        except Exception:  # a probe must never kill the loop
            reachable = False
        if not reachable:
            if self.status.online is not False:
                self._set(online=False)
            return self._backoff()
        if self.status.online is not True:
            self._set(online=True)
        self._sync(manual=False)  # the status carries any error
        if self.status.online is False:  # the sync failed
            return self._backoff()
        self._failures = 0
        return self.probe_max_s

    def _backoff(self) -> float:
        delay = full_jitter(self._failures, base=self.probe_min_s, cap=self.probe_max_s)
        self._failures += 1
        return max(self.probe_min_s, delay)
