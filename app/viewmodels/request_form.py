"""Logging a resident's request in under 30 seconds: pick the household (searchable, or given
by the assignment it comes from), category, urgency, description and a contact phone.

Saving is durable (record + outbox in one write) before the screen confirms it. Urgent and
emergency requests travel in the sync engine's priority lane on their own; the confirmation says
so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from app.i18n import language, tr
from app.services.device import Device
from app.viewmodels.base import Navigator, Observable
from app.viewmodels.field_common import household_label, natural_key, problem_text
from app.viewmodels.timefmt import Clock, utc_now
from sync.domain import URGENT_LEVELS, changes, is_phone, label, options, to_iso
from sync.errors import LinliError

MAX_MATCHES: Final = 30


@dataclass(frozen=True)
class HouseholdOption:
    id: str
    address: str
    people: str  # the residents' names, for recognising the right door


class NewRequestViewModel(Observable):
    """State of ``/requests/new`` (and the same form opened from an assignment)."""

    def __init__(
        self,
        device: Device,
        nav: Navigator,
        household_id: str | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.device, self.nav, self.now = device, nav, now
        self.household_id: str | None = None
        self.household_text = ""
        self.query = ""
        self.matches: list[HouseholdOption] = []
        self.category: str | None = None
        self.urgency = "routine"
        self.description = ""
        self.contact = ""
        self.errors: dict[str, str] = {}
        self.busy = False
        self.saved_id: str | None = None
        self._picking = False
        if household_id:
            self.choose_household(household_id)

    # ------------------------------------------------------------------ choices

    def category_options(self) -> list[tuple[str, str]]:
        return options("request.category", language())

    def urgency_options(self) -> list[tuple[str, str]]:
        return options("request.urgency", language())

    @property
    def picking(self) -> bool:
        """Whether the household search is shown (no household yet, or changing it)."""
        return self.household_id is None or self._picking

    def change_household(self) -> None:
        self._picking = True
        self.changed()

    def search(self, text: str) -> None:
        """Households whose address or a resident's name holds ``text`` (at most 30)."""
        self.query = text.strip()
        needle = self.query.casefold()
        if not needle:
            self.matches = []
            self.changed()
            return
        by_name: dict[str, list[str]] = {}
        for r in self.device.find(
            "resident", predicate=lambda r: needle in str(r.get("name") or "").casefold()
        ):
            by_name.setdefault(str(r.get("household_id")), []).append(str(r.get("name")))
        found = self.device.find(
            "household",
            predicate=lambda h: (
                needle in str(h.get("address") or "").casefold() or h.get("id") in by_name
            ),
        )
        found.sort(key=lambda h: natural_key(household_label(h)))
        self.matches = [
            HouseholdOption(str(h["id"]), household_label(h), " ".join(by_name.get(h["id"], [])))
            for h in found[:MAX_MATCHES]
        ]
        self.changed()

    def choose_household(self, household_id: str) -> None:
        household = self.device.get("household", household_id)
        if household is None:
            self.errors["household"] = tr("ui.field.new.household_missing")
            self.changed()
            return
        self.household_id = household_id
        self.household_text = household_label(household)
        self.query, self.matches, self._picking = "", [], False
        self.errors.pop("household", None)
        if not self.contact and household.get("phone"):
            self.contact = str(household["phone"])
        self.changed()

    def set_category(self, value: str | None) -> None:
        self.category = value or None
        self.errors.pop("category", None)
        self.changed()

    def set_urgency(self, value: str) -> None:
        if value in dict(self.urgency_options()):
            self.urgency = value
            self.changed()

    @property
    def urgency_hint(self) -> str:
        if self.urgency in URGENT_LEVELS:
            return tr("ui.field.new.priority_lane")
        return ""

    # ------------------------------------------------------------------ saving

    def _check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.household_id:
            errors["household"] = tr("ui.field.new.need_household")
        if not self.category:
            errors["category"] = tr("ui.field.new.need_category")
        contact = self.contact.strip()
        if contact and not is_phone(contact):
            errors["contact"] = tr("ui.field.new.bad_phone")
        return errors

    def save(self) -> bool:
        """Keep the request durably; on success go back to where the form was opened from."""
        if self.busy:
            return False
        self.errors = self._check()
        if self.errors:
            self.changed()
            return False
        self.busy = True
        self.changed()
        try:
            op = changes.new_request(
                str(self.household_id),
                str(self.category),
                self.urgency,
                self.description.strip() or None,
                contact=self.contact.strip() or None,
                team_id=self.device.team_id,
                created_at=to_iso(self.now()),
                **self.device.author(),
            )
            self.device.record(op)
        except LinliError as exc:
            self.busy = False
            self.errors = {"form": problem_text(exc)}
            self.changed()
            self.nav.notify(self.errors["form"], error=True)
            return False
        self.busy, self.saved_id = False, op.entity_id
        self.changed()
        message = tr("ui.field.saved_local")
        if self.urgency in URGENT_LEVELS:
            message = tr(
                "ui.field.new.saved_urgent",
                urgency=label("request.urgency", self.urgency, language()),
            )
        self.nav.notify(message)
        self.nav.back()
        return True


def household_of(assignment: Mapping[str, Any] | None) -> str | None:
    """The household an assignment is about (``None`` for a place or a missing record)."""
    if not assignment or assignment.get("target_kind", "household") != "household":
        return None
    target = assignment.get("target_id")
    return target if isinstance(target, str) else None
