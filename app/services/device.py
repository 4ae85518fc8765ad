"""This phone: enrollment, PIN unlock and lock, the unlocked store, wipe when the server says.

The server tells a phone to wipe in two ways (``docs/protocol.md``, "Retire and revoke"): a
verified ``sync.revoked`` problem (it will take nothing more: wipe at once), or a ``wipe`` flag
in a verified sync answer (``retired``: handed back; ``revoked``: lost or stolen, its changes
went to the server's review queue). On the flag the phone wipes only when nothing is left in its
outbox (:meth:`Device.wipe_if_told`): a change still waiting (e.g. refused as clock-ahead) is
sent first, at the next sync.

A :class:`Device` is the one object the view-models ask for data and changes. It owns the
:class:`~app.store.LocalStore` while unlocked, the enrolled :class:`~sync.client.Identity` (kept in
the encrypted store, never on disk in clear), the hybrid logical clock that stamps this phone's
changes, and the auto-lock timer.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.config import app_version
from app.services.observable import Observable
from app.store import LocalStore
from app.store.keyfile import check_new_pin
from sync import hlc
from sync.client import Identity, SyncEngine, SyncSummary, Transport, enroll
from sync.client.engine import META_INFLIGHT, ProgressFn
from sync.domain import changes, is_lead
from sync.errors import StoreLocked, ValidationError
from sync.hlc import HybridClock, ServerTime
from sync.ops import Op
from sync.protocol import WIPE_REASONS

log = logging.getLogger(__name__)
#: the file beside the store that says this phone belongs to a practice server
PRACTICE_MARK = "practice"

META_IDENTITY = "identity"
META_HLC = "hlc"
META_LANGUAGE = "language"

TransportFactory = Callable[[str], Transport]


def _http(url: str) -> Transport:
    from sync.client import HttpTransport

    return HttpTransport(url)


class Device(Observable):
    """States: ``setup`` (never enrolled) → ``locked`` ⇄ ``unlocked``; ``wipe`` returns to setup."""

    def __init__(
        self,
        data_dir: Path,
        *,
        transport_factory: TransportFactory = _http,
        idle_lock_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], int] = hlc.wall_ms,
    ) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.transport_factory = transport_factory
        self.idle_lock_s = idle_lock_s
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self.store: LocalStore | None = None
        self.identity: Identity | None = None
        self.engine: SyncEngine | None = None
        #: the server's time as last seen, carried by the monotonic clock (see ``docs/security.md``,
        #: "Clocks"): it corrects this phone's clock and says when the phone's date is wrong
        self.server_time = ServerTime(wall, monotonic)
        self.clock = HybridClock(server=self.server_time)
        self._last_touch = monotonic()
        self.wiped_reason: str | None = None

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        if self.store is not None:
            return "unlocked"
        return "locked" if LocalStore.exists(self.data_dir) else "setup"

    @property
    def role(self) -> str | None:
        return self.identity.role if self.identity else None

    @property
    def member_id(self) -> str:
        return self.identity.member_id if self.identity else ""

    @property
    def team_id(self) -> str | None:
        return self.identity.team_id if self.identity else None

    @property
    def is_lead(self) -> bool:
        return is_lead(self.role)

    def require_store(self) -> LocalStore:
        store = self.store
        if store is None:
            raise StoreLocked()
        return store

    # ------------------------------------------------------------------ lifecycle

    def enroll(
        self,
        server_url: str,
        code: str,
        pin: str,
        *,
        label: str = "",
        fingerprint: str | None = None,
        progress: ProgressFn | None = None,
    ) -> SyncSummary:
        """Enroll with a one-time code, create the encrypted store, and pull the team's data.

        ``fingerprint``: the server key fingerprint of an enrollment link (checked against the
        keys the server answers with); an empty ``label`` lets the server use the member's name."""
        server_url = server_url.strip().rstrip("/")
        if not server_url.startswith(("http://", "https://")):
            raise ValidationError("validation.invalid", field="server", reason="http(s)://…")
        with self._lock:
            if LocalStore.exists(self.data_dir):
                raise ValidationError("device.already_enrolled")
            transport = self.transport_factory(server_url)
            check_new_pin(pin)  # refuse a bad PIN before spending the one-time code
            identity = enroll(transport, code.strip(), label, fingerprint)
            identity = dataclasses.replace(identity, server_url=server_url)
            store = LocalStore.create(self.data_dir, pin)
            store.set_meta(META_IDENTITY, identity.to_dict())
            self._opened(store, identity, transport)
        self.changed()
        return self.sync(progress)

    def unlock(self, pin: str) -> None:
        with self._lock:
            if self.store is not None:
                return
            store = LocalStore.open(self.data_dir, pin)
            raw = store.get_meta(META_IDENTITY)
            if raw is None:
                store.close()
                raise ValidationError("device.not_enrolled")
            identity = Identity.from_dict(raw)
            self._opened(store, identity, self.transport_factory(identity.server_url or ""))
        self.changed()

    def _opened(self, store: LocalStore, identity: Identity, transport: Transport) -> None:
        self.store, self.identity = store, identity
        self.clock = HybridClock(last=store.get_meta(META_HLC), server=self.server_time)
        self.engine = SyncEngine(
            _ClockedOutbox(store, self.clock), transport, identity, app_version=app_version()
        )
        self._last_touch = self._monotonic()
        self.wiped_reason = None
        store.add_listener(lambda kinds: self.changed())
        applied = store.apply_deferred()  # pulled ops an older build of the app had to defer
        if applied:
            log.info("applied %d deferred op(s) after an app update", applied)

    def lock(self) -> None:
        with self._lock:
            store, self.store, self.engine, self.identity = self.store, None, None, None
            if store is not None:
                try:
                    store.set_meta(META_HLC, self.clock.last)
                finally:
                    store.close()
        self.changed()

    @property
    def practice(self) -> bool:
        """This phone belongs to a practice (training) server — known even while it is locked,
        so the unlock screen shows the 演练 banner too (a plain marker file: it says nothing
        about anyone)."""
        return (self.data_dir / PRACTICE_MARK).exists()

    def mark_practice(self, on: bool) -> None:
        """Keep the marker in step with what the server last said."""
        mark = self.data_dir / PRACTICE_MARK
        try:
            if on and not mark.exists():
                mark.touch()
            elif not on:
                mark.unlink(missing_ok=True)
        except OSError as exc:  # only a banner: never let it stop the app
            log.warning("practice marker not updated: %s", exc)

    def wipe(self, reason: str) -> None:
        """Lock and remove every local file (the server retired or revoked this device)."""
        with self._lock:
            store, self.store, self.engine, self.identity = self.store, None, None, None
            if store is not None:
                store.close()
            LocalStore.wipe(self.data_dir)
            self.mark_practice(False)
            self.wiped_reason = reason
        log.warning("local data wiped: %s", reason)
        self.changed()

    def wipe_if_told(self, summary: SyncSummary) -> str | None:
        """Wipe if the sync behind ``summary`` told this phone to and nothing is left to send
        (no pending change, no batch in flight); the reason (``retired`` / ``revoked``), or
        ``None`` when it did not wipe."""
        told = summary.wipe
        with self._lock:
            store = self.store
            if told is None or store is None:
                return None
            left = store.pending_count()
            if left or store.get_meta(META_INFLIGHT) is not None:
                log.warning("told to wipe (%s); %d change(s) still to send first", told, left)
                return None
            reason = told if told in WIPE_REASONS else "revoked"
            self.wipe(reason)
        return reason

    def change_pin(self, old: str, new: str) -> None:
        self.require_store().change_pin(old, new)

    # ------------------------------------------------------------------ idle lock

    def touch(self) -> None:
        self._last_touch = self._monotonic()

    def idle_expired(self) -> bool:
        return self.store is not None and (self._monotonic() - self._last_touch >= self.idle_lock_s)

    # ------------------------------------------------------------------ data

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self.require_store().get(kind, entity_id)

    def find(
        self, kind: str, where: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return self.require_store().find(kind, where, **kw)

    def make_op(
        self,
        kind: str,
        entity_id: str,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> Op:
        store = self.require_store()
        return changes.make_op(
            kind,
            entity_id,
            set=set,
            add={k: tuple(v) for k, v in (add or {}).items()},
            current=store.get(kind, entity_id),
            **self.author(),
        )

    def author(self) -> dict[str, Any]:
        """The stamping arguments of :mod:`sync.domain.changes` builders for this phone."""
        return {
            "clock": self.clock,
            "device": self.identity.device_id if self.identity else "",
            "member": self.member_id,
        }

    def record(self, *ops: Op) -> list[dict[str, Any]]:
        """Keep changes durably (data + outbox in one atomic write); returns the new records."""
        self.touch()
        return self.require_store().record_changes(list(ops))

    def change(
        self,
        kind: str,
        entity_id: str,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> dict[str, Any]:
        return self.record(self.make_op(kind, entity_id, set=set, add=add))[0]

    # ------------------------------------------------------------------ sync

    @property
    def clock_wrong(self) -> bool:
        """True while this phone's date and time are further than the server's window from the
        server's time (the sync screen says so, and what to do)."""
        return self.server_time.local_is_wrong()

    def sync(self, progress: ProgressFn | None = None) -> SyncSummary:
        """Sync; ops the server refused as ``op.clock_ahead`` are re-stamped from the corrected
        clock and sent again in the same call (nothing is dropped)."""
        engine = self.engine
        if engine is None:
            raise StoreLocked()
        summary = self._sync_once(engine, progress)
        if self._restamp(summary.clock_ahead):
            again = self._sync_once(engine, progress)
            summary = _joined(summary, again)
        return summary

    def _sync_once(self, engine: SyncEngine, progress: ProgressFn | None) -> SyncSummary:
        try:
            summary = engine.sync(progress)
        finally:
            if engine.header_time is not None:
                self.server_time.saw(engine.header_time, trusted=False)
                engine.header_time = None
        if summary.server_time:
            self.server_time.saw(summary.server_time)
            self.clock.observe(hlc.encode(summary.server_time, 0))
        store = self.store
        if store is not None:
            store.set_meta(META_HLC, self.clock.last)
        return summary

    def _restamp(self, refused: Sequence[str]) -> bool:
        """Re-stamp the pending ops refused as ``op.clock_ahead`` or stamped past the ceiling,
        and correct far-future stamps in records (one atomic write). True if any op changed."""
        store, server_now = self.store, self.server_time.now()
        ceiling = self.server_time.ceiling()
        if store is None or server_now is None or ceiling is None:
            return False
        if store.get_meta(META_INFLIGHT) is not None:
            return False  # a batch is in flight: it must be re-sent exactly as it was
        wanted = set(refused) | {
            op.op_id for op in store.pending_ops() if hlc.wall_of(op.hlc) > ceiling
        }
        rewound = self.clock.take_rewound()
        if not wanted and not rewound:
            return False
        changed = store.restamp(wanted, self.clock.now, ceiling, hlc.encode(server_now, 0))
        store.set_meta(META_HLC, self.clock.last)
        if changed:
            log.warning("re-stamped %d pending op(s) after a wrong clock", changed)
        return changed > 0


def _joined(first: SyncSummary, then: SyncSummary) -> SyncSummary:
    """One summary of two syncs run back to back."""
    return dataclasses.replace(
        then,
        sent=first.sent + then.sent,
        acked=first.acked + then.acked,
        received=first.received + then.received,
        rejected=first.rejected + then.rejected,
        receipts=first.receipts + then.receipts,
        round_trips=first.round_trips + then.round_trips,
        clock_ahead=then.clock_ahead,
        wipe=then.wipe or first.wipe,
    )


class _ClockedOutbox:
    """The store as the sync engine's outbox, advancing this phone's clock past every change it
    pulls — so a local edit made right after a pull always stamps later than what it edits."""

    def __init__(self, store: LocalStore, clock: HybridClock) -> None:
        self.store, self.clock = store, clock

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        ops = list(ops)
        if ops:
            self.clock.observe(max(op.hlc for op in ops))
        return self.store.apply_remote(ops, cursor)

    def rebuild(
        self, copies: Iterable[tuple[str, str, Mapping[str, Any] | None]], settled: Iterable[str]
    ) -> int:
        copies = list(copies)
        stamps = [
            str(stamp).partition("@")[0]
            for _kind, _id, record in copies
            for stamp in ((record or {}).get("_clk") or {}).values()
        ]
        if stamps:
            self.clock.observe(max(stamps))
        return self.store.rebuild(copies, settled)

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        return self.store.pending_ops(limit)

    def pending_count(self) -> int:
        return self.store.pending_count()

    def acknowledge(self, op_ids: Iterable[str], retain: bool = True) -> int:
        return self.store.acknowledge(op_ids, retain)

    def requeue_sent(self) -> int:
        return self.store.requeue_sent()

    def cursor(self) -> str | None:
        return self.store.cursor()

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        self.store.add_receipt(receipt)

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self.store.get_meta(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self.store.set_meta(key, value)
