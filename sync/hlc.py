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
    """A thread-safe HLC. ``now()`` stamps a local event; ``observe()`` folds in a remote one.

    With a :class:`ServerTime` (the phone's), the wall time comes from :meth:`ServerTime.wall`
    and the clock never holds a time beyond :meth:`ServerTime.ceiling`: a clock that once read a
    far-future date is wound back to the corrected wall time as soon as the server's time is
    known, so one wrong date never sticks."""

    def __init__(
        self,
        last: str | None = None,
        clock: Callable[[], int] = wall_ms,
        *,
        server: ServerTime | None = None,
    ) -> None:
        self._clock = server.wall if server is not None else clock
        self.server = server
        self._lock = threading.Lock()
        self._ms, self._counter = decode(last) if last else (0, 0)
        self._rewound = False

    @property
    def last(self) -> str:
        """The clock's state (what the phone persists), rewound first if it is beyond the
        ceiling."""
        with self._lock:
            self._rewind()
            return encode(self._ms, self._counter)

    def _rewind(self) -> bool:
        ceiling = self.server.ceiling() if self.server is not None else None
        if ceiling is None or self._ms <= ceiling:
            return False
        self._ms, self._counter = min(self._clock(), ceiling), 0
        self._rewound = True
        return True

    def take_rewound(self) -> bool:
        """True once after the clock was wound back (stamps it made earlier may be too late)."""
        with self._lock:
            self._rewind()
            rewound, self._rewound = self._rewound, False
            return rewound

    def now(self) -> str:
        with self._lock:
            self._rewind()
            wall = self._clock()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                self._bump()
            return encode(self._ms, self._counter)

    def observe(self, remote: str) -> str:
        r_ms, r_counter = decode(remote)
        with self._lock:
            self._rewind()
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


#: how far ahead of the server's time an op's stamp may be before the server refuses it
#: (``op.clock_ahead``); the server and the phone share this one number.
AHEAD_WINDOW_MS = 10 * 60 * 1000
#: the phone keeps its clock within this of the server's time it last saw: half the window, so a
#: stamp made right up to its limit is still well inside what the server accepts.
SAFE_AHEAD_MS = AHEAD_WINDOW_MS // 2


class ServerTime:
    """The server's time as this phone last saw it, carried forward by the local monotonic
    clock (which a user setting the date does not move).

    Only a *trusted* sighting (the signed ``server_time`` of a sealed answer) moves the clock
    (:meth:`now`, :meth:`wall`, :meth:`ceiling`); any sighting, the unsigned ``X-Linli-Time``
    header of a refusal too, feeds :meth:`skew` — what the phone shows, never what it stamps."""

    def __init__(
        self,
        wall: Callable[[], int] = wall_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall, self._monotonic = wall, monotonic
        self._lock = threading.Lock()
        self._seen: tuple[int, float] | None = None
        self._hint: tuple[int, float] | None = None

    def saw(self, server_ms: int, *, trusted: bool = True) -> None:
        """Note the server's time ``server_ms``, received just now."""
        with self._lock:
            sighting = (server_ms, self._monotonic())
            self._hint = sighting
            if trusted:
                self._seen = sighting

    def _carried(self, sighting: tuple[int, float] | None) -> int | None:
        if sighting is None:
            return None
        ms, at = sighting
        return ms + max(0, int((self._monotonic() - at) * 1000))

    def skew(self) -> int | None:
        """Local wall − the server's estimated time now (ms; positive: this phone is ahead),
        from the latest sighting; ``None`` before any."""
        with self._lock:
            server = self._carried(self._hint)
        return None if server is None else self._wall() - server

    def local_is_wrong(self) -> bool:
        """True while the local wall clock is further than the window from the server's time."""
        skew = self.skew()
        return skew is not None and abs(skew) > AHEAD_WINDOW_MS

    def now(self) -> int | None:
        """The server's time now, estimated from the last trusted sighting; ``None`` before."""
        with self._lock:
            return self._carried(self._seen)

    def wall(self) -> int:
        """The wall time to stamp with: the local clock, unless it runs ahead of the server's
        estimated time by more than :data:`SAFE_AHEAD_MS` (then the server's estimate); never
        behind the server's estimate (a slow clock would lose every last-writer-wins tie)."""
        local = self._wall()
        server = self.now()
        if server is None:
            return local
        if local > server + SAFE_AHEAD_MS:
            return server
        return max(local, server)

    def ceiling(self) -> int | None:
        """The largest wall time this phone's clock may hold (or persist): the server's estimated
        time plus the whole :data:`AHEAD_WINDOW_MS` (a pulled op may be stamped that far ahead,
        and an edit must stamp after what it edits); ``None`` before any server time was seen."""
        server = self.now()
        return None if server is None else server + AHEAD_WINDOW_MS
