"""What needs attention: overdue work, a request's time left, residents who need extra care."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from sync.domain.times import parse_iso
from sync.domain.vocab import REVISIT_DUE_STATUSES

#: statuses after which an assignment or request no longer runs against its deadline (a
#: resolved request has been answered and only awaits the resident's confirmation)
CLOSED: Final = frozenset({"done", "cancelled", "resolved", "confirmed"})


def deadline(record: Mapping[str, Any]) -> datetime | None:
    """When an open assignment or request must next be acted on: its ``due``, or an earlier
    ``revisit_due`` while it waits for a return visit. ``None`` if closed or undated."""
    if record.get("status") in CLOSED:
        return None
    candidates = [record.get("due")]
    if record.get("status") in REVISIT_DUE_STATUSES:
        candidates.append(record.get("revisit_due"))
    dates = [parse_iso(c) for c in candidates if isinstance(c, str)]
    return min(dates, default=None)


def is_overdue(record: Mapping[str, Any], now: datetime) -> bool:
    """An open assignment or request whose :func:`deadline` has passed at ``now`` (aware)."""
    when = deadline(record)
    return when is not None and when < now


def sla_remaining(request: Mapping[str, Any], now: datetime) -> timedelta | None:
    """Time left to answer an open request (negative once overdue); ``None`` once answered."""
    due = request.get("due")
    if request.get("status") in CLOSED or not isinstance(due, str):
        return None
    return parse_iso(due) - now


def key_care(resident: Mapping[str, Any]) -> bool:
    """A resident who needs extra care: any care flag, or aged 80 or over."""
    return bool(resident.get("care_flags")) or resident.get("age_band") == "80+"
