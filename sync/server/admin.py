"""Data the server itself writes (CLI, CSV import, demo seed), as ops of the ``system`` device.

Every change goes through the same path as a device's: change builders (``make_op``) →
:meth:`Ledger.commit` (merge, gap-free feed, scope index) in ONE write transaction, so devices
pull it like anything else. If any op is refused, the transaction rolls back and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection

from sync.domain import make_op
from sync.errors import ValidationError
from sync.hlc import HybridClock
from sync.merge import apply_op
from sync.ops import Op
from sync.protocol import now_ms
from sync.server import db, devices, logs
from sync.server.authz import SYSTEM, Actor
from sync.server.ledger import Outcome
from sync.server.runtime import Runtime
from sync.server.state import Key, TxWorld

T = TypeVar("T")
SYSTEM_ACTOR = Actor(devices.SYSTEM_DEVICE, devices.SYSTEM_MEMBER, SYSTEM, None)


class Author:
    """Builds validated ops as the system device, seeing the effect of the ones built so far."""

    def __init__(self, world: TxWorld, clock: HybridClock) -> None:
        self.world = world
        self.clock = clock
        self.ops: list[Op] = []
        self._current: dict[Key, dict[str, Any]] = {}

    def record(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self._current.get((kind, entity_id)) or self.world.record(kind, entity_id)

    def require(self, kind: str, entity_id: str | None) -> None:
        """``admin.not_found`` unless a ``kind`` record ``entity_id`` exists."""
        if entity_id is not None and self.record(kind, entity_id) is None:
            raise ValidationError("admin.not_found", kind=kind, id=entity_id)

    def op(
        self,
        kind: str,
        entity_id: str | None = None,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, tuple[Mapping[str, Any], ...]] | None = None,
    ) -> Op:
        current = self.record(kind, entity_id) if entity_id else None
        op = make_op(
            kind,
            entity_id,
            set=set,
            add=add,
            current=current,
            clock=self.clock,
            device=devices.SYSTEM_DEVICE,
            member=devices.SYSTEM_MEMBER,
        )
        self._current[(kind, op.entity_id)] = apply_op(current, op)
        self.ops.append(op)
        return op


def write(rt: Runtime, build: Callable[[Author], T]) -> tuple[T, Outcome]:
    """Run ``build`` and commit its ops atomically; any refusal changes nothing."""
    with rt.db.write() as conn:
        devices.ensure_system(conn, now_ms())
        author = Author(rt.ledger.world(conn), _clock(conn))
        result = build(author)
        # every op was validated when Author.op made it (make_op): not checked a second time
        outcome = rt.ledger.commit(
            conn, SYSTEM_ACTOR, author.ops, world=author.world, validate=False
        )
        if outcome.rejected:
            first = outcome.rejected[0]
            raise ValidationError("admin.rejected", op=first.op_id, problem=first.code)
        db.set_meta(conn, "system_hlc", author.clock.last)
    logs.event("admin.write", ops=len(author.ops), fed=outcome.fed)
    return result, outcome


def _clock(conn: Connection) -> HybridClock:
    return HybridClock(last=db.get_meta(conn, "system_hlc"))


def create_team(
    rt: Runtime, *, name: str, kind: str, community_id: str, area: list[str] | None = None
) -> str:
    def build(a: Author) -> str:
        a.require("place", community_id)
        for place in area or []:
            a.require("place", place)
        values = {"name": name, "kind": kind, "community_id": community_id, "area": area or []}
        return a.op("team", set=values).entity_id

    return write(rt, build)[0]


def create_member(
    rt: Runtime, *, name: str, role: str, team_id: str | None, phone: str | None = None
) -> str:
    def build(a: Author) -> str:
        a.require("team", team_id)
        values: dict[str, Any] = {"name": name, "role": role}
        if team_id:
            values["team_id"] = team_id
        if phone:
            values["phone"] = phone
        return a.op("member", set=values).entity_id

    return write(rt, build)[0]


def assign(rt: Runtime, values: Mapping[str, Any]) -> str:
    """A new assignment (``type``, ``target_kind``, ``target_id``, ``team_id``, ...)."""

    def build(a: Author) -> str:
        a.require(str(values.get("target_kind", "household")), values.get("target_id"))
        a.require("team", values.get("team_id"))
        a.require("member", values.get("assignee_id"))
        clean = {k: v for k, v in values.items() if v is not None}
        return a.op("assignment", set={"status": "pending", **clean}).entity_id

    return write(rt, build)[0]
