"""Who may write what: the server-side judgement of EVERY op against the records as they stand.

Roles (``docs/security.md``, "Volunteers and leads"):

- **volunteer** — on assignments and requests of the team's scope: records visits (any member
  of the task's team: a visit is a fact, kept even when the task was reassigned or closed by
  someone else); moves the status of, and sets the result and ``revisit_due`` of, tasks assigned
  to them; takes (接单) a team-pool task or request — one with the team and no assignee — by
  setting themself as assignee (a visit on a pool task claims it too); creates requests and adds
  request notes;
- **team lead** — creates, updates and reassigns any assignment and request in the team's scope
  (assignees from the own team only); creates the team's shifts and writes handover notes;
- **coordinator** (and the server's own ``system`` device) — anything.

Places, households, residents, teams, members, notices and contacts are coordinator-only. "The
team's scope": the record's ``team_id`` is the team, or its household/place lies in the team's
area — judged before the op and after it, so nothing moves into or out of a scope by someone
outside it.

Judged against the SERVER's record, never what the phone claims to have seen:

- **transitions** — a status move is checked from the status the record has now (the op's
  ``seen`` only made it valid on its own): the machine must allow it (a visit's outcome may
  move any non-final status) and the author's role must be allowed to make it
  (``op.status_changed`` / ``op.forbidden_role``). A status write that loses to a newer one
  (last writer wins) changes nothing and is not judged;
- **history is append-only** — a child (visit, note, handover note) is immutable once stored:
  the same id again with other content is ``op.child_exists``; a child's ``member`` must be the
  op's author (``op.child_author``).

A refusal of the whole op raises :class:`OpRejected`. An op carrying children its author may add
(a visit, a note) is never refused for its field changes: those are dropped and the children
kept — a :class:`Verdict` with the narrowed op, the dropped fields and why (the task then shows
the lead a "conflicting visit": :func:`sync.domain.visits.conflicting_visits`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from sync.domain.machines import ASSIGNMENT_MACHINE, OUTCOME_STATUS, REQUEST_MACHINE
from sync.errors import OpRejected
from sync.merge import CLOCK, field_wins, stamp_of
from sync.ops import Op
from sync.server.scope import household_place, in_area

VOLUNTEER = "volunteer"
TEAM_LEAD = "team_lead"
COORDINATOR = "coordinator"
SYSTEM = "system"

COORDINATOR_ONLY = frozenset(
    {"place", "household", "resident", "team", "member", "notice", "contact"}
)
#: what a volunteer may set on work assigned to them (and on a pool task they claim)
OWN_FIELDS = {
    "assignment": frozenset({"status", "result", "revisit_due"}),
    "request": frozenset({"status"}),
}
#: fields that go with a status move and are dropped with it
WITH_STATUS = frozenset({"status", "revisit_due"})
CLAIM = "assignee_id"

#: looks up a child already stored (or accepted earlier in the same commit) by list and id
StoredChild = Callable[[str, str], Mapping[str, Any] | None]


class World(Protocol):
    """What the rules may know: current records and their refs, by kind and id."""

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None: ...

    def record(self, kind: str, entity_id: str) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """The enrolled device that sent an op, with its member's current role, team and area."""

    device_id: str
    member_id: str
    role: str
    team_id: str | None
    area: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.role in (COORDINATOR, SYSTEM)


@dataclass(frozen=True, slots=True)
class Verdict:
    """An op the server accepts: ``op`` is what is applied and fed — the op as sent, or narrowed
    to its children and allowed fields, ``dropped`` naming the fields left out and ``reason``
    why."""

    op: Op
    dropped: tuple[str, ...] = ()
    reason: OpRejected | None = None


def _forbidden(op: Op, role: str) -> OpRejected:
    return OpRejected("op.forbidden_role", kind=op.kind, role=role)


def _out_of_scope(op: Op) -> OpRejected:
    return OpRejected("op.out_of_scope", kind=op.kind)


def after_refs(before: Mapping[str, Any] | None, op: Op) -> dict[str, Any]:
    """The refs as the op wants them: the current ones overlaid with what the op sets."""
    out = dict(before or {})
    out.update(op.set)
    return out


def in_team_scope(actor: Actor, world: World, kind: str, refs: Mapping[str, Any]) -> bool:
    if actor.team_id is not None and refs.get("team_id") == actor.team_id:
        return True
    if kind == "assignment" and refs.get("target_kind") == "place":
        target = refs.get("target_id")
        return in_area(world, actor.area, target if isinstance(target, str) else None)
    household = refs.get("target_id") if kind == "assignment" else refs.get("household_id")
    return in_area(world, actor.area, household_place(world, household))


def authorize(actor: Actor, op: Op, world: World, stored: StoredChild | None = None) -> Verdict:
    """The op to apply for ``actor`` given the current records (``stored``: children accepted
    earlier in the same commit, not yet in ``world``'s records). Raises :class:`OpRejected`
    when nothing of it may be applied."""
    if op.device != actor.device_id or op.member != actor.member_id:
        raise OpRejected("op.wrong_author", kind=op.kind)
    before = world.record(op.kind, op.entity_id)
    check_children(actor, op, before, stored)
    if actor.sees_everything:
        try:
            check_transition(actor, op, before)
        except OpRejected as exc:
            return _narrow(op, WITH_STATUS, exc)
        return Verdict(op)
    if op.kind in COORDINATOR_ONLY:
        raise _forbidden(op, actor.role)
    if actor.team_id is None:
        raise _out_of_scope(op)
    refs = world.refs(op.kind, op.entity_id)
    if op.kind in ("assignment", "request"):
        _check_scope(actor, op, world, refs)
        if actor.role == TEAM_LEAD:
            return _judge_lead(actor, op, world, before)
        if actor.role == VOLUNTEER:
            return _judge_volunteer(actor, op, before)
        raise _forbidden(op, actor.role)
    if op.kind == "shift" and actor.role == TEAM_LEAD:
        teams = {(refs or {}).get("team_id", actor.team_id), after_refs(refs, op).get("team_id")}
        if teams != {actor.team_id}:
            raise _out_of_scope(op)
        return Verdict(op)
    raise _forbidden(op, actor.role)


# -- history ------------------------------------------------------------------------------


def _content(child: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in child.items() if k != CLOCK}


def check_children(
    actor: Actor, op: Op, before: Mapping[str, Any] | None, stored: StoredChild | None = None
) -> None:
    """Children are the author's own (``op.child_author``) and never rewrite a stored one
    (``op.child_exists``; the same child sent again, unchanged, is harmless)."""
    for name, children in op.add.items():
        kept = {c["id"]: c for c in (before or {}).get(name) or () if isinstance(c, Mapping)}
        for child in children:
            if actor.role != SYSTEM and child.get("member") != op.member:
                raise OpRejected("op.child_author", kind=op.kind, field=name)
            old = stored(name, child["id"]) if stored is not None else None
            old = old if old is not None else kept.get(child["id"])
            if old is not None and _content(old) != _content(child):
                raise OpRejected("op.child_exists", kind=op.kind, field=name)


# -- transitions --------------------------------------------------------------------------


def check_transition(actor: Actor, op: Op, before: Mapping[str, Any] | None) -> None:
    """The status move the op makes, judged from the record's CURRENT status."""
    to = op.set.get("status")
    current = (before or {}).get("status")
    if not isinstance(to, str) or not isinstance(current, str) or to == current:
        return  # no move, or a create (its initial status was checked with the op)
    clocks: Mapping[str, str] = (before or {}).get(CLOCK) or {}
    if not field_wins(stamp_of(op), to, clocks.get("status"), current):
        return  # an older write: the newer status stays, nothing moves
    machine = ASSIGNMENT_MACHINE if op.kind == "assignment" else REQUEST_MACHINE
    visits = op.add.get("visits")
    if visits:
        latest = max(visits, key=lambda v: (v["at"], v["id"]))
        by_visit = OUTCOME_STATUS.get(latest["outcome"]) == to
    else:
        by_visit = False
    allowed = not machine.is_final(current) if by_visit else machine.allows(current, to)
    if not allowed:
        raise OpRejected("op.status_changed", kind=op.kind, status=current, to=to)
    if actor.role != SYSTEM and actor.role not in machine.roles_for(current, to):
        raise _forbidden(op, actor.role)


# -- team work ----------------------------------------------------------------------------


def _check_scope(actor: Actor, op: Op, world: World, refs: Mapping[str, Any] | None) -> None:
    if refs is not None and not in_team_scope(actor, world, op.kind, refs):
        raise _out_of_scope(op)
    if not in_team_scope(actor, world, op.kind, after_refs(refs, op)):
        raise _out_of_scope(op)
    team = op.set.get("team_id")
    if team is not None and team != actor.team_id and refs is None and actor.role == VOLUNTEER:
        raise _out_of_scope(op)


def _judge_lead(actor: Actor, op: Op, world: World, before: Mapping[str, Any] | None) -> Verdict:
    assignee = op.set.get(CLAIM)
    if isinstance(assignee, str):
        member = world.refs("member", assignee)
        if member is None or member.get("team_id") != actor.team_id:
            raise _out_of_scope(op)
    try:
        check_transition(actor, op, before)
    except OpRejected as exc:
        return _narrow(op, WITH_STATUS, exc)
    return Verdict(op)


def _judge_volunteer(actor: Actor, op: Op, before: Mapping[str, Any] | None) -> Verdict:
    if before is None or before.get("status") is None:
        if op.kind == "request" and op.set.get(CLAIM) in (None, actor.member_id):
            return Verdict(op)  # a new request in the team's scope (taken by its author, or not)
        raise _forbidden(op, actor.role)
    allowed_children = {"assignment": "visits", "request": "notes"}[op.kind]
    if op.add.keys() - {allowed_children}:
        raise _forbidden(op, actor.role)
    holder = before.get(CLAIM)
    claims = op.set.get(CLAIM)
    refusal: OpRejected | None = None
    drop: set[str] = set()
    if CLAIM in op.set and claims != holder:
        if claims != actor.member_id:
            refusal = _forbidden(op, actor.role)
        elif holder is not None:
            refusal = OpRejected("op.already_claimed", kind=op.kind, by=str(holder))
        if refusal is not None:
            drop.add(CLAIM)
    works_it = holder == actor.member_id or (holder is None and claims == actor.member_id)
    if not works_it:
        by_visit = _visit_status(op)
        for name in op.set.keys() - {CLAIM}:
            if not (name in WITH_STATUS and by_visit):
                drop.add(name)
                refusal = refusal or _forbidden(op, actor.role)
    else:
        extra = op.set.keys() - OWN_FIELDS[op.kind] - {CLAIM}
        if extra:
            drop.update(extra)
            refusal = refusal or _forbidden(op, actor.role)
    if "status" not in drop:
        try:
            check_transition(actor, op, before)
        except OpRejected as exc:
            drop.update(WITH_STATUS)
            refusal = refusal or exc
    if refusal is None:
        return Verdict(op)
    return _narrow(op, drop, refusal)


def _visit_status(op: Op) -> bool:
    """The op sets the status its (latest) visit's outcome means — a team member's visit."""
    visits = op.add.get("visits")
    if not visits or "status" not in op.set:
        return False
    latest = max(visits, key=lambda v: (v["at"], v["id"]))
    return OUTCOME_STATUS.get(latest["outcome"]) == op.set["status"]


def _narrow(op: Op, drop: set[str] | frozenset[str], reason: OpRejected) -> Verdict:
    """``op`` without the fields in ``drop`` — if it carries children to keep; else refused."""
    if not op.add:
        raise reason
    dropped = tuple(sorted(drop & op.set.keys()))
    if not dropped:
        return Verdict(op)
    narrowed = dataclasses.replace(
        op,
        set=MappingProxyType({k: v for k, v in op.set.items() if k not in drop}),
        seen=MappingProxyType({k: v for k, v in op.seen.items() if k not in drop}),
    )
    return Verdict(narrowed, dropped, reason)
