"""Records of the team and the rows the team screens show; the base of the team screens.

Progress buckets of an assignment are the domain's (:func:`sync.domain.progress_bucket`):
``done``; ``revisit`` (someone has to go back); ``todo``. Cancelled assignments count nowhere. ``overdue`` counts open assignments past their deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.i18n import language, tr
from app.services.device import Device
from app.viewmodels.base import Navigator, Observable
from app.viewmodels.timefmt import Clock, local_time, utc_now
from sync.domain import ROLE_RANK, attention, label
from sync.domain.progress import Progress

UNASSIGNED = "unassigned"  # the member id of the "not assigned to anyone" row


def due_key(record: Mapping[str, Any]) -> str:
    """Sorts by the next deadline (ISO text sorts as time); undated last."""
    when = attention.deadline(record)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else str(record.get("due") or "~")


@dataclass(frozen=True)
class MemberRow:
    member_id: str  # UNASSIGNED for the row of assignments nobody has
    name: str
    role: str
    progress: Progress
    is_me: bool = False
    #: how this member's phone last reported ("14:05 同步 · 2 条未发送"; "从未同步"); "" when the
    #: server has not said (not a lead's phone, or an older server)
    phone_label: str = ""
    #: changes still on that phone at its last sync (None: not known)
    unsent: int | None = None


@dataclass(frozen=True)
class AssignmentRow:
    id: str
    type: str
    title: str
    place: str
    status: str
    status_label: str
    due: str
    overdue: bool
    assignee: str


@dataclass(frozen=True)
class RequestRow:
    id: str
    category: str
    urgency: str
    urgency_label: str
    status_label: str
    place: str
    due: str
    overdue: bool


class TeamData:
    """Reads of the team's records shared by the team screens."""

    def __init__(self, device: Device, now: Clock = utc_now) -> None:
        self.device, self.now = device, now

    @property
    def team_id(self) -> str | None:
        return self.device.team_id

    def team_name(self) -> str:
        team = self.device.get("team", self.team_id) if self.team_id else None
        return str(team.get("name") or self.team_id) if team else (self.team_id or "")

    def members(self) -> list[dict[str, Any]]:
        found = self.device.find("member", {"team_id": self.team_id}) if self.team_id else []
        return sorted(
            found,
            key=lambda m: (ROLE_RANK.get(m.get("role", ""), len(ROLE_RANK)), m.get("name", "")),
        )

    def assignments(self) -> list[dict[str, Any]]:
        if not self.team_id:
            return []
        return self.device.find(
            "assignment",
            {"team_id": self.team_id},
            predicate=lambda a: a.get("status") != "cancelled",
        )

    def open_requests(self) -> list[dict[str, Any]]:
        team = self.team_id
        return self.device.find(
            "request",
            predicate=lambda r: (
                r.get("status") not in attention.CLOSED and r.get("team_id") in (team, None)
            ),
        )

    def member_name(self, member_id: Any) -> str:
        if not member_id:
            return tr("ui.team.unassigned")
        member = self.device.get("member", str(member_id))
        return str(member.get("name")) if member and member.get("name") else str(member_id)

    def place_of(self, kind: Any, target_id: Any) -> str:
        """The address of a household, or the name of a place."""
        if not target_id:
            return ""
        if kind == "place":
            place = self.device.get("place", str(target_id))
            return str(place.get("name", "")) if place else ""
        household = self.device.get("household", str(target_id))
        return str(household.get("address", "")) if household else ""

    def assignment_row(self, a: Mapping[str, Any], now: datetime) -> AssignmentRow:
        lang = language()
        status = str(a.get("status", ""))
        kind = str(a.get("type", ""))
        return AssignmentRow(
            id=str(a["id"]),
            type=label("assignment.type", kind, lang) if kind else "",
            title=str(a.get("title") or ""),
            place=self.place_of(a.get("target_kind"), a.get("target_id")),
            status=status,
            status_label=label("assignment.status", status, lang) if status else "",
            due=local_time(attention.deadline(a) or a.get("due"), with_date=True),
            overdue=attention.is_overdue(a, now),
            assignee=self.member_name(a.get("assignee_id")),
        )

    def request_row(self, r: Mapping[str, Any], now: datetime) -> RequestRow:
        lang = language()
        urgency, status = str(r.get("urgency", "")), str(r.get("status", ""))
        return RequestRow(
            id=str(r["id"]),
            category=label("request.category", str(r.get("category", "")), lang),
            urgency=urgency,
            urgency_label=label("request.urgency", urgency, lang) if urgency else "",
            status_label=label("request.status", status, lang) if status else "",
            place=self.place_of("household", r.get("household_id")),
            due=local_time(r.get("due"), with_date=True),
            overdue=attention.is_overdue(r, now),
        )


class TeamScreen(Observable):
    """Base of the team screens: reloads when the device's data changes; ``close`` to stop."""

    def __init__(self, device: Device, nav: Navigator, now: Clock = utc_now) -> None:
        super().__init__()
        self.device, self.nav = device, nav
        self.data = TeamData(device, now)
        self.error: str | None = None
        self._unsubscribe = device.subscribe(self._device_changed)

    @property
    def allowed(self) -> bool:
        """Team screens are for team leads and coordinators."""
        return self.device.is_lead

    def _device_changed(self) -> None:
        if self.device.store is None:  # locked: the screen is about to go
            return
        self.load()
        self.changed()

    def load(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._unsubscribe()
