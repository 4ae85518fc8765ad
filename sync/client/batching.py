"""Which pending ops go in which batch: the priority lane first, then batches of ≤ 500 ops.

Ops of a resident request whose urgency is urgent or emergency — and every other pending op on
such a request — travel first. When the whole push is small (at most
:data:`SINGLE_TRIP_JSON_BYTES` of plain JSON, ~40 KB on the wire: about 3 s at 100 kbit/s) it goes
as ONE request with the urgent ops at its head: a separate lane would cost a second round trip
and another 1.3 KB of crypto overhead to protect a transfer that is already short. A larger push
sends the lane first, in small batches of its own, so urgent requests reach the command centre
even if the long transfer behind them fails. Everything else keeps outbox order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sync.ops import Op
from sync.protocol import canonical_json

PRIORITY_URGENCIES = frozenset({"urgent", "emergency"})
BATCH_SIZE = 500
PRIORITY_BATCH_SIZE = 50
MAX_BATCH_JSON_BYTES = 1024 * 1024
SINGLE_TRIP_JSON_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Batch:
    ops: list[Op]
    priority: bool = False


def is_urgent(op: Op) -> bool:
    """An op that creates or raises a request to urgent/emergency."""
    return op.kind == "request" and op.set.get("urgency") in PRIORITY_URGENCIES


def plan_batches(
    ops: Sequence[Op],
    *,
    batch_size: int = BATCH_SIZE,
    priority_batch_size: int = PRIORITY_BATCH_SIZE,
    max_bytes: int = MAX_BATCH_JSON_BYTES,
    single_trip_bytes: int = SINGLE_TRIP_JSON_BYTES,
) -> list[Batch]:
    """Split ``ops`` (outbox order) into priority batches, then ordinary ones — or one batch,
    urgent ops first, when everything fits in a single small request."""
    urgent = {op.entity_id for op in ops if is_urgent(op)}
    lane = [op for op in ops if op.kind == "request" and op.entity_id in urgent]
    rest = [op for op in ops if not (op.kind == "request" and op.entity_id in urgent)]
    if lane and len(ops) <= batch_size:
        total = sum(len(canonical_json(op.to_dict())) for op in ops)
        if total <= min(single_trip_bytes, max_bytes):
            return [Batch(lane + rest)]  # an ordinary batch: its answer carries a full pull
    return [Batch(chunk, True) for chunk in _chunks(lane, priority_batch_size, max_bytes)] + [
        Batch(chunk) for chunk in _chunks(rest, batch_size, max_bytes)
    ]


def _chunks(ops: Sequence[Op], size: int, max_bytes: int) -> list[list[Op]]:
    out: list[list[Op]] = []
    current: list[Op] = []
    used = 0
    for op in ops:
        cost = len(canonical_json(op.to_dict()))
        if current and (len(current) >= size or used + cost > max_bytes):
            out.append(current)
            current, used = [], 0
        current.append(op)
        used += cost
    if current:
        out.append(current)
    return out
