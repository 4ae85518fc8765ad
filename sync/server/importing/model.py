"""What an import shows before it writes: the :class:`Preview` and the parts it is made of.

A preview is plain data (no database handle), so a caller may keep it between a request that
shows it and the one that commits it. Its ``plan`` holds exactly the changes :func:`commit
<sync.server.importing.commit>` makes, and only those; problem rows are not in it.

Values in a preview (cells, names, phones) are resident data: show them to the coordinator, never
log them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.i18n import t

#: a household or resident field -> its value as the file gives it (``None``: the cell is empty)
Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad cell (or row): 1-based ``line`` of the file (for XLSX, the sheet's row),
    the column as headed in the file, the cell's text, and a reason code with its parameters
    (text: ``importing.reason.<code>``)."""

    line: int
    column: str
    value: str
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, lang: str | None = None) -> str:
        return t(f"importing.reason.{self.reason}", lang, **self.params)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An existing resident a file row may be: id, name and phone as recorded."""

    resident_id: str
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """A file row whose resident may be one of several recorded ones (same name in the same
    household, phone different or missing). Decide with ``decisions={line: resident_id}`` or
    ``{line: "new"}``; never matched by row order."""

    line: int
    household: str
    name: str
    phone: str
    candidates: tuple[Candidate, ...]


@dataclass(slots=True)
class Counts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def total(self) -> int:
        return self.new + self.changed + self.unchanged


@dataclass(slots=True)
class Change:
    """One entity the commit writes (``set`` may be empty: only the remembered file values
    change). ``values`` are the file's values for it, remembered after the commit; ``line``
    is the first file line it comes from."""

    kind: str
    entity_id: str
    line: int
    set: Values
    values: Values
    new: bool


@dataclass(slots=True)
class Preview:
    """What importing a file into a community would do. ``ready`` when it has no problem and no
    undecided ambiguity; with ``skip_bad_rows`` a commit leaves the problem rows (and undecided
    residents) out instead."""

    community_id: str
    source: str
    kind: str
    encoding: str | None
    sheet: str | None
    header_line: int
    rows: int
    #: column as headed in the file -> field it fills
    mapping: dict[str, str]
    #: columns with no field (ignored, listed)
    ignored: list[str]
    problems: list[Problem]
    ambiguities: list[Ambiguity]
    households: Counts
    residents: Counts
    places: int
    #: lines whose cells were filled from the row above (merged cells, blank building/unit)
    filled: int
    plan: list[Change]
    #: decisions applied (line -> resident id or "new")
    decisions: dict[int, str]
    undecided: set[int] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return not self.problems and not self.undecided

    @property
    def bad_lines(self) -> set[int]:
        return {p.line for p in self.problems}

    def writes(self) -> int:
        """How many entities the commit touches (changes plus remembered values)."""
        return len(self.plan)
