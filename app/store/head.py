"""``head.bin``: the store's length commitment — how many frames each live journal holds.

The journal is append-only and a frame authenticates its own position, but nothing in the journal
can say how long it *should* be: frames cut from the end, a truncation or a zero-filled tail would
read as a shorter, valid journal. The head records, for every journal of the live generations,
``(gen, frame count, chain)`` where ``chain`` is a running hash of the frames' sealed bytes
(:func:`chain_next`). It is rewritten after every committed frame, so every acknowledged write is
vouched for; at most the newest frame (appended, head not yet updated when the app died) is not.

Layout (format 1)::

    b"LLHEAD01" | slot size (u32 BE) | slot 0 | slot 1
    slot = length (u32 BE) | AES-256-GCM(JSON {"n": counter, "j": [[gen, count, chain], ...]})

Write ``n`` goes to slot ``n % 2`` in place (``pwrite`` + ``fdatasync``, ~the cost of a journal
append, no rename) so the other slot always holds the previous commitment: a write torn by a crash
fails authentication and the reader takes the other slot. The associated data
``b"linli/head/v1" || store id`` binds the slot to the store, and only the data key can produce
it. The file is created (or grown, if the entries outgrow a slot) with an atomic replace.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from app.store import files, formats
from sync.crypto.symmetric import Aead, AuthenticationFailed
from sync.errors import StoreDamaged

HEAD_FILE = "head.bin"
_PREFIX = b"LLHEAD"
_MAGIC = _PREFIX + b"%02d" % formats.HEAD_FORMAT
_AAD = b"linli/head/v1"
_SIZE = struct.Struct(">I")
_FIXED = len(_MAGIC) + _SIZE.size
SLOT_BYTES = 1024
CHAIN0 = bytes(16)

#: ``gen -> (frame count, chain after that many frames)``
Entries = dict[int, tuple[int, bytes]]


def chain_next(chain: bytes, body: bytes | memoryview) -> bytes:
    """The chain value after one more frame whose sealed bytes are ``body``."""
    digest = hashlib.sha256(chain)
    digest.update(body)
    return digest.digest()[:16]


@dataclass
class Commitment:
    counter: int
    entries: Entries


def _encode(aead: Aead, store_id: bytes, counter: int, entries: Entries) -> bytes:
    rows = [[gen, count, chain.hex()] for gen, (count, chain) in sorted(entries.items())]
    text = json.dumps({"n": counter, "j": rows}, separators=(",", ":")).encode("ascii")
    sealed = aead.seal(text, _AAD + store_id)
    return _SIZE.pack(len(sealed)) + sealed


def _decode(slot: bytes, aead: Aead, store_id: bytes) -> Commitment | None:
    if len(slot) < _SIZE.size:
        return None
    (length,) = _SIZE.unpack_from(slot)
    if length > len(slot) - _SIZE.size:
        return None
    try:
        raw = json.loads(aead.open(slot[_SIZE.size : _SIZE.size + length], _AAD + store_id))
        entries: Entries = {}
        for gen, count, chain in raw["j"]:
            if not isinstance(gen, int) or not isinstance(count, int) or count < 0:
                raise ValueError("bad head entry")
            entries[gen] = (count, bytes.fromhex(chain))
        counter = raw["n"]
        if not isinstance(counter, int):
            raise ValueError("bad head counter")
    except (AuthenticationFailed, ValueError, TypeError, KeyError):
        return None
    return Commitment(counter, entries)


def read_head(directory: Path, aead: Aead, store_id: bytes) -> Commitment | None:
    """The newest valid commitment; ``None`` if there is no head file; damage if none is valid."""
    path = directory / HEAD_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    version = formats.magic_version(data, _PREFIX)
    if version is not None and version > formats.HEAD_FORMAT:
        raise formats.too_new(HEAD_FILE, version, formats.HEAD_FORMAT)
    if version != formats.HEAD_FORMAT or len(data) < _FIXED:
        raise StoreDamaged(what=HEAD_FILE)
    (slot_bytes,) = _SIZE.unpack_from(data, len(_MAGIC))
    slots = [data[_FIXED + i * slot_bytes : _FIXED + (i + 1) * slot_bytes] for i in (0, 1)]
    found = [c for c in (_decode(s, aead, store_id) for s in slots) if c is not None]
    if not found:
        raise StoreDamaged(what=HEAD_FILE)
    return max(found, key=lambda c: c.counter)


class HeadWriter:
    """Keeps ``head.bin`` up to date. Every method raises ``OSError`` if the disk refuses."""

    def __init__(self, directory: Path, aead: Aead, store_id: bytes, counter: int) -> None:
        self.path = directory / HEAD_FILE
        self._aead = aead
        self._store_id = store_id
        self._counter = counter
        self._fd: int | None = None
        self._slot_bytes = 0

    def write(self, entries: Entries) -> None:
        counter = self._counter + 1
        slot = _encode(self._aead, self._store_id, counter, entries)
        if self._fd is None or len(slot) > self._slot_bytes:
            self._rewrite(counter, slot)
        else:
            padded = slot + bytes(self._slot_bytes - len(slot))
            os.pwrite(self._fd, padded, _FIXED + (counter % 2) * self._slot_bytes)
            files.sync_data(self._fd)
        self._counter = counter

    def _rewrite(self, counter: int, slot: bytes) -> None:
        """Create the file (or grow its slots) atomically, both slots holding ``slot``."""
        self.close()
        size = SLOT_BYTES
        while size < len(slot):
            size *= 2
        padded = slot + bytes(size - len(slot))
        files.atomic_write(self.path, _MAGIC + _SIZE.pack(size) + padded + padded)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        self._slot_bytes = size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_new(directory: Path, aead: Aead, store_id: bytes, entries: Entries) -> None:
    """The head of a store being created (before ``key.json`` makes it exist)."""
    writer = HeadWriter(directory, aead, store_id, 0)
    try:
        writer.write(entries)
    finally:
        writer.close()
