"""``/team/handover`` (the shift's handover notes) and ``/team/summary`` (end of shift)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.i18n import tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator, error_text, sync_now_text
from app.viewmodels.team.data import (
    Clock,
    RequestRow,
    TeamScreen,
    due_key,
    local_time,
    utc_now,
)
from sync.domain import URGENT_LEVELS, changes, to_iso
from sync.domain.progress import Progress, progress_of
from sync.errors import LinliError

SHIFT_HOURS = 8  # the length of a shift a team lead starts from the phone


@dataclass(frozen=True)
class NoteRow:
    id: str
    author: str
    at: str
    text: str


class HandoverViewModel(TeamScreen):
    """``/team/handover``: the team's current shift and its handover notes; append a note.

    The shift shown is the one running now; else the latest one that has ended; else the next.
    """

    def __init__(self, device: Device, nav: Navigator, now: Clock = utc_now) -> None:
        super().__init__(device, nav, now)
        self.shift: dict[str, Any] | None = None
        self.phase = ""  # current | past | upcoming
        self.notes: list[NoteRow] = []
        self.draft = ""
        self.busy = False
        self.load()

    def load(self) -> None:
        shifts = (
            self.device.find("shift", {"team_id": self.data.team_id}) if self.data.team_id else []
        )
        now = self.data.now()
        self.shift, self.phase = pick_shift(shifts, now)
        children = (self.shift or {}).get("handover") or []
        notes = sorted(children, key=lambda n: (str(n.get("at", "")), str(n.get("id", ""))))
        self.notes = [
            NoteRow(
                id=str(n.get("id", "")),
                author=self.data.member_name(n.get("member")),
                at=local_time(n.get("at"), with_date=True),
                text=str(n.get("text", "")),
            )
            for n in reversed(notes)
        ]

    @property
    def can_start_shift(self) -> bool:
        """No shift is running and this phone's member may create the team's shifts."""
        return self.phase != "current" and self.allowed and bool(self.data.team_id)

    def start_shift(self) -> bool:
        """Start a shift of :data:`SHIFT_HOURS` for the team now (durable)."""
        if not self.can_start_shift or self.busy:
            return False
        now = self.data.now()
        values = {
            "team_id": self.data.team_id,
            "starts": to_iso(now),
            "ends": to_iso(now + timedelta(hours=SHIFT_HOURS)),
        }
        try:
            op = changes.make_op("shift", set=values, current=None, **self.device.author())
            self.device.record(op)
        except LinliError as exc:
            self.error = error_text(exc)
            self.changed()
            return False
        self.error = None
        self.load()
        self.changed()
        self.nav.notify(tr("ui.team.shift_started"))
        return True

    @property
    def shift_label(self) -> str:
        if self.shift is None:
            return ""
        starts = local_time(self.shift.get("starts"), with_date=True)
        ends = local_time(self.shift.get("ends"), with_date=True)
        if ends[:5] == starts[:5]:  # same day: the end time alone
            ends = ends[6:]
        return tr(f"ui.team.shift_{self.phase}", starts=starts, ends=ends)

    def append(self) -> bool:
        """Append the draft as a handover note (durable before it returns True)."""
        text = self.draft.strip()
        if self.shift is None:
            self.error = tr("ui.team.no_shift")
            self.changed()
            return False
        if not text:
            self.error = tr("ui.team.note_empty")
            self.changed()
            return False
        self.busy, self.error = True, None
        self.changed()
        try:
            op = changes.add_note(self.shift, text, kind="shift", **self.device.author())
            self.device.record(op)
        except LinliError as exc:
            self.busy, self.error = False, error_text(exc)
            self.changed()
            return False
        self.busy, self.draft = False, ""
        self.load()
        self.changed()
        self.nav.notify(tr("ui.team.note_saved"))
        return True


def pick_shift(shifts: list[dict[str, Any]], now: datetime) -> tuple[dict[str, Any] | None, str]:
    """The shift to hand over on: running now, else the latest ended, else the next to come."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dated = [
        s for s in shifts if isinstance(s.get("starts"), str) and isinstance(s.get("ends"), str)
    ]
    running = [s for s in dated if s["starts"] <= stamp < s["ends"]]
    if running:
        return max(running, key=lambda s: s["starts"]), "current"
    ended = [s for s in dated if s["ends"] <= stamp]
    if ended:
        return max(ended, key=lambda s: s["ends"]), "past"
    upcoming = [s for s in dated if s["starts"] > stamp]
    if upcoming:
        return min(upcoming, key=lambda s: s["starts"]), "upcoming"
    return None, ""


class ShiftSummaryViewModel(TeamScreen):
    """``/team/summary``: what is done and what is left before the shift ends, and a sync."""

    def __init__(
        self, device: Device, sync: SyncService, nav: Navigator, now: Clock = utc_now
    ) -> None:
        self.sync = sync
        super().__init__(device, nav, now)
        self.progress = Progress()
        self.urgent: list[RequestRow] = []
        self.message: str | None = None
        self.load()
        self._unsubscribe_sync = sync.subscribe(self.changed)

    def load(self) -> None:
        now = self.data.now()
        self.progress = progress_of(self.data.assignments(), now)
        urgent = [r for r in self.data.open_requests() if r.get("urgency") in URGENT_LEVELS]
        urgent.sort(key=lambda r: (r.get("urgency") != "emergency", due_key(r), str(r["id"])))
        self.urgent = [self.data.request_row(r, now) for r in urgent]

    @property
    def unsynced(self) -> int:
        return self.sync.status.pending

    @property
    def syncing(self) -> bool:
        return self.sync.status.syncing

    @property
    def sync_progress(self) -> float | None:
        return self.sync.status.progress

    def sync_now(self) -> bool:
        """Sync at once (call off the UI thread). True when everything went to the server."""
        self.error, self.message = None, None
        self.changed()
        outcome = sync_now_text(self.sync, busy_key="ui.team.sync_busy", done_key="ui.team.synced")
        self.error, self.message = outcome.error, outcome.message
        self.changed()
        return outcome.summary is not None and outcome.summary.pending == 0

    def open_request(self, request_id: str) -> None:
        self.nav.go(f"/request/{request_id}")

    def close(self) -> None:
        super().close()
        self._unsubscribe_sync()
