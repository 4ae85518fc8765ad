"""The phone's sync engine: enroll once, then push the outbox and pull changes in few round trips.

Guarantees (see ``docs/protocol.md``, "The client"):

- an op leaves the outbox only after a response that verified under the pinned server key names
  it as acked or rejected; rejected ops — and acked ones the server kept only in part (``partial``:
  a visit kept, its status move refused) — are recorded in meta ``rejections`` first;
- for each entity of a refused or partial op the answer carries the server's copy: the phone
  rebuilds that record as the server's copy + its still-pending ops (``rebuild``), so phone and
  server agree after one sync;
- a TEMPORARY refusal (:data:`TEMPORARY_REFUSALS`: ``op.clock_ahead``) drops nothing: the op
  stays in the outbox and is listed in :attr:`SyncSummary.clock_ahead` for the app to re-stamp
  from a corrected clock and send again;
- the server's time of every answer (the ``X-Linli-Time`` header, refusals included) is kept in
  :attr:`SyncEngine.header_time`; the signed one of the last sealed answer in
  :attr:`SyncSummary.server_time`;
- the batch counter and the in-flight batch are persisted BEFORE a batch is sent; after a lost
  response the next sync re-sends the same batch (same id, counter and ops) first, so the server
  answers with the same acks and receipt;
- pulled changes and the new cursor are applied together (``apply_remote``);
- only a verified ``sync.revoked`` naming this device raises :class:`DeviceRevoked`; unsigned or
  unverifiable problems are transient failures that change nothing;
- a verified answer that tells the phone to wipe (``wipe``: ``retired`` or ``revoked``) does not
  stop the run: every pending batch is still sent (a retired phone's are processed as usual, a
  revoked phone's go to the server's review queue) and :attr:`SyncSummary.wipe` says so — the app
  wipes only once its outbox is empty.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync import i18n, protocol
from sync.client.batching import (
    BATCH_SIZE,
    PRIORITY_BATCH_SIZE,
    SINGLE_TRIP_JSON_BYTES,
    Batch,
    plan_batches,
)
from sync.client.identity import Identity
from sync.client.ports import OutboxPort, Transport, TransportResponse
from sync.domain.schema import SCHEMA_VERSION
from sync.errors import SyncError
from sync.ops import Op, new_id
from sync.protocol.messages import TIME_HEADER, parse_time_header

META_COUNTER = "sync.counter"
META_INFLIGHT = "sync.inflight"
META_REJECTIONS = "rejections"
#: the server's data epoch last seen (a change: the server was restored from a backup)
META_EPOCH = "sync.epoch"
#: True while the server says it is a practice (training) server; absent otherwise
META_PRACTICE = "server.practice"
#: a lead's phone: how the team's phones last reported (``{"at": ms, "phones": [...]}``)
META_TEAM_PHONES = "team.phones"
MAX_KEPT_REJECTIONS = 1000
PRIORITY_PULL_LIMIT = 100
#: refusals that say "not now", not "never": the op stays queued (a clock to correct; a server
#: older than the app that made the op, until it is upgraded)
TEMPORARY_REFUSALS = frozenset({"op.clock_ahead", "op.schema_too_new"})


class DeviceRevoked(SyncError):
    """The server (verified) says this device was revoked: the app must lock and wipe it."""

    code = "sync.revoked"
    http_status = 403


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """One step of a sync, for a progress bar: ``fraction`` runs from 0.0 to 1.0."""

    phase: str  # "sending" | "pulling" | "done"
    round_trip: int
    planned: int
    sent: int
    total: int
    received: int
    fraction: float


@dataclass(slots=True)
class SyncSummary:
    sent: int = 0
    acked: int = 0
    received: int = 0
    rejected: list[protocol.Rejection] = field(default_factory=list)
    receipts: list[protocol.Receipt] = field(default_factory=list)
    round_trips: int = 0
    more: bool = False
    pending: int = 0
    server_time: int | None = None
    #: ops refused as ``op.clock_ahead``: still in the outbox, to re-stamp and send again
    clock_ahead: list[str] = field(default_factory=list)
    #: ops the server kept only in part (a visit kept, its status move refused), with why
    partial: list[protocol.Rejection] = field(default_factory=list)
    #: the server told this phone to wipe (``retired`` / ``revoked``) in a verified answer
    wipe: str | None = None
    #: acknowledged ops sent again because the server was restored from a backup
    resent: int = 0


@dataclass(frozen=True, slots=True)
class _InFlight:
    batch_id: str
    counter: int
    op_ids: list[str]
    priority: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "counter": self.counter,
            "ops": self.op_ids,
            "priority": self.priority,
        }

    @classmethod
    def from_meta(cls, raw: Any) -> _InFlight | None:
        try:
            return cls(
                str(raw["batch"]), int(raw["counter"]), list(raw["ops"]), bool(raw["priority"])
            )
        except (KeyError, TypeError, ValueError):
            return None


ProgressFn = Callable[[SyncProgress], None]


class SyncEngine:
    """Runs enrollment and syncs over an :class:`OutboxPort` and a :class:`Transport`."""

    def __init__(
        self,
        outbox: OutboxPort,
        transport: Transport | None = None,
        identity: Identity | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        priority_batch_size: int = PRIORITY_BATCH_SIZE,
        single_trip_bytes: int = SINGLE_TRIP_JSON_BYTES,
        pull_limit: int = protocol.DEFAULT_PULL_LIMIT,
        first_pull_limit: int = protocol.MAX_PULL_LIMIT,
        max_round_trips: int = 100,
        clock: Callable[[], int] = protocol.now_ms,
        app_version: str = "unknown",
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.identity = identity
        self.batch_size = batch_size
        self.priority_batch_size = priority_batch_size
        self.single_trip_bytes = single_trip_bytes
        self.pull_limit = pull_limit
        #: the page size of a first pull (no cursor yet): the whole scope is coming, so fewer,
        #: larger pages (the server caps them at ``MAX_PULL_LIMIT`` and ``MAX_PULL_BYTES``)
        self.first_pull_limit = first_pull_limit
        self.max_round_trips = max_round_trips
        self._clock = clock
        #: reported with every sync, with the domain schema and the pending count
        self.app_version = app_version
        self._lock = threading.Lock()
        #: the server's time from the ``X-Linli-Time`` header of its last answer (unsigned)
        self.header_time: int | None = None

    # ------------------------------------------------------------ enrollment

    def enroll(self, target: Transport | str, code: str, label: str) -> Identity:
        """Enroll this device with a one-time ``code``; returns the identity for the app to save.

        ``target`` is the server URL or a transport. The server's answer must carry a MAC made
        with the code (``enroll.bad_mac`` otherwise); its keys are pinned from then on.
        """
        from sync.client.enrollment import enroll

        if isinstance(target, str):
            from sync.client.transport import HttpTransport

            transport: Transport = HttpTransport(target)
        else:
            transport = target
        identity = enroll(transport, code, label)
        if isinstance(target, str):
            identity = dataclasses.replace(identity, server_url=target)
        self.identity, self.transport = identity, transport
        return identity

    # ------------------------------------------------------------ sync

    def sync(self, progress: ProgressFn | None = None) -> SyncSummary:
        """Push every pending op (priority lane first) and pull until the server has no more."""
        if not self._lock.acquire(blocking=False):
            raise SyncError("sync.in_progress")
        try:
            return _Run(self, progress).run()
        finally:
            self._lock.release()

    def rejections(self) -> list[dict[str, Any]]:
        """Ops the server refused (newest last), for the app to show."""
        return list(self.outbox.get_meta(META_REJECTIONS, []) or [])

    def _ready(self) -> tuple[Identity, Transport]:
        if self.identity is None:
            raise SyncError("sync.not_enrolled")
        if self.transport is None:
            if not self.identity.server_url:
                raise SyncError("sync.not_enrolled")
            from sync.client.transport import HttpTransport

            self.transport = HttpTransport(self.identity.server_url)
        return self.identity, self.transport


class _Run:
    """The state of one :meth:`SyncEngine.sync` call."""

    def __init__(self, engine: SyncEngine, progress: ProgressFn | None) -> None:
        self.engine = engine
        self.outbox = engine.outbox
        self.identity, self.transport = engine._ready()
        self.progress = progress
        self.summary = SyncSummary()
        self.total = 0
        self.planned = 0
        self.requeued = False
        self.first_pull = False

    def run(self) -> SyncSummary:
        inflight = _InFlight.from_meta(self.outbox.get_meta(META_INFLIGHT))
        pending = self.outbox.pending_ops()
        resend_ids = set(inflight.op_ids) if inflight else set()
        batches = self._plan([op for op in pending if op.op_id not in resend_ids])
        self.total = len(pending)
        self.planned = max(1, len(batches) + (1 if inflight else 0))
        # a first pull (no cursor yet) runs to the end of the scope, however many pages: a
        # phone cut short would work with part of its area; the cap is for ordinary syncs
        first_pull = self.first_pull = self.outbox.cursor() is None
        more = False
        if inflight:
            ops = [op for op in pending if op.op_id in resend_ids]
            more = self._exchange(Batch(ops, inflight.priority), inflight)
        for batch in batches:
            more = self._exchange(batch)
        if not inflight and not batches:
            more = self._exchange(Batch([]))
        if self.requeued:  # the server was restored: send again what it may have lost
            again = self._plan(self.outbox.pending_ops())
            self.total += sum(len(b.ops) for b in again)
            self.planned += len(again)
            for batch in again:
                more = self._exchange(batch)
        while more and (first_pull or self.summary.round_trips < self.engine.max_round_trips):
            self.planned += 1
            more = self._exchange(Batch([]))
        self.summary.more = more
        self.summary.pending = self.outbox.pending_count()
        self._report("done", 1.0)
        return self.summary

    def _plan(self, ops: list[Op]) -> list[Batch]:
        return plan_batches(
            ops,
            batch_size=self.engine.batch_size,
            priority_batch_size=self.engine.priority_batch_size,
            single_trip_bytes=self.engine.single_trip_bytes,
        )

    def _report(self, phase: str, fraction: float) -> None:
        if self.progress is not None:
            s = self.summary
            self.progress(
                SyncProgress(
                    phase, s.round_trips, self.planned, s.sent, self.total, s.received, fraction
                )
            )

    def _begin(self, batch: Batch) -> _InFlight:
        """Persist the next counter and the in-flight batch before anything is sent."""
        last = int(self.outbox.get_meta(META_COUNTER, 0) or 0)
        counter = max(last + 1, self.engine._clock())
        self.outbox.set_meta(META_COUNTER, counter)
        inflight = _InFlight(new_id("b"), counter, [op.op_id for op in batch.ops], batch.priority)
        self.outbox.set_meta(META_INFLIGHT, inflight.to_dict())
        return inflight

    def _exchange(self, batch: Batch, inflight: _InFlight | None = None) -> bool:
        """One POST: send ``batch``, settle the verified answer. Returns the server's ``more``."""
        inflight = inflight or self._begin(batch)
        ident = self.identity
        phase = "sending" if batch.ops else "pulling"
        self._report(phase, self.summary.round_trips / (self.planned + 1))
        limit = self.engine.first_pull_limit if self.first_pull else self.engine.pull_limit
        if batch.priority:
            limit = min(limit, PRIORITY_PULL_LIMIT)
        req = protocol.SyncRequest(
            ident.device_id,
            inflight.batch_id,
            inflight.counter,
            batch.ops,
            self.outbox.cursor(),
            limit,
            batch.priority,
            client=protocol.ClientReport(
                self.engine.app_version[:40] or "unknown",
                SCHEMA_VERSION,
                self.outbox.pending_count(),
            ),
        )
        body = protocol.seal_request(
            req, ident.keys, ident.server_signing_public, ident.server_sealing_public
        )
        answer = self.transport.post(protocol.SYNC_PATH, body, protocol.SYNC_CONTENT_TYPE)
        self.summary.round_trips += 1
        self.summary.sent += len(batch.ops)
        seen = parse_time_header(answer.header(TIME_HEADER))
        if seen is not None:
            self.engine.header_time = seen
        if answer.status != 200:
            raise self._problem(answer)
        resp = protocol.open_response(
            answer.body, ident.keys, ident.server_signing_public, inflight.batch_id
        )
        self._settle(batch.ops, resp)
        return resp.more

    def _settle(self, ops: list[Op], resp: protocol.SyncResponse) -> None:
        # first: the ops this answer acks were received by the server as it is now
        self._check_epoch(resp.epoch)
        sent = {op.op_id: op for op in ops}
        acked = [op_id for op_id in dict.fromkeys(resp.acks) if op_id in sent]
        acked_set = set(acked)
        refused = [r for r in resp.rejected if r.op_id in sent and r.op_id not in acked_set]
        rejected = [r for r in refused if r.code not in TEMPORARY_REFUSALS]
        later = [r.op_id for r in refused if r.code == "op.clock_ahead"]
        partial = [r for r in resp.partial if r.op_id in acked_set]
        if rejected or partial:
            self._record_rejections(resp.batch_id, rejected + partial, sent, partial=partial)
        if resp.receipt is not None:
            self.outbox.add_receipt(resp.receipt.to_dict())
            self.summary.receipts.append(resp.receipt)
        if resp.records:
            # the server's copies first (as of its commit), then the pulled ops on top
            copies = [(c.kind, c.entity_id, c.record) for c in resp.records]
            self.outbox.rebuild(copies, acked + [r.op_id for r in rejected])
        cursor = resp.cursor if resp.cursor is not None else self.outbox.cursor()
        self.outbox.apply_remote(resp.changes, cursor)
        self.outbox.acknowledge(acked)  # kept 14 days, to re-send after a server restore
        self.outbox.acknowledge([r.op_id for r in rejected], retain=False)
        self.outbox.set_meta(META_INFLIGHT, None)
        s = self.summary
        s.acked += len(acked)
        s.rejected.extend(rejected)
        s.partial.extend(partial)
        s.clock_ahead.extend(op_id for op_id in later if op_id not in s.clock_ahead)
        s.received += len(resp.changes)
        s.server_time = resp.server_time
        if resp.wipe is not None:
            s.wipe = resp.wipe
        if bool(self.outbox.get_meta(META_PRACTICE)) != resp.practice:
            self.outbox.set_meta(META_PRACTICE, True if resp.practice else None)
        if resp.team is not None:
            self.outbox.set_meta(
                META_TEAM_PHONES,
                {"at": resp.server_time, "phones": [p.to_dict() for p in resp.team]},
            )

    def _check_epoch(self, epoch: str | None) -> None:
        """A new data epoch means the server was restored from a backup: every acknowledged op
        this phone still keeps goes back in the outbox, to be sent again in this sync (the
        server takes the ones it still has idempotently)."""
        if epoch is None:
            return
        known = self.outbox.get_meta(META_EPOCH)
        if known != epoch:
            if known is not None:
                self.summary.resent += self.outbox.requeue_sent()
                self.requeued = True
            self.outbox.set_meta(META_EPOCH, epoch)

    def _record_rejections(
        self,
        batch_id: str,
        rejected: list[protocol.Rejection],
        sent: dict[str, Op],
        *,
        partial: Sequence[protocol.Rejection] = (),
    ) -> None:
        kept = list(self.outbox.get_meta(META_REJECTIONS, []) or [])
        seen = {(r.get("op"), r.get("batch")) for r in kept if isinstance(r, dict)}
        at = self.engine._clock()
        for r in rejected:
            if (r.op_id, batch_id) in seen:
                continue
            op = sent[r.op_id]
            kept.append(
                {
                    **r.to_dict(),
                    "kind": op.kind,
                    "entity": op.entity_id,
                    "batch": batch_id,
                    "at": at,
                    **({"partial": True} if r in partial else {}),
                }
            )
        self.outbox.set_meta(META_REJECTIONS, kept[-MAX_KEPT_REJECTIONS:])

    def _problem(self, answer: TransportResponse) -> SyncError:
        """The error for a non-200 answer. Only a verified problem is believed."""
        problem = protocol.parse_problem(answer.body)
        verified = problem is not None and protocol.verify_problem(
            answer.body,
            answer.header(protocol.SIGNATURE_HEADER),
            self.identity.server_signing_public,
        )
        if problem is None or not verified:
            return SyncError("sync.server_problem", status=answer.status)
        if problem.code == DeviceRevoked.code:
            if problem.device != self.identity.device_id:
                return SyncError("sync.server_problem", status=answer.status)
            # final, and the server processed nothing: a change recorded after this still goes
            # out in a fresh batch next time (a revoked phone hands its work over for review)
            self.outbox.set_meta(META_INFLIGHT, None)
            return DeviceRevoked(device=self.identity.device_id)
        # The server vouches that it did not process this batch: the next sync starts a fresh
        # one (op ids make re-sending the same ops harmless).
        self.outbox.set_meta(META_INFLIGHT, None)
        return _known_error(problem, answer.status)


def _known_error(problem: protocol.Problem, status: int) -> SyncError:
    if f"error.{problem.code}" not in i18n.catalogs()[i18n.DEFAULT_LANGUAGE]:
        return SyncError("sync.server_problem", status=status)
    return SyncError(problem.code, **problem.params)


def _unverified_problem(answer: TransportResponse) -> SyncError:
    """Enrollment errors cannot be verified (no server key yet): shown, never acted on."""
    problem = protocol.parse_problem(answer.body)
    if problem is None:
        return SyncError("sync.server_problem", status=answer.status)
    return _known_error(problem, answer.status)
