"""Hybrid logical clocks (Kulkarni et al., 2014).

A timestamp is the string ``"<wall ms, 15 digits>:<counter, 5 digits>"`` so that string order is
time order. Ties between devices are broken by the device id, giving a total order
``(hlc, device)`` for last-writer-wins merges.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_WIDTH_MS = 15
_WIDTH_COUNTER = 5
MAX_COUNTER = 10**_WIDTH_COUNTER - 1
ZERO = f"{0:0{_WIDTH_MS}d}:{0:0{_WIDTH_COUNTER}d}"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def encode(ms: int, counter: int) -> str:
    if ms < 0 or not 0 <= counter <= MAX_COUNTER:
        raise ValueError(f"HLC out of range: {ms}, {counter}")
    return f"{ms:0{_WIDTH_MS}d}:{counter:0{_WIDTH_COUNTER}d}"


def decode(stamp: str) -> tuple[int, int]:
    """``(ms, counter)`` of a timestamp; ``ValueError`` if it is not one."""
    ms_s, sep, counter_s = stamp.partition(":")
    if (
        sep != ":"
        or len(ms_s) != _WIDTH_MS
        or len(counter_s) != _WIDTH_COUNTER
        or not ms_s.isdigit()
        or not counter_s.isdigit()
    ):
        raise ValueError(f"not an HLC timestamp: {stamp!r}")
    return int(ms_s), int(counter_s)


def is_valid(stamp: object) -> bool:
    if not isinstance(stamp, str):
        return False
    try:
        decode(stamp)
    except ValueError:
        return False
    return True


def wall_of(stamp: str) -> int:
    return decode(stamp)[0]


class HybridClock:
    """A thread-safe HLC. ``now()`` stamps a local event; ``observe()`` folds in a remote one."""

    def __init__(self, last: str | None = None, clock: Callable[[], int] = wall_ms) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ms, self._counter = decode(last) if last else (0, 0)

    @property
    def last(self) -> str:
        with self._lock:
            return encode(self._ms, self._counter)

    def now(self) -> str:
        with self._lock:
            wall = self._clock()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                self._bump()
            return encode(self._ms, self._counter)

    def observe(self, remote: str) -> str:
        r_ms, r_counter = decode(remote)
        with self._lock:
            wall = self._clock()
            top = max(wall, self._ms, r_ms)
            if top == self._ms and top == r_ms:
                self._counter = max(self._counter, r_counter)
                self._bump()
            elif top == self._ms:
                self._bump()
            elif top == r_ms:
                self._ms, self._counter = r_ms, r_counter
                self._bump()
            else:
                self._ms, self._counter = wall, 0
            return encode(self._ms, self._counter)

    def _bump(self) -> None:
        if self._counter >= MAX_COUNTER:
            self._ms, self._counter = self._ms + 1, 0
        else:
            self._counter += 1
