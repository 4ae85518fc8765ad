"""My shift (the home tab): today's assignments grouped by building and unit, with counts,
coverage, search and filters.

"Today's" assignments are the open ones (whatever their date: overdue work stays in sight) and
those closed today (done on a visit or due today). Cancelled work is not shown. A team lead may
switch from "mine" to the whole team's. Progress buckets are the domain's
(:func:`sync.domain.progress_bucket`), as on the team board.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.i18n import language, tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator
from app.viewmodels.field_common import (
    FieldListViewModel,
    current_rejections,
    household_label,
    natural_key,
)
from app.viewmodels.timefmt import Clock, is_today, local_time, utc_now
from sync.domain import (
    PRIORITY_RANK,
    REVISIT_DUE_STATUSES,
    attention,
    key_care,
    label,
    options,
)
from sync.domain.progress import Progress, progress_of

MINE, TEAM = "mine", "team"
FILTERS = {
    "type": "assignment.type",
    "status": "assignment.status",
    "priority": "assignment.priority",
}


@dataclass(frozen=True)
class AssignmentRow:
    id: str
    type: str
    type_label: str
    title: str
    address: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    due: str
    due_label: str
    overdue: bool
    key_care: bool
    revisit_label: str = ""
    assignee: str = ""
    rejected: bool = False
    search_text: str = field(default="", repr=False)


@dataclass(frozen=True)
class UnitGroup:
    name: str
    rows: tuple[AssignmentRow, ...]


@dataclass(frozen=True)
class BuildingGroup:
    name: str
    visited: int  # households of this building with at least one visit
    assigned: int  # households of this building with an assignment shown today
    units: tuple[UnitGroup, ...]

    @property
    def coverage_text(self) -> str:
        return tr("ui.field.home.coverage", visited=self.visited, assigned=self.assigned)


def on_today(assignment: Mapping[str, Any], now: datetime) -> bool:
    status = assignment.get("status")
    if status == "cancelled" or status is None:
        return False
    if status not in attention.CLOSED:
        return True
    visits = assignment.get("visits") or []
    last = visits[-1].get("at") if visits else None
    return is_today(last, now) or is_today(assignment.get("due"), now)


class ShiftViewModel(FieldListViewModel):
    """State of the home tab. Call :meth:`close` when the screen goes."""

    def __init__(
        self,
        device: Device,
        nav: Navigator,
        sync: SyncService | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__(device, nav, sync, now)
        self.scope = MINE
        self.query = ""
        self.filters: dict[str, str | None] = dict.fromkeys(FILTERS)
        self.groups: list[BuildingGroup] = []
        self.counts = Progress()
        self.shown = 0
        self.refresh()

    # ------------------------------------------------------------------ choices

    @property
    def can_see_team(self) -> bool:
        return self.device.is_lead

    def filter_options(self, name: str) -> list[tuple[str, str]]:
        values = options(FILTERS[name], language())
        if name == "status":
            values = [(v, t) for v, t in values if v != "cancelled"]
        return values

    def set_scope(self, scope: str) -> None:
        self.scope = TEAM if scope == TEAM and self.can_see_team else MINE
        self.refresh()

    def set_query(self, text: str) -> None:
        self.query = text.strip()
        self.refresh()

    def set_filter(self, name: str, value: str | None) -> None:
        if name not in FILTERS:
            raise KeyError(name)
        self.filters[name] = value or None
        self.refresh()

    def clear_filters(self) -> None:
        self.query = ""
        self.filters = dict.fromkeys(FILTERS)
        self.refresh()

    def open(self, assignment_id: str) -> None:
        self.nav.go(f"/assignment/{assignment_id}")

    @property
    def empty_text(self) -> str:
        if self.counts == Progress():
            return tr("ui.field.home.empty")
        return tr("ui.field.home.no_match")

    # ------------------------------------------------------------------ data

    def _in_scope(self, assignment: Mapping[str, Any]) -> bool:
        if self.scope == TEAM:
            team = self.device.team_id
            return team is None or assignment.get("team_id") == team
        holder = assignment.get("assignee_id")
        if holder is None:  # the team's pool: any member may take it (the first visit does)
            return assignment.get("team_id") == self.device.team_id
        return holder == self.device.member_id

    def refresh(self) -> None:
        if self.device.store is None:
            return
        now = self.now()
        found = self.device.find(
            "assignment", predicate=lambda a: self._in_scope(a) and on_today(a, now)
        )
        self._rejections_seen()
        rejected = {e for k, e in current_rejections(self.device, self.sync) if k == "assignment"}
        households = self._households({a.get("target_id") for a in found})
        residents = self._residents(set(households))
        members = self._member_names() if self.scope == TEAM else {}
        rows: list[tuple[tuple[str, str], dict[str, Any], AssignmentRow]] = []
        for a in found:
            late = attention.is_overdue(a, now)
            target = households.get(str(a.get("target_id")), {})
            row = self._row(a, target, residents, members, rejected, late, now)
            rows.append((self._place_of(a, target), target, row))
        self.counts = progress_of(found, now)
        self.groups = self._group(rows, found)
        self.shown = sum(len(u.rows) for g in self.groups for u in g.units)
        self.changed()

    def _households(self, ids: set[Any]) -> dict[str, dict[str, Any]]:
        wanted = {i for i in ids if isinstance(i, str)}
        if not wanted:
            return {}
        return {
            h["id"]: h
            for h in self.device.find("household", predicate=lambda h: h.get("id") in wanted)
        }

    def _residents(self, household_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not household_ids:
            return out
        for r in self.device.find(
            "resident", predicate=lambda r: r.get("household_id") in household_ids
        ):
            out.setdefault(str(r["household_id"]), []).append(r)
        return out

    def _member_names(self) -> dict[str, str]:
        team = self.device.team_id
        found = self.device.find("member", {"team_id": team} if team else None)
        return {m["id"]: str(m.get("name") or m["id"]) for m in found}

    def _place_of(self, a: Mapping[str, Any], household: Mapping[str, Any]) -> tuple[str, str]:
        if household:
            return str(household.get("building") or ""), str(household.get("unit") or "")
        if a.get("target_kind") == "place" and isinstance(a.get("target_id"), str):
            place = self.device.get("place", a["target_id"])
            return str(place.get("name") if place else a["target_id"]), ""
        return "", ""

    def _row(
        self,
        a: Mapping[str, Any],
        household: Mapping[str, Any],
        residents: Mapping[str, list[dict[str, Any]]],
        members: Mapping[str, str],
        rejected: set[str],
        late: bool,
        now: datetime,
    ) -> AssignmentRow:
        lang = language()
        people = residents.get(str(household.get("id")), []) if household else []
        address = household_label(household) if household else self._place_of(a, household)[0]
        status = str(a.get("status"))
        revisit = ""
        if status in REVISIT_DUE_STATUSES and a.get("revisit_due"):
            revisit = tr("ui.field.home.revisit_at", time=local_time(a.get("revisit_due"), now))
        names = " ".join(str(p.get("name") or "") for p in people)
        return AssignmentRow(
            id=str(a["id"]),
            type=str(a.get("type")),
            type_label=label("assignment.type", str(a.get("type")), lang),
            title=str(a.get("title") or ""),
            address=address or tr("ui.field.unknown_household"),
            status=status,
            status_label=label("assignment.status", status, lang),
            priority=str(a.get("priority") or "normal"),
            priority_label=label("assignment.priority", str(a.get("priority") or "normal"), lang),
            due=str(a.get("due") or "~"),
            due_label=local_time(a.get("due"), now),
            overdue=late,
            key_care=any(key_care(p) for p in people),
            revisit_label=revisit,
            assignee=members.get(str(a.get("assignee_id")), "") if members else "",
            rejected=str(a["id"]) in rejected,
            search_text=f"{address} {names} {a.get('title') or ''}".casefold(),
        )

    def _matches(self, row: AssignmentRow) -> bool:
        f = self.filters
        if f["type"] and row.type != f["type"]:
            return False
        if f["status"] and row.status != f["status"]:
            return False
        if f["priority"] and row.priority != f["priority"]:
            return False
        return not self.query or self.query.casefold() in row.search_text

    def _group(
        self,
        rows: list[tuple[tuple[str, str], dict[str, Any], AssignmentRow]],
        found: list[dict[str, Any]],
    ) -> list[BuildingGroup]:
        assigned: dict[str, set[str]] = {}
        visited: dict[str, set[str]] = {}
        visits_by_target: dict[str, bool] = {}
        for a in found:
            target = str(a.get("target_id"))
            visits_by_target[target] = visits_by_target.get(target, False) or bool(a.get("visits"))
        units: dict[str, dict[str, list[tuple[Any, AssignmentRow]]]] = {}
        for (building, unit), household, row in rows:
            target = str(household.get("id") or row.id)
            assigned.setdefault(building, set()).add(target)
            if visits_by_target.get(target):
                visited.setdefault(building, set()).add(target)
            if not self._matches(row):
                continue
            order = (
                natural_key(str(household.get("room") or "")),
                not row.overdue,
                PRIORITY_RANK.get(row.priority, len(PRIORITY_RANK)),
                row.due,
            )
            units.setdefault(building, {}).setdefault(unit, []).append((order, row))
        groups: list[BuildingGroup] = []
        for building in sorted(units, key=lambda b: (b == "", natural_key(b))):
            unit_groups = tuple(
                UnitGroup(
                    unit or tr("ui.field.home.no_unit"),
                    tuple(r for _, r in sorted(units[building][unit], key=lambda x: x[0])),
                )
                for unit in sorted(units[building], key=lambda u: (u == "", natural_key(u)))
            )
            groups.append(
                BuildingGroup(
                    building or tr("ui.field.home.no_building"),
                    len(visited.get(building, ())),
                    len(assigned.get(building, ())),
                    unit_groups,
                )
            )
        return groups
