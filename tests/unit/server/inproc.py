"""A device talking to the server's service layer directly (no HTTP), with the real codec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync import protocol
from sync.domain import make_op
from sync.hlc import HybridClock
from sync.merge import apply_op
from sync.ops import Op, new_id
from sync.protocol import DeviceKeys, SyncRequest, SyncResponse
from sync.server import enrollment
from sync.server.problems import Refusal
from sync.server.runtime import Runtime
from sync.server.service import SyncService


@dataclass
class LocalPhone:
    rt: Runtime
    service: SyncService
    keys: DeviceKeys = field(default_factory=DeviceKeys.generate)
    device_id: str = ""
    member_id: str = ""
    counter: int = 0
    cursor: str | None = None
    received: dict[str, Op] = field(default_factory=dict)
    clock: HybridClock = field(default_factory=HybridClock)

    @classmethod
    def enrolled(cls, rt: Runtime, service: SyncService, member_id: str) -> LocalPhone:
        phone = cls(rt, service)
        code = enrollment.issue(rt, member_id).code
        sealed = enrollment.enroll(rt, protocol.enroll_request(code, phone.keys, "测试"))
        answer = protocol.parse_enroll_response(code, sealed)
        phone.device_id, phone.member_id = answer.device_id, answer.member_id
        return phone

    def request(self, ops: list[Op] | None = None, **kw: Any) -> SyncRequest:
        counter = kw.pop("counter", None)
        if counter is None:
            self.counter += 1
            counter = self.counter
        return SyncRequest(
            self.device_id,
            kw.pop("batch", new_id("b")),
            counter,
            list(ops or []),
            kw.pop("cursor", self.cursor),
            kw.pop("limit", 1000),
        )

    def seal(self, req: SyncRequest) -> bytes:
        return protocol.seal_request(
            req, self.keys, self.rt.keys.signing.public_bytes(), self.rt.keys.sealing.public_bytes()
        )

    def send(self, req: SyncRequest) -> SyncResponse:
        sealed = self.service.handle(self.seal(req))
        resp = protocol.open_response(
            sealed, self.keys, self.rt.keys.signing.public_bytes(), req.batch_id
        )
        for op in resp.changes:
            self.received[op.op_id] = op
        self.cursor = resp.cursor
        return resp

    def sync(self, ops: list[Op] | None = None, **kw: Any) -> SyncResponse:
        return self.send(self.request(ops, **kw))

    def refused(self, body: bytes) -> str:
        try:
            self.service.handle(body)
        except Refusal as exc:
            return exc.error.code
        raise AssertionError("the server accepted it")

    def pull_all(self) -> None:
        while self.sync().more:
            pass

    def record(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        record: dict[str, Any] | None = None
        for op in sorted(self.received.values(), key=lambda o: o.order):
            if op.kind == kind and op.entity_id == entity_id:
                record = apply_op(record, op)
        return record

    def seen_ids(self, kind: str) -> set[str]:
        return {op.entity_id for op in self.received.values() if op.kind == kind}

    def op(self, kind: str, entity_id: str | None = None, **kw: Any) -> Op:
        current = kw.pop("current", None)
        if current is None and entity_id is not None:
            current = self.record(kind, entity_id)
        return make_op(
            kind,
            entity_id,
            current=current,
            clock=self.clock,
            device=self.device_id,
            member=self.member_id,
            **kw,
        )
