"""``import-households CSV --community PLACE``: households and residents from a spreadsheet.

The file is UTF-8 (a BOM is fine) with a header row. Columns (order free, unknown ones refused):

- ``building``, ``unit``, ``room`` — required on every row; one household per distinct triple;
  buildings and units are created under the community as places when missing;
- ``address`` — display label (default: community, building, unit, room joined), ``phone``,
  ``control`` (sealed|controlled|precaution|normal), ``note`` — the household's, from its first row;
- ``name``, ``resident_phone``, ``age_band`` (0-6|7-17|18-59|60-79|80+), ``care_flags``
  (separated by ``|``: elderly_alone, disabled, pregnant, chronic_illness,
  child_without_guardian, other), ``care_note`` — one resident per row with a ``name``.

Every row is checked with the domain's validators; the first bad one stops the import with
``import.bad_row`` (line number, column) and NOTHING is written (one transaction). Place and
household ids are derived from the community and the address parts (keyed with the server's
data key), so importing the same file again updates them instead of duplicating; residents
already present by name in a household are skipped.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sync.errors import LinliError, ValidationError
from sync.server import db
from sync.server.admin import Author, write
from sync.server.runtime import Runtime
from sync.server.state import record_aad

REQUIRED = ("building", "unit", "room")
HOUSEHOLD_COLUMNS = ("address", "phone", "control", "note")
RESIDENT_COLUMNS = ("name", "resident_phone", "age_band", "care_flags", "care_note")
COLUMNS = frozenset(REQUIRED + HOUSEHOLD_COLUMNS + RESIDENT_COLUMNS)
#: op field -> CSV column, for resident ops (to name the column of a bad value)
RESIDENT_FIELD_COLUMN = {"phone": "resident_phone"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(slots=True)
class ImportResult:
    households: int = 0
    residents: int = 0
    places: int = 0
    skipped_residents: int = 0
    ids: dict[str, str] = field(default_factory=dict)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for each data row; header and encoding checked first."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_BYTES:
            raise ValidationError("import.unreadable", reason=f"> {MAX_BYTES} bytes")
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("import.unreadable", reason=type(exc).__name__) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown or len(set(header)) != len(header):
            raise ValidationError(
                "import.bad_header",
                missing=",".join(missing) or "-",
                unknown=",".join(unknown) or "-",
            )
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise ValidationError(
                    "import.bad_row", line=line, column="-", problem="validation.columns"
                )
            yield line, {h: c.strip() for h, c in zip(header, cells, strict=True)}
    except csv.Error as exc:
        raise ValidationError(
            "import.bad_row", line=reader.line_num, column="-", problem="validation.csv"
        ) from exc


def _stable_id(key: bytes, prefix: str, *parts: str) -> str:
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:20]}"


def _bad_row(line: int, exc: LinliError, columns: Mapping[str, str]) -> ValidationError:
    name = str(exc.params.get("field", "-")).split(".")[0]
    return ValidationError(
        "import.bad_row", line=line, column=columns.get(name, name), problem=exc.code
    )


def import_households(rt: Runtime, path: Path, community_id: str) -> ImportResult:
    """Import a CSV (see module docs) atomically; raises ``import.*`` coded errors."""
    rows = list(read_rows(path))
    if not rows:
        raise ValidationError("import.empty")
    key = rt.secrets.data_key

    def build(a: Author) -> ImportResult:
        community = a.record("place", community_id)
        if community is None or community.get("level") != "community":
            raise ValidationError("admin.not_found", kind="community", id=community_id)
        result = ImportResult()
        names: dict[str, set[str]] = {}
        for line, row in rows:
            building = _place(a, key, community_id, row["building"], "building", line, result)
            unit = _place(a, key, building, row["unit"], "unit", line, result)
            hh_id = _stable_id(key, "hh-", community_id, row["building"], row["unit"], row["room"])
            if hh_id not in names:
                names[hh_id] = _resident_names(rt, a, hh_id)
                label = " ".join(
                    p
                    for p in (community.get("name"), row["building"], row["unit"], row["room"])
                    if p
                )
                values: dict[str, Any] = {
                    "place_id": unit,
                    "building": row["building"],
                    "unit": row["unit"],
                    "room": row["room"],
                    "address": row.get("address") or label,
                }
                values.update({c: row[c] for c in HOUSEHOLD_COLUMNS if row.get(c)})
                try:
                    a.op("household", hh_id, set=values)
                except LinliError as exc:
                    raise _bad_row(line, exc, {}) from exc
                result.households += 1
            name = row.get("name", "")
            if not name:
                continue
            if name in names[hh_id]:
                result.skipped_residents += 1
                continue
            names[hh_id].add(name)
            resident: dict[str, Any] = {"household_id": hh_id, "name": name}
            for column, op_field in (
                ("resident_phone", "phone"),
                ("age_band", "age_band"),
                ("care_note", "care_note"),
            ):
                if row.get(column):
                    resident[op_field] = row[column]
            if row.get("care_flags"):
                resident["care_flags"] = [
                    f.strip() for f in row["care_flags"].split("|") if f.strip()
                ]
            try:
                a.op("resident", set=resident)
            except LinliError as exc:
                raise _bad_row(line, exc, RESIDENT_FIELD_COLUMN) from exc
            result.residents += 1
        return result

    return write(rt, build)[0]


def _place(
    a: Author, key: bytes, parent: str, name: str, level: str, line: int, result: ImportResult
) -> str:
    place_id = _stable_id(key, "pl-", parent, name)
    if a.record("place", place_id) is None:
        try:
            a.op("place", place_id, set={"parent_id": parent, "level": level, "name": name})
        except LinliError as exc:
            raise _bad_row(line, exc, {"name": level}) from exc
        result.places += 1
    return place_id


def _resident_names(rt: Runtime, a: Author, household_id: str) -> set[str]:
    """Names of the residents a household already has (to skip them on a re-import)."""
    conn = a.world.conn
    rows = conn.execute(
        select(db.records.c.entity_id, db.records.c.body).where(
            db.records.c.parent_ref == household_id, db.records.c.kind == "resident"
        )
    )
    return {
        str(rt.vault.open(r.body, record_aad("resident", r.entity_id)).get("name", ""))
        for r in rows
    }
