"""Who may write what: the server-side check of EVERY op, as pure functions over a World.

- **volunteer** — updates assignments assigned to them (``status``, ``result``,
  ``revisit_due``, new ``visits``); creates requests and adds request notes in the team's scope;
  moves the ``status`` of requests assigned to them;
- **team lead** — creates, updates and reassigns any assignment and request in the team's scope
  (assignees from the own team only); creates the team's shifts and writes handover notes;
- **coordinator** (and the server's own ``system`` device) — anything.

Places, households, residents, teams, members, notices and contacts are coordinator-only. "The
team's scope" for an assignment or request: its ``team_id`` is the team, or its household/place
lies in the team's area — judged both before the op (the current record) and after it (the
fields the op sets), so nothing can be moved into or out of a scope by someone outside it.

A refusal raises :class:`OpRejected` with ``op.forbidden_role`` (the role may not make this kind
of change) or ``op.out_of_scope`` (the record lies outside the author's team scope), or
``op.wrong_author`` (the op names another device or member than the one that sent it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.domain.machines import ASSIGNMENT_MACHINE, REQUEST_MACHINE
from sync.errors import OpRejected
from sync.ops import Op
from sync.server.scope import World, household_place, in_area

VOLUNTEER = "volunteer"
TEAM_LEAD = "team_lead"
COORDINATOR = "coordinator"
SYSTEM = "system"

COORDINATOR_ONLY = frozenset(
    {"place", "household", "resident", "team", "member", "notice", "contact"}
)
VOLUNTEER_ASSIGNMENT_FIELDS = frozenset({"status", "result", "revisit_due"})
VOLUNTEER_REQUEST_FIELDS = frozenset({"status"})


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


def authorize(actor: Actor, op: Op, world: World) -> None:
    """Raise :class:`OpRejected` unless ``actor`` may apply ``op`` given the current records."""
    if op.device != actor.device_id or op.member != actor.member_id:
        raise OpRejected("op.wrong_author", kind=op.kind)
    if actor.sees_everything:
        return
    if op.kind in COORDINATOR_ONLY:
        raise _forbidden(op, actor.role)
    if actor.team_id is None:
        raise _out_of_scope(op)
    before = world.refs(op.kind, op.entity_id)
    if op.kind in ("assignment", "request"):
        _check_scope(actor, op, world, before)
        _check_transition_role(actor, op)
        if actor.role == TEAM_LEAD:
            _check_assignee(actor, op, world)
        elif actor.role == VOLUNTEER:
            _check_volunteer(actor, op, before)
        else:
            raise _forbidden(op, actor.role)
        return
    if op.kind == "shift" and actor.role == TEAM_LEAD:
        teams = {
            (before or {}).get("team_id", actor.team_id),
            after_refs(before, op).get("team_id"),
        }
        if teams != {actor.team_id}:
            raise _out_of_scope(op)
        return
    raise _forbidden(op, actor.role)


def _check_scope(actor: Actor, op: Op, world: World, before: Mapping[str, Any] | None) -> None:
    if before is not None and not in_team_scope(actor, world, op.kind, before):
        raise _out_of_scope(op)
    if not in_team_scope(actor, world, op.kind, after_refs(before, op)):
        raise _out_of_scope(op)
    team = op.set.get("team_id")
    if team is not None and team != actor.team_id and before is None and actor.role == VOLUNTEER:
        raise _out_of_scope(op)


def _check_transition_role(actor: Actor, op: Op) -> None:
    """Some transitions belong to some roles only (reopening a done assignment: leads)."""
    frm, to = op.seen.get("status"), op.set.get("status")
    if isinstance(frm, str) and isinstance(to, str) and frm != to:
        machine = ASSIGNMENT_MACHINE if op.kind == "assignment" else REQUEST_MACHINE
        if actor.role not in machine.roles_for(frm, to):
            raise _forbidden(op, actor.role)


def _check_assignee(actor: Actor, op: Op, world: World) -> None:
    assignee = op.set.get("assignee_id")
    if not isinstance(assignee, str):
        return
    member = world.refs("member", assignee)
    if member is None or member.get("team_id") != actor.team_id:
        raise _out_of_scope(op)


def _check_volunteer(actor: Actor, op: Op, before: Mapping[str, Any] | None) -> None:
    mine = before is not None and before.get("assignee_id") == actor.member_id
    if op.kind == "assignment":
        if not mine:
            raise _forbidden(op, actor.role)
        allowed_set, allowed_add = VOLUNTEER_ASSIGNMENT_FIELDS, frozenset({"visits"})
    elif before is None:  # a new request in the team's scope
        return
    else:
        allowed_set = VOLUNTEER_REQUEST_FIELDS if mine else frozenset()
        allowed_add = frozenset({"notes"})
    if not (op.set.keys() <= allowed_set and op.add.keys() <= allowed_add):
        raise _forbidden(op, actor.role)
