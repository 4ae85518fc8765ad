"""Generations of snapshot + journals: recovery on open and the steps of compaction.

Invariant: the state is ``snapshot-<base>.bin`` followed by ``journal-<base>.log``,
``journal-<base+1>.log`` … up to the active journal, where ``base`` is the newest snapshot.
Files of older generations are leftovers of a finished compaction and are deleted.

Compaction of active generation ``g`` (see ``LocalStore``):

1. under the lock: capture the tables, create ``journal-<g+1>.log`` durably, switch writers to it;
2. in the background: write ``snapshot-<g+1>.bin`` atomically (temp, fsync, rename, dir fsync);
3. delete every file of generations ≤ ``g``.

A crash after step 1 leaves snapshot ``g`` + journals ``g``, ``g+1``; after step 2, snapshot
``g+1`` + journal ``g+1`` (+ leftovers). Both recover to exactly the committed state.

Length commitment: ``head.bin`` (:mod:`app.store.head`) records each live journal's frame count
and chain. A journal holding fewer good frames than its head entry (frames cut at a boundary, a
truncation, a zero-filled tail), a different chain at that count (frames replaced), or a journal
the head lists but the directory lacks is :class:`StoreDamaged` naming the lost frames. Only frames
beyond the head's count may be dropped as a torn tail.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.store import files
from app.store.head import HEAD_FILE, Commitment, Entries, read_head
from app.store.journal import (
    SPLICE_FORMAT,
    Changes,
    JournalRead,
    Lookup,
    State,
    decode_changes,
    journal_name,
    read_journal,
    snapshot_name,
)
from app.store.snapshot import decode_snapshot
from app.store.tables import TABLES
from sync.crypto.symmetric import Aead
from sync.errors import StoreDamaged

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(snapshot|journal)-(\d{1,12})\.(bin|log)$")


@dataclass
class Layout:
    """Generation numbers present in a data directory."""

    snapshots: list[int] = field(default_factory=list)
    journals: list[int] = field(default_factory=list)
    temps: list[Path] = field(default_factory=list)

    @classmethod
    def scan(cls, directory: Path) -> Layout:
        out = cls()
        for path in directory.iterdir():
            if path.name.endswith(".tmp"):
                out.temps.append(path)
                continue
            match = _NAME.match(path.name)
            if not match:
                continue
            kind, gen, ext = match.group(1), int(match.group(2)), match.group(3)
            if kind == "snapshot" and ext == "bin":
                out.snapshots.append(gen)
            elif kind == "journal" and ext == "log":
                out.journals.append(gen)
        out.snapshots.sort()
        out.journals.sort()
        return out

    def older_than(self, directory: Path, gen: int) -> list[Path]:
        return [directory / snapshot_name(g) for g in self.snapshots if g < gen] + [
            directory / journal_name(g) for g in self.journals if g < gen
        ]


@dataclass
class Recovered:
    state: State
    base: int
    active: int
    active_seq: int
    snapshot_bytes: int
    journal_bytes: int
    torn_frames: int
    torn_bytes: int
    #: ``gen -> (frames, chain)`` of every live journal, the active one included.
    entries: Entries = field(default_factory=dict)
    active_format: int = 2
    head_counter: int = 0


def store_files(directory: Path) -> Iterator[Path]:
    """Every file a store may own in ``directory`` (for wiping and for half-created stores)."""
    for path in directory.iterdir():
        name = path.name
        if path.is_file() and (_NAME.match(name) or name.endswith(".tmp") or name == HEAD_FILE):
            yield path


def _check_changes(changes: Changes, where: str) -> None:
    for table, _key, _doc in changes:
        if table not in TABLES:
            raise StoreDamaged(what=where)


def _check_committed(read: JournalRead, name: str, committed: tuple[int, bytes] | None) -> None:
    """Damage if ``read`` holds fewer frames than the head vouches for, or other ones."""
    if committed is None:
        return
    count, chain = committed
    found = len(read.payloads)
    if found < count:
        lost = f"#{found}" if count - found == 1 else f"#{found}–#{count - 1}"
        raise StoreDamaged(what=f"{name} {lost}", lost=count - found)
    if read.chains[count] != chain:
        raise StoreDamaged(what=f"{name} #0–#{count - 1}", lost=count)


def recover(
    directory: Path, aead: Aead, store_id: bytes, *, require_head: bool = True
) -> Recovered:
    """Load the newest snapshot, replay its journals, check them against the head, cut a torn
    tail, delete leftovers. Without ``require_head`` (a format-1 store) a missing head is fine."""
    layout = Layout.scan(directory)
    if not layout.snapshots:
        raise StoreDamaged(what="snapshot")
    head = read_head(directory, aead, store_id)
    if head is None and require_head:
        raise StoreDamaged(what=HEAD_FILE)
    base = layout.snapshots[-1]
    chain = [g for g in layout.journals if g >= base]
    listed = sorted(g for g in (head.entries if head else {}) if g >= base)
    expected = range(base, max([base, *chain, *listed]) + 1)
    if chain != list(expected)[: len(chain)] or not chain or any(g not in chain for g in listed):
        missing = next(g for g in expected if g not in chain)
        raise StoreDamaged(what=journal_name(missing))
    snap_path = directory / snapshot_name(base)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a big snapshot is ~1M fresh objects; collecting while building them costs ~2x
    try:
        data = snap_path.read_bytes()
        state = decode_snapshot(data, aead, store_id, base, snap_path.name)
        if any(name not in TABLES for name in state):
            raise StoreDamaged(what=snap_path.name)
        torn_frames = torn_bytes = journal_bytes = active_seq = 0
        entries: Entries = {}
        for gen in chain:
            path = directory / journal_name(gen)
            last = gen == chain[-1]
            read = read_journal(path, aead, store_id, gen, allow_torn_tail=last)
            _check_committed(read, path.name, _entry(head, gen))
            entries[gen] = (len(read.payloads), read.chains[-1])
            stored = _lookup(state) if read.fmt >= SPLICE_FORMAT else None
            for seq, payload in enumerate(read.payloads):
                where = f"{path.name} #{seq}"
                changes = decode_changes(payload, where, stored)
                _check_changes(changes, where)
                for table, key, doc in changes:
                    docs = state.setdefault(table, {})
                    if doc is None:
                        docs.pop(key, None)
                    else:
                        docs[key] = doc
            journal_bytes += read.good_size
            if last:
                active_seq = len(read.payloads)
                if read.torn_bytes:
                    torn_frames, torn_bytes = read.torn_frames, read.torn_bytes
                    files.truncate_durably(path, read.good_size)
                    log.warning("dropped a torn journal tail: %d frame(s), %d bytes", 1, torn_bytes)
    finally:
        if gc_was_enabled:
            # The loaded documents live as long as the store. Freezing them now (O(1)) spares the
            # next older-generation collection a walk over ~1M objects (~20 ms at 50,000 records);
            # documents are acyclic, so reference counting still frees them.
            gc.freeze()
            gc.enable()
    leftovers = layout.older_than(directory, base) + layout.temps
    if leftovers:
        with contextlib.suppress(OSError):
            files.remove_files(leftovers)
    return Recovered(
        state=state,
        base=base,
        active=chain[-1],
        active_seq=active_seq,
        snapshot_bytes=len(data),
        journal_bytes=journal_bytes,
        torn_frames=torn_frames,
        torn_bytes=torn_bytes,
        entries=entries,
        active_format=read.fmt,
        head_counter=head.counter if head else 0,
    )


def _lookup(state: State) -> Lookup:
    def stored(table: str, key: str) -> dict[str, Any] | None:
        return state.get(table, {}).get(key)

    return stored


def _entry(head: Commitment | None, gen: int) -> tuple[int, bytes] | None:
    return None if head is None else head.entries.get(gen)
