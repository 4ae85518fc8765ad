"""The shared words of the domain: roles, how assignments are counted, ranks for sorting.

The phone, the server's CLI and the console all count and sort by these, so each is defined once:

* **Roles** — :data:`ROLES` (display order), :data:`LEAD_ROLES` (roles that act as team leads:
  see the whole team, reopen done work, work the request queue), :data:`ROLE_RANK` (leads first
  when listing a team).
* **Door outcomes** — what came of an assignment at the door, the buckets phone and console count
  by: :data:`DOOR_OUTCOMES` = ``done``, ``no_answer``, ``refused``, ``revisit_due``, ``pending``.
  :func:`door_outcome` maps an assignment status (and its ``revisit_due`` time) to its bucket;
  cancelled work counts nowhere.
* **Progress** — the phone's coarser three buckets (:data:`PROGRESS_BUCKETS`): ``done``;
  ``revisit`` (nobody answered, refused, or waiting for a return visit: someone has to go back);
  ``todo`` (pending or in progress). :func:`progress_bucket` maps a status to one.
* **Ranks** — :data:`PRIORITY_RANK` (urgent first), :data:`URGENCY_RANK` (emergency first),
  :data:`URGENT_LEVELS` (request urgencies that are highlighted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

from sync.domain.enums import PRIORITIES, ROLES, URGENCIES
from sync.domain.times import parse_iso

__all__ = [
    "COORDINATOR",
    "DOOR_OUTCOMES",
    "LEAD_ROLES",
    "PRIORITY_RANK",
    "PROGRESS_BUCKETS",
    "REVISIT_DUE_STATUSES",
    "REVISIT_STATUSES",
    "ROLES",
    "ROLE_RANK",
    "TEAM_LEAD",
    "TODO_STATUSES",
    "URGENCY_RANK",
    "URGENT_LEVELS",
    "VOLUNTEER",
    "door_outcome",
    "is_lead",
    "progress_bucket",
]

VOLUNTEER: Final = "volunteer"
TEAM_LEAD: Final = "team_lead"
COORDINATOR: Final = "coordinator"
#: the roles that act as team leads
LEAD_ROLES: Final = frozenset({TEAM_LEAD, COORDINATOR})
#: role -> its place when a team's members are listed (leads first)
ROLE_RANK: Final[Mapping[str, int]] = MappingProxyType({TEAM_LEAD: 0, COORDINATOR: 1, VOLUNTEER: 2})

#: the door-outcome buckets, in the order they are shown
DOOR_OUTCOMES: Final = ("done", "no_answer", "refused", "revisit_due", "pending")
#: assignment statuses that wait for someone to go back
REVISIT_STATUSES: Final = frozenset({"no_answer", "refused", "revisit"})
#: assignment statuses whose ``revisit_due`` time is in force (it is their next deadline)
REVISIT_DUE_STATUSES: Final = frozenset({"no_answer", "revisit"})
#: assignment statuses of work not yet done at the door
TODO_STATUSES: Final = frozenset({"pending", "in_progress"})

_DOOR: Final[Mapping[str, str]] = MappingProxyType(
    {
        "done": "done",
        "no_answer": "no_answer",
        "refused": "refused",
        "revisit": "revisit_due",
        "pending": "pending",
        "in_progress": "pending",
    }
)

#: the phone's progress buckets, in the order they are shown
PROGRESS_BUCKETS: Final = ("done", "todo", "revisit")
_PROGRESS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "done": "done",
        "no_answer": "revisit",
        "refused": "revisit",
        "revisit_due": "revisit",
        "pending": "todo",
    }
)

#: priority -> sort rank, most pressing first (``urgent`` 0 … ``low`` 3)
PRIORITY_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {p: rank for rank, p in enumerate(reversed(PRIORITIES))}
)
#: urgency -> sort rank, most pressing first (``emergency`` 0 … ``routine`` 2)
URGENCY_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {u: rank for rank, u in enumerate(reversed(URGENCIES))}
)
#: request urgencies that are highlighted and counted as urgent
URGENT_LEVELS: Final = frozenset({"urgent", "emergency"})


def is_lead(role: object) -> bool:
    """Whether ``role`` acts as a team lead."""
    return role in LEAD_ROLES


def door_outcome(
    status: object, revisit_due: object = None, now: datetime | None = None
) -> str | None:
    """The door-outcome bucket of an assignment in ``status``; ``None`` for cancelled (or
    unknown) work. A ``no_answer`` whose ``revisit_due`` (a record time) has come by ``now``
    counts as ``revisit_due``; without ``now`` it stays ``no_answer``."""
    if not isinstance(status, str):
        return None
    bucket = _DOOR.get(status)
    if bucket == "no_answer" and now is not None and isinstance(revisit_due, str):
        try:
            if parse_iso(revisit_due) <= now:
                return "revisit_due"
        except ValueError:
            pass
    return bucket


def progress_bucket(status: object) -> str | None:
    """The progress bucket (``done``, ``todo``, ``revisit``) of an assignment in ``status``;
    ``None`` for cancelled (or unknown) work."""
    door = door_outcome(status)
    return None if door is None else _PROGRESS[door]
