"""One ``POST /v1/sync`` end to end.

peek header → load device (unknown → ``sync.unknown_device``, revoked → ``sync.revoked``) →
``open_request`` (signature first, then open) → each op judged alone (``validate_op``, clock
sanity ``op.clock_ahead``) outside the lock → ONE serialized write transaction: a batch id seen
before returns its stored acks/rejections/receipt; else the counter must exceed the last one
(``sync.replay``), the ops go through the :class:`~sync.server.ledger.Ledger` and the batch's
answer is stored with the new counter → the pull is computed for the device's scope in a read
transaction → the answer is sealed to the device.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, select, update

from sync import hlc, protocol
from sync.domain import validate_op
from sync.errors import LinliError, OpRejected, SyncError, ValidationError
from sync.ops import Op
from sync.protocol import Receipt, Rejection, SyncRequest, SyncResponse
from sync.server import db, devices, logs
from sync.server.ledger import rejection
from sync.server.problems import Refusal
from sync.server.pull import pull
from sync.server.runtime import Runtime

CLOCK_AHEAD_MS = 10 * 60 * 1000
MAX_CONCURRENT = 8
WAIT_FOR_SLOT_S = 20.0


def judge_alone(ops: list[Op], now: int) -> dict[str, Rejection]:
    """Rejections decided from each op alone: domain validity and clock sanity."""
    out: dict[str, Rejection] = {}
    for op in ops:
        try:
            if not (db.storable_id(op.op_id) and db.storable_id(op.device)):
                raise ValidationError("op.malformed", reason="id")
            validate_op(op)
            if hlc.wall_of(op.hlc) > now + CLOCK_AHEAD_MS:
                raise OpRejected("op.clock_ahead", minutes=CLOCK_AHEAD_MS // 60_000)
        except LinliError as exc:
            out[op.op_id] = rejection(op.op_id, exc)
    return out


class SyncService:
    """Processes sync bodies. Thread-safe; at most ``MAX_CONCURRENT`` at a time per process."""

    def __init__(self, runtime: Runtime, max_concurrent: int = MAX_CONCURRENT) -> None:
        self.rt = runtime
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def handle(self, body: bytes) -> bytes:
        """The sealed answer to a request body; a :class:`Refusal` for anything refused."""
        if not self._slots.acquire(timeout=WAIT_FOR_SLOT_S):
            raise Refusal(SyncError("sync.server_busy", retry_after=5))
        try:
            return self._handle(body)
        finally:
            self._slots.release()

    def _handle(self, body: bytes) -> bytes:
        started = time.perf_counter()
        device_id: str | None = None
        batch_id: str | None = None
        try:
            header = protocol.peek_header(body)
            if not (
                db.storable_id(header.device)
                and db.storable_id(header.batch)
                and db.storable_int(header.counter)
            ):
                raise SyncError("sync.malformed", reason="header")
            device_id, batch_id = header.device, header.batch
            with self.rt.db.read() as conn:
                device = devices.load(conn, header.device)
            if device is None or device.system:
                raise SyncError("sync.unknown_device")
            if device.revoked_at is not None:
                raise SyncError("sync.revoked")
            req = protocol.open_request(body, self.rt.keys, device.signing_public)
            now = protocol.now_ms()
            prejudged = judge_alone(req.ops, now)
            answer, replayed = self._commit(req, device, prejudged, now)
            with self.rt.db.read() as conn:
                world = self.rt.ledger.world(conn)
                actor = devices.actor_for(world, device)
                page = pull(
                    conn,
                    self.rt.vault,
                    head=world.counters["head"],
                    epoch=self.rt.ledger.epoch(conn),
                    cache=self.rt.ledger.ops,
                    keys=devices.pull_keys(world, actor),
                    device_id=device.device_id,
                    cursor=None if answer.get("restart") else req.cursor,
                    limit=req.pull_limit,
                )
        except LinliError as exc:
            logs.event(
                "sync.refused",
                code=exc.code,
                device=device_id,
                batch=batch_id,
                ms=logs.ms_since(started),
            )
            raise Refusal(exc, device=device_id, batch=batch_id) from exc
        receipt = answer.get("receipt")
        response = SyncResponse(
            batch_id=req.batch_id,
            acks=list(answer["acks"]),
            rejected=[Rejection.from_dict(r) for r in answer["rejected"]],
            changes=page.ops,
            cursor=page.cursor,
            more=page.more,
            receipt=Receipt.from_dict(receipt) if receipt else None,
            server_time=protocol.now_ms(),
        )
        sealed = protocol.seal_response(response, self.rt.keys, device.sealing_public)
        logs.event(
            "sync",
            device=device.device_id,
            batch=req.batch_id,
            priority=req.priority,
            retry=replayed,
            ops=len(req.ops),
            acked=len(response.acks),
            rejected=len(response.rejected),
            pulled=len(page.ops),
            more=page.more,
            ms=logs.ms_since(started),
        )
        return sealed

    def _commit(
        self,
        req: SyncRequest,
        device: devices.Device,
        prejudged: dict[str, Rejection],
        now: int,
    ) -> tuple[dict[str, Any], bool]:
        """The batch's stored answer (``True`` if it was a retry) — processing it if new.

        The answer's ``restart`` is True when the device's pull scope changed since its last
        sync (new team, area or role): its pull then starts from the beginning, so it receives
        the history of everything it may now see. Stored with the batch, so a retry after a
        lost answer restarts too."""
        with self.rt.db.write() as conn:
            world = self.rt.ledger.world(conn)
            actor = devices.actor_for(world, device)
            scope = devices.scope_signature(devices.pull_keys(world, actor))
            moved = scope != device.scope_sig
            stored = self._stored(conn, req, device)
            if stored is not None:
                conn.execute(
                    update(db.devices)
                    .where(db.devices.c.device_id == device.device_id)
                    .values(last_sync_at=now, scope_sig=scope)
                )
                return {**stored, "restart": bool(stored.get("restart")) or moved}, True
            advanced = conn.execute(
                update(db.devices)
                .where(
                    db.devices.c.device_id == device.device_id,
                    db.devices.c.last_counter < req.counter,
                    db.devices.c.revoked_at.is_(None),
                )
                .values(last_counter=req.counter, last_sync_at=now, scope_sig=scope)
            )
            if not advanced.rowcount:
                raise SyncError("sync.replay")
            outcome = self.rt.ledger.commit(
                conn,
                actor,
                req.ops,
                batch_id=req.batch_id,
                prejudged=prejudged,
                validate=False,
                world=world,
            )
            receipt = None
            if outcome.acks:
                receipt = protocol.make_receipt(
                    req.batch_id, device.device_id, outcome.acks, now, self.rt.keys
                ).to_dict()
            answer = {
                "acks": outcome.acks,
                "rejected": [r.to_dict() for r in outcome.rejected],
                "receipt": receipt,
                "restart": moved,
            }
            conn.execute(
                db.batches.insert().values(
                    batch_id=req.batch_id,
                    device_id=device.device_id,
                    counter=req.counter,
                    created_at=now,
                    response=self.rt.vault.seal(answer, f"batch:{req.batch_id}"),
                )
            )
            return answer, False

    def _stored(
        self, conn: Connection, req: SyncRequest, device: devices.Device
    ) -> dict[str, Any] | None:
        row = conn.execute(
            select(db.batches.c.device_id, db.batches.c.response).where(
                db.batches.c.batch_id == req.batch_id
            )
        ).first()
        if row is None:
            return None
        if row.device_id != device.device_id:
            raise SyncError("sync.replay")
        answer: dict[str, Any] = self.rt.vault.open(row.response, f"batch:{req.batch_id}")
        return answer
