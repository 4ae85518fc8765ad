"""One assignment: the household and its residents, what to do, the result fields of its type,
one-tap visit outcomes, and the visit history.

A visit is kept durably (record + outbox in one write) before the screen confirms it; the
confirmation says it is saved on this phone and will sync. "No answer" schedules a revisit,
whose time the confirmation and the screen show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from app.i18n import language, tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator, ViewModel
from app.viewmodels.field_common import (
    Rejection,
    control_label,
    current_rejections,
    dismiss_rejection,
    household_label,
    problem_text,
    unsent_children,
)
from app.viewmodels.timefmt import Clock, local_time, utc_now
from sync.domain import (
    REVISIT_DUE_STATUSES,
    attention,
    changes,
    field_label,
    key_care,
    label,
    options,
    to_iso,
)
from sync.domain.enums import VISIT_OUTCOMES
from sync.domain.schema import FREE_RESULT, RESULTS
from sync.domain.visits import conflicting_visits
from sync.errors import LinliError, ValidationError

COUNT_MAX: Final = 1_000_000
#: result field -> how it is entered: a whole number, a choice of an enum, or free text
RESULT_INPUT: Final = {
    "people_sampled": "count",
    "people_absent": "count",
    "quantity": "count",
    "contacts_found": "count",
    "condition": "choice",
}
CHOICES: Final = {"condition": "welfare.condition"}


@dataclass(frozen=True)
class ResidentRow:
    id: str
    name: str
    age_label: str
    care_labels: tuple[str, ...]
    care_note: str
    key_care: bool
    phone: str


@dataclass(frozen=True)
class ResultField:
    name: str
    label: str
    input: str  # "count" | "choice" | "text"
    required: bool
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class VisitRow:
    id: str
    at_label: str
    member: str
    outcome: str
    outcome_label: str
    note: str
    #: what the visit achieved, in words ("采样人数 2 · …"); empty when it carries no result
    result_label: str = ""
    #: still on this phone only (not yet sent to the command centre)
    unsent: bool = False


def _result_label(result: Any, assignment_type: str, lang: str) -> str:
    """A visit's result in words, in the form's field order."""
    if not isinstance(result, Mapping):
        return ""
    parts = []
    for f in result_fields(assignment_type, lang):
        value = result.get(f.name)
        if value is None or value == "":
            continue
        shown = dict(f.choices).get(str(value), str(value)) if f.choices else str(value)
        parts.append(f"{f.label} {shown}")
    return " · ".join(parts)


def result_fields(assignment_type: str, lang: str) -> list[ResultField]:
    """The result fields of an assignment type, in entry order (required ones first)."""
    checks, required = RESULTS.get(assignment_type, FREE_RESULT)
    names = sorted(checks, key=lambda n: (n not in required, list(checks).index(n)))
    return [
        ResultField(
            name=n,
            label=field_label(n, lang),
            input=RESULT_INPUT.get(n, "text"),
            required=n in required,
            choices=tuple(options(CHOICES[n], lang)) if n in CHOICES else (),
        )
        for n in names
    ]


class AssignmentViewModel(ViewModel):
    """State of ``/assignment/{id}``. Call :meth:`close` when the screen goes."""

    def __init__(
        self,
        device: Device,
        nav: Navigator,
        assignment_id: str,
        sync: SyncService | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.device, self.nav, self.sync, self.now = device, nav, sync, now
        self.assignment_id = assignment_id
        self.assignment: dict[str, Any] | None = None
        self.household: dict[str, Any] | None = None
        self.residents: list[ResidentRow] = []
        self.visits: list[VisitRow] = []
        self.fields: list[ResultField] = []
        self.result: dict[str, str] = {}
        self.note = ""
        self.busy = False
        self.error: str | None = None
        self.saved: str | None = None
        self.rejection: Rejection | None = None
        self._form_for: str | None = None
        self.watch(device, self.refresh)
        if sync is not None:
            self.watch(sync, self._sync_changed)
        self.refresh()

    # ------------------------------------------------------------------ what is shown

    @property
    def found(self) -> bool:
        return self.assignment is not None

    def _a(self, name: str, default: str = "") -> str:
        value = (self.assignment or {}).get(name)
        return default if value is None else str(value)

    @property
    def address(self) -> str:
        if self.household is not None:
            return household_label(self.household)
        if self._a("target_kind") == "place":
            place = self.device.get("place", self._a("target_id"))
            return str(place.get("name")) if place else self._a("target_id")
        return tr("ui.field.unknown_household")

    @property
    def control(self) -> str:
        """The control status the household lives under with its day count
        (``居家隔离 · 第 1 天/共 14 天``); "" when none."""
        if self.household is None:
            return ""
        return control_label(self.device, self.household, self.now(), language())

    @property
    def household_id(self) -> str | None:
        return str(self.household["id"]) if self.household else None

    @property
    def type_label(self) -> str:
        return label("assignment.type", self._a("type"), language())

    @property
    def title(self) -> str:
        return self._a("title") or self.type_label

    @property
    def instructions(self) -> str:
        return self._a("instructions")

    @property
    def status(self) -> str:
        return self._a("status")

    @property
    def status_label(self) -> str:
        return label("assignment.status", self.status, language())

    @property
    def priority(self) -> str:
        return self._a("priority", "normal")

    @property
    def priority_label(self) -> str:
        return label("assignment.priority", self.priority, language())

    @property
    def due_label(self) -> str:
        return local_time(self._a("due") or None, self.now())

    @property
    def overdue(self) -> bool:
        return self.assignment is not None and attention.is_overdue(self.assignment, self.now())

    @property
    def revisit_label(self) -> str:
        if self.status in REVISIT_DUE_STATUSES and self._a("revisit_due"):
            return tr(
                "ui.field.home.revisit_at", time=local_time(self._a("revisit_due"), self.now())
            )
        return ""

    @property
    def key_care(self) -> bool:
        return any(r.key_care for r in self.residents)

    @property
    def can_record(self) -> bool:
        """A visit is a fact: leads, the assignee and any member of the task's team may log one
        (a visit on a team-pool task claims it); the server keeps it even if the task was
        reassigned or closed meanwhile."""
        assignee = self._a("assignee_id") or None
        return self.found and (
            self.device.is_lead
            or assignee in (None, self.device.member_id)
            or (self._a("team_id") or None) == self.device.team_id
        )

    @property
    def conflict(self) -> str:
        """For the lead: the latest visit says something the task's status does not reflect."""
        if self.assignment is None or not conflicting_visits(self.assignment):
            return ""
        return tr("ui.field.visit.conflict")

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        lang = language()
        return [(o, label("visit.outcome", o, lang)) for o in VISIT_OUTCOMES]

    # ------------------------------------------------------------------ loading

    def _sync_changed(self) -> None:
        found = self._find_rejection()
        if found != self.rejection:
            self.rejection = found
            self.changed()

    def _find_rejection(self) -> Rejection | None:
        if self.device.store is None:
            return None
        return current_rejections(self.device, self.sync).get(("assignment", self.assignment_id))

    def refresh(self) -> None:
        if self.device.store is None:
            return
        lang, now = language(), self.now()
        self.assignment = self.device.get("assignment", self.assignment_id)
        a = self.assignment or {}
        self.household = None
        self.residents = []
        if a.get("target_kind", "household") == "household" and isinstance(a.get("target_id"), str):
            self.household = self.device.get("household", a["target_id"])
            people = self.device.find("resident", {"household_id": a["target_id"]})
            self.residents = [_resident_row(r, lang) for r in people]
        self.residents.sort(key=lambda r: (not r.key_care, r.name))
        members = {m["id"]: str(m.get("name") or m["id"]) for m in self.device.find("member")}
        unsent = unsent_children(self.device, "assignment", self.assignment_id)
        self.visits = [
            VisitRow(
                id=str(v.get("id")),
                at_label=local_time(v.get("at"), now),
                member=members.get(str(v.get("member")), str(v.get("member") or "")),
                outcome=str(v.get("outcome")),
                outcome_label=label("visit.outcome", str(v.get("outcome")), lang),
                note=str(v.get("note") or ""),
                result_label=_result_label(v.get("result"), str(a.get("type")), lang),
                unsent=str(v.get("id")) in unsent,
            )
            for v in reversed(a.get("visits") or [])
        ]
        if self._form_for != a.get("type"):
            # each visit records its own result: the form starts empty for the next visit
            self._form_for = a.get("type")
            self.fields = result_fields(str(a.get("type")), lang) if a else []
            self.result = {f.name: "" for f in self.fields}
        self.rejection = self._find_rejection()
        self.changed()

    # ------------------------------------------------------------------ actions

    def set_result(self, name: str, value: str) -> None:
        self.result[name] = value

    def _result_value(self) -> dict[str, Any] | None:
        """The result the form holds, or ``None`` if it is empty or unchanged."""
        values: dict[str, Any] = {}
        for f in self.fields:
            raw = (self.result.get(f.name) or "").strip()
            if not raw:
                continue
            if f.input == "count":
                if not raw.isdigit():
                    raise ValidationError("validation.number", field=f.name, min=0, max=COUNT_MAX)
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        return values or None

    def record(self, outcome: str) -> bool:
        """Log a visit with ``outcome`` (and the note and result entered). Durable before the
        confirmation. Returns True when it was kept."""
        if self.assignment is None or self.busy:
            return False
        if not self.can_record:
            self.error = tr("ui.field.visit.not_yours")
            self.changed()
            return False
        # No redraw before the save: it takes well under a millisecond, and a redraw first would
        # put a whole page update between the tap and the change being durable.
        self.busy, self.error, self.saved = True, None, None
        try:
            op = changes.record_visit(
                self.assignment,
                outcome,
                self.note.strip() or None,
                result=self._result_value(),
                at=to_iso(self.now()),
                **self.device.author(),
            )
            record = self.device.record(op)[0]
        except LinliError as exc:
            self.busy, self.error = False, problem_text(exc)
            self.changed()
            self.nav.notify(self.error, error=True)
            return False
        self.busy, self.note = False, ""
        message = tr("ui.field.saved_local")
        if outcome == "no_answer" and record.get("revisit_due"):
            when = local_time(record["revisit_due"], self.now())
            message = tr("ui.field.visit.saved_no_answer", time=when)
        self.saved = message
        self._form_for = None  # reload the form from the stored result
        self.refresh()
        self.nav.notify(message)
        return True

    def dismiss_rejection(self) -> None:
        if self.rejection is not None:
            dismiss_rejection(self.device, self.rejection.op_id)
            self.rejection = None
            self.changed()

    def log_request(self) -> None:
        self.nav.go(f"/assignment/{self.assignment_id}/request")


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _resident_row(r: Mapping[str, Any], lang: str) -> ResidentRow:
    flags = tuple(label("care_flag", str(f), lang) for f in r.get("care_flags") or ())
    if r.get("age_band") == "80+" and not flags:
        flags = (tr("ui.field.care.aged_80"),)
    return ResidentRow(
        id=str(r.get("id")),
        name=str(r.get("name") or ""),
        age_label=label("age_band", str(r["age_band"]), lang) if r.get("age_band") else "",
        care_labels=flags,
        care_note=str(r.get("care_note") or ""),
        key_care=key_care(r),
        phone=str(r.get("phone") or ""),
    )
