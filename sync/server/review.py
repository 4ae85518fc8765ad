"""The review queue: every op a phone sent that the server refused for good, kept for an operator.

A phone drops an op from its outbox once the server refuses it; so that nothing it recorded is
lost, the server keeps each such op here (table ``review``, its body sealed under the data key
with associated data ``review:<id>``) with the reason, the device, its member and the time:

- **what is kept** — every refusal except the temporary ones (:data:`TEMPORARY`: the op stays in
  the phone's outbox and comes again), in the same write transaction as the batch's commit
  (:func:`keep`, called once from :meth:`sync.server.service.SyncService._commit`). An op whose
  id cannot be stored (``op.malformed``, refused at the door) has no row. One row per
  ``(device, op_id)``: a re-sent batch is answered from storage and never gets here; the same op
  refused again in a new batch finds its row and adds none;
- **revoked phones** — a phone marked lost or stolen (``revoke``) still hands over what it holds:
  :func:`hold_if_revoked` refuses every new op of its requests as ``sync.device_revoked`` (so
  nothing enters the data) and they land here; its answer tells it to wipe. A request with no
  op from a revoked phone, or past :data:`REVOKED_CAP` ops held for it, is refused with the
  signed ``sync.revoked`` problem;
- **deciding** — ``open`` → ``applied`` (:func:`apply`: the op's changes re-issued as a NEW op of
  the server's ``system`` device through :meth:`Ledger.commit <sync.server.ledger.Ledger.commit>`,
  judged against the record as it stands now; if it no longer fits, a coded
  ``review.cannot_apply`` naming why, and nothing changes) or ``dismissed`` (:func:`dismiss`).
  Either records who decided (``decided_by``: the operator's name, until console accounts exist),
  when, and an optional note (sealed: it may name residents). A decided row is never decided
  again.

The rows are what a web console will list and act on: ``state`` is indexed with ``id`` (the
server gives ids in order, inside the serialized write transaction), the reason is a catalog code
with its params (plain words in any language: ``error.<code>``), and everything that may name a
resident is sealed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from sync.errors import LinliError, OpRejected, SyncError, ValidationError
from sync.hlc import HybridClock
from sync.ops import Op
from sync.protocol import Rejection
from sync.server import admin, db, devices, logs
from sync.server.devices import Device
from sync.server.runtime import Runtime
from sync.server.state import chunks
from sync.server.vault import Vault

#: refusals that say "not now": the phone keeps the op and sends it again (never kept here)
TEMPORARY = frozenset(
    {"op.clock_ahead", "op.schema_too_new", "sync.server_busy", "sync.bad_version"}
)
#: the code every op from a revoked phone is refused with (held here, never applied)
REVOKED_CODE = "sync.device_revoked"
#: how many ops a revoked phone may hand over in all; past this its requests are refused
REVOKED_CAP = 5000
OPEN, APPLIED, DISMISSED = "open", "applied", "dismissed"
STATES = (OPEN, APPLIED, DISMISSED)
#: a note on a decision is at most this long
MAX_NOTE = 2000


def body_aad(review_id: int) -> str:
    return f"review:{review_id}"


def note_aad(review_id: int) -> str:
    return f"review-note:{review_id}"


@dataclass(frozen=True, slots=True)
class Item:
    """One row of the queue; ``op`` and ``note`` opened when asked for (:func:`get`)."""

    id: int
    op_id: str
    device: str
    member: str
    kind: str
    entity_id: str
    code: str
    params: dict[str, Any]
    received_at: int
    state: str
    decided_by: str | None = None
    decided_at: int | None = None
    applied_op: str | None = None
    note: str | None = None
    op: Op | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op_id": self.op_id,
            "device": self.device,
            "member": self.member,
            "kind": self.kind,
            "entity_id": self.entity_id,
            "code": self.code,
            "params": dict(self.params),
            "received_at": self.received_at,
            "state": self.state,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "applied_op": self.applied_op,
            "note": self.note,
            "op": self.op.to_dict() if self.op is not None else None,
        }


# -- filling the queue (inside a sync's write transaction) ----------------------------------


def hold_if_revoked(
    conn: Connection,
    device: Device,
    ops: Sequence[Op],
    prejudged: Mapping[str, Rejection],
) -> dict[str, Rejection]:
    """The rejections decided before the commit: ``prejudged`` as it is for a phone that is not
    revoked (as it stands in this transaction); for a revoked one, every op not already stored
    refused as :data:`REVOKED_CODE` — so the ledger applies none and :func:`keep` holds them.
    ``sync.revoked`` for a revoked phone with nothing to hand over, or past its cap."""
    current = devices.load(conn, device.device_id)
    if current is None or current.revoked_at is None:
        return dict(prejudged)
    if not ops:
        raise SyncError("sync.revoked")
    held = conn.execute(
        select(func.count())
        .select_from(db.review)
        .where(db.review.c.device == device.device_id, db.review.c.code == REVOKED_CODE)
    ).scalar_one()
    if held + len(ops) > REVOKED_CAP:
        raise SyncError("sync.revoked")
    stored = _stored_ops(conn, [op.op_id for op in ops if db.storable_id(op.op_id)])
    out = dict(prejudged)
    for op in ops:
        if op.op_id not in stored:
            out[op.op_id] = Rejection(op.op_id, REVOKED_CODE, {})
    return out


def keep(
    conn: Connection,
    vault: Vault,
    device: Device,
    ops: Sequence[Op],
    rejected: Sequence[Rejection],
    now: int,
) -> int:
    """Add the permanently refused ops among ``rejected`` to the queue (each ``(device, op_id)``
    once); how many rows were added."""
    by_id: dict[str, Op] = {}
    for op in ops:
        by_id.setdefault(op.op_id, op)
    wanted: dict[str, Rejection] = {}
    for r in rejected:
        if r.code not in TEMPORARY and r.op_id in by_id and db.storable_id(r.op_id):
            wanted.setdefault(r.op_id, r)
    if not wanted:
        return 0
    t = db.review
    have: set[str] = set()
    for part in chunks(sorted(wanted)):
        have.update(
            conn.execute(
                select(t.c.op_id).where(
                    t.c.device == device.device_id, db.in_list(conn, t.c.op_id, part)
                )
            ).scalars()
        )
    next_id = _last_id(conn)
    rows: list[dict[str, Any]] = []
    for op_id, r in wanted.items():
        if op_id in have:
            continue
        op = by_id[op_id]
        next_id += 1
        rows.append(
            {
                "id": next_id,
                "op_id": op_id,
                "device": device.device_id,
                "member": device.member_id,
                "kind": op.kind if db.storable_id(op.kind) else "-",
                "entity_id": op.entity_id if db.storable_id(op.entity_id) else "-",
                "code": r.code[:64],
                "params": json.dumps(dict(r.params), ensure_ascii=False, sort_keys=True),
                "body": vault.seal(op.to_dict(), body_aad(next_id)),
                "received_at": now,
                "state": OPEN,
            }
        )
    db.insert_rows(conn, t, rows)
    if rows:
        logs.event("review.kept", device=device.device_id, ops=len(rows))
    return len(rows)


def _stored_ops(conn: Connection, op_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(set(op_ids))):
        found.update(
            conn.execute(
                select(db.ops.c.op_id).where(db.in_list(conn, db.ops.c.op_id, part))
            ).scalars()
        )
    return found


def _last_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(db.review.c.id))).scalar_one() or 0)


# -- reading -------------------------------------------------------------------------------


def _item(row: Any, vault: Vault, *, opened: bool) -> Item:
    params = json.loads(row.params) if row.params else {}
    op: Op | None = None
    note: str | None = None
    if opened:
        op = Op.from_dict(vault.open(row.body, body_aad(row.id)))
        if row.note is not None:
            note = str(vault.open(row.note, note_aad(row.id)))
    return Item(
        id=int(row.id),
        op_id=row.op_id,
        device=row.device,
        member=row.member,
        kind=row.kind,
        entity_id=row.entity_id,
        code=row.code,
        params=params if isinstance(params, dict) else {},
        received_at=int(row.received_at),
        state=row.state,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        applied_op=row.applied_op,
        note=note,
        op=op,
    )


def listing(
    conn: Connection,
    vault: Vault,
    state: str | None = OPEN,
    *,
    device: str | None = None,
    limit: int | None = None,
) -> list[Item]:
    """Rows in ``state`` (``None``: all), oldest first; their bodies stay sealed."""
    t = db.review
    q = select(t).order_by(t.c.id)
    if state is not None:
        q = q.where(t.c.state == state)
    if device is not None:
        q = q.where(t.c.device == device)
    if limit is not None:
        q = q.limit(limit)
    return [_item(row, vault, opened=False) for row in conn.execute(q)]


def get(conn: Connection, vault: Vault, review_id: int) -> Item:
    """One row with its op and note opened; ``review.unknown`` if there is none."""
    row = conn.execute(select(db.review).where(db.review.c.id == review_id)).first()
    if row is None:
        raise ValidationError("review.unknown", id=review_id)
    return _item(row, vault, opened=True)


# -- deciding ------------------------------------------------------------------------------


def _undecided(conn: Connection, vault: Vault, review_id: int) -> Item:
    item = get(conn, vault, review_id)
    if item.state != OPEN:
        raise ValidationError(
            "review.decided", id=review_id, state=item.state, by=item.decided_by or "-"
        )
    return item


def _check(by: str, note: str | None) -> tuple[str, str | None]:
    name = " ".join(by.split())
    if not name or len(name) > db.ID or not name.isprintable():
        raise ValidationError("review.bad_operator", max=db.ID)
    text = (note or "").strip() or None
    if text is not None and (len(text) > MAX_NOTE or "\x00" in text):
        raise ValidationError("review.bad_note", max=MAX_NOTE)
    return name, text


def _decide(
    conn: Connection,
    vault: Vault,
    review_id: int,
    state: str,
    *,
    by: str,
    note: str | None,
    now: int,
    applied_op: str | None = None,
) -> None:
    conn.execute(
        update(db.review)
        .where(db.review.c.id == review_id, db.review.c.state == OPEN)
        .values(
            state=state,
            decided_by=by,
            decided_at=now,
            note=vault.seal(note, note_aad(review_id)) if note is not None else None,
            applied_op=applied_op,
        )
    )


def apply(rt: Runtime, review_id: int, *, by: str, note: str | None, now: int) -> Item:
    """Re-issue the op's changes as a new op of the ``system`` device, judged against the record
    as it stands now, and mark the row applied by ``by`` — all in one write transaction. A change
    that no longer fits is ``review.cannot_apply`` (its cause says why) and changes nothing."""
    by, note = _check(by, note)
    with rt.db.write() as conn:
        item = _undecided(conn, rt.vault, review_id)
        op = item.op
        assert op is not None
        devices.ensure_system(conn, now)
        clock = HybridClock(last=db.get_meta(conn, "system_hlc"))
        author = admin.Author(rt.ledger.world(conn), clock)
        try:
            issued = author.op(op.kind, op.entity_id, set=op.set, add=op.add)
        except LinliError as exc:
            raise ValidationError("review.cannot_apply", id=review_id) from exc
        outcome = rt.ledger.commit(conn, admin.SYSTEM_ACTOR, author.ops, world=author.world)
        if outcome.rejected:
            first = outcome.rejected[0]
            cause = OpRejected(first.code, **dict(first.params))
            raise ValidationError("review.cannot_apply", id=review_id) from cause
        db.set_meta(conn, "system_hlc", clock.last)
        _decide(
            conn, rt.vault, review_id, APPLIED, by=by, note=note, now=now, applied_op=issued.op_id
        )
        done = get(conn, rt.vault, review_id)
    logs.event("review.applied", review=review_id, op=issued.op_id, fed=outcome.fed)
    return done


def dismiss(rt: Runtime, review_id: int, *, by: str, note: str | None, now: int) -> Item:
    """Close the row without changing any record."""
    by, note = _check(by, note)
    with rt.db.write() as conn:
        _undecided(conn, rt.vault, review_id)
        _decide(conn, rt.vault, review_id, DISMISSED, by=by, note=note, now=now)
        done = get(conn, rt.vault, review_id)
    logs.event("review.dismissed", review=review_id)
    return done
