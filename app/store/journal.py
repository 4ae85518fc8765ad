"""The append-only, encrypted journal (on-disk format, reader and writer).

Journal ``journal-<gen>.log`` is a sequence of frames, one per committed transaction::

    length (u32 BE) | check (u32 BE) | nonce (12) | AES-256-GCM ciphertext | tag (16)

``check`` is CRC-32 of the length bytes (xor a constant), so a damaged length is told apart from a
frame cut short by a crash. The associated data of frame ``seq`` is
``b"linli/journal/v1" || store id || gen (u64) || seq (u64)``: a frame moved to another position,
another journal or another store fails authentication.

A frame's plaintext is the transaction's change set as compact UTF-8 JSON:
``[[table, key, document or null], ...]`` (whole documents: replay never re-runs a merge).

Reading a journal (:func:`read_journal`) drops only a torn tail: an incomplete last frame, a tail
of zero bytes, or a last frame that fails authentication and ends exactly at the end of the file.
Anything else — a bad frame with data after it, a damaged header — is :class:`StoreDamaged`.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store import codec, files
from sync.crypto.symmetric import OVERHEAD, Aead, AuthenticationFailed
from sync.errors import StoreDamaged, StoreWriteFailed

_HEADER = struct.Struct(">II")
_CHECK_XOR = 0x4C4C4A31
_JOURNAL_AAD = b"linli/journal/v1"
MAX_FRAME = 256 * 1024 * 1024

Changes = list[tuple[str, str, dict[str, Any] | None]]
State = dict[str, dict[str, dict[str, Any]]]


def journal_name(gen: int) -> str:
    return f"journal-{gen}.log"


def snapshot_name(gen: int) -> str:
    return f"snapshot-{gen}.bin"


def _check(length: int) -> int:
    return zlib.crc32(length.to_bytes(4, "big")) ^ _CHECK_XOR


def frame_aad(store_id: bytes, gen: int, seq: int) -> bytes:
    return _JOURNAL_AAD + store_id + struct.pack(">QQ", gen, seq)


def encode_frame(aead: Aead, store_id: bytes, gen: int, seq: int, payload: bytes) -> bytes:
    body = aead.seal(payload, frame_aad(store_id, gen, seq))
    return _HEADER.pack(len(body), _check(len(body))) + body


@dataclass
class JournalRead:
    """What :func:`read_journal` found: the frames' payloads and any torn tail it cut off."""

    payloads: list[bytes]
    good_size: int
    torn_frames: int = 0
    torn_bytes: int = 0


def read_journal(
    path: Path, aead: Aead, store_id: bytes, gen: int, *, allow_torn_tail: bool
) -> JournalRead:
    data = path.read_bytes()
    size = len(data)
    out = JournalRead(payloads=[], good_size=0)
    pos = seq = 0
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
                    out.payloads.append(aead.open(body, frame_aad(store_id, gen, seq)))
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


def decode_changes(payload: bytes, where: str) -> Changes:
    try:
        raw = codec.loads(payload)
        if not isinstance(raw, list):
            raise ValueError("frame is not a list")
        changes: Changes = []
        for table, key, doc in raw:
            if not isinstance(table, str) or not isinstance(key, str):
                raise ValueError("bad change")
            if doc is not None and not isinstance(doc, dict):
                raise ValueError("bad document")
            changes.append((table, key, doc))
    except (ValueError, TypeError) as exc:
        raise StoreDamaged(what=where) from exc
    return changes


class Journal:
    """The open, active journal: appends one frame per transaction, durably, or not at all."""

    def __init__(self, path: Path, aead: Aead, store_id: bytes, gen: int, seq: int) -> None:
        self.path = path
        self.gen = gen
        self.seq = seq
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
        frame = encode_frame(self._aead, self._store_id, self.gen, self.seq, payload)
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

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
