"""One ``POST /v1/sync`` end to end.

peek header → load device (unknown → ``sync.unknown_device``) →
``open_request`` (signature first, then open) → each op judged alone (``validate_op``, clock
sanity ``op.clock_ahead``) outside the lock → ONE serialized write transaction: a batch id seen
before returns its stored acks/rejections/receipt; else the counter must exceed the last one
(``sync.replay``), the ops go through the :class:`~sync.server.ledger.Ledger` (a revoked
device's are all refused, :func:`review.hold_if_revoked`), the permanently refused ones are kept
in the review queue (:func:`review.keep`) and the batch's answer is stored with the new counter →
the pull is computed for the device's scope in a read transaction (nothing for a retired or
revoked device) → the answer is sealed to the device, telling a retired or revoked one to wipe.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from sqlalchemy import update

from sync import hlc, protocol
from sync.domain import validate_op
from sync.errors import LinliError, OpRejected, SyncError, ValidationError
from sync.ops import Op
from sync.protocol import Rejection, ServerCopy, SyncRequest, SyncResponse, TeamPhone
from sync.server import batches, db, devices, logs, review
from sync.server.authz import Actor
from sync.server.batches import BatchAnswer
from sync.server.ledger import rejection
from sync.server.problems import Refusal
from sync.server.pull import Page, parse_cursor, pull
from sync.server.runtime import Runtime
from sync.server.scope import entity_keys
from sync.server.state import Key, TxWorld
from sync.server.teamstatus import team_phones

#: ops stamped further ahead of the server's time are refused (``op.clock_ahead``, temporary)
CLOCK_AHEAD_MS = hlc.AHEAD_WINDOW_MS
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
        header: protocol.RequestHeader | None = None
        try:
            header = _checked_header(body)
            device = self._device(header.device)
            req = protocol.open_request(body, self.rt.keys, device.signing_public)
            now = protocol.now_ms()
            answer, replayed = self._commit(req, device, judge_alone(req.ops, now), now)
            page, epoch, team = self._pull(req, device, answer.restart)
        except LinliError as exc:
            device_id = header.device if header else None
            batch_id = header.batch if header else None
            logs.event(
                "sync.refused",
                code=exc.code,
                device=device_id,
                batch=batch_id,
                ms=logs.ms_since(started),
            )
            raise Refusal(exc, device=device_id, batch=batch_id) from exc
        response = SyncResponse(
            batch_id=req.batch_id,
            acks=list(answer.acks),
            rejected=list(answer.rejected),
            changes=page.ops,
            cursor=page.cursor,
            more=page.more,
            receipt=answer.receipt,
            server_time=protocol.now_ms(),
            partial=list(answer.partial),
            records=list(answer.records),
            wipe=device.wipe,
            epoch=epoch,
            practice=self.rt.settings.practice,
            team=team,
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
            partial=len(response.partial),
            pulled=len(page.ops),
            more=page.more,
            ms=logs.ms_since(started),
        )
        return sealed

    def _device(self, device_id: str) -> devices.Device:
        """The sending device: known, not the system device (a revoked one is refused in
        :meth:`_commit` unless it hands over ops for review)."""
        with self.rt.db.read() as conn:
            device = devices.load(conn, device_id)
        if device is None or device.system:
            raise SyncError("sync.unknown_device")
        return device

    def _pull(
        self, req: SyncRequest, device: devices.Device, restart: bool
    ) -> tuple[Page, str, list[TeamPhone] | None]:
        """The ops of the device's scope after its cursor (from the start on ``restart``), the
        data epoch, and for a lead's phone how the team's phones last reported
        (:mod:`.teamstatus`); nothing for a retired or revoked device (it is about to wipe).

        A cursor of this epoch BEYOND the feed's head means the phone saw ops this database no
        longer has: it was restored from a backup. The epoch is then renewed (once, whoever
        notices first), so every phone re-pulls from the start and re-sends what it kept
        (``docs/upgrades.md``, "A restored server")."""
        with self.rt.db.read() as conn:
            epoch = self.rt.ledger.epoch(conn)
            if device.wipe is not None:
                return Page([], req.cursor or "", False), epoch, None
            head = db.get_counter(conn, "head")
        cursor, ours = self._cursor_in(req.cursor)
        if not restart and ours and parse_cursor(cursor, epoch) > head:
            with self.rt.db.write() as conn:
                epoch = db.renew_epoch(conn, epoch)
            logs.event("server.restored", device=device.device_id, head=head)
        with self.rt.db.read() as conn:
            world = self.rt.ledger.world(conn)
            actor = devices.actor_for(world, device)
            page = pull(
                conn,
                self.rt.vault,
                head=world.counters["head"],
                epoch=epoch,
                cache=self.rt.ledger.ops,
                keys=devices.pull_keys(world, actor),
                device_id=device.device_id,
                cursor=None if restart else cursor,
                limit=req.pull_limit,
            )
            team = team_phones(conn, actor)
        return dataclasses.replace(page, cursor=self._cursor_out(page.cursor)), epoch, team

    def _cursor_out(self, cursor: str) -> str:
        """The pull cursor as the phone holds it: tagged by this server, so that a cursor beyond
        the head is proof of a restore, not a phone's invention (an untagged or forged one only
        pulls what the phone may see anyway)."""
        return f"{cursor}.{self.rt.vault.tag(cursor)}" if cursor else cursor

    def _cursor_in(self, held: str | None) -> tuple[str | None, bool]:
        """The cursor a phone sent, without its tag, and whether this server made it."""
        if not held:
            return None, False
        inner, _, tag = held.rpartition(".")
        if inner.count(".") == 1 and self.rt.vault.tagged(inner, tag):
            return inner, True
        return held, False

    def _commit(
        self,
        req: SyncRequest,
        device: devices.Device,
        prejudged: dict[str, Rejection],
        now: int,
    ) -> tuple[BatchAnswer, bool]:
        """The batch's stored answer (``True`` if it was a retry) — processing it if new.

        The answer's ``restart`` is True when the device's pull scope changed (new team, area or
        role) since the scope it was last answered for (``devices.scope_sig``): its pull then
        starts from the beginning, so it receives the history of everything it may now see.
        That pending restart is the device's state here, not a property of any answer: only a
        genuine request (a new batch with a newer counter) takes it, moving ``scope_sig`` in the
        same transaction that stores the answer with ``restart`` — so a retry of that batch
        after a lost answer restarts again, while a replayed OLD batch (answered from storage)
        neither carries nor consumes it."""
        with self.rt.db.write() as conn:
            world = self.rt.ledger.world(conn)
            actor = devices.actor_for(world, device)
            scope = devices.scope_signature(devices.pull_keys(world, actor))
            moved = scope != device.scope_sig
            stored = batches.load(conn, self.rt.vault, req.batch_id, device.device_id)
            seen = update(db.devices).where(db.devices.c.device_id == device.device_id)
            if stored is not None:  # a retry, or a replay by anyone: leave the scope state
                conn.execute(seen.values(last_sync_at=now))
                return stored, True
            advanced = conn.execute(
                seen.where(db.devices.c.last_counter < req.counter).values(
                    last_counter=req.counter, last_sync_at=now, scope_sig=scope, **_report(req)
                )
            )
            if not advanced.rowcount:
                raise SyncError("sync.replay")
            prejudged = review.hold_if_revoked(conn, device, req.ops, prejudged)
            outcome = self.rt.ledger.commit(
                conn,
                actor,
                req.ops,
                batch_id=req.batch_id,
                prejudged=prejudged,
                validate=False,
                world=world,
            )
            # refused whole, and the parts refused of ops kept in part (a visit kept, its status
            # move not): all reviewable; the review row holds the op as the phone sent it
            review.keep(
                conn, self.rt.vault, device, req.ops, outcome.rejected + outcome.partial, now
            )
            answer = BatchAnswer(
                acks=outcome.acks,
                rejected=outcome.rejected,
                partial=outcome.partial,
                records=server_copies(world, actor, outcome.disputed),
                receipt=protocol.make_receipt(
                    req.batch_id, device.device_id, outcome.acks, now, self.rt.keys
                )
                if outcome.acks
                else None,
                restart=moved,
            )
            batches.store(
                conn,
                self.rt.vault,
                answer,
                batch_id=req.batch_id,
                device_id=device.device_id,
                counter=req.counter,
                now=now,
            )
            return answer, False


def server_copies(world: TxWorld, actor: Actor, keys: set[Key]) -> list[ServerCopy]:
    """The server's records of ``keys`` as ``actor``'s device may see them (``None`` outside its
    scope), after this commit: what the phone rebuilds its copies from."""
    scope = devices.pull_keys(world, actor)
    out: list[ServerCopy] = []
    for kind, entity_id in sorted(keys):
        record = world.record(kind, entity_id)
        if record is not None and scope is not None:
            refs = world.refs(kind, entity_id) or {}
            if not entity_keys(world, kind, entity_id, refs) & scope:
                record = None
        out.append(ServerCopy(kind, entity_id, record))
    return out


def _report(req: SyncRequest) -> dict[str, Any]:
    """The device row's columns for what the phone reported with this request (none: kept)."""
    if req.client is None:
        return {}
    return {
        "app_version": req.client.app,
        "schema_version": req.client.schema,
        "pending": req.client.pending,
        "reported_at": req.sent_at,
    }


def _checked_header(body: bytes) -> protocol.RequestHeader:
    """The request's plaintext header, its ids and counter within what the database stores."""
    header = protocol.peek_header(body)
    if not (
        db.storable_id(header.device)
        and db.storable_id(header.batch)
        and db.storable_int(header.counter)
    ):
        raise SyncError("sync.malformed", reason="header")
    return header
