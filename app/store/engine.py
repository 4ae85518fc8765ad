"""The store's engine: open/create/close, PIN, the commit path, compaction, change listeners.

:class:`StoreEngine` owns the files of one data directory and the in-memory tables; the record and
outbox API on top of it is :class:`app.store.local.LocalStore`.

Commit path (``_commit``): encode the whole change set as one frame → append + fdatasync → record
the new frame count in ``head.bin`` (in-place slot write + fdatasync) → only then apply it to the
tables. A disk error leaves the journal cut back and memory unchanged, so a
caller either gets a durable write or an exception and no change. One ``RLock`` guards every
public call; listeners run after the lock is released.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from app.store import codec, files, formats, head
from app.store.generations import Layout, recover, store_files
from app.store.head import CHAIN0, Entries, HeadWriter
from app.store.journal import (
    Changes,
    Journal,
    State,
    create_journal,
    encode_changes,
    journal_name,
    snapshot_name,
)
from app.store.keyfile import KEY_FILE, PIN_MIN, KeyFile, check_new_pin
from app.store.snapshot import encode_snapshot
from app.store.tables import TABLES, Tables
from sync.crypto import symmetric
from sync.crypto.symmetric import Aead
from sync.errors import (
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreWriteFailed,
    ValidationError,
)

log = logging.getLogger(__name__)

Listener = Callable[[frozenset[str]], None]
COMPACT_MIN_BYTES = 1 << 20
COMPACT_SNAPSHOT_FRACTION = 8
#: Commits per head write. 1: every acknowledged frame is vouched for (one more data sync per
#: write); N > 1 trades N-1 frames that could be cut without notice for 1/N of that cost.
HEAD_EVERY = 1


class StoreEngine:
    """Files, keys, tables and the commit path of one open store. Use ``create``/``open``."""

    def __init__(
        self,
        directory: Path,
        keyfile: KeyFile,
        data_key: bytes,
        dirlock: files.DirLock,
        *,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        self._dir = directory
        self._keyfile = keyfile
        self._data_key: bytes | None = data_key
        self._aead = Aead(data_key)
        self._store_id = keyfile.store_id
        self._dirlock = dirlock
        self._lock = threading.RLock()
        self._closed = False
        self._closing = False
        self._compactor: threading.Thread | None = None
        self._compact_min = compact_min_bytes
        self._compact_floor = 0
        self.compactions = 0
        #: Called (outside the lock) after each committed write with the table names it touched.
        self.on_change: list[Listener] = []

        #: True when the PIN that opened the store is shorter than today's minimum: the app
        #: should ask for a new one (the store still opens, so nobody is stranded mid-shift).
        self.needs_new_pin = False
        #: Milliseconds the PIN key derivation took when this store was unlocked.
        self.unlock_kdf_ms = keyfile.kdf_ms
        rec = recover(directory, self._aead, self._store_id, require_head=keyfile.version >= 2)
        #: Frames of an interrupted last write that were dropped on open (0 normally).
        self.torn_tail_dropped = rec.torn_frames
        self.torn_tail_bytes = rec.torn_bytes
        self._tables = Tables()
        self._tables.load(rec.state)
        self._snapshot_bytes = rec.snapshot_bytes
        active = directory / journal_name(rec.active)
        count, chain = rec.entries[rec.active]
        self._journal = Journal(
            active,
            self._aead,
            self._store_id,
            rec.active,
            count,
            chain=chain,
            fmt=rec.active_format,
        )
        self._sealed: Entries = {g: e for g, e in rec.entries.items() if g != rec.active}
        self._head = HeadWriter(directory, self._aead, self._store_id, rec.head_counter)
        self._head_stale = True
        self._unvouched = 0
        self._write_head()  # commits what recovery found (and creates the head of an old store)
        self._sealed_bytes = rec.journal_bytes - self._journal.size
        self._loaded()
        outdated = rec.active_format < formats.JOURNAL_FORMAT
        if rec.active != rec.base or outdated or self._journal_too_big():
            self._start_compaction()

    # -- lifecycle ---------------------------------------------------------------------------

    @staticmethod
    def exists(data_dir: Path) -> bool:
        return (Path(data_dir) / KEY_FILE).is_file()

    @classmethod
    def create(cls, data_dir: Path, pin: str, **options: Any) -> Self:
        """A new, empty store in ``data_dir`` locked by ``pin``; ``store.exists`` if one is there."""
        directory = Path(data_dir)
        check_new_pin(pin)
        if cls.exists(directory):
            raise StoreError("store.exists")
        directory.mkdir(mode=files.DIR_MODE, parents=True, exist_ok=True)
        dirlock = _lock_dir(directory)
        try:
            files.remove_files(list(store_files(directory)))  # leftovers of a half-made store
            data_key = symmetric.random_key()
            keyfile = KeyFile.new(directory, pin, data_key)
            aead = Aead(data_key)
            empty: State = {name: {} for name in TABLES}
            blob = encode_snapshot(aead, keyfile.store_id, 1, empty)
            files.atomic_write(directory / snapshot_name(1), blob)
            create_journal(directory / journal_name(1))
            head.write_new(directory, aead, keyfile.store_id, {1: (0, CHAIN0)})
            keyfile.save()  # last: key.json is what makes the store exist
            return cls(directory, keyfile, data_key, dirlock, **options)
        except OSError as exc:
            dirlock.release()
            raise StoreWriteFailed(reason=files.errno_name(exc)) from exc
        except BaseException:
            dirlock.release()
            raise

    @classmethod
    def open(cls, data_dir: Path, pin: str, **options: Any) -> Self:
        """Unlock the store in ``data_dir``: ``WrongPin``, ``PinLockout``, ``StoreDamaged``..."""
        directory = Path(data_dir)
        if not cls.exists(directory):
            raise StoreError("store.missing")
        dirlock = _lock_dir(directory)
        try:
            keyfile = KeyFile.load(directory)
            data_key = keyfile.unlock(pin)
            store = cls(directory, keyfile, data_key, dirlock, **options)
        except OSError as exc:  # the files are there but the disk will not give them back
            dirlock.release()
            raise StoreDamaged(what=files.errno_name(exc)) from exc
        except BaseException:
            dirlock.release()
            raise
        store.needs_new_pin = len(pin.strip()) < PIN_MIN
        if keyfile.needs_upgrade:  # an older key file or weaker KDF: re-wrap under the same PIN
            try:
                keyfile.upgrade(data_key, pin)
            except StoreWriteFailed as exc:
                log.warning("key file not upgraded, will retry: %s", exc.params.get("reason"))
        return store

    @staticmethod
    def wipe(data_dir: Path) -> None:
        """Remove every file of the store (used when a device is revoked). Close it first.

        The key file is overwritten before it is unlinked: without the wrapped data key the
        encrypted snapshot and journals are unreadable even if flash keeps old blocks.
        """
        directory = Path(data_dir)
        if not directory.is_dir():
            return
        key = directory / KEY_FILE
        if key.is_file():
            with contextlib.suppress(OSError):
                files.atomic_write(key, os.urandom(max(512, key.stat().st_size)))
        files.remove_files([p for p in directory.iterdir() if p.is_file() or p.is_symlink()])
        with contextlib.suppress(OSError):
            directory.rmdir()

    def close(self) -> None:
        """Finish a running compaction, close the journal, release the directory. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closing = True
            worker = self._compactor
        if worker is not None:
            worker.join()
        with self._lock:
            if self._closed:
                return
            if self._unvouched or self._head_stale:
                self._write_head()
            self._journal.close()
            self._head.close()
            self._dirlock.release()
            self._data_key = None
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def change_pin(self, old: str, new: str) -> None:
        """Re-wrap the data key under ``new`` (``old`` must be right; it counts as a PIN try)."""
        check_new_pin(new)
        with self._lock:
            self._check_open()
            self._keyfile.unlock(old)
            assert self._data_key is not None
            self._keyfile.rewrap(self._data_key, new)
            self.needs_new_pin = False

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Subscribe to committed changes; returns the function that unsubscribes."""
        self.on_change.append(listener)
        return lambda: self.on_change.remove(listener)

    # -- the commit path ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreLocked()

    def _loaded(self) -> None:
        """Hook for subclasses: rebuild indexes after the tables were loaded."""

    def _commit(self, changes: Changes) -> None:
        """Make ``changes`` durable as one frame, then apply them. Caller holds the lock."""
        try:
            payload = encode_changes(changes, self._stored, self._journal.fmt)
        except codec.NotJson as exc:
            raise ValidationError("store.not_json", reason=str(exc)) from exc
        self._journal.append(payload)
        self._unvouched += 1
        if self._unvouched >= HEAD_EVERY:
            self._write_head()
        self._tables.apply(changes)
        if self._journal_too_big():
            self._start_compaction()

    def _stored(self, table: str, key: str) -> dict[str, Any] | None:
        """The committed document (what a journal splice builds on)."""
        return self._tables.docs(table).get(key)

    def _write_head(self) -> None:
        """Record every live journal's frame count and chain in ``head.bin`` (lock held).

        The frame is already durable when this runs, so a disk error here does not fail the
        write: it is logged and the head is rewritten at the next commit (until then the newest
        frames are not vouched for — they could be cut without notice, as in a crash)."""
        entries = dict(self._sealed)
        entries[self._journal.gen] = (self._journal.seq, self._journal.chain)
        try:
            self._head.write(entries)
        except OSError as exc:
            if not self._head_stale:
                log.warning("store head not updated: %s", files.errno_name(exc))
            self._head_stale = True
            return
        self._head_stale = False
        self._unvouched = 0

    def _notify(self, touched: Iterable[str]) -> None:
        kinds = frozenset(touched)
        if not kinds:
            return
        for listener in list(self.on_change):
            try:
                listener(kinds)
            except Exception as exc:  # a view-model bug must not undo a committed write
                log.error("store change listener failed: %s", type(exc).__name__)

    # -- compaction --------------------------------------------------------------------------

    def journal_bytes(self) -> int:
        """Bytes of journal a reopen would replay on top of the snapshot."""
        with self._lock:
            return self._sealed_bytes + self._journal.size

    def journal_limit(self) -> int:
        """Journal bytes beyond which a compaction starts: an eighth of the snapshot (≥ 1 MiB),
        so replay never costs more than ~1/8 of loading the snapshot."""
        limit = max(self._compact_min, self._snapshot_bytes // COMPACT_SNAPSHOT_FRACTION)
        return max(limit, self._compact_floor)

    @property
    def compacting(self) -> bool:
        return self._compactor is not None

    def _journal_too_big(self) -> bool:
        return self._sealed_bytes + self._journal.size > self.journal_limit()

    def compact(self, wait: bool = True) -> None:
        """Fold the journals into a new snapshot now (in the background unless ``wait``)."""
        with self._lock:
            self._check_open()
            self._start_compaction()
            worker = self._compactor
        if wait and worker is not None:
            worker.join()

    def wait_compaction(self) -> None:
        worker = self._compactor
        if worker is not None:
            worker.join()

    def _start_compaction(self) -> None:
        """Step 1 (lock held): start the next journal and hand a capture to a worker thread."""
        if self._compactor is not None or self._closing or self._journal.broken:
            return
        gen = self._journal.gen + 1
        path = self._dir / journal_name(gen)
        try:
            create_journal(path)
            journal = Journal(path, self._aead, self._store_id, gen, 0)
        except OSError as exc:
            log.warning("compaction not started: %s", files.errno_name(exc))
            with contextlib.suppress(OSError):
                path.unlink()
            self._compact_floor = 2 * (self._sealed_bytes + self._journal.size)
            return
        state = self._tables.capture()
        old, self._journal = self._journal, journal
        old.close()
        self._sealed[old.gen] = (old.seq, old.chain)
        self._write_head()
        self._sealed_bytes += old.size
        worker = threading.Thread(
            target=self._compact_worker, args=(gen, state), name="linli-store-compact", daemon=True
        )
        self._compactor = worker
        worker.start()

    def _compact_worker(self, gen: int, state: State) -> None:
        """Steps 2 and 3 (no lock while writing): the snapshot, then delete older generations."""
        try:
            blob = encode_snapshot(self._aead, self._store_id, gen, state)
            del state
            files.atomic_write(self._dir / snapshot_name(gen), blob)
            with self._lock:
                layout = Layout.scan(self._dir)
                files.remove_files(layout.older_than(self._dir, gen))
                self._sealed = {g: e for g, e in self._sealed.items() if g >= gen}
                self._write_head()
                self._snapshot_bytes = len(blob)
                self._sealed_bytes = 0
                self._compact_floor = 0
                self.compactions += 1
        except OSError as exc:
            log.warning("compaction failed, journals kept: %s", files.errno_name(exc))
            with self._lock:
                self._compact_floor = 2 * (self._sealed_bytes + self._journal.size)
        finally:
            with self._lock:
                self._compactor = None


def _lock_dir(directory: Path) -> files.DirLock:
    try:
        return files.DirLock(directory)
    except OSError as exc:
        raise StoreError("store.in_use") from exc
