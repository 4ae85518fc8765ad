"""Data rows -> checked household and resident values, with every problem of every row.

Each mapped cell is read by its field's parser (:mod:`.labels`) and then checked with the
domain's own field checks (:data:`sync.domain.schema.KINDS`), so a value that passes here is one
every replica accepts: the commit cannot fail on data. A row's problems are all reported, not
only the first; a row with a problem is left out of the plan.

Blank building and unit cells are filled from the row above (merged cells exported from Excel
leave them blank): a unit only while the building stays the same. A cell starting with ``=`` is
a formula: never evaluated, kept as its text and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.domain.enums import CARE_FLAGS
from sync.domain.schema import HOUSEHOLD_KIND, RESIDENT_KIND
from sync.errors import ValidationError
from sync.server.importing import labels
from sync.server.importing.columns import FLAG_PREFIX
from sync.server.importing.labels import Bad
from sync.server.importing.model import Problem

#: file field -> (kind, domain field) of the value it becomes
DOMAIN_FIELD: Mapping[str, tuple[str, str]] = {
    "building": ("household", "building"),
    "unit": ("household", "unit"),
    "room": ("household", "room"),
    "address": ("household", "address"),
    "household_phone": ("household", "phone"),
    "control": ("household", "control"),
    "household_note": ("household", "note"),
    "name": ("resident", "name"),
    "resident_phone": ("resident", "phone"),
    "age": ("resident", "age_band"),
    "care_note": ("resident", "care_note"),
}
_SPECS = {"household": HOUSEHOLD_KIND, "resident": RESIDENT_KIND}


@dataclass(slots=True)
class Row:
    line: int
    building: str
    unit: str
    room: str
    household: dict[str, Any] = field(default_factory=dict)
    resident: dict[str, Any] | None = None
    filled: bool = False


def _parse(name: str, text: str) -> Any:
    if name in ("household_phone", "resident_phone"):
        return labels.phone(text)
    if name == "control":
        return labels.control(text)
    if name == "age":
        return labels.age_band(text)
    return text or None


def _check(kind: str, domain_field: str, value: Any) -> None:
    """The domain's check of one value; :class:`Bad` with the validator's code."""
    if value is None:
        return
    try:
        _SPECS[kind].fields[domain_field](domain_field, value)
    except ValidationError as exc:
        raise Bad(exc.code.removeprefix("validation."), **exc.params) from exc


class RowReader:
    """Reads data rows in file order (it carries the fill-down state from row to row)."""

    def __init__(self, by_index: Mapping[int, str], header: list[str], formulas: set[Any]) -> None:
        self.by_index = by_index
        self.header = header
        self.formulas = formulas
        self.has_name = "name" in by_index.values()
        self.has_care = "care" in by_index.values()
        self.flag_columns = any(f.startswith(FLAG_PREFIX) for f in by_index.values())
        self._building = ""
        self._unit = ""

    def read(self, line: int, cells: list[str], problems: list[Problem]) -> Row | None:
        """The row's values, or ``None`` (its problems appended to ``problems``)."""
        found: list[Problem] = []
        raw = {f: (cells[i] if i < len(cells) else "") for i, f in self.by_index.items()}
        formulas = {
            i
            for i, f in self.by_index.items()
            if raw[f].startswith("=") or (line, i) in self.formulas
        }
        filled = False
        if not raw["building"] and self._building:
            raw["building"], filled = self._building, True
        if "unit" in raw and not raw["unit"] and self._unit and raw["building"] == self._building:
            raw["unit"], filled = self._unit, True
        self._building, self._unit = raw["building"], raw.get("unit", "")
        row = Row(line, raw["building"], raw.get("unit", ""), raw["room"], filled=filled)
        resident: dict[str, Any] = {}
        flags: list[str] = []
        for index, name in self.by_index.items():
            text = raw[name]
            if index in formulas:
                found.append(Problem(line, self.header[index], text, "formula"))
                continue
            try:
                if name in ("building", "room") and not text:
                    raise Bad("required")
                if name.startswith(FLAG_PREFIX):
                    if labels.yes_no(text):
                        flags.append(name.removeprefix(FLAG_PREFIX))
                    continue
                if name == "care":
                    care, other = labels.care(text)
                    flags.extend(care)
                    if other is not None:
                        _check("resident", "care_other", other)
                    resident["care_other"] = other
                    continue
                value = _parse(name, text)
                kind, domain_field = DOMAIN_FIELD[name]
                _check(kind, domain_field, value)
                if name in ("building", "unit", "room"):
                    _check("household", domain_field, value)  # also a place name: 20 < 100
                (row.household if kind == "household" else resident)[domain_field] = value
            except Bad as bad:
                found.append(Problem(line, self.header[index], text, bad.reason, bad.params))
        if self.has_care or self.flag_columns:
            resident["care_flags"] = [f for f in CARE_FLAGS if f in set(flags)]
        if self.has_name:
            if resident.get("name"):
                row.resident = resident
            elif any(resident.values()) and not any(self.by_index[i] == "name" for i in formulas):
                column = next(self.header[i] for i, f in self.by_index.items() if f == "name")
                found.append(Problem(line, column, "", "name_missing"))
        if found:
            problems.extend(found)
            return None
        return row
