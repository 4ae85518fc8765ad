"""Change builders: ops made from what a person means to do, with ``seen`` filled in.

Every builder takes the current record (or ``None`` for a new one), stamps the op with the
device's clock, fills what the op must quote (the status it moves from, the assignment type a
result belongs to, the request creation time a deadline counts from), derives what is derived
(a request's ``due``, a missed visit's ``revisit_due``) and validates the op before returning
it, so an op a builder returns is one every replica will accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from sync.domain import times
from sync.domain.machines import OUTCOME_STATUS
from sync.domain.schema import SCHEMA_VERSION, KindSpec
from sync.domain.validation import check_required, spec_of, validate_op
from sync.errors import OpRejected
from sync.hlc import HybridClock
from sync.ops import Op, new_id

#: the id prefix of new records of each kind
ID_PREFIX: Final = MappingProxyType(
    {
        "place": "pl-",
        "household": "hh-",
        "resident": "rs-",
        "team": "tm-",
        "member": "mb-",
        "shift": "sh-",
        "assignment": "as-",
        "request": "rq-",
        "notice": "nt-",
        "contact": "ct-",
    }
)
#: (kind, field an op sets) -> the field it must quote in ``seen`` when it does not set it too
_CONTEXT: Final = MappingProxyType(
    {("assignment", "result"): "type", ("request", "urgency"): "created_at"}
)
_CHILD_PREFIX: Final = MappingProxyType(
    {"visits": "v-", "notes": "n-", "handover": "ho-", "control_log": "cl-"}
)


def _result_children(
    kind: str, add: Mapping[str, tuple[Mapping[str, Any], ...]] | None
) -> list[str]:
    """``["result"]`` when ``add`` holds a visit carrying a result (it must quote the type)."""
    visits = (add or {}).get("visits", ()) if kind == "assignment" else ()
    return ["result"] if any(v.get("result") is not None for v in visits) else []


def is_new(spec: KindSpec, current: Mapping[str, Any] | None) -> bool:
    """Whether an op on ``current`` creates the record: there is none, or it has no fields yet
    (only children that arrived first), or — for kinds with a status — no status yet."""
    if current is None:
        return True
    if spec.machine is not None:
        return current.get("status") is None
    return not any(current.get(name) is not None for name in spec.fields)


def make_op(
    kind: str,
    entity_id: str | None = None,
    *,
    set: Mapping[str, Any] | None = None,
    add: Mapping[str, tuple[Mapping[str, Any], ...]] | None = None,
    current: Mapping[str, Any] | None,
    clock: HybridClock,
    device: str,
    member: str,
) -> Op:
    """A validated op on ``kind``/``entity_id`` (a new id if ``None`` and ``current`` is None).

    For a new record, defaults are filled and every required field must be given (an op that
    only adds children creates nothing: children may arrive before their record). ``seen`` is
    taken from ``current``. A request's ``due`` is derived when its ``urgency`` is set.
    """
    spec = spec_of(kind)
    values = dict(set or {})
    if entity_id is None:
        entity_id = str(current["id"]) if current is not None else new_id(ID_PREFIX[kind])
    seen: dict[str, Any] = {}
    creating = bool(values) and is_new(spec, current)
    if creating:
        for name, default in spec.defaults.items():
            values.setdefault(name, list(default) if isinstance(default, tuple) else default)
    elif current is not None:
        # A form may send back values it did not change: an unchanged status (unless a visit
        # re-asserts it) or creation-only field is no change, so it is left out of the op.
        fixed = spec.create_only | ({"status"} if not add else frozenset())
        for name in fixed & values.keys():
            if values[name] == current.get(name):
                del values[name]
        if spec.machine is not None and "status" in values:
            seen["status"] = current["status"]
        for name in list(values) + _result_children(kind, add):
            quoted = _CONTEXT.get((kind, name))
            if quoted and quoted not in values and current.get(quoted) is not None:
                seen[quoted] = current[quoted]
    if kind == "request" and values.get("urgency") is not None and "due" not in values:
        created_at = values.get("created_at") or seen.get("created_at")
        if created_at is not None:
            values["due"] = times.due_for(created_at, values["urgency"])
    if creating:
        check_required(spec, values)
    op = Op(
        op_id=new_id("op-"),
        kind=kind,
        entity_id=entity_id,
        hlc=clock.now(),
        device=device,
        member=member,
        set=MappingProxyType(values),
        add=MappingProxyType({name: tuple(items) for name, items in (add or {}).items()}),
        seen=MappingProxyType(seen),
        schema=SCHEMA_VERSION,
    )
    validate_op(op)
    return op


def transition(
    kind: str,
    record: Mapping[str, Any],
    to: str,
    *,
    clock: HybridClock,
    device: str,
    member: str,
    set: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Op:
    """Move ``record``'s status to ``to`` (with any other fields in ``set``). Marking an
    assignment ``no_answer`` schedules its revisit unless ``set`` gives ``revisit_due``."""
    values = {**(set or {}), "status": to}
    if kind == "assignment" and to == "no_answer" and "revisit_due" not in values:
        values["revisit_due"] = times.revisit_due(times.to_iso(now or datetime.now(UTC)))
    return make_op(
        kind,
        str(record["id"]),
        set=values,
        current=record,
        clock=clock,
        device=device,
        member=member,
    )


def record_visit(
    assignment: Mapping[str, Any],
    outcome: str,
    note: str | None = None,
    *,
    clock: HybridClock,
    device: str,
    member: str,
    at: str | None = None,
    result: Mapping[str, Any] | None = None,
) -> Op:
    """Log a door visit on ``assignment`` and set the status its outcome means (done → done,
    no_answer → no_answer with ``revisit_due`` scheduled, refused → refused, revisit → revisit).
    A visit to a done or cancelled assignment is kept, and leaves the status as it is.

    ``result`` (people sampled, …) belongs to the visit: the task's result is derived from its
    visits (:mod:`sync.domain.visits`), so no later writer can overwrite a visit's numbers. A
    visit to a team-pool task (a team, no assignee) claims it for ``member``."""
    at = at or times.now_iso()
    visit: dict[str, Any] = {"id": new_id("v-"), "at": at, "member": member, "outcome": outcome}
    if note:
        visit["note"] = note
    if result is not None:
        visit["result"] = dict(result)
    values: dict[str, Any] = {}
    status = assignment.get("status")
    machine = spec_of("assignment").machine
    if status is not None and machine is not None and not machine.is_final(status):
        values["status"] = OUTCOME_STATUS.get(outcome, outcome)
        if outcome == "no_answer":
            values["revisit_due"] = times.revisit_due(at)
    if is_pool(assignment):
        values["assignee_id"] = member
    return make_op(
        "assignment",
        str(assignment["id"]),
        set=values,
        add={"visits": (visit,)},
        current=assignment,
        clock=clock,
        device=device,
        member=member,
    )


def is_pool(record: Mapping[str, Any]) -> bool:
    """A team-pool task or request: it has a team and no assignee, so any member of the team
    may take it; the first take (or visit) the server accepts claims it."""
    return record.get("team_id") is not None and record.get("assignee_id") is None


def take(
    record: Mapping[str, Any], *, clock: HybridClock, device: str, member: str, kind: str
) -> Op:
    """Take (接单) a team-pool task or request: ``member`` becomes its assignee (the server
    refuses a second taker with ``op.already_claimed``, naming who has it)."""
    return make_op(
        kind,
        str(record["id"]),
        set={"assignee_id": member},
        current=record,
        clock=clock,
        device=device,
        member=member,
    )


def new_request(
    household_id: str,
    category: str,
    urgency: str,
    description: str | None = None,
    *,
    clock: HybridClock,
    device: str,
    member: str,
    contact: str | None = None,
    team_id: str | None = None,
    created_at: str | None = None,
    entity_id: str | None = None,
) -> Op:
    """A resident's new request, due ``SLA[urgency]`` after it was made (now, by default)."""
    values: dict[str, Any] = {
        "household_id": household_id,
        "category": category,
        "urgency": urgency,
        "created_at": created_at or times.now_iso(),
    }
    optional = {"description": description, "contact": contact, "team_id": team_id}
    values.update({k: v for k, v in optional.items() if v is not None})
    return make_op(
        "request", entity_id, set=values, current=None, clock=clock, device=device, member=member
    )


def add_note(
    record: Mapping[str, Any],
    text: str,
    *,
    clock: HybridClock,
    device: str,
    member: str,
    kind: str = "request",
    at: str | None = None,
) -> Op:
    """Append a note to a request (``kind="request"``, child ``notes``) or a handover note to a
    shift (``kind="shift"``, child ``handover``)."""
    child_name = {"request": "notes", "shift": "handover"}.get(kind)
    if child_name is None:
        spec_of(kind)  # an unknown kind reports itself as such
        raise OpRejected("op.unknown_child", kind=kind, field="notes")
    child = {
        "id": new_id(_CHILD_PREFIX[child_name]),
        "at": at or times.now_iso(),
        "member": member,
        "text": text,
    }
    return make_op(
        kind,
        str(record["id"]),
        add={child_name: (child,)},
        current=record,
        clock=clock,
        device=device,
        member=member,
    )
