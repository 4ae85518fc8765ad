"""Test doubles for the sync engine's two ports.

- :class:`MemoryOutbox` — a small in-memory :class:`~sync.client.ports.OutboxPort` (the real
  phone store lives in ``app/``, which ``sync`` never imports).
- :class:`FakeServerTransport` — a fake at the transport edge: instead of HTTP it hands the bytes
  to a tiny in-process server that runs the REAL protocol code (open_request, seal_response,
  receipts, signed problems), with switches to lose, tamper with or refuse answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync import protocol
from sync.client.ports import TransportResponse
from sync.errors import SyncError
from sync.ops import Op
from sync.protocol import ServerKeys, SyncRequest, SyncResponse


class MemoryOutbox:
    """A minimal in-memory phone store (the real one lives in ``app/``)."""

    def __init__(self, ops: Iterable[Op] = ()) -> None:
        self.pending: list[Op] = list(ops)
        self.remote: dict[str, Op] = {}
        self._cursor: str | None = None
        self.receipts: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}
        self.meta_writes: list[tuple[str, Any]] = []
        self.copies: list[tuple[str, str, Mapping[str, Any] | None]] = []
        self.sent: list[Op] = []

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        return list(self.pending if limit is None else self.pending[:limit])

    def pending_count(self) -> int:
        return len(self.pending)

    def acknowledge(self, op_ids: Iterable[str], retain: bool = True) -> int:
        drop = set(op_ids)
        before = len(self.pending)
        if retain:
            self.sent.extend(op for op in self.pending if op.op_id in drop)
        self.pending = [op for op in self.pending if op.op_id not in drop]
        return before - len(self.pending)

    def requeue_sent(self) -> int:
        back = [op for op in self.sent if op not in self.pending]
        self.pending.extend(back)
        self.sent = []
        return len(back)

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        n = 0
        for op in ops:
            n += op.op_id not in self.remote
            self.remote[op.op_id] = op
        self._cursor = cursor
        return n

    def rebuild(
        self, copies: Iterable[tuple[str, str, Mapping[str, Any] | None]], settled: Iterable[str]
    ) -> int:
        self.copies.extend(copies)
        return len(self.copies)

    def cursor(self) -> str | None:
        return self._cursor

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        self.receipts.append(receipt)

    def get_meta(self, key: str, default: Any = None) -> Any:
        return json.loads(json.dumps(self.meta.get(key, default)))

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = json.loads(json.dumps(value))
        self.meta_writes.append((key, self.meta[key]))

    def record(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        """A record as the pulled ops make it (merged in their order)."""
        from sync.merge import apply_op

        found: dict[str, Any] | None = None
        for op in sorted(self.remote.values(), key=lambda o: o.order):
            if (op.kind, op.entity_id) == (kind, entity_id):
                found = apply_op(found, op)
        return found


@dataclass
class Device:
    signing_public: bytes
    sealing_public: bytes
    last_counter: int = -1
    revoked: bool = False


@dataclass
class Problem:
    status: int
    code: str
    signed: bool = True
    device: str | None = None


@dataclass
class FakeServerTransport:
    """Answers ``post``/``get`` like the linli server would, using the real codec."""

    keys: ServerKeys = field(default_factory=ServerKeys.generate)
    devices: dict[str, Device] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code_id -> (code, member)
    log: list[Op] = field(default_factory=list)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[SyncRequest] = field(default_factory=list)
    reject: Callable[[Op], str | None] = lambda op: None
    lose_responses: int = 0  # process, then pretend the answer was lost
    drop_requests: int = 0  # pretend the request never arrived
    tamper_responses: int = 0  # flip one byte of the sealed answer
    problems: list[Problem] = field(default_factory=list)
    mitm_server_keys: ServerKeys | None = None  # rewrite the enroll answer's keys
    server_time: int = 1_700_000_000_000
    wipe: str | None = None  # tell every phone that syncs to wipe (retired / revoked)
    epoch: str | None = None  # the data epoch answers carry (a change: restored from a backup)
    practice: bool = False  # a practice (training) server

    # -- transport port --------------------------------------------------
    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        if self.problems:
            return self._problem(self.problems.pop(0), body)
        if path == protocol.ENROLL_PATH:
            return self._enroll(json.loads(body))
        assert path == protocol.SYNC_PATH and content_type == protocol.SYNC_CONTENT_TYPE
        if self.drop_requests:
            self.drop_requests -= 1
            raise SyncError("sync.unreachable", reason="fake drop")
        try:
            answer = self._sync(body)
        except SyncError as exc:
            return self._problem(Problem(400, exc.code), body)
        if self.lose_responses:
            self.lose_responses -= 1
            raise SyncError("sync.timeout", seconds=30)
        if self.tamper_responses:
            self.tamper_responses -= 1
            flipped = bytearray(answer)
            flipped[-80] ^= 1
            answer = bytes(flipped)
        return TransportResponse(200, answer, {})

    def get(self, path: str) -> TransportResponse:
        return TransportResponse(200, b'{"ok": true, "protocol": 1}', {})

    # -- server behaviour ------------------------------------------------
    def add_code(self, code: str, member: str) -> None:
        self.codes[protocol.enroll_code_id(code)] = (code, member)

    def _enroll(self, body: dict[str, Any]) -> TransportResponse:
        req = protocol.parse_enroll_request(body)
        if req.code_id not in self.codes:
            return self._json(404, protocol.problem_body("enroll.unknown_code"))
        code, member = self.codes[req.code_id]
        if not protocol.verify_enroll_request(code, body):
            return self._json(401, protocol.problem_body("enroll.bad_proof"))
        del self.codes[req.code_id]
        device_id = f"dev-{len(self.devices) + 1}"
        self.devices[device_id] = Device(req.signing_public, req.sealing_public)
        answer = protocol.enroll_response(
            code,
            device_id=device_id,
            member_id=member,
            name="王桂兰",
            role="volunteer",
            team_id="team-1",
            server=self.keys,
            server_time=self.server_time,
        )
        if self.mitm_server_keys is not None:
            bundle = self.mitm_server_keys.public_bundle()
            answer["server_signing_public"] = bundle["signing_public"]
            answer["server_sealing_public"] = bundle["sealing_public"]
        return self._json(200, protocol.canonical_json(answer))

    def _sync(self, body: bytes) -> bytes:
        header = protocol.peek_header(body)
        device = self.devices.get(header.device)
        if device is None:
            raise SyncError("sync.unknown_device")
        req = protocol.open_request(body, self.keys, device.signing_public)
        self.requests.append(req)
        stored = self.batches.get(req.batch_id)
        if stored is None:
            if req.counter <= device.last_counter:
                raise SyncError("sync.replay")
            device.last_counter = req.counter
            stored = self._apply(req)
            self.batches[req.batch_id] = stored
        start = int(req.cursor or 0)
        changes = self.log[start : start + req.pull_limit]
        resp = SyncResponse(
            batch_id=req.batch_id,
            acks=stored["acks"],
            rejected=stored["rejected"],
            changes=changes,
            cursor=str(start + len(changes)),
            more=start + len(changes) < len(self.log),
            receipt=stored["receipt"],
            server_time=self.server_time,
            wipe=self.wipe,
            epoch=self.epoch,
            practice=self.practice,
        )
        return protocol.seal_response(resp, self.keys, device.sealing_public)

    def _apply(self, req: SyncRequest) -> dict[str, Any]:
        known = {op.op_id for op in self.log}
        acks, rejected = [], []
        for op in req.ops:
            code = self.reject(op)
            if code:
                rejected.append(protocol.Rejection(op.op_id, code, {"kind": op.kind}))
                continue
            if op.op_id not in known:
                self.log.append(op)
                known.add(op.op_id)
            acks.append(op.op_id)
        receipt = (
            protocol.make_receipt(req.batch_id, req.device_id, acks, self.server_time, self.keys)
            if acks
            else None
        )
        return {"acks": acks, "rejected": rejected, "receipt": receipt}

    def _problem(self, problem: Problem, body: bytes) -> TransportResponse:
        try:
            device: str | None = protocol.peek_header(body).device
        except SyncError:
            device = None
        raw = protocol.problem_body(problem.code, {}, device=problem.device or device)
        headers = (
            {protocol.SIGNATURE_HEADER.lower(): protocol.sign_problem(raw, self.keys)}
            if problem.signed
            else {}
        )
        return TransportResponse(problem.status, raw, headers)

    @staticmethod
    def _json(status: int, raw: bytes) -> TransportResponse:
        return TransportResponse(status, raw, {"content-type": "application/json"})
