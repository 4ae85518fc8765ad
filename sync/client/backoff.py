"""Capped exponential backoff with full jitter, for every retry the phone makes.

One function serves the HTTP transport's retries and the app's background probe ("is the server
back?"), so both spread their attempts the same way (AWS architecture blog, "Exponential Backoff
And Jitter": full jitter keeps many phones coming back at once from arriving in step).
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["full_jitter"]

_MAX_DOUBLINGS = 62  # far past any cap; keeps ``2**attempt`` a float-sized number


def full_jitter(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry ``attempt`` (0 = the first retry): uniform in
    ``[0, min(cap, base * 2**attempt))``."""
    return rand() * min(cap, base * 2 ** min(max(attempt, 0), _MAX_DOUBLINGS))
