"""``/team`` (the board), ``/team/member/{id}`` (one member's list) and
``/team/reassign/{id}`` (give an assignment to another member)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.i18n import language, tr
from app.services.device import Device
from app.viewmodels.base import Navigator, error_text
from app.viewmodels.team.data import (
    UNASSIGNED,
    AssignmentRow,
    Clock,
    MemberRow,
    TeamScreen,
    due_key,
    utc_now,
)
from app.viewmodels.timefmt import local_time
from sync.client.engine import META_TEAM_PHONES
from sync.domain import URGENT_LEVELS, attention, label, progress_bucket
from sync.domain.progress import Progress, progress_of
from sync.errors import LinliError


def _phone_label(phones: dict[str, dict[str, Any]] | None, member: str, now: Any) -> str:
    if phones is None:
        return ""
    phone = phones.get(member)
    if phone is None or not isinstance(phone.get("last_sync"), int):
        return tr("ui.team.phone_never")
    when = local_time(datetime.fromtimestamp(phone["last_sync"] / 1000, UTC), now)
    pending = phone.get("pending")
    if isinstance(pending, int) and pending > 0:
        return tr("ui.team.phone_unsent", time=when, n=pending)
    return tr("ui.team.phone_synced", time=when)


class TeamBoardViewModel(TeamScreen):
    """``/team``: every member of the team with their progress; the team's open requests."""

    def __init__(self, device: Device, nav: Navigator, now: Clock = utc_now) -> None:
        super().__init__(device, nav, now)
        self.team_name = ""
        self.rows: list[MemberRow] = []
        self.totals = Progress()
        self.open_requests = 0
        self.urgent_requests = 0
        self.load()

    def load(self) -> None:
        now = self.data.now()
        self.team_name = self.data.team_name()
        assignments = self.data.assignments()
        by_member: dict[str, list[dict[str, Any]]] = {}
        for a in assignments:
            by_member.setdefault(str(a.get("assignee_id") or UNASSIGNED), []).append(a)
        lang = language()
        phones = self._phones()
        rows = [
            MemberRow(
                member_id=str(m["id"]),
                name=str(m.get("name", "")),
                role=label("member.role", str(m.get("role", "")), lang),
                progress=progress_of(by_member.pop(str(m["id"]), []), now),
                is_me=m["id"] == self.device.member_id,
                phone_label=_phone_label(phones, str(m["id"]), now),
                unsent=(phones or {}).get(str(m["id"]), {}).get("pending"),
            )
            for m in self.data.members()
        ]
        # assignees who are no longer listed in the team, then the unassigned ones
        unassigned = by_member.pop(UNASSIGNED, [])
        for member_id, items in sorted(by_member.items()):
            rows.append(
                MemberRow(member_id, self.data.member_name(member_id), "", progress_of(items, now))
            )
        if unassigned:
            rows.append(
                MemberRow(UNASSIGNED, tr("ui.team.unassigned"), "", progress_of(unassigned, now))
            )
        self.rows = rows
        self.totals = progress_of(assignments, now)
        requests = self.data.open_requests()
        self.open_requests = len(requests)
        self.urgent_requests = sum(r.get("urgency") in URGENT_LEVELS for r in requests)

    def _phones(self) -> dict[str, dict[str, Any]] | None:
        """How each teammate's phone last reported, as the server told this lead's phone at its
        last sync; ``None`` when it has not (an older server)."""
        store = self.device.store
        kept = store.get_meta(META_TEAM_PHONES) if store is not None else None
        if not isinstance(kept, dict) or not isinstance(kept.get("phones"), list):
            return None
        return {str(p.get("member")): p for p in kept["phones"] if isinstance(p, dict)}

    def open_member(self, member_id: str) -> None:
        self.nav.go(f"/team/member/{member_id}")

    def open_requests_list(self) -> None:
        self.nav.go("/requests")

    def open_handover(self) -> None:
        self.nav.go("/team/handover")

    def open_summary(self) -> None:
        self.nav.go("/team/summary")


class MemberListViewModel(TeamScreen):
    """``/team/member/{id}``: one member's assignments, the ones needing attention first."""

    def __init__(
        self, device: Device, nav: Navigator, member_id: str, now: Clock = utc_now
    ) -> None:
        super().__init__(device, nav, now)
        self.member_id = member_id
        self.name = ""
        self.rows: list[AssignmentRow] = []
        self.progress = Progress()
        self.load()

    def load(self) -> None:
        now = self.data.now()
        wanted = None if self.member_id == UNASSIGNED else self.member_id
        mine = [a for a in self.data.assignments() if (a.get("assignee_id") or None) == wanted]
        self.name = self.data.member_name(wanted)
        self.progress = progress_of(mine, now)
        rank = {"revisit": 1, "todo": 1, "done": 2}
        mine.sort(
            key=lambda a: (
                not attention.is_overdue(a, now),
                rank.get(progress_bucket(a.get("status")) or "", 3),
                due_key(a),
                str(a["id"]),
            )
        )
        self.rows = [self.data.assignment_row(a, now) for a in mine]

    def open(self, assignment_id: str) -> None:
        self.nav.go(f"/assignment/{assignment_id}")

    def reassign(self, assignment_id: str) -> None:
        """To the reassign screen, coming back to this list afterwards."""
        self.nav.go(f"/team/member/{self.member_id}/reassign/{assignment_id}")


@dataclass(frozen=True)
class MemberChoice:
    member_id: str
    name: str
    role: str
    open_count: int  # assignments still to do or revisit
    current: bool


class ReassignViewModel(TeamScreen):
    """``/team/reassign/{id}``: give an assignment to another member of the team (durable)."""

    def __init__(
        self, device: Device, nav: Navigator, assignment_id: str, now: Clock = utc_now
    ) -> None:
        super().__init__(device, nav, now)
        self.assignment_id = assignment_id
        self.assignment: AssignmentRow | None = None
        self.choices: list[MemberChoice] = []
        self.blocked: str | None = None
        self.busy = False
        self.load()

    def load(self) -> None:
        record = self.device.get("assignment", self.assignment_id)
        if record is None:
            self.assignment, self.choices = None, []
            self.blocked = tr("ui.team.reassign_missing")
            return
        now = self.data.now()
        self.assignment = self.data.assignment_row(record, now)
        current = record.get("assignee_id")
        status = record.get("status")
        self.blocked = (
            tr("ui.team.reassign_final", status=self.assignment.status_label)
            if status in ("done", "cancelled")
            else None
        )
        open_by: dict[str, int] = {}
        for a in self.data.assignments():
            if progress_bucket(a.get("status")) in ("todo", "revisit") and a.get("assignee_id"):
                open_by[str(a["assignee_id"])] = open_by.get(str(a["assignee_id"]), 0) + 1
        lang = language()
        self.choices = [
            MemberChoice(
                member_id=str(m["id"]),
                name=str(m.get("name", "")),
                role=label("member.role", str(m.get("role", "")), lang),
                open_count=open_by.get(str(m["id"]), 0),
                current=m["id"] == current,
            )
            for m in self.data.members()
        ]

    def reassign(self, member_id: str) -> bool:
        """Set the assignee (kept on the phone at once, synced later). True when saved."""
        if self.assignment is None or self.blocked or self.busy:
            return False
        choice = next((c for c in self.choices if c.member_id == member_id), None)
        if choice is None:
            self.error = tr("ui.team.reassign_not_member")
            self.changed()
            return False
        if choice.current:
            self.nav.notify(tr("ui.team.reassign_same", name=choice.name))
            return False
        self.busy, self.error = True, None
        self.changed()
        try:
            self.device.change("assignment", self.assignment_id, set={"assignee_id": member_id})
        except LinliError as exc:
            self.busy, self.error = False, error_text(exc)
            self.changed()
            return False
        self.busy = False
        self.nav.notify(tr("ui.team.reassigned", name=choice.name))
        self.nav.back()
        return True
