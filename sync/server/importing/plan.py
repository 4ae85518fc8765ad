"""The preview: checked rows matched against what the server has, and what would change.

**Identity.** Buildings and units are places under the community, found by name or created with
an id derived from the community and the names (keyed with the server's data key, as the first
import command did, so files imported by it map onto the same records). A household is found by
its derived id (community, building, unit, room) or, for one created otherwise, by its unit and
room. A resident is matched in its household on name plus phone: the one recorded resident with
that name and phone; a new row's resident gets an id derived from its household, name, phone and
how many rows before it in the household share both (so two people of the same name are both
kept, and running the same file again finds them again). A row whose name is recorded in the
household with another (or no) phone is **ambiguous**: listed for a decision, never matched by
row order.

**What changes.** A new household or resident gets every value of its row. An existing one gets
only the fields whose value in the file differs from the value this community's file last gave
it (:mod:`.remembered`) — so a correction made in the field stands until the file itself changes
— and, the first time a file meets a record, only the non-empty values. A household's values
come from its first row that has each (``control``: the strictest of its rows). Residents
recorded on the server and not in the file are left alone: an import never removes anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from sync.domain.enums import CONTROL
from sync.domain.schema import HOUSEHOLD_KIND, RESIDENT_KIND
from sync.errors import ValidationError
from sync.server import db
from sync.server.importing import columns, remembered, sheets
from sync.server.importing.files import Source
from sync.server.importing.model import (
    Ambiguity,
    Candidate,
    Change,
    Counts,
    Preview,
    Problem,
    Values,
)
from sync.server.importing.rows import Row, RowReader
from sync.server.names import _ends
from sync.server.runtime import Runtime
from sync.server.state import chunks, record_aad

NEW = "new"
_STRICT = {value: rank for rank, value in enumerate(CONTROL)}  # sealed is the strictest
_SPECS = {"household": HOUSEHOLD_KIND, "resident": RESIDENT_KIND}


def stable_id(key: bytes, prefix: str, *parts: str) -> str:
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:20]}"


def _norm(text: Any) -> str:
    return "".join(str(text or "").split())


@dataclass(slots=True)
class _Household:
    entity_id: str
    place_id: str
    label: str
    rows: list[Row] = field(default_factory=list)
    values: Values = field(default_factory=dict)
    record: dict[str, Any] | None = None


@dataclass(slots=True)
class _Known:
    """What the server has that the file may touch (read in one transaction)."""

    community: dict[str, Any]
    places: dict[str, dict[str, Any]]
    households: dict[str, dict[str, Any]]
    residents: dict[str, list[tuple[str, dict[str, Any]]]]
    remembered: dict[str, dict[str, Any]]


def _open_all(
    rt: Runtime, conn: Connection, kind: str, column: Any, ids: list[str]
) -> dict[str, dict[str, Any]]:
    t = db.records
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(ids))):
        rows = conn.execute(
            select(t.c.entity_id, t.c.body).where(t.c.kind == kind, db.in_list(conn, column, part))
        )
        for r in rows:
            out[r.entity_id] = rt.vault.open(r.body, record_aad(kind, r.entity_id))
    return out


def community_of(rt: Runtime, conn: Connection, community_id: str) -> dict[str, Any]:
    t = db.records
    row = conn.execute(
        select(t.c.body).where(t.c.kind == "place", t.c.entity_id == community_id)
    ).first()
    record = rt.vault.open(row.body, record_aad("place", community_id)) if row else None
    if record is None or record.get("level") != "community":
        raise ValidationError("import.not_community", place=community_id)
    return dict(record)


class Planner:
    def __init__(self, rt: Runtime, community_id: str) -> None:
        self.rt = rt
        self.key = rt.secrets.data_key
        self.community_id = community_id
        self.places: dict[tuple[str, str], str] = {}
        self.new_places: list[Change] = []

    # -- places --------------------------------------------------------------------------
    def place(self, known: _Known, parent: str, name: str, level: str, line: int) -> str:
        if (parent, name) in self.places:
            return self.places[(parent, name)]
        derived = stable_id(self.key, "pl-", parent, name)
        found = derived if derived in known.places else None
        if found is None:
            found = _child(known.places, parent, name)
        if found is None:
            found = derived
            values = {"parent_id": parent, "level": level, "name": name}
            self.new_places.append(Change("place", derived, line, values, {}, True))
        self.places[(parent, name)] = found
        return found

    # -- reading what exists -------------------------------------------------------------
    def known(self, conn: Connection, rows: list[Row]) -> _Known:
        community = community_of(self.rt, conn, self.community_id)
        t = db.records
        places = _open_all(self.rt, conn, "place", t.c.kind, ["place"])  # every place
        known = _Known(community, places, {}, {}, {})
        derived = [
            stable_id(self.key, "hh-", self.community_id, r.building, r.unit, r.room) for r in rows
        ]
        buildings = [pid for pid, p in places.items() if p.get("parent_id") == self.community_id]
        parents = buildings + [pid for pid, p in places.items() if p.get("parent_id") in buildings]
        known.households = _open_all(self.rt, conn, "household", t.c.entity_id, derived)
        known.households.update(_open_all(self.rt, conn, "household", t.c.parent_ref, parents))
        for rid, r in _open_all(
            self.rt, conn, "resident", t.c.parent_ref, list(known.households)
        ).items():
            known.residents.setdefault(str(r.get("household_id")), []).append((rid, r))
        known.remembered = remembered.load(conn, self.rt.vault, self.community_id)
        return known


def _child(places: Mapping[str, Mapping[str, Any]], parent: str, name: str) -> str | None:
    """The child place of ``parent`` called ``name`` — or, if none is, the one child whose name
    ends with it (``5栋`` for ``观海轩 5栋``, as the command line reads place names)."""
    children = {
        pid: _norm(p.get("name")) for pid, p in places.items() if p.get("parent_id") == parent
    }
    wanted = _norm(name)
    same = sorted(pid for pid, n in children.items() if n == wanted)
    if not same:
        tails = [pid for pid, n in children.items() if n.endswith(wanted) and _ends(n, wanted)]
        same = tails if len(tails) == 1 else []
    return same[0] if same else None


def _household_values(rows: list[Row]) -> Values:
    values: Values = {}
    for row in rows:
        for name, value in row.household.items():
            if name in ("building", "unit", "room"):
                continue
            if name == "control" and value is not None and name in values:
                if values[name] is None or _STRICT[value] < _STRICT[values[name]]:
                    values[name] = value
                continue
            if values.get(name) is None:
                values[name] = value
    return values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return sorted(a or ()) == sorted(b or ())
    return bool(a == b)


def changes(
    kind: str, values: Values, before: Mapping[str, Any] | None, record: Mapping[str, Any]
) -> Values:
    """The fields of an existing ``record`` to set: changed in the file since ``before``."""
    required = _SPECS[kind].required
    out: Values = {}
    for name, value in values.items():
        if before is not None and name in before and _same(before[name], value):
            continue  # the file still says what it said: a change made since then stands
        if value in (None, []) and (before is None or name not in before or name in required):
            continue  # never clear on first sight, never clear a required field
        if _same(record.get(name), value):
            continue
        out[name] = value
    return out


def _remember(before: Mapping[str, Any] | None, values: Values) -> Values:
    return {**(before or {}), **values}


def build(
    rt: Runtime,
    source: Source,
    community_id: str,
    *,
    overrides: Mapping[str, str] | None = None,
    sheet: str | None = None,
    decisions: Mapping[int, str] | None = None,
) -> Preview:
    overrides = dict(overrides or {})
    decisions = dict(decisions or {})
    grid = sheets.read(source, sheet)
    header_at = columns.find_header(grid.rows, overrides)
    header_line, header = grid.rows[header_at]
    by_index, shown, ignored = columns.mapping(header, overrides)
    data = grid.rows[header_at + 1 :]
    if not data:
        raise ValidationError("import.empty")
    reader = RowReader(by_index, header, grid.formulas)
    problems: list[Problem] = []
    good: list[Row] = []
    filled = 0
    for line, cells in data:
        row = reader.read(line, cells, problems)
        if row is not None:
            good.append(row)
            filled += bool(row.filled or line in grid.merged)
    planner = Planner(rt, community_id)
    with rt.db.read() as conn:
        known = planner.known(conn, good)
    preview = Preview(
        community_id=community_id,
        source=source.name,
        kind=grid.kind,
        encoding=grid.encoding,
        sheet=grid.sheet,
        header_line=header_line,
        rows=len(data),
        mapping=shown,
        ignored=ignored,
        problems=problems,
        ambiguities=[],
        households=Counts(),
        residents=Counts(),
        places=0,
        filled=filled,
        plan=[],
        decisions={},
    )
    homes = _group(planner, known, good)
    plan: list[Change] = []  # each household followed by its residents
    for home in homes:
        _plan_household(preview, known, home, plan)
        _plan_residents(planner, preview, known, home, decisions, plan)
    unknown = set(decisions) - {a.line for a in preview.ambiguities}
    if unknown:
        raise ValidationError("import.bad_decision", line=min(unknown), candidates="-")
    preview.places = len(planner.new_places)
    preview.plan = planner.new_places + plan
    return preview


def _group(planner: Planner, known: _Known, rows: list[Row]) -> list[_Household]:
    homes: dict[tuple[str, str, str], _Household] = {}
    community = str(known.community.get("name", ""))
    rooms: dict[tuple[str, str], str] = {}  # (place, room) -> the household there (lowest id)
    for hid in sorted(known.households, reverse=True):
        h = known.households[hid]
        rooms[(str(h.get("place_id")), _norm(h.get("room")))] = hid
    for row in rows:
        key = (row.building, row.unit, row.room)
        home = homes.get(key)
        if home is None:
            building = planner.place(
                known, planner.community_id, row.building, "building", row.line
            )
            place = (
                planner.place(known, building, row.unit, "unit", row.line) if row.unit else building
            )
            derived = stable_id(planner.key, "hh-", planner.community_id, *key)
            entity_id = derived
            if derived not in known.households:
                entity_id = rooms.get((place, _norm(row.room)), derived)
            label = " ".join(p for p in (community, *key) if p)
            home = homes[key] = _Household(entity_id, place, label)
            home.record = known.households.get(entity_id)
        home.rows.append(row)
    for home in homes.values():
        home.values = _household_values(home.rows)
    return list(homes.values())


def _plan_household(preview: Preview, known: _Known, home: _Household, plan: list[Change]) -> None:
    line = home.rows[0].line
    before = known.remembered.get(home.entity_id)
    if home.record is None:
        first = home.rows[0]
        values = {k: v for k, v in home.values.items() if v is not None}
        values.setdefault("address", home.label[:200])
        new = {
            "place_id": home.place_id,
            "building": first.building,
            "room": first.room,
            **({"unit": first.unit} if first.unit else {}),
            **values,
        }
        plan.append(Change("household", home.entity_id, line, new, home.values, True))
        preview.households.new += 1
        return
    to_set = changes("household", home.values, before, home.record)
    remembered_now = _remember(before, home.values)
    if to_set:
        preview.households.changed += 1
    else:
        preview.households.unchanged += 1
    if to_set or remembered_now != before:
        plan.append(Change("household", home.entity_id, line, to_set, home.values, False))


def _plan_residents(
    planner: Planner,
    preview: Preview,
    known: _Known,
    home: _Household,
    decisions: Mapping[int, str],
    plan: list[Change],
) -> None:
    recorded = list(known.residents.get(home.entity_id, []))
    by_id = dict(recorded)
    taken: set[str] = set()
    seen: dict[tuple[str, str], int] = {}
    pending: list[tuple[Row, str]] = []
    # first pass: the rows' derived ids and exact (name + phone) matches
    for row in home.rows:
        if row.resident is None:
            continue
        name, phone = _norm(row.resident["name"]), str(row.resident.get("phone") or "")
        occurrence = seen.get((name, phone), 0)
        seen[(name, phone)] = occurrence + 1
        derived = stable_id(planner.key, "rs-", home.entity_id, name, phone, str(occurrence))
        if derived in by_id and derived not in taken:
            taken.add(derived)
            _plan_resident(preview, known, home, row, derived, by_id[derived], plan)
        else:
            pending.append((row, derived))
    for row, derived in pending:
        assert row.resident is not None
        name, phone = _norm(row.resident["name"]), str(row.resident.get("phone") or "")
        exact = [
            rid
            for rid, r in recorded
            if rid not in taken
            and _norm(r.get("name")) == name
            and str(r.get("phone") or "") == phone
        ]
        if len(exact) == 1:
            taken.add(exact[0])
            _plan_resident(preview, known, home, row, exact[0], by_id[exact[0]], plan)
            continue
        named = exact or [
            rid for rid, r in recorded if rid not in taken and _norm(r.get("name")) == name
        ]
        if not named:
            _plan_resident(preview, known, home, row, derived, None, plan)
            continue
        candidates = tuple(
            Candidate(rid, str(by_id[rid].get("name", "")), str(by_id[rid].get("phone") or ""))
            for rid in named
        )
        preview.ambiguities.append(
            Ambiguity(row.line, home.label, str(row.resident["name"]), phone, candidates)
        )
        choice = decisions.get(row.line)
        if choice is None:
            preview.undecided.add(row.line)
        elif choice == NEW:
            preview.decisions[row.line] = NEW
            _plan_resident(preview, known, home, row, derived, None, plan)
        elif choice in named:
            preview.decisions[row.line] = choice
            taken.add(choice)
            _plan_resident(preview, known, home, row, choice, by_id[choice], plan)
        else:
            raise ValidationError(
                "import.bad_decision",
                line=row.line,
                candidates=", ".join(c.resident_id for c in candidates),
            )


def _plan_resident(
    preview: Preview,
    known: _Known,
    home: _Household,
    row: Row,
    entity_id: str,
    record: dict[str, Any] | None,
    plan: list[Change],
) -> None:
    assert row.resident is not None
    values = row.resident
    if record is None:
        new = {"household_id": home.entity_id, **{k: v for k, v in values.items() if v is not None}}
        plan.append(Change("resident", entity_id, row.line, new, values, True))
        preview.residents.new += 1
        return
    before = known.remembered.get(entity_id)
    to_set = changes("resident", values, before, record)
    if to_set:
        preview.residents.changed += 1
    else:
        preview.residents.unchanged += 1
    if to_set or _remember(before, values) != before:
        plan.append(Change("resident", entity_id, row.line, to_set, values, False))
