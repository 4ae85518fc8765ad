"""Correcting stamps a wrong clock wrote: the pure part of :meth:`LocalStore.restamp`.

A record keeps, per field and per child, the ``"<hlc>@<device>"`` stamp of the op that wrote it
(:mod:`sync.merge`). When this phone's pending ops are re-stamped from a corrected clock, the
stamps they left in records are replaced by their new ones, so the record is exactly what the
re-stamped ops would have made. Any other stamp beyond the ceiling (a far-future date no server
will ever accept, e.g. an edit an older app dropped after the server refused it) is lowered to
``floor`` — the server's time: the local value is kept, and the next server change to that field
wins, as it would have without the wrong clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync import hlc
from sync.merge import CLOCK


def _corrected(stamp: Any, renamed: Mapping[str, str], ceiling_ms: int, floor: str) -> Any:
    if not isinstance(stamp, str):
        return stamp
    if stamp in renamed:
        return renamed[stamp]
    at, sep, device = stamp.partition("@")
    if sep and hlc.is_valid(at) and hlc.wall_of(at) > ceiling_ms:
        return f"{floor}@{device}"
    return stamp


def correct_record(
    record: Mapping[str, Any], renamed: Mapping[str, str], ceiling_ms: int, floor: str
) -> dict[str, Any] | None:
    """``record`` with its stamps corrected (a new dict), or ``None`` if none needed it.

    ``renamed`` maps old stamps to new ones; other stamps with a wall time past ``ceiling_ms``
    become ``floor@<their device>``."""
    changed = False
    out: dict[str, Any] = dict(record)
    clocks = record.get(CLOCK)
    if isinstance(clocks, dict):
        fixed = {k: _corrected(v, renamed, ceiling_ms, floor) for k, v in clocks.items()}
        if fixed != clocks:
            out[CLOCK], changed = fixed, True
    for name, value in record.items():
        if name == CLOCK or not isinstance(value, list):
            continue
        children = []
        for child in value:
            if isinstance(child, dict) and CLOCK in child:
                new = _corrected(child[CLOCK], renamed, ceiling_ms, floor)
                if new != child[CLOCK]:
                    child, changed = {**child, CLOCK: new}, True
            children.append(child)
        out[name] = children
    return out if changed else None
