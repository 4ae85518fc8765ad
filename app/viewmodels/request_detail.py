"""One resident's request: details, SLA, the status changes allowed from the current status,
the assignee, and notes.

Who may do what follows the server's rules: a volunteer moves the status of requests assigned to
them and adds notes to any; a team lead (or coordinator) moves any status and assigns a member
of the team. Status changes offered are those the request machine allows from the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from app.i18n import language, tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator, ViewModel
from app.viewmodels.field_common import (
    Rejection,
    current_rejections,
    dismiss_rejection,
    household_label,
    problem_text,
    unsent_children,
)
from app.viewmodels.requests import member_names
from app.viewmodels.timefmt import Clock, countdown_text, local_time, utc_now
from sync.domain import REQUEST_MACHINE, attention, changes, label, sla_remaining, to_iso
from sync.errors import LinliError


@dataclass(frozen=True)
class NoteRow:
    id: str
    at_label: str
    member: str
    text: str
    #: still on this phone only (not yet sent to the command centre)
    unsent: bool = False


ACTION_KEYS: Final = {
    ("new", "acknowledged"): "ui.field.request.action.acknowledge",
    ("acknowledged", "in_progress"): "ui.field.request.action.start",
    ("in_progress", "resolved"): "ui.field.request.action.resolve",
    ("resolved", "confirmed"): "ui.field.request.action.confirm",
    ("resolved", "in_progress"): "ui.field.request.action.reopen",
}


class RequestDetailViewModel(ViewModel):
    """State of ``/request/{id}``. Call :meth:`close` when the screen goes."""

    def __init__(
        self,
        device: Device,
        nav: Navigator,
        request_id: str,
        sync: SyncService | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.device, self.nav, self.sync, self.now = device, nav, sync, now
        self.request_id = request_id
        self.request: dict[str, Any] | None = None
        self.household: dict[str, Any] | None = None
        self.notes: list[NoteRow] = []
        self.members: list[tuple[str, str]] = []
        self.note = ""
        self.busy = False
        self.error: str | None = None
        self.rejection: Rejection | None = None
        self.watch(device, self.refresh)
        if sync is not None:
            self.watch(sync, self._sync_changed)
        self.refresh()

    # ------------------------------------------------------------------ what is shown

    @property
    def found(self) -> bool:
        return self.request is not None

    def _r(self, name: str) -> str:
        value = (self.request or {}).get(name)
        return "" if value is None else str(value)

    @property
    def status(self) -> str:
        return self._r("status")

    @property
    def status_label(self) -> str:
        return label("request.status", self.status, language())

    @property
    def category_label(self) -> str:
        return label("request.category", self._r("category"), language())

    @property
    def urgency(self) -> str:
        return self._r("urgency")

    @property
    def urgency_label(self) -> str:
        return label("request.urgency", self.urgency, language())

    @property
    def address(self) -> str:
        return household_label(self.household)

    @property
    def description(self) -> str:
        return self._r("description")

    @property
    def contact(self) -> str:
        return self._r("contact")

    @property
    def created_label(self) -> str:
        return local_time(self._r("created_at") or None, self.now())

    @property
    def due_label(self) -> str:
        return local_time(self._r("due") or None, self.now())

    @property
    def sla_text(self) -> str:
        if self.request is None:
            return ""
        return countdown_text(sla_remaining(self.request, self.now()))

    @property
    def overdue(self) -> bool:
        return self.request is not None and attention.is_overdue(self.request, self.now())

    @property
    def assignee_id(self) -> str | None:
        return self._r("assignee_id") or None

    @property
    def assignee(self) -> str:
        names = dict(self.members)
        a = self.assignee_id
        return names.get(a, a) if a else tr("ui.field.request.unassigned")

    @property
    def can_change_status(self) -> bool:
        return self.found and (self.device.is_lead or self.assignee_id == self.device.member_id)

    @property
    def can_take(self) -> bool:
        """A team-pool request (the team's, nobody's yet): any member may take it (接单); the
        first take the server accepts wins, a later one is told who has it."""
        return (
            self.found
            and not REQUEST_MACHINE.is_final(self.status)
            and self.assignee_id is None
            and bool(self._r("team_id"))
            and self._r("team_id") == self.device.team_id
        )

    def take(self) -> bool:
        if not self.can_take:
            self.error = tr("ui.field.request.not_allowed")
            self.changed()
            return False
        request = self.request or {}
        return self._keep(
            lambda: changes.take(request, kind="request", **self.device.author()),
            tr("ui.field.request.taken"),
        )

    @property
    def can_assign(self) -> bool:
        return self.found and self.device.is_lead and not REQUEST_MACHINE.is_final(self.status)

    def actions(self) -> list[tuple[str, str]]:
        """``(to_status, button text)`` of each status change offered from the current one."""
        if not self.can_change_status:
            return []
        role = self.device.role or ""
        out = []
        for to in REQUEST_MACHINE.next_states(self.status):
            if role not in REQUEST_MACHINE.roles_for(self.status, to):
                continue
            key = ACTION_KEYS.get((self.status, to), f"ui.field.request.action.{to}")
            out.append((to, tr(key)))
        return out

    # ------------------------------------------------------------------ loading

    def _find_rejection(self) -> Rejection | None:
        if self.device.store is None:
            return None
        return current_rejections(self.device, self.sync).get(("request", self.request_id))

    def _sync_changed(self) -> None:
        found = self._find_rejection()
        if found != self.rejection:
            self.rejection = found
            self.changed()

    def refresh(self) -> None:
        if self.device.store is None:
            return
        now = self.now()
        self.request = self.device.get("request", self.request_id)
        r = self.request or {}
        hh = r.get("household_id")
        self.household = self.device.get("household", hh) if isinstance(hh, str) else None
        names = member_names(self.device)
        team = self.device.team_id or r.get("team_id")
        self.members = (
            sorted(
                (
                    (m["id"], str(m.get("name") or m["id"]))
                    for m in self.device.find("member", {"team_id": team})
                ),
                key=lambda m: m[1],
            )
            if team
            else []
        )
        unsent = unsent_children(self.device, "request", self.request_id)
        self.notes = [
            NoteRow(
                id=str(n.get("id")),
                at_label=local_time(n.get("at"), now),
                member=names.get(str(n.get("member")), str(n.get("member") or "")),
                text=str(n.get("text") or ""),
                unsent=str(n.get("id")) in unsent,
            )
            for n in reversed(r.get("notes") or [])
        ]
        self.rejection = self._find_rejection()
        self.changed()

    # ------------------------------------------------------------------ actions

    def _keep(self, build: Any, message: str) -> bool:
        if self.request is None or self.busy:
            return False
        self.busy, self.error = True, None
        self.changed()
        try:
            self.device.record(build())
        except LinliError as exc:
            self.busy, self.error = False, problem_text(exc)
            self.changed()
            self.nav.notify(self.error, error=True)
            return False
        self.busy = False
        self.refresh()
        self.nav.notify(message)
        return True

    def set_status(self, to: str) -> bool:
        if to not in dict(self.actions()):
            self.error = tr("ui.field.request.not_allowed")
            self.changed()
            return False
        request = self.request or {}
        return self._keep(
            lambda: changes.transition("request", request, to, **self.device.author()),
            tr("ui.field.saved_local"),
        )

    def assign(self, member_id: str) -> bool:
        if not self.can_assign or member_id not in dict(self.members):
            self.error = tr("ui.field.request.not_allowed")
            self.changed()
            return False
        return self._keep(
            lambda: self.device.make_op("request", self.request_id, set={"assignee_id": member_id}),
            tr("ui.field.saved_local"),
        )

    def add_note(self) -> bool:
        text = self.note.strip()
        if not text:
            self.error = tr("ui.field.request.note_empty")
            self.changed()
            return False
        request = self.request or {}
        kept = self._keep(
            lambda: changes.add_note(request, text, at=to_iso(self.now()), **self.device.author()),
            tr("ui.field.saved_local"),
        )
        if kept:
            self.note = ""
            self.changed()
        return kept

    def dismiss_rejection(self) -> None:
        if self.rejection is not None:
            dismiss_rejection(self.device, self.rejection.op_id)
            self.rejection = None
            self.changed()
