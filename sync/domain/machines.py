"""The status machines of assignments and requests, and how a visit's outcome moves a status.

Assignment (``status``)::

    pending ──────► in_progress ──────► done ─ ─(reopen: team_lead/coordinator)─ ─► in_progress
       │                 │
       ├──► no_answer ◄──┤          no_answer ──► revisit       revisit ──► in_progress
       └──► refused   ◄──┘          refused   ──► revisit       revisit ──► done | no_answer | refused
    any non-final ──► cancelled     final: done, cancelled

A visit (child of an assignment) records what happened at the door, so its outcome sets the
status directly from any non-final status: done → done, no_answer → no_answer (and a
``revisit_due``), refused → refused, revisit → revisit. A visit to a done or cancelled assignment
is kept but leaves the status alone.

Request (``status``)::

    new ──► acknowledged ──► in_progress ──► resolved ──► confirmed
     └──────────┴───────────────┴──► cancelled     resolved ──► in_progress (reopen)
    final: confirmed, cancelled
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from sync.domain.enums import ENUMS, ROLES
from sync.domain.vocab import LEAD_ROLES

ALL_ROLES: Final = frozenset(ROLES)


@dataclass(frozen=True, slots=True)
class Machine:
    """A status machine over the values of one enum."""

    enum: str
    initial: str
    final: frozenset[str]
    transitions: Mapping[str, frozenset[str]]
    #: transitions only some roles may make (the server enforces roles; devices hide the action)
    restricted: Mapping[tuple[str, str], frozenset[str]]

    @property
    def states(self) -> tuple[str, ...]:
        return ENUMS[self.enum]

    def allows(self, frm: str, to: str) -> bool:
        return to in self.transitions.get(frm, frozenset())

    def next_states(self, frm: str) -> tuple[str, ...]:
        """The statuses ``frm`` may move to, in display order."""
        targets = self.transitions.get(frm, frozenset())
        return tuple(s for s in self.states if s in targets)

    def roles_for(self, frm: str, to: str) -> frozenset[str]:
        """The roles that may make the transition ``frm → to`` (all roles unless restricted)."""
        return self.restricted.get((frm, to), ALL_ROLES)

    def is_final(self, state: str) -> bool:
        return state in self.final


def _table(rows: Mapping[str, tuple[str, ...]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({frm: frozenset(to) for frm, to in rows.items()})


ASSIGNMENT_MACHINE: Final = Machine(
    enum="assignment.status",
    initial="pending",
    final=frozenset({"done", "cancelled"}),
    transitions=_table(
        {
            "pending": ("in_progress", "no_answer", "refused", "cancelled"),
            "in_progress": ("done", "no_answer", "refused", "cancelled"),
            "no_answer": ("revisit", "cancelled"),
            "refused": ("revisit", "cancelled"),
            "revisit": ("in_progress", "done", "no_answer", "refused", "cancelled"),
            "done": ("in_progress",),
            "cancelled": (),
        }
    ),
    restricted=MappingProxyType({("done", "in_progress"): LEAD_ROLES}),
)

REQUEST_MACHINE: Final = Machine(
    enum="request.status",
    initial="new",
    final=frozenset({"confirmed", "cancelled"}),
    transitions=_table(
        {
            "new": ("acknowledged", "cancelled"),
            "acknowledged": ("in_progress", "cancelled"),
            "in_progress": ("resolved", "cancelled"),
            "resolved": ("in_progress", "confirmed"),
            "confirmed": (),
            "cancelled": (),
        }
    ),
    restricted=MappingProxyType({}),
)

#: The status a visit with each outcome puts its assignment in.
OUTCOME_STATUS: Final = MappingProxyType(
    {"done": "done", "no_answer": "no_answer", "refused": "refused", "revisit": "revisit"}
)
