"""What must hold after any sequence of syncs, faults included, once everyone synced until quiet.

- **nothing lost** — every op any phone recorded is on the server, and its effect (each child it
  added; each field it set, unless a later op won that field) is in the server's record and in
  the record of every phone whose scope holds it; no outbox still holds anything;
- **nothing twice** — the server stores each op once; no child list holds an id twice;
- **no divergence** — every phone holds exactly the server's records for its scope, equal;
- **refusals are told, never silent** — an op the server refused (whole, or in part: a visit
  kept, its status move not) is not lost when its phone was told so (its ``rejections``): the
  refused fields are exempt; but a VISIT is a fact, so any visit a phone recorded that the server
  does not hold is ``visits_lost`` (also counted in ``lost``); ``rejected_divergent`` counts the
  phone records still differing from the server on an entity something was refused on.

:func:`audit` counts violations (the fault benchmark reports them); :meth:`Audit.assert_clean`
raises with the first details (the tests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.store import KINDS
from bench.harness import LiveServer
from bench.phones import Phone
from sync.client.engine import META_REJECTIONS
from sync.merge import CLOCK
from sync.ops import Op

CHILD_LISTS = ("visits", "notes", "handover")
MAX_DETAILS = 10


@dataclass
class Audit:
    lost: int = 0
    duplicated: int = 0
    diverged: int = 0
    pending: int = 0
    rejected: int = 0
    visits_lost: int = 0
    rejected_divergent: int = 0
    server_ops: int = 0
    records: int = 0
    created: int = 0
    details: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.details) < MAX_DETAILS:
            self.details.append(text)

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.diverged
            or self.pending
            or self.visits_lost
            or self.rejected_divergent
        )

    def assert_clean(self) -> None:
        assert self.clean, (
            f"lost {self.lost}, duplicated {self.duplicated}, diverged {self.diverged}, "
            f"pending {self.pending}, visits lost {self.visits_lost}, rejected but divergent "
            f"{self.rejected_divergent}: {self.details}"
        )


def duplicated_children(records: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(record id, child id) for every child id that appears more than once in one list."""
    out = []
    for record in records:
        for name in CHILD_LISTS:
            ids = Counter(str(c["id"]) for c in record.get(name, []))
            out += [(str(record["id"]), i) for i, n in ids.items() if n > 1]
    return out


def _stamp_order(stamp: str) -> tuple[str, str]:
    hlc, _, device = stamp.partition("@")
    return (hlc, device)


def missing_effects(
    op: Op, record: dict[str, Any] | None, refused: Collection[str] = ()
) -> list[str]:
    """What of ``op`` is not in ``record``: a child it added, or a field whose stamp is older
    than the op's (a later op may win a field; an older one may not). ``refused``: fields the
    server told the op's phone it did not apply."""
    if record is None:
        return ["record"]
    missing = []
    for name, children in op.add.items():
        have = {str(c["id"]) for c in record.get(name, [])}
        missing += [f"{name}:{c['id']}" for c in children if str(c["id"]) not in have]
    clocks = record.get(CLOCK, {})
    for name in op.set:
        if name in refused:
            continue
        stamp = clocks.get(name)
        if stamp is None or _stamp_order(stamp) < (op.hlc, op.device):
            missing.append(f"field:{name}")
    return missing


@dataclass(frozen=True)
class Told:
    """What the server told the phones it refused: whole ops, and fields of partial ones."""

    whole: frozenset[str]
    fields: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, phones: Sequence[Phone], held: Collection[str] = ()) -> Told:
        """From the phones' kept rejections; ``held``: op ids in the server's review queue (a
        revoked phone's ops, refused but kept — not lost)."""
        whole: set[str] = set(held)
        fields: dict[str, frozenset[str]] = {}
        for phone in phones:
            for entry in phone.store.get_meta(META_REJECTIONS, []) or []:
                op_id = entry.get("op")
                if not isinstance(op_id, str):
                    continue
                if entry.get("partial"):
                    dropped = (entry.get("params") or {}).get("dropped") or []
                    fields[op_id] = frozenset(str(d) for d in dropped)
                else:
                    whole.add(op_id)
        return cls(frozenset(whole), fields)

    def refused_fields(self, op: Op) -> frozenset[str]:
        if op.op_id in self.whole:
            return frozenset(op.set)
        return self.fields.get(op.op_id, frozenset())


def _visits_missing(op: Op, record: dict[str, Any] | None) -> int:
    have = {str(c["id"]) for c in (record or {}).get("visits", [])}
    return sum(str(v["id"]) not in have for v in op.add.get("visits", ()))


def audit(
    server: LiveServer,
    phones: Sequence[Phone],
    created: Sequence[Op],
    gone: Collection[str] = (),
) -> Audit:
    """Compare the server and every phone after everyone synced until quiet. ``gone``: devices
    retired or revoked during the run — they must have handed everything over (nothing
    pending; a revoked one's ops held in the review queue, not lost) and are not compared with
    a scope they no longer have."""
    result = Audit(created=len(created))
    told = Told.of(phones, server.held_for_review() if gone else set())
    result.rejected = len(told.whole) + len(told.fields)
    op_ids = server.op_ids()
    result.server_ops = len(op_ids)
    twice = [i for i, n in Counter(op_ids).items() if n > 1]
    result.duplicated += len(twice)
    for op_id in twice[:3]:
        result.note(f"server stores {op_id} more than once")
    truth = server.records()
    result.records = len(truth)
    lost: set[str] = set(op.op_id for op in created) - set(op_ids) - told.whole
    for op_id in sorted(lost)[:3]:
        result.note(f"{op_id} never reached the server")
    held = server.held_for_review() if gone else set()
    for op in created:
        if op.op_id in held:
            continue  # kept in the review queue for a coordinator's decision
        missing = _visits_missing(op, truth.get((op.kind, op.entity_id)))
        if missing:
            result.visits_lost += missing
            lost.add(op.op_id)
            result.note(f"server lacks {missing} visit(s) of {op.op_id}")
    dupes = duplicated_children(truth.values())
    result.duplicated += len(dupes)
    for record_id, child in dupes[:3]:
        result.note(f"server: child {child} twice in {record_id}")
    for op in created:
        if op.op_id in told.whole:
            continue
        gaps = missing_effects(op, truth.get((op.kind, op.entity_id)), told.refused_fields(op))
        if gaps:
            lost.add(op.op_id)
            result.note(f"server lacks {gaps} of {op.op_id}")
    disputed = {
        (op.kind, op.entity_id)
        for op in created
        if op.op_id in told.whole or op.op_id in told.fields
    }
    for phone in phones:
        if phone.device_id in gone:
            left = phone.store.pending_count()
            result.pending += left
            if left:
                result.note(f"{phone.device_id} left with {left} ops never handed over")
            continue
        _audit_phone(result, server, phone, truth, created, lost, told, disputed)
    result.lost = len(lost)
    return result


def _audit_phone(
    result: Audit,
    server: LiveServer,
    phone: Phone,
    truth: dict[tuple[str, str], dict[str, Any]],
    created: Sequence[Op],
    lost: set[str],
    told: Told,
    disputed: set[tuple[str, str]],
) -> None:
    who = f"{phone.device_id} ({phone.role})"
    pending = phone.store.pending_count()
    result.pending += pending
    if pending:
        result.note(f"{who} still has {pending} pending ops")
    mine = phone.records(KINDS)
    visible = server.visible_to(phone.device_id)
    scope = {key for key in truth if visible(*key)}
    dupes = duplicated_children(mine.values())
    result.duplicated += len(dupes)
    if dupes:
        result.note(f"{who}: children twice: {dupes[:3]}")
    wrong = sorted(k for k in scope | set(mine) if mine.get(k) != truth.get(k) or k not in scope)
    result.diverged += len(wrong)
    result.rejected_divergent += sum(key in disputed for key in wrong)
    if wrong:
        result.note(f"{who} differs from the server on {len(wrong)} records, e.g. {wrong[:3]}")
    for op in created:
        key = (op.kind, op.entity_id)
        if key in scope and op.op_id not in told.whole:
            gaps = missing_effects(op, mine.get(key), told.refused_fields(op))
            if gaps:
                lost.add(op.op_id)
                result.note(f"{who} lacks {gaps} of {op.op_id}")
