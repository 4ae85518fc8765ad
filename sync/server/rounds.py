"""Rounds: one kind of task for many doors in one action (the CLI's ``round …`` and, later, the
command centre's page share these functions).

A round is a task type (``assignment.type``) for a set of **targets** (:class:`Targets`):

- places — every household at or beneath them;
- the households of key-care residents by flag (``care_flags``: every ``elderly_alone``
  resident living in a community, say), looked for beneath the given places;
- a list of households (uploaded by the coordinator).

It is **distributed** (:class:`Spread`) to a team's pool (team set, no assignee: any member may
take a door), across named members (households grouped by unit, or by unit and floor, each group
to the member with the fewest doors so far), or to each team by its area (the team whose area
holds the household's nearest place). Each target becomes one assignment carrying the round's id
(``round_id``, domain schema 5), written in one :func:`sync.server.admin.write` as ops of the
system device, so phones receive it in their normal sync. The round's definition is kept sealed
in ``rounds``; its progress is counted from the projection (:mod:`.projection`).

A round can be **extended** (more targets: households already in it are skipped), **cancelled**
(its open tasks cancelled, done ones kept) and **copied** (the same definition, targets looked up
again, as a new round).

A **recurring** round (``schedule``: local times such as 09:00 and 17:00) makes no tasks itself:
:func:`generate_due` makes, for each of its slots that has come today (local time, the latest
one only, never one before the round was made), a round copied from it, due ``window`` minutes
after the slot. One generation per round and slot is enforced by the database: the
``round_runs`` primary key, written in the same transaction as the tasks — so several server
processes running :class:`Scheduler` generate each slot once.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from sync.domain.enums import ASSIGNMENT_TYPES, CARE_FLAGS, PRIORITIES
from sync.domain.times import to_iso
from sync.errors import ValidationError
from sync.ops import new_id
from sync.protocol import now_ms
from sync.server import admin, db, logs, projection
from sync.server.admin import Author
from sync.server.runtime import Runtime
from sync.server.scope import place_chain
from sync.server.state import chunks, record_aad

MODES: Final = ("pool", "members", "teams")
GROUPINGS: Final = ("unit", "floor")
#: round states: ``open`` (its tasks are out), ``cancelled``, ``recurring`` (a template)
OPEN, CANCELLED, RECURRING = "open", "cancelled", "recurring"
#: statuses a cancel leaves alone
KEPT: Final = frozenset({"done", "cancelled"})
SLOT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_log = logging.getLogger("linli.rounds")


@dataclass(frozen=True, slots=True)
class Targets:
    places: tuple[str, ...] = ()
    #: with ``places``: only the households of residents with any of these flags beneath them
    care_flags: tuple[str, ...] = ()
    households: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spread:
    mode: str = "pool"
    team_id: str | None = None
    members: tuple[str, ...] = ()
    by: str = "unit"


@dataclass(frozen=True, slots=True)
class Spec:
    """What a round is: its task, targets, distribution and due time (UTC record time)."""

    type: str
    targets: Targets
    spread: Spread = field(default_factory=Spread)
    title: str | None = None
    due: str | None = None
    priority: str = "normal"
    instructions: str | None = None
    #: recurring: local ``HH:MM`` slots; each generation is due ``window`` minutes after its slot
    schedule: tuple[str, ...] = ()
    window: int = 120

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Spec:
        targets = {k: tuple(v) for k, v in raw["targets"].items()}
        spread = dict(raw["spread"])
        spread["members"] = tuple(spread.get("members") or ())
        values = {k: v for k, v in raw.items() if k not in ("targets", "spread", "schedule")}
        return cls(
            targets=Targets(**targets),
            spread=Spread(**spread),
            schedule=tuple(raw.get("schedule") or ()),
            **values,
        )


@dataclass(frozen=True, slots=True)
class Round:
    round_id: str
    community_id: str | None
    type: str
    state: str
    created_at: int
    spec: Spec
    #: the recurring round this one was generated from, and its slot
    source: str | None = None
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Made:
    round_id: str
    created: int
    skipped: int = 0


# -- reading ---------------------------------------------------------------------------------
def _aad(round_id: str) -> str:
    return f"round:{round_id}"


def _load(rt: Runtime, row: Any) -> Round:
    body = rt.vault.open(row.body, _aad(row.round_id))
    return Round(
        round_id=row.round_id,
        community_id=row.community_id,
        type=row.type,
        state=row.state,
        created_at=int(row.created_at),
        spec=Spec.from_dict(body["spec"]),
        source=body.get("source"),
        slot=body.get("slot"),
    )


def get(rt: Runtime, round_id: str) -> Round:
    """The round ``round_id`` (``round.not_found`` if there is none)."""
    with rt.db.read() as conn:
        return _get(rt, conn, round_id)


def _get(rt: Runtime, conn: Connection, round_id: str) -> Round:
    row = conn.execute(select(db.rounds).where(db.rounds.c.round_id == round_id)).first()
    if row is None:
        raise ValidationError("round.not_found", id=round_id)
    return _load(rt, row)


def listing(
    rt: Runtime, community_ids: Iterable[str] | None = None
) -> list[tuple[Round, projection.Progress]]:
    """Every round (of these communities, if given), newest first, with its progress."""
    t = db.rounds
    query = select(t).order_by(t.c.created_at.desc(), t.c.round_id.desc())
    if community_ids is not None:
        query = query.where(t.c.community_id.in_(list(community_ids)))
    with rt.db.read() as conn:
        found = [_load(rt, row) for row in conn.execute(query)]
        counts = projection.progress(conn, [r.round_id for r in found])
    return [(r, counts[r.round_id]) for r in found]


def progress(rt: Runtime, round_id: str) -> projection.Progress:
    with rt.db.read() as conn:
        return projection.progress(conn, [round_id])[round_id]


# -- targeting -------------------------------------------------------------------------------
def _households_beneath(a: Author, places: Sequence[str]) -> list[str]:
    """Every household at or beneath any of ``places`` (plaintext refs only)."""
    wanted = set(places)
    t = db.records
    conn = a.world.conn
    out = []
    for entity_id, refs in conn.execute(
        select(t.c.entity_id, t.c.refs).where(t.c.kind == "household").order_by(t.c.entity_id)
    ):
        place = json.loads(refs).get("place_id")
        if wanted.intersection(place_chain(a.world, place)):
            out.append(entity_id)
    return out


def _flagged(a: Author, households: list[str], flags: Sequence[str]) -> list[str]:
    """Those of ``households`` where a resident has any of ``flags`` (residents decrypted)."""
    t = db.records
    conn = a.world.conn
    wanted = set(flags)
    hit: set[str] = set()
    for part in chunks(households):
        rows = conn.execute(
            select(t.c.entity_id, t.c.parent_ref, t.c.body).where(
                t.c.kind == "resident", db.in_list(conn, t.c.parent_ref, part)
            )
        )
        for entity_id, household, body in rows:
            resident = a.world.vault.open(body, record_aad("resident", entity_id))
            if wanted.intersection(resident.get("care_flags") or ()):
                hit.add(household)
    return [h for h in households if h in hit]


def resolve(a: Author, targets: Targets) -> list[str]:
    """The households ``targets`` name, each once, in a stable order."""
    for place in targets.places:
        a.require("place", place)
    for flag in targets.care_flags:
        if flag not in CARE_FLAGS:
            raise ValidationError("round.bad_flag", flag=flag)
    if targets.care_flags and not targets.places:
        raise ValidationError("round.flags_need_place")
    found = _households_beneath(a, targets.places) if targets.places else []
    if targets.care_flags:
        found = _flagged(a, found, targets.care_flags)
    for household in targets.households:
        a.require("household", household)
    out = list(dict.fromkeys([*found, *targets.households]))
    a.world.load_refs(("household", h) for h in out)  # one query per chunk, not one per door
    return out


def _community(a: Author, households: Sequence[str]) -> str | None:
    """The one community all ``households`` are in (None when they span several or none)."""
    found: set[str | None] = set()
    for household in households:
        refs = a.world.refs("household", household) or {}
        community = None
        for place in place_chain(a.world, refs.get("place_id")):
            if (a.world.refs("place", place) or {}).get("level") == "community":
                community = place
                break
        found.add(community)
        if len(found) > 1:
            return None
    return next(iter(found), None)


# -- distribution ----------------------------------------------------------------------------
def _floor(room: object) -> str:
    """The floor of a room number ("1201" → "12", "803" → "8"); "" if it has none."""
    digits = re.match(r"\d+", str(room or "").strip())
    if digits is None or len(digits.group()) < 3:
        return ""
    return digits.group()[:-2].lstrip("0") or "0"


def _group_key(a: Author, household: str, by: str) -> tuple[str, str]:
    place = str((a.world.refs("household", household) or {}).get("place_id") or "")
    if by == "floor":
        record = a.world.record("household", household) or {}
        return (place, _floor(record.get("room")))
    return (place, "")


def distribute(a: Author, households: list[str], spread: Spread) -> dict[str, dict[str, Any]]:
    """``{household: {team_id, assignee_id}}`` for each target by ``spread``."""
    if spread.mode not in MODES:
        raise ValidationError("round.bad_mode", mode=spread.mode)
    if spread.mode == "pool":
        if spread.team_id is None:
            raise ValidationError("round.pool_needs_team")
        a.require("team", spread.team_id)
        return {h: {"team_id": spread.team_id} for h in households}
    if spread.mode == "members":
        return _by_members(a, households, spread)
    return _by_teams(a, households)


def _by_members(a: Author, households: list[str], spread: Spread) -> dict[str, dict[str, Any]]:
    if not spread.members:
        raise ValidationError("round.no_members")
    if spread.by not in GROUPINGS:
        raise ValidationError("round.bad_grouping", by=spread.by)
    teams: dict[str, str | None] = {}
    for member in spread.members:
        a.require("member", member)
        record = a.record("member", member) or {}
        teams[member] = record.get("team_id")
    if spread.by == "floor":
        a.world.load_records(("household", h) for h in households)
    groups: dict[tuple[str, str], list[str]] = {}
    for household in households:
        groups.setdefault(_group_key(a, household, spread.by), []).append(household)
    load = dict.fromkeys(spread.members, 0)
    out: dict[str, dict[str, Any]] = {}
    # biggest groups first, each to the member with the fewest doors so far (ties: given order)
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        member = min(spread.members, key=lambda m: load[m])
        load[member] += len(groups[key])
        for household in groups[key]:
            out[household] = {"team_id": teams[member], "assignee_id": member}
    return out


def _by_teams(a: Author, households: list[str]) -> dict[str, dict[str, Any]]:
    """Each household to the team whose area holds its nearest place (active teams only)."""
    t = db.records
    area_of: dict[str, str] = {}
    for entity_id, refs in a.world.conn.execute(
        select(t.c.entity_id, t.c.refs).where(t.c.kind == "team").order_by(t.c.entity_id)
    ):
        for place in json.loads(refs).get("area") or ():
            area_of.setdefault(place, entity_id)
    disabled = {
        team for team in set(area_of.values()) if (a.record("team", team) or {}).get("disabled_at")
    }
    out: dict[str, dict[str, Any]] = {}
    missing = 0
    for household in households:
        place = (a.world.refs("household", household) or {}).get("place_id")
        team = next(
            (
                area_of[p]
                for p in place_chain(a.world, place)
                if p in area_of and area_of[p] not in disabled
            ),
            None,
        )
        if team is None:
            missing += 1
        else:
            out[household] = {"team_id": team}
    if missing:
        raise ValidationError("round.no_team", count=missing)
    return out


# -- writing ---------------------------------------------------------------------------------
def _check(spec: Spec) -> None:
    if spec.type not in ASSIGNMENT_TYPES:
        raise ValidationError("round.bad_type", type=spec.type)
    if spec.priority not in PRIORITIES:
        raise ValidationError("round.bad_priority", priority=spec.priority)
    for slot in spec.schedule:
        if not SLOT.match(slot):
            raise ValidationError("round.bad_slot", slot=slot)
    if spec.window <= 0:
        raise ValidationError("round.bad_window", minutes=spec.window)


def _tasks(a: Author, round_id: str, spec: Spec, households: list[str], due: str | None) -> int:
    spread = distribute(a, households, spec.spread)
    for household in households:
        values: dict[str, Any] = {
            "type": spec.type,
            "target_kind": "household",
            "target_id": household,
            "status": "pending",
            "priority": spec.priority,
            "round_id": round_id,
            **spread[household],
        }
        for name, value in (
            ("due", due),
            ("title", spec.title),
            ("instructions", spec.instructions),
        ):
            if value is not None:
                values[name] = value
        a.op("assignment", set=values)
    return len(households)


def _insert(
    rt: Runtime,
    conn: Connection,
    round_id: str,
    spec: Spec,
    state: str,
    community: str | None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    body = {"spec": spec.to_dict(), **(extra or {})}
    conn.execute(
        insert(db.rounds).values(
            round_id=round_id,
            community_id=community,
            type=spec.type,
            state=state,
            schedule=",".join(spec.schedule) or None,
            created_at=now_ms(),
            body=rt.vault.seal(body, _aad(round_id)),
        )
    )


def create(rt: Runtime, spec: Spec) -> Made:
    """Make a round: one assignment per target household (none for a recurring round, whose
    generations :func:`generate_due` makes). ``round.no_targets`` when the targets name none."""
    _check(spec)
    round_id = new_id("rd-")

    def build(a: Author) -> Made:
        households = resolve(a, spec.targets)
        if not households:
            raise ValidationError("round.no_targets")
        community = _community(a, households)
        if spec.schedule:
            distribute(a, households, spec.spread)  # refuse a spread that cannot work now
            _insert(rt, a.world.conn, round_id, spec, RECURRING, community)
            return Made(round_id, 0)
        made = _tasks(a, round_id, spec, households, spec.due)
        _insert(rt, a.world.conn, round_id, spec, OPEN, community)
        return Made(round_id, made)

    made = admin.write(rt, build)[0]
    logs.event("round.created", round=round_id, tasks=made.created)
    return made


def extend(rt: Runtime, round_id: str, targets: Targets) -> Made:
    """Add targets to an open round (households already in it are skipped)."""

    def build(a: Author) -> Made:
        found = _get(rt, a.world.conn, round_id)
        if found.state != OPEN:
            raise ValidationError("round.not_open", id=round_id, state=found.state)
        have = {h for _, _, h in projection.round_assignments(a.world.conn, round_id)}
        households = resolve(a, targets)
        fresh = [h for h in households if h not in have]
        made = _tasks(a, round_id, found.spec, fresh, found.spec.due) if fresh else 0
        merged = Targets(
            places=_union(found.spec.targets.places, targets.places),
            care_flags=found.spec.targets.care_flags or targets.care_flags,
            households=_union(found.spec.targets.households, targets.households),
        )
        _rewrite(rt, a.world.conn, found, replace(found.spec, targets=merged))
        return Made(round_id, made, len(households) - len(fresh))

    return admin.write(rt, build)[0]


def _union(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _rewrite(rt: Runtime, conn: Connection, found: Round, spec: Spec, state: str = "") -> None:
    body = {"spec": spec.to_dict(), "source": found.source, "slot": found.slot}
    conn.execute(
        update(db.rounds)
        .where(db.rounds.c.round_id == found.round_id)
        .values(body=rt.vault.seal(body, _aad(found.round_id)), state=state or found.state)
    )


def cancel(rt: Runtime, round_id: str) -> tuple[int, int]:
    """Cancel a round: its open tasks are cancelled, done ones kept (a recurring round stops
    generating). ``(cancelled, kept)``."""

    def build(a: Author) -> tuple[int, int]:
        found = _get(rt, a.world.conn, round_id)
        if found.state == CANCELLED:
            raise ValidationError("round.not_open", id=round_id, state=found.state)
        cancelled = kept = 0
        found_tasks = projection.round_assignments(a.world.conn, round_id)
        # the open tasks' records in one query per chunk (not one per task)
        a.world.load_records(
            ("assignment", i) for i, status, _ in found_tasks if status not in KEPT
        )
        for assignment_id, status, _ in found_tasks:
            if status in KEPT:
                kept += 1
                continue
            a.op("assignment", assignment_id, set={"status": "cancelled"})
            cancelled += 1
        _rewrite(rt, a.world.conn, found, found.spec, CANCELLED)
        return cancelled, kept

    return admin.write(rt, build)[0]


def copy(rt: Runtime, round_id: str, *, due: str | None = None, title: str | None = None) -> Made:
    """A new round with the definition of ``round_id`` (its targets looked up again)."""
    found = get(rt, round_id)
    spec = replace(
        found.spec, due=due if due is not None else found.spec.due, title=title or found.spec.title
    )
    return create(rt, spec)


# -- recurring -------------------------------------------------------------------------------
def latest_slot(
    schedule: Sequence[str], where: tzinfo, now: datetime, since: datetime
) -> datetime | None:
    """The latest of today's ``schedule`` slots (local) that has come by ``now`` and is not
    before ``since`` (the minute the recurring round was made)."""
    local = now.astimezone(where)
    start = since.astimezone(where).replace(second=0, microsecond=0)
    best: datetime | None = None
    for slot in schedule:
        hour, minute = (int(x) for x in slot.split(":"))
        at = datetime.combine(local.date(), time(hour, minute), tzinfo=where)
        if start <= at <= local and (best is None or at > best):
            best = at
    return best


def generate_due(rt: Runtime, where: tzinfo, now: datetime | None = None) -> list[Made]:
    """Generate every recurring round's slot that has come and not been generated yet; the
    rounds made. Safe to run in several processes at once (``round_runs``' primary key)."""
    moment = now or datetime.now(UTC)
    with rt.db.read() as conn:
        t = db.rounds
        templates = [
            _load(rt, row) for row in conn.execute(select(t).where(t.c.state == RECURRING))
        ]
        runs = db.round_runs
        done = {(r.round_id, r.slot) for r in conn.execute(select(runs.c.round_id, runs.c.slot))}
    out = []
    for template in templates:
        since = datetime.fromtimestamp(template.created_at / 1000, UTC)
        at = latest_slot(template.spec.schedule, where, moment, since)
        if at is None:
            continue
        slot = at.strftime("%Y-%m-%d %H:%M")
        if (template.round_id, slot) in done:
            continue
        made = _generate(rt, template, slot, at)
        if made is not None:
            out.append(made)
    return out


def _generate(rt: Runtime, template: Round, slot: str, at: datetime) -> Made | None:
    round_id = new_id("rd-")
    spec = replace(
        template.spec,
        schedule=(),
        due=to_iso((at + timedelta(minutes=template.spec.window)).astimezone(UTC)),
    )

    def build(a: Author) -> Made | None:
        conn = a.world.conn
        runs = db.round_runs
        taken = conn.execute(
            select(runs.c.round_id).where(runs.c.round_id == template.round_id, runs.c.slot == slot)
        ).first()
        if taken is not None:
            return None  # another process generated it first
        conn.execute(
            insert(runs).values(
                round_id=template.round_id,
                slot=slot,
                generated_round=round_id,
                created_at=now_ms(),
            )
        )
        households = resolve(a, spec.targets)
        made = _tasks(a, round_id, spec, households, spec.due)
        extra = {"source": template.round_id, "slot": slot}
        _insert(rt, conn, round_id, spec, OPEN, template.community_id, extra)
        return Made(round_id, made)

    try:
        made = admin.write(rt, build)[0]
    except IntegrityError:
        return None  # the primary key: generated by another process meanwhile
    if made is not None:
        logs.event("round.generated", round=template.round_id, slot=slot, tasks=made.created)
    return made


def generations(rt: Runtime, round_id: str) -> list[tuple[str, str]]:
    """``(slot, generated round)`` of a recurring round, oldest first."""
    runs = db.round_runs
    with rt.db.read() as conn:
        rows = conn.execute(
            select(runs.c.slot, runs.c.generated_round)
            .where(runs.c.round_id == round_id)
            .order_by(runs.c.slot)
        )
        return [(r.slot, r.generated_round) for r in rows]


class Scheduler:
    """Runs :func:`generate_due` every ``tick_s`` seconds on a daemon thread of the server
    process (every worker runs one: the database keeps each slot to one generation)."""

    def __init__(self, rt: Runtime, where: tzinfo, tick_s: float = 30.0) -> None:
        self.rt = rt
        self.where = where
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linli-rounds", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.tick_s + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                generate_due(self.rt, self.where)
            except Exception:  # the next tick tries again; never take the server down
                _log.exception("round generation failed")
            self._stop.wait(self.tick_s)
