"""How a set of assignments stands: the counts the phone and the console show.

:func:`progress_of` counts by the phone's progress buckets (``done``, ``todo``, ``revisit``, see
:func:`sync.domain.vocab.progress_bucket`) and by overdue; :func:`door_counts` counts by the
door-outcome buckets (:data:`sync.domain.vocab.DOOR_OUTCOMES`). Cancelled work counts nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.domain.attention import is_overdue
from sync.domain.vocab import DOOR_OUTCOMES, door_outcome, progress_bucket


@dataclass(frozen=True, slots=True)
class Progress:
    done: int = 0
    todo: int = 0
    revisit: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.done + self.todo + self.revisit

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def progress_of(assignments: Iterable[Mapping[str, Any]], now: datetime) -> Progress:
    """The progress counts of ``assignments`` at ``now`` (aware)."""
    done = todo = revisit = overdue = 0
    for a in assignments:
        bucket = progress_bucket(a.get("status"))
        done += bucket == "done"
        todo += bucket == "todo"
        revisit += bucket == "revisit"
        overdue += is_overdue(a, now)
    return Progress(done, todo, revisit, overdue)


def door_counts(assignments: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, int]:
    """How many of ``assignments`` are in each door-outcome bucket at ``now`` (every bucket
    present, in :data:`~sync.domain.vocab.DOOR_OUTCOMES` order)."""
    counts = dict.fromkeys(DOOR_OUTCOMES, 0)
    for a in assignments:
        bucket = door_outcome(a.get("status"), a.get("revisit_due"), now)
        if bucket is not None:
            counts[bucket] += 1
    return counts
