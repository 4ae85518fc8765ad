"""The append-only, encrypted journal (on-disk format, reader and writer).

Journal ``journal-<gen>.log`` (format 3) is the header ``b"LLJRNL03"`` (written atomically when
the journal is created) and then a sequence of frames, one per committed transaction::

    length (u32 BE) | check (u32 BE) | nonce (12) | AES-256-GCM ciphertext | tag (16)

``check`` is CRC-32 of the length bytes (xor a constant), so a damaged length is told apart from a
frame cut short by a crash. The associated data of frame ``seq`` is
``b"linli/journal/v3" || store id || gen (u64) || seq (u64)``: a frame moved to another position,
another journal or another store fails authentication. Format 2 (header ``b"LLJRNL02"``, label
``v2``) is the same without splices; format 1 (before the header existed) is the same frames
from byte 0 under ``b"linli/journal/v1"``. Both are still read, and still appended to (in their
own format) until the compaction started at open moves writers to a format-3 journal.

Each frame also advances a running hash, the *chain* (:func:`app.store.head.chain_next`), which
``head.bin`` records with the frame count so that frames cut from the end are noticed.

A frame's plaintext is the transaction's change set as compact UTF-8 JSON:
``[[table, key, document or null], ...]`` — physical, never a merge to re-run. Format 3 adds
one more form of change, the *splice*, for a record that grew a long list (a request's notes):
``[table, key, fields, {name: [[index, item], ...], ...}]`` says "the new document is ``fields``
(where each ``name`` holds null, keeping the key order) with, for each ``name``, the document's
list ``name`` as it stood before this change with each ``item`` inserted at ``index`` (positions
in the new list, ascending)". It is written only when
the new list is the old one (the very same item objects) with items inserted, so replay rebuilds
exactly the document that was committed, while a page of pulled notes costs its new notes, not the
whole record, in the journal (:func:`encode_changes`, :func:`decode_changes`).

Reading a journal (:func:`read_journal`) drops only a torn tail: an incomplete last frame, a tail
of zero bytes, or a last frame that fails authentication and ends exactly at the end of the file.
Anything else — a bad frame with data after it, a damaged header — is :class:`StoreDamaged`.
"""

from __future__ import annotations

import operator
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.store import codec, files, formats
from app.store.head import CHAIN0, chain_next
from sync.crypto.symmetric import OVERHEAD, Aead, AuthenticationFailed
from sync.errors import StoreDamaged, StoreWriteFailed

_HEADER = struct.Struct(">II")
_CHECK_XOR = 0x4C4C4A31
_AADS = {1: b"linli/journal/v1", 2: b"linli/journal/v2", 3: b"linli/journal/v3"}
_PREFIX = b"LLJRNL"
HEADER = _PREFIX + b"%02d" % formats.JOURNAL_FORMAT
MAX_FRAME = 256 * 1024 * 1024
#: the first journal format that may hold splices
SPLICE_FORMAT = 3
#: a list shorter than this is written whole: a splice would save next to nothing
SPLICE_MIN = 8

Changes = list[tuple[str, str, dict[str, Any] | None]]
State = dict[str, dict[str, dict[str, Any]]]
#: ``(table, key) -> the stored document or None``: what a splice builds on
Lookup = Callable[[str, str], dict[str, Any] | None]


def journal_name(gen: int) -> str:
    return f"journal-{gen}.log"


def snapshot_name(gen: int) -> str:
    return f"snapshot-{gen}.bin"


def _check(length: int) -> int:
    return zlib.crc32(length.to_bytes(4, "big")) ^ _CHECK_XOR


def frame_aad(store_id: bytes, gen: int, seq: int, fmt: int = formats.JOURNAL_FORMAT) -> bytes:
    return _AADS[fmt] + store_id + struct.pack(">QQ", gen, seq)


def encode_frame(
    aead: Aead,
    store_id: bytes,
    gen: int,
    seq: int,
    payload: bytes,
    fmt: int = formats.JOURNAL_FORMAT,
) -> bytes:
    body = aead.seal(payload, frame_aad(store_id, gen, seq, fmt))
    return _HEADER.pack(len(body), _check(len(body))) + body


def create_journal(path: Path) -> None:
    """A new, empty journal of today's format: its header is in place before anyone can append."""
    files.atomic_write(path, HEADER)


def journal_format(data: bytes, name: str) -> tuple[int, int]:
    """``(format, offset of the first frame)`` of a journal's bytes; too new → ``store.too_new``.

    Format 1 has no header; its first bytes are a frame header whose length can never read as
    ``LLJR`` (that would be a 1.2 GiB frame, over :data:`MAX_FRAME`), so the two never mix up.
    """
    version = formats.magic_version(data, _PREFIX)
    if version is None:
        return 1, 0
    if version > formats.JOURNAL_FORMAT:
        raise formats.too_new(name, version, formats.JOURNAL_FORMAT)
    if version < 2:
        raise StoreDamaged(what=name)
    return version, len(HEADER)


@dataclass
class JournalRead:
    """What :func:`read_journal` found: the frames' payloads and any torn tail it cut off."""

    payloads: list[bytes]
    good_size: int
    fmt: int = formats.JOURNAL_FORMAT
    #: ``chains[i]``: the chain after the first ``i`` frames (``chains[0]`` is :data:`CHAIN0`).
    chains: list[bytes] = field(default_factory=lambda: [CHAIN0])
    torn_frames: int = 0
    torn_bytes: int = 0


def read_journal(
    path: Path, aead: Aead, store_id: bytes, gen: int, *, allow_torn_tail: bool
) -> JournalRead:
    data = path.read_bytes()
    size = len(data)
    fmt, pos = journal_format(data, path.name)
    out = JournalRead(payloads=[], good_size=pos, fmt=fmt)
    seq = 0
    chain = CHAIN0
    while pos < size:
        rest = size - pos
        torn = False
        if rest < _HEADER.size:
            torn = True
        else:
            length, check = _HEADER.unpack_from(data, pos)
            if check != _check(length) or not OVERHEAD <= length <= MAX_FRAME:
                if data.count(0, pos) != rest:  # not a zero-filled tail: a damaged header
                    raise StoreDamaged(what=f"{path.name} #{seq}")
                torn = True
            elif _HEADER.size + length > rest:
                torn = True
            else:
                body = memoryview(data)[pos + _HEADER.size : pos + _HEADER.size + length]
                try:
                    out.payloads.append(aead.open(body, frame_aad(store_id, gen, seq, fmt)))
                    chain = chain_next(chain, body)
                    out.chains.append(chain)
                except AuthenticationFailed as exc:
                    if _HEADER.size + length != rest:
                        raise StoreDamaged(what=f"{path.name} #{seq}") from exc
                    torn = True
        if torn:
            if not allow_torn_tail:
                raise StoreDamaged(what=f"{path.name} #{seq}")
            out.torn_frames, out.torn_bytes = 1, rest
            break
        pos += _HEADER.size + length
        seq += 1
    out.good_size = pos
    return out


def _splice(old: list[Any], new: list[Any]) -> list[list[Any]] | None:
    """``[[index, item], ...]`` that turn ``old`` into ``new`` by insertions only, or None when
    ``new`` is not ``old`` with items inserted, or when most of it is new. Kept items must be the
    very same objects (a merge's new list shares the old one's children): equal is not enough,
    since ``1 == 1.0 == True`` would let replay bring back the old value of another type."""
    m, n = len(old), len(new)
    if n < m or n - m > n // 2:
        return None
    if all(map(operator.is_, new[:m], old)):  # appended at the end (C speed): the common case
        return [[j, new[j]] for j in range(m, n)]
    out: list[list[Any]] = []
    i = 0
    for j, item in enumerate(new):
        if i < m and item is old[i]:
            i += 1
        else:
            out.append([j, item])
    return out if i == m else None


def encode_changes(changes: Changes, stored: Lookup, fmt: int = formats.JOURNAL_FORMAT) -> bytes:
    """A frame's plaintext for ``changes``; ``stored`` gives each document as it stands before
    them (the tables). From format 3 a document whose long lists only gained items is written as a
    splice (see the module's docstring); older formats get whole documents."""
    if fmt < SPLICE_FORMAT:
        return codec.dumps(changes)
    entries: list[list[Any]] = []
    written: dict[tuple[str, str], dict[str, Any] | None] = {}  # earlier in this frame
    for table, key, doc in changes:
        slot = (table, key)
        old = written[slot] if slot in written else stored(table, key)
        written[slot] = doc
        if doc is None or old is None:
            entries.append([table, key, doc])
            continue
        splices: dict[str, list[list[Any]]] = {}
        for name, value in doc.items():
            prev = old.get(name)
            if type(value) is list and type(prev) is list and len(prev) >= SPLICE_MIN:
                splice = _splice(prev, value)
                if splice is not None:
                    splices[name] = splice
        if splices:  # a spliced list's place in ``fields`` holds null (the key order stays)
            fields = {name: None if name in splices else value for name, value in doc.items()}
            entries.append([table, key, fields, splices])
        else:
            entries.append([table, key, doc])
    return codec.dumps(entries)


def _spliced(old: Any, fields: Any, splices: Any) -> dict[str, Any]:
    """The document a splice entry describes, built on ``old``; ValueError if it cannot be."""
    if not isinstance(old, dict) or not isinstance(fields, dict) or not isinstance(splices, dict):
        raise ValueError("bad splice")
    doc = dict(fields)
    for name, inserts in splices.items():
        prev = old.get(name)
        if doc.get(name, 0) is not None or not isinstance(prev, list):
            raise ValueError("bad splice")
        if not isinstance(inserts, list):
            raise ValueError("bad splice")
        items = list(prev)
        last = -1
        for insert in inserts:
            index, item = insert  # ValueError/TypeError unless a pair
            if type(index) is not int or not last < index <= len(items):
                raise ValueError("bad splice index")
            items.insert(index, item)
            last = index
        doc[name] = items
    return doc


def decode_changes(payload: bytes, where: str, stored: Lookup | None = None) -> Changes:
    """The whole-document change set of a frame. Splices (format 3: pass ``stored``, the
    documents as they stood before the frame) are resolved; without ``stored`` one is damage."""
    try:
        raw = codec.loads(payload)
        if not isinstance(raw, list):
            raise ValueError("frame is not a list")
        changes: Changes = []
        written: dict[tuple[str, str], dict[str, Any] | None] = {}
        for entry in raw:
            if not isinstance(entry, list) or len(entry) not in (3, 4):
                raise ValueError("bad change")
            table, key, doc = entry[0], entry[1], entry[2]
            if not isinstance(table, str) or not isinstance(key, str):
                raise ValueError("bad change")
            if len(entry) == 4:
                if stored is None:
                    raise ValueError("splice in a journal without splices")
                slot = (table, key)
                old = written[slot] if slot in written else stored(table, key)
                doc = _spliced(old, doc, entry[3])
            if doc is not None and not isinstance(doc, dict):
                raise ValueError("bad document")
            written[(table, key)] = doc
            changes.append((table, key, doc))
    except (ValueError, TypeError) as exc:
        raise StoreDamaged(what=where) from exc
    return changes


class Journal:
    """The open, active journal: appends one frame per transaction, durably, or not at all."""

    def __init__(
        self,
        path: Path,
        aead: Aead,
        store_id: bytes,
        gen: int,
        seq: int,
        *,
        chain: bytes = CHAIN0,
        fmt: int = formats.JOURNAL_FORMAT,
    ) -> None:
        self.path = path
        self.gen = gen
        self.seq = seq
        #: The chain after the ``seq`` frames on disk (what ``head.bin`` records).
        self.chain = chain
        self.fmt = fmt
        self._aead = aead
        self._store_id = store_id
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        self.size = os.fstat(self._fd).st_size
        self.broken = False

    def append(self, payload: bytes) -> None:
        """Append one frame and sync it. On any disk error the file is cut back to where it was
        and :class:`StoreWriteFailed` is raised; if even that fails the journal refuses further
        writes (reopening the store drops the torn tail)."""
        if self._fd is None or self.broken:
            raise StoreWriteFailed(reason="EIO")
        frame = encode_frame(self._aead, self._store_id, self.gen, self.seq, payload, self.fmt)
        try:
            files.write_all(self._fd, frame)
            files.sync_data(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self.size)
                os.fsync(self._fd)
            except OSError:
                self.broken = True
            raise StoreWriteFailed(reason=files.errno_name(exc)) from exc
        self.size += len(frame)
        self.seq += 1
        self.chain = chain_next(self.chain, frame[_HEADER.size :])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
