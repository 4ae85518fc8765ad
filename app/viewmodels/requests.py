"""Residents' requests: the list, which is also a team lead's queue, open ones first by
urgency and deadline, with SLA countdowns. One request's screen is :mod:`.request_detail`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from app.i18n import language, tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator
from app.viewmodels.field_common import FieldListViewModel, current_rejections, household_label
from app.viewmodels.timefmt import Clock, countdown_text, utc_now
from sync.domain import URGENCY_RANK, URGENT_LEVELS, attention, label, options, sla_remaining

OPEN: Final = "open"  # the status filter of every request not yet answered


@dataclass(frozen=True)
class RequestRow:
    id: str
    category_label: str
    urgency: str
    urgency_label: str
    status: str
    status_label: str
    address: str
    description: str
    sla_text: str
    overdue: bool
    highlight: bool  # an open urgent or emergency request
    assignee: str
    rejected: bool = False


def _is_open(request: Mapping[str, Any]) -> bool:
    return request.get("status") not in attention.CLOSED


def member_names(device: Device) -> dict[str, str]:
    return {m["id"]: str(m.get("name") or m["id"]) for m in device.find("member")}


class RequestListViewModel(FieldListViewModel):
    """State of the ``/requests`` tab. Call :meth:`close` when the screen goes; call
    :meth:`refresh` now and then so the countdowns move."""

    def __init__(
        self,
        device: Device,
        nav: Navigator,
        sync: SyncService | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__(device, nav, sync, now)
        self.status_filter: str | None = OPEN
        self.urgency_filter: str | None = None
        self.rows: list[RequestRow] = []
        self.open_count = 0
        self.overdue_count = 0
        self.refresh()

    def status_options(self) -> list[tuple[str, str]]:
        return [(OPEN, tr("ui.field.requests.open")), *options("request.status", language())]

    def urgency_options(self) -> list[tuple[str, str]]:
        return options("request.urgency", language())

    def set_status_filter(self, value: str | None) -> None:
        self.status_filter = value or None
        self.refresh()

    def set_urgency_filter(self, value: str | None) -> None:
        self.urgency_filter = value or None
        self.refresh()

    def new(self) -> None:
        self.nav.go("/requests/new")

    def open(self, request_id: str) -> None:
        self.nav.go(f"/request/{request_id}")

    @property
    def empty_text(self) -> str:
        return tr("ui.field.requests.empty")

    def _in_scope(self, r: Mapping[str, Any]) -> bool:
        team = self.device.team_id
        return (
            team is None
            or r.get("team_id") in (team, None)
            or r.get("assignee_id") == self.device.member_id
        )

    def _wanted(self, r: Mapping[str, Any]) -> bool:
        if self.status_filter == OPEN:
            if not _is_open(r):
                return False
        elif self.status_filter and r.get("status") != self.status_filter:
            return False
        return not self.urgency_filter or r.get("urgency") == self.urgency_filter

    def refresh(self) -> None:
        if self.device.store is None:
            return
        now, lang = self.now(), language()
        scoped = self.device.find("request", predicate=self._in_scope)
        self.open_count = sum(_is_open(r) for r in scoped)
        self.overdue_count = sum(attention.is_overdue(r, now) for r in scoped)
        wanted = [r for r in scoped if self._wanted(r)]
        self._rejections_seen()
        rejected = {e for k, e in current_rejections(self.device, self.sync) if k == "request"}
        ids = {r.get("household_id") for r in wanted}
        households = {
            h["id"]: h for h in self.device.find("household", predicate=lambda h: h["id"] in ids)
        }
        members = member_names(self.device)

        def order(r: Mapping[str, Any]) -> tuple[Any, ...]:
            if _is_open(r):
                return (
                    0,
                    URGENCY_RANK.get(str(r.get("urgency")), len(URGENCY_RANK)),
                    str(r.get("due") or "~"),
                )
            return (1, 0, _negate(str(r.get("created_at") or "")))

        self.rows = []
        for r in sorted(wanted, key=order):
            status, urgency = str(r.get("status")), str(r.get("urgency"))
            self.rows.append(
                RequestRow(
                    id=str(r["id"]),
                    category_label=label("request.category", str(r.get("category")), lang),
                    urgency=urgency,
                    urgency_label=label("request.urgency", urgency, lang),
                    status=status,
                    status_label=label("request.status", status, lang),
                    address=household_label(households.get(str(r.get("household_id")))),
                    description=str(r.get("description") or ""),
                    sla_text=countdown_text(sla_remaining(r, now)),
                    overdue=attention.is_overdue(r, now),
                    highlight=_is_open(r) and urgency in URGENT_LEVELS,
                    assignee=members.get(str(r.get("assignee_id")), ""),
                    rejected=str(r["id"]) in rejected,
                )
            )
        self.changed()


def _negate(text: str) -> tuple[int, ...]:
    """A sort key that orders ``text`` descending."""
    return tuple(-ord(c) for c in text)
