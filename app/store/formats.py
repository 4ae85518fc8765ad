"""Format versions of the phone store's files, and the rule for files written by a newer app.

Each kind of file carries its own version; see ``docs/upgrades.md`` ("Phone store format"):

=============  =======  ================================================================
file           version  how it is marked
=============  =======  ================================================================
``key.json``   1, 2     the ``"v"`` field (2 adds the checksum and the v2 key-wrap binding)
journal        1, 2, 3  1: no header (frames from byte 0); 2, 3: ``b"LLJRNL0N"`` then frames
snapshot       1        the magic ``b"LLSNAP02"`` (its two digits predate this numbering)
``head.bin``   1        the magic ``b"LLHEAD01"``
=============  =======  ================================================================

The app reads every version up to the one it writes and upgrades on open (key file: re-wrapped
after the right PIN; journals: folded into a new snapshot by a compaction started at open). A
version newer than this app knows is ``store.too_new`` ("update the app"), never "damaged": the
data is probably fine, this app is just too old to read it.
"""

from __future__ import annotations

import re

from sync.errors import StoreError

KEY_FORMAT = 2
JOURNAL_FORMAT = 3
SNAPSHOT_FORMAT = 1
HEAD_FORMAT = 1

_DIGITS = re.compile(rb"^[0-9]{2}$")


def too_new(what: str, found: int, known: int) -> StoreError:
    """The error for a file written by a newer app (``what`` names the file)."""
    return StoreError("store.too_new", what=what, found=found, known=known)


def magic_version(data: bytes, prefix: bytes) -> int | None:
    """The two-digit version after ``prefix`` at the start of ``data`` (``None``: no such magic)."""
    if not data.startswith(prefix):
        return None
    digits = data[len(prefix) : len(prefix) + 2]
    if not _DIGITS.match(digits):
        return None
    return int(digits)
