"""Control status with its dates: "day N of 14" (第 N 天/共 14 天), shared by phone and console.

A place or household under control (any status but ``normal``) may carry ``control_since`` (the
first day) and ``control_until`` (the planned release), both record times (UTC). People count in
whole days of their own calendar: the first day is day 1, and a status from 1 April with release
on 15 April is "day N of 14". The caller gives the calendar (the phone's zone, the operation's
zone on the console) and today's date in it.

Records written before schema 4 have no dates: :func:`control_days` is then ``None`` and the
status is shown alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any, Final

from sync.domain.labels import label
from sync.domain.times import parse_iso
from sync.i18n import t

NORMAL: Final = "normal"
#: the days a home isolation lasts when the person setting it gives no planned release
HOME_ISOLATION_DAYS: Final = 14

UPCOMING: Final = "upcoming"  # the first day is still ahead
COUNTING: Final = "counting"  # day ``day`` (of ``total`` when a release is planned)
DUE: Final = "due"  # the planned release day has come


@dataclass(frozen=True, slots=True)
class ControlDays:
    state: str
    day: int  # 1 on the first day (0 or less before it)
    total: int | None  # days from the first day to the planned release; None: none planned
    since: date
    until: date | None


def local_date(value: Any, zone: tzinfo) -> date | None:
    """The calendar day of a record time in ``zone``; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value).astimezone(zone).date()
    except ValueError:
        return None


def control_days(record: Mapping[str, Any] | None, today: date, zone: tzinfo) -> ControlDays | None:
    """Where ``today`` falls in the record's control period; ``None`` when the record is not
    under control or has no first day (a record from before schema 4)."""
    if not record or record.get("control") in (None, NORMAL):
        return None
    since = local_date(record.get("control_since"), zone)
    if since is None:
        return None
    until = local_date(record.get("control_until"), zone)
    total = (until - since).days if until is not None and until > since else None
    day = (today - since).days + 1
    if day < 1:
        state = UPCOMING
    elif until is not None and today >= until:
        state = DUE
    else:
        state = COUNTING
    return ControlDays(state, day, total, since, until if total is not None else None)


def days_text(days: ControlDays | None, lang: str | None = None) -> str:
    """``第 3 天/共 14 天`` / ``day 3 of 14`` (or the start or release day); "" for none."""
    if days is None:
        return ""
    if days.state == UPCOMING:
        return t("domain.control_days.upcoming", lang, since=days.since.isoformat())
    if days.state == DUE and days.until is not None:
        return t("domain.control_days.due", lang, until=days.until.isoformat())
    if days.total is not None:
        return t("domain.control_days.of", lang, n=days.day, total=days.total)
    return t("domain.control_days.n", lang, n=days.day)


def control_text(
    record: Mapping[str, Any] | None, today: date, zone: tzinfo, lang: str | None = None
) -> str:
    """The status and its day count in words: ``居家隔离 · 第 1 天/共 14 天``; the status alone
    without dates; "" for a record not under control."""
    if not record:
        return ""
    status = record.get("control")
    if not isinstance(status, str) or status == NORMAL:
        return ""
    shown = label("control", status, lang)
    count = days_text(control_days(record, today, zone), lang)
    return f"{shown} · {count}" if count else shown
