"""Structured logs: one JSON object per line on stderr (event, device, batch, counts, timings).

Only ids, codes, counts and durations are ever logged: never a field value of a record, so no
name, phone or address can reach a log. :func:`event` accepts scalars only.
"""

from __future__ import annotations

import json
import logging
import sys
import time

LOGGER = logging.getLogger("linli.server")
Scalar = str | int | float | bool | None


def setup(level: int = logging.INFO) -> None:
    """Send the server's events to stderr as JSON lines (idempotent)."""
    if not any(getattr(h, "_linli", False) for h in LOGGER.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._linli = True  # type: ignore[attr-defined]
        LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


def event(name: str, /, level: int = logging.INFO, **fields: Scalar) -> None:
    if not LOGGER.isEnabledFor(level):
        return
    record: dict[str, Scalar] = {"ts": round(time.time(), 3), "event": name}
    for key, value in fields.items():
        record[key] = value if isinstance(value, Scalar) else str(type(value).__name__)
    LOGGER.log(level, json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
