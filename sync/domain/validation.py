"""Judging an op on its own: :func:`validate_op`.

Validity depends on nothing but the op — no current record, no other ops — so every replica
rejects exactly the same ops whatever order they arrive in, and the merge stays a pure function of
the set of valid ops. Where a rule needs a value the op does not set (the status it moves from,
the assignment type a result belongs to, the creation time a deadline counts from) the op quotes
the value its author saw in ``seen``; the change builders fill it from the current record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.domain import machines, times
from sync.domain.schema import (
    CHILDREN_PER_OP,
    FREE_RESULT,
    KINDS,
    RESULTS,
    SCHEMA_VERSION,
    KindSpec,
)
from sync.domain.values import check_fields, ident
from sync.errors import OpRejected, ValidationError
from sync.ops import Op


def spec_of(kind: str) -> KindSpec:
    """The schema of ``kind``; ``op.unknown_kind`` if there is none."""
    spec = KINDS.get(kind)
    if spec is None:
        raise OpRejected("op.unknown_kind", kind=kind)
    return spec


def validate_op(op: Op) -> None:
    """Raise :class:`OpRejected`/:class:`ValidationError` unless ``op`` is valid on its own.
    An op made by a newer build (``op.schema`` above :data:`SCHEMA_VERSION`) is
    ``op.schema_too_new``: this build cannot judge it yet (a phone defers it, the server keeps it
    waiting on the phone)."""
    if op.schema > SCHEMA_VERSION:
        raise OpRejected("op.schema_too_new", schema=op.schema, known=SCHEMA_VERSION)
    spec = spec_of(op.kind)
    ident("entity_id", op.entity_id)
    ident("member", op.member)
    if not op.set and not op.add:
        raise OpRejected("op.empty", kind=op.kind)
    check_values(spec, op.set)
    _check_seen(spec, op.seen)
    for name, children in op.add.items():
        check_children(spec, name, children)
    if spec.machine is not None:
        _check_status(spec, spec.machine, op)
    if spec.name == "assignment":
        _check_assignment(op)
    elif spec.name == "request":
        _check_request(op)
    elif spec.name == "shift":
        _check_order(op.set, "starts", "ends")


def check_values(spec: KindSpec, values: Mapping[str, Any]) -> None:
    """Each named value is a known, valid field of ``spec`` (``None`` clears an optional one)."""
    for name, value in values.items():
        if name in spec.children:
            raise OpRejected("op.child_immutable", kind=spec.name, field=name)
        check = spec.fields.get(name)
        if check is None:
            raise OpRejected("op.unknown_field", kind=spec.name, field=name)
        if value is None:
            if name in spec.required:
                raise ValidationError("validation.required", field=name)
            continue
        check(name, value)


def check_required(spec: KindSpec, values: Mapping[str, Any]) -> None:
    """A new record of ``spec`` gets every required field from ``values``."""
    for name in sorted(spec.required):
        if values.get(name) is None:
            raise ValidationError("validation.required", field=name)


def check_children(spec: KindSpec, name: str, children: Any) -> None:
    child = spec.children.get(name)
    if child is None:
        raise OpRejected("op.unknown_child", kind=spec.name, field=name)
    if not isinstance(children, tuple | list):
        raise ValidationError("validation.type", field=name, expected="list")
    if len(children) > CHILDREN_PER_OP:
        raise ValidationError("validation.too_many", field=name, max=CHILDREN_PER_OP)
    ids: set[str] = set()
    for item in children:
        check_fields(name, item, child.fields, child.required, kind=spec.name)
        if item["id"] in ids:
            raise OpRejected("op.duplicate_child", kind=spec.name, field=name)
        ids.add(item["id"])


def check_device_writable(kind: str) -> None:
    """Devices may not author ops of kinds only the server writes (notices, the directory)."""
    if not spec_of(kind).device_writable:
        raise OpRejected("op.read_only_kind", kind=kind)


def _check_seen(spec: KindSpec, seen: Mapping[str, Any]) -> None:
    for name, value in seen.items():
        if name not in spec.seen_fields:
            raise OpRejected("op.unexpected_seen", kind=spec.name, field=name)
        if value is None:
            raise ValidationError("validation.required", field=f"seen.{name}")
        spec.fields[name](f"seen.{name}", value)


def _check_status(spec: KindSpec, machine: machines.Machine, op: Op) -> None:
    to = op.set.get("status")
    frm = op.seen.get("status")
    creating = to is not None and frm is None
    if creating:
        if to != machine.initial:
            raise OpRejected("op.bad_initial_state", kind=spec.name, to=to)
        check_required(spec, op.set)
        return
    fixed = sorted(spec.create_only & op.set.keys())
    if fixed:
        raise OpRejected("op.create_only", kind=spec.name, field=fixed[0])
    if to is None or frm is None:
        return
    visits = op.add.get("visits")
    if visits:
        latest = max(visits, key=lambda v: (v["at"], v["id"]))
        expected = machines.OUTCOME_STATUS[latest["outcome"]]
        if machine.is_final(frm) or to != expected:
            raise OpRejected(
                "op.visit_status_mismatch", kind=spec.name, outcome=latest["outcome"], to=to
            )
    elif not machine.allows(frm, to):
        raise OpRejected("op.bad_transition", kind=spec.name, frm=frm, to=to)


def _check_assignment(op: Op) -> None:
    if op.set.get("status") == "no_answer" and op.set.get("revisit_due") is None:
        raise ValidationError("validation.required", field="revisit_due")
    results = [("result", op.set.get("result"))]
    results += [("visits.result", v.get("result")) for v in op.add.get("visits", ())]
    for name, result in results:
        if result is None:
            continue
        kind = op.set.get("type") or op.seen.get("type")
        if kind is None:
            raise OpRejected("op.missing_context", kind=op.kind, field="type")
        checks, required = RESULTS.get(kind, FREE_RESULT)
        check_fields(name, result, checks, required, kind=op.kind)


def _check_request(op: Op) -> None:
    if "urgency" not in op.set and "due" not in op.set:
        return
    urgency, due = op.set.get("urgency"), op.set.get("due")
    if urgency is None:
        raise ValidationError("validation.required", field="urgency")
    if due is None:
        raise ValidationError("validation.required", field="due")
    created_at = op.set.get("created_at") or op.seen.get("created_at")
    if created_at is None:
        raise OpRejected("op.missing_context", kind=op.kind, field="created_at")
    if due != times.due_for(created_at, urgency):
        raise ValidationError("validation.derived", field="due")


def _check_order(values: Mapping[str, Any], first: str, then: str) -> None:
    if (
        values.get(first) is not None
        and values.get(then) is not None
        and not (values[first] < values[then])
    ):
        raise ValidationError("validation.time_order", field=then, after=first)
