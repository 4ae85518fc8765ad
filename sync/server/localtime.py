"""Times on the command line: typed and printed in the operation's local time zone.

The zone is the server config's ``timezone`` (default ``Asia/Shanghai``). A typed time is either
local ``YYYY-MM-DD HH:MM`` (or with seconds, or a ``T`` between date and time) in that zone, or ISO
with an offset or ``Z``; records store it as canonical UTC (:func:`sync.domain.times.to_iso`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.domain.times import to_iso
from sync.errors import ValidationError
from sync.server.config import ServerSetupError

SHOWN = "%Y-%m-%d %H:%M"


def zone(name: str) -> tzinfo:
    """The zone called ``name``; ``server.bad_timezone`` for a name the system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServerSetupError("server.bad_timezone", timezone=name) from exc


def parse(text: str, where: tzinfo) -> str:
    """The canonical UTC record time of a typed time (``cli.bad_time`` if it is not one)."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise ValidationError("cli.bad_time", text=text) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=where)
    return to_iso(moment)


def show(moment: datetime | str | int | None, where: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM`` in local time of a datetime, a record time or epoch milliseconds."""
    if moment is None:
        return ""
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment / 1000, UTC)
    elif isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(where).strftime(SHOWN)


def today(where: tzinfo, now: datetime | None = None) -> date:
    """Today's date in the operation's zone."""
    return (now or datetime.now(UTC)).astimezone(where).date()


def today_start(where: tzinfo, now: datetime | None = None) -> str:
    """The record time of today's local midnight (the first day of a status set today)."""
    day = today(where, now)
    return to_iso(datetime(day.year, day.month, day.day, tzinfo=where))


def show_date(moment: str | None, where: tzinfo) -> str:
    """``YYYY-MM-DD`` in local time of a record time ("" for none)."""
    return show(moment, where)[:10] if moment else ""
