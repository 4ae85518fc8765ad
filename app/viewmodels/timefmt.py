"""Times and lengths of time as the screens show them: the one place dates and durations are
formatted.

Record times are UTC (``2022-04-01T08:30:00Z``); a person reads them in the phone's local time,
``HH:MM`` today and ``MM-DD HH:MM`` on other days (the same in both languages). Lengths of time
("2 小时 10 分钟" / "2 h 10 min") come from the ``field.json`` catalogs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.i18n import tr
from sync.domain import parse_iso

Clock = Callable[[], datetime]

_TIME = "%H:%M"
_DATE_TIME = "%m-%d %H:%M"
_FULL = "%Y-%m-%d %H:%M:%S"


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime | None:
    """The aware datetime of a record time (or a datetime as it is); ``None`` otherwise."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def local_time(value: Any, now: datetime | None = None, *, with_date: bool = False) -> str:
    """A record time (ISO text or aware datetime) as the phone's local ``HH:MM``, with ``MM-DD``
    in front when it is not today (relative to ``now``) or ``with_date``; "" when there is none."""
    when = parse_time(value)
    if when is None:
        return ""
    local = when.astimezone()
    if with_date:
        return local.strftime(_DATE_TIME)
    today = (now or utc_now()).astimezone().date()
    return local.strftime(_TIME if local.date() == today else _DATE_TIME)


def ms_label(ms: Any) -> str:
    """Milliseconds since the epoch as the phone's local ``YYYY-MM-DD HH:MM:SS``; "" if not a
    time."""
    if not isinstance(ms, int) or isinstance(ms, bool) or ms <= 0:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime(_FULL)


def is_today(value: Any, now: datetime) -> bool:
    when = parse_time(value)
    return when is not None and when.astimezone().date() == now.astimezone().date()


def span_text(span: timedelta) -> str:
    """A length of time, rounded down to the minute: "2 小时 10 分钟" / "2 h 10 min"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return tr("ui.field.span.days", d=days, h=hours)
    if hours:
        return tr("ui.field.span.hours", h=hours, m=mins)
    return tr("ui.field.span.minutes", m=mins)


def countdown_text(remaining: timedelta | None) -> str:
    """ "还剩 2 小时 10 分钟" / "已超时 35 分钟"; "" once there is no deadline."""
    if remaining is None:
        return ""
    if remaining.total_seconds() < 0:
        return tr("ui.field.sla.overdue", time=span_text(-remaining))
    return tr("ui.field.sla.due_in", time=span_text(remaining))
