"""The merge: how ops become records, the same on every phone and on the server.

A record is a plain JSON-able dict::

    {"id": "as-…", "status": "done", …, "_clk": {"status": "<hlc>@<device>", …},
     "visits": [{"id": "v-…", "at": "…", …, "_clk": "<hlc>@<device>"}, …]}

* **Fields** — last writer wins, per field. A field's stamp in ``_clk`` is the ``(hlc, device)``
  of the op that wrote it; an op's value replaces the stored one when its ``(hlc, device)`` is
  greater. Two different ops with the same ``(hlc, device)`` cannot come from a correct clock,
  but the tie is still broken (by the canonical JSON of the value) so the result never depends on
  arrival order.
* **Children** (``visits``, ``notes``, ``handover``) — append-only, a union by child ``id``,
  sorted by ``(at, id)``. If two ops carry a child with the same id, the one written first — the
  smaller ``(hlc, device)``, then the smaller canonical JSON — is kept; each child carries the
  stamp of the op that wrote it in its own ``_clk`` so that rule can be applied later too.

Both rules pick the maximum (or minimum) of a total order, so applying a set of ops gives the same
record in any order, in any batching, and applying an op twice changes nothing. Which ops are
valid is decided by :func:`sync.domain.validate_op` from each op alone, so every replica keeps
the same ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.domain import validation
from sync.domain.jsonlike import canonical_text, plain
from sync.errors import LinliError, OpRejected
from sync.ops import Op

__all__ = [
    "CLOCK",
    "MergeResult",
    "Merger",
    "apply_op",
    "join_records",
    "join_states",
    "merge",
    "merge_into",
    "merge_many",
]

#: the key of a record's (and a child's) stamps
CLOCK = "_clk"
_RESERVED = frozenset({"id", CLOCK})

State = dict[tuple[str, str], dict[str, Any]]


def stamp_of(op: Op) -> str:
    return f"{op.hlc}@{op.device}"


def _order(stamp: str) -> tuple[str, str]:
    hlc, _, device = stamp.partition("@")
    return (hlc, device)


def field_wins(new_stamp: str, new: Any, old_stamp: str | None, old: Any) -> bool:
    if old_stamp is None:
        return True
    new_order, old_order = _order(new_stamp), _order(old_stamp)
    if new_order != old_order:
        return new_order > old_order
    return canonical_text(new) > canonical_text(old)


def _child_first(new: dict[str, Any], old: dict[str, Any]) -> bool:
    new_order, old_order = _order(new[CLOCK]), _order(old[CLOCK])
    if new_order != old_order:
        return new_order < old_order
    return canonical_text(new) < canonical_text(old)


def _child_key(child: Mapping[str, Any]) -> tuple[str, str]:
    return (str(child.get("at", "")), str(child["id"]))


def apply_op(record: Mapping[str, Any] | None, op: Op) -> dict[str, Any]:
    """The record after ``op`` (a new dict; ``record`` is not changed). ``op`` should have
    passed :func:`sync.domain.validate_op`; this function only merges. Values are copied with
    :func:`sync.domain.jsonlike.plain` (``NotJson`` for anything not JSON-like)."""
    return merge_into(plain(record) if record else None, op)


def merge_into(record: dict[str, Any] | None, op: Op) -> dict[str, Any]:
    """:func:`apply_op` for a caller that owns ``record``: it is updated in place (and returned),
    so a batch of ops on one record copies it once, not once per op. Nothing is changed when the
    op is refused. For many ops use a :class:`Merger` (each child list is rebuilt once)."""
    merger = Merger()
    out = merger.apply(record, op)
    merger.finish()
    return out


class Merger:
    """Merges a page of ops into records the caller owns (updated in place), each touched child
    list indexed once and sorted once, in :meth:`finish` — so a page costs time linear in its
    ops, not in ops × list length. The result equals applying the ops one by one with
    :func:`merge_into`. Until :meth:`finish`, the child lists an op added to are stale (fields
    are current); call it before reading or storing the records.
    """

    def __init__(self) -> None:
        #: (id of the record, child list name) → (the record, its children by id)
        self._lists: dict[tuple[int, str], tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}

    def apply(self, record: dict[str, Any] | None, op: Op) -> dict[str, Any]:
        """``op`` merged into ``record`` (in place; a new record when ``None``), returned.
        Nothing is changed when the op is refused (``OpRejected``)."""
        _check_names(record, op)
        out: dict[str, Any] = record if record is not None else {"id": op.entity_id, CLOCK: {}}
        clocks: dict[str, str] = out.setdefault(CLOCK, {})
        stamp = stamp_of(op)
        for name, value in op.set.items():
            value = plain(value)
            if field_wins(stamp, value, clocks.get(name), out.get(name)):
                out[name] = value
                clocks[name] = stamp
                self._lists.pop((id(out), name), None)  # a field now, as op by op
        for name, children in op.add.items():
            slot = (id(out), name)
            entry = self._lists.get(slot)
            if entry is None:
                entry = self._lists[slot] = (out, {c["id"]: c for c in out.get(name, [])})
            by_id = entry[1]
            for child in children:
                item = plain(child)
                item[CLOCK] = stamp
                kept = by_id.get(item["id"])
                if kept is None or _child_first(item, kept):
                    by_id[item["id"]] = item
        return out

    def finish(self) -> None:
        """Write back every child list touched since the last call, sorted by ``(at, id)``."""
        for (_, name), (record, by_id) in self._lists.items():
            record[name] = sorted(by_id.values(), key=_child_key)
        self._lists.clear()


def merge_many(record: dict[str, Any] | None, ops: Iterable[Op]) -> dict[str, Any] | None:
    """All of ``ops`` (each on this record) merged into ``record``, which the caller owns (updated
    in place); the same as :func:`merge_into` op by op. A refused op raises after the ops before
    it were merged."""
    merger = Merger()
    try:
        for op in ops:
            record = merger.apply(record, op)
    finally:
        merger.finish()
    return record


def _check_names(record: Mapping[str, Any] | None, op: Op) -> None:
    for name in op.set:
        if name in _RESERVED:
            raise OpRejected("op.unknown_field", kind=op.kind, field=name)
    clocks_before: Mapping[str, str] = record.get(CLOCK, {}) if record else {}
    for name in op.add:
        if name in _RESERVED or name in clocks_before:
            raise OpRejected("op.unknown_child", kind=op.kind, field=name)


def _union(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {child["id"]: child for child in old}
    for child in new:
        kept = by_id.get(child["id"])
        if kept is None or _child_first(child, kept):
            by_id[child["id"]] = child
    return sorted(by_id.values(), key=_child_key)


def join_records(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """One record holding everything two replicas of the same record hold (a new dict). Gives
    the same result as applying the ops behind ``b`` to ``a``."""
    out: dict[str, Any] = plain(a)
    clocks: dict[str, str] = out.setdefault(CLOCK, {})
    b_clocks: Mapping[str, str] = b.get(CLOCK, {})
    for name, value in b.items():
        if name in _RESERVED:
            continue
        if name in b_clocks:
            if field_wins(b_clocks[name], value, clocks.get(name), out.get(name)):
                out[name] = plain(value)
                clocks[name] = b_clocks[name]
        else:
            out[name] = _union(out.get(name, []), plain(value))
    return out


def join_states(
    a: Mapping[tuple[str, str], Mapping[str, Any]], b: Mapping[tuple[str, str], Mapping[str, Any]]
) -> State:
    """Two replicas' states joined record by record (new dicts)."""
    out: State = {key: plain(record) for key, record in a.items()}
    for key, record in b.items():
        mine = out.get(key)
        out[key] = plain(record) if mine is None else join_records(mine, record)
    return out


@dataclass
class MergeResult:
    """The state after a merge, and the ops it skipped as invalid with the reason for each."""

    state: State
    rejected: list[tuple[str, LinliError]] = field(default_factory=list)


def merge(state: Mapping[tuple[str, str], dict[str, Any]], ops: Iterable[Op]) -> MergeResult:
    """Validate and apply ``ops`` to ``state`` (keyed by ``(kind, entity_id)``; not changed).
    Invalid ops are skipped and reported in :attr:`MergeResult.rejected`. Records no op touched
    are the input's own dicts (shared, never mutated); touched ones are new."""
    out: State = dict(state)
    rejected: list[tuple[str, LinliError]] = []
    owned: set[tuple[str, str]] = set()  # keys whose record in ``out`` is already our copy
    merger = Merger()
    try:
        for op in ops:
            try:
                validation.validate_op(op)
            except LinliError as exc:
                rejected.append((op.op_id, exc))
                continue
            key = (op.kind, op.entity_id)
            current = out.get(key)
            if key not in owned:
                current = plain(current) if current else None
            out[key] = merger.apply(current, op)
            owned.add(key)
    finally:
        merger.finish()
    return MergeResult(out, rejected)
