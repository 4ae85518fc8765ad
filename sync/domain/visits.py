"""What an assignment's visits say: its result, people sampled, and visits that conflict.

A visit is a fact: it is kept whoever made it and whatever became of the task afterwards
(see ``docs/security.md``, "Volunteers and leads"). So the numbers a task reports are derived
from its visits, never stored once on the task where a later writer could overwrite them:

- :func:`task_result` — the result of the latest visit that carries one (the task's own
  ``result`` field, written by builds before visits carried results, counts as the oldest);
- :func:`people_sampled` — the people sampled over all its visits (a revisit samples those who
  were absent the first time, so the visits add up);
- :func:`conflicting_visits` — visits whose outcome the task's status does not reflect (a door
  recorded done offline on a task the lead had meanwhile cancelled, or reassigned and someone
  else closed): the lead is shown these to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.domain.machines import ASSIGNMENT_MACHINE, OUTCOME_STATUS

CLOCK = "_clk"


def _visits(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    visits = record.get("visits") or []
    return [v for v in visits if isinstance(v, Mapping)]


def task_result(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The task's result: the latest visit's that has one, else the task's own (older builds)."""
    for visit in reversed(_visits(record)):
        result = visit.get("result")
        if isinstance(result, Mapping):
            return dict(result)
    legacy = record.get("result")
    return dict(legacy) if isinstance(legacy, Mapping) else None


def people_sampled(record: Mapping[str, Any]) -> int:
    """People sampled at this task's door, over all its visits (the task's own result when no
    visit carries one: older builds)."""
    total, counted = 0, False
    for visit in _visits(record):
        result = visit.get("result")
        if isinstance(result, Mapping) and isinstance(result.get("people_sampled"), int):
            total += result["people_sampled"]
            counted = True
    if counted:
        return total
    legacy = record.get("result")
    if isinstance(legacy, Mapping) and isinstance(legacy.get("people_sampled"), int):
        return int(legacy["people_sampled"])
    return 0


def _order(stamp: Any) -> tuple[str, str]:
    hlc, _, device = str(stamp or "").partition("@")
    return (hlc, device)


def conflicting_visits(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The latest visit, if the task's status does not reflect it: its outcome would put the task
    in another status, the op that carried it did not set the status, and the status was not
    moved on from that outcome later by an allowed step (no answer → revisit, say)."""
    visits = _visits(record)
    status = record.get("status")
    if not visits or not isinstance(status, str):
        return []
    latest = visits[-1]
    wanted = OUTCOME_STATUS.get(str(latest.get("outcome")))
    if wanted is None or wanted == status:
        return []
    status_stamp = (record.get(CLOCK) or {}).get("status")
    visit_stamp = latest.get(CLOCK)
    if status_stamp is not None and status_stamp == visit_stamp:
        return []  # the visit's own op set this status
    moved_on = _order(status_stamp) > _order(visit_stamp) and ASSIGNMENT_MACHINE.allows(
        wanted, status
    )
    return [] if moved_on else [latest]
