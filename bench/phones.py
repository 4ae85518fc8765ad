"""Phones for benchmarks and end-to-end tests: enrolled devices running the real sync engine.

- :class:`Phone` — identity, replica, hybrid logical clock and the REAL
  :class:`~sync.client.SyncEngine`; its replica is a real :class:`~app.store.LocalStore`
  (:func:`local_store`) or, when a benchmark needs a thousand phones, a :class:`MemoryReplica`.
- :class:`Fleet` — phones enrolled on one :class:`~bench.harness.LiveServer`; :func:`crew` finds
  the demo district's teams and people.
- :class:`RecordingTransport` — keeps every exchanged body (byte counts, timings).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import LiveServer, enroll
from sync.client import (
    DeviceRevoked,
    HttpTransport,
    Identity,
    SyncEngine,
    SyncSummary,
    Transport,
)
from sync.domain import make_op, validate_op
from sync.domain.jsonlike import plain
from sync.hlc import HybridClock, encode
from sync.merge import apply_op
from sync.ops import Op

Key = tuple[str, str]


class MemoryReplica:
    """An in-memory phone replica (outbox + merged records) for benchmarks that need many
    devices; the tests use the real :class:`~app.store.LocalStore`. Same merge rules."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.outbox: dict[str, Op] = {}
        self.meta: dict[str, Any] = {}
        self.receipts_kept: list[dict[str, Any]] = []
        self.sent: list[Op] = []

    def record_changes(self, ops: Sequence[Op]) -> list[dict[str, Any]]:
        out = []
        for op in ops:
            validate_op(op)
            out.append(self._merge(op))
            self.outbox.setdefault(op.op_id, op)
        return out

    def _merge(self, op: Op) -> dict[str, Any]:
        table = self.tables.setdefault(op.kind, {})
        table[op.entity_id] = apply_op(table.get(op.entity_id), op)
        return table[op.entity_id]

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self.tables.get(kind, {}).get(entity_id)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.tables.get(kind, {}).values())

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        ops = list(self.outbox.values())
        return ops if limit is None else ops[:limit]

    def pending_count(self) -> int:
        return len(self.outbox)

    def acknowledge(self, op_ids: Iterable[str], retain: bool = True) -> int:
        dropped = [op for i in set(op_ids) if (op := self.outbox.pop(i, None)) is not None]
        if retain:
            self.sent.extend(dropped)
        return len(dropped)

    def requeue_sent(self) -> int:
        back = [op for op in self.sent if op.op_id not in self.outbox]
        for op in back:
            self.outbox[op.op_id] = op
        self.sent.clear()
        return len(back)

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        n = 0
        for op in ops:
            validate_op(op)
            self._merge(op)
            n += 1
        if cursor is not None:
            self.meta["sync.cursor"] = cursor
        return n

    def rebuild(
        self, copies: Iterable[tuple[str, str, Mapping[str, Any] | None]], settled: Iterable[str]
    ) -> int:
        """The server's copies + the still-pending ops on them (not the ``settled`` ones)."""
        done = set(settled)
        copies = list(copies)
        for kind, entity_id, record in copies:
            table = self.tables.setdefault(kind, {})
            rebuilt = plain(record) if record is not None else None
            for op in self.outbox.values():
                if (op.kind, op.entity_id) == (kind, entity_id) and op.op_id not in done:
                    rebuilt = apply_op(rebuilt, op)
            if rebuilt is None:
                table.pop(entity_id, None)
            else:
                table[entity_id] = rebuilt
        return len(copies)

    def cursor(self) -> str | None:
        value = self.meta.get("sync.cursor")
        return value if isinstance(value, str) else None

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        self.receipts_kept.append(receipt)

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        if value is None:
            self.meta.pop(key, None)
        else:
            self.meta[key] = value


#: refusals a valid op meets when another phone changed its record first — or when its own
#: phone was revoked (its ops then wait in the server's review queue)
CONCURRENT_REFUSALS = frozenset(
    {"op.status_changed", "op.already_claimed", "op.forbidden_role", "sync.device_revoked"}
)


class Phone:
    """An enrolled device: identity, replica (``LocalStore`` or :class:`MemoryReplica`), clock
    and the real sync engine over ``transport`` (HTTP to the server or through a proxy)."""

    def __init__(
        self, identity: Identity, store: Any, transport: Transport, **engine_options: Any
    ) -> None:
        self.identity = identity
        self.store = store
        self.transport = transport
        self.clock = HybridClock()
        self.engine = SyncEngine(store, transport, identity, **engine_options)
        self.created: list[Op] = []  # every op this device recorded

    @property
    def device_id(self) -> str:
        return self.identity.device_id

    @property
    def member_id(self) -> str:
        return self.identity.member_id

    @property
    def role(self) -> str:
        return self.identity.role

    def author(self) -> dict[str, Any]:
        return {"clock": self.clock, "device": self.device_id, "member": self.member_id}

    def op(
        self,
        kind: str,
        entity_id: str | None = None,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, tuple[Mapping[str, Any], ...]] | None = None,
    ) -> Op:
        current = self.store.get(kind, entity_id) if entity_id else None
        return make_op(kind, entity_id, set=set, add=add, current=current, **self.author())

    def record(self, *ops: Op) -> list[dict[str, Any]]:
        """Keep changes locally (record + outbox in one write), as the app does."""
        result: list[dict[str, Any]] = self.store.record_changes(list(ops))
        self.created.extend(ops)
        return result

    def sync(self) -> SyncSummary:
        summary = self.engine.sync()
        if summary.server_time:
            self.clock.observe(encode(summary.server_time, 0))
        return summary

    def sync_until_quiet(self, max_rounds: int = 20) -> SyncSummary:
        """Sync until nothing is pending and the server has nothing more to give."""
        for _ in range(max_rounds):
            summary = self.sync()
            if summary.pending == 0 and not summary.more:
                return summary
        raise RuntimeError(f"{self.device_id} still has work after {max_rounds} syncs")

    def records(self, kinds: Iterable[str]) -> dict[Key, dict[str, Any]]:
        return {(k, str(r["id"])): r for k in kinds for r in self.store.all(k)}

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if close is not None:
            close()
        transport_close = getattr(self.transport, "close", None)
        if transport_close is not None:
            transport_close()


def local_store(directory: Path, pin: str = "246810") -> Any:
    """A new real phone store (encrypted, journaled) in ``directory``."""
    from app.store import LocalStore

    return LocalStore.create(directory, pin)


def fast_transport(url: str, *, read_timeout: float = 10.0, retries: int = 1) -> HttpTransport:
    """HTTP with short backoff, for tests and benchmarks that inject faults on purpose."""
    return HttpTransport(
        url,
        connect_timeout=2.0,
        read_timeout=read_timeout,
        retries=retries,
        backoff_base=0.05,
        backoff_cap=0.2,
    )


class RecordingTransport:
    """Wraps a transport and keeps every exchange: ``(path, request body, status, response
    body, seconds from the first request to this answer)``, for byte counts and timings."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[str, bytes, int, bytes, float]] = []
        self._t0: float | None = None

    def reset(self) -> None:
        self.exchanges.clear()
        self._t0 = None

    def post(self, path: str, body: bytes, content_type: str) -> Any:
        if self._t0 is None:
            self._t0 = time.perf_counter()
        resp = self.inner.post(path, body, content_type)
        elapsed = time.perf_counter() - self._t0
        self.exchanges.append((path, body, resp.status, resp.body, elapsed))
        return resp

    def get(self, path: str) -> Any:
        return self.inner.get(path)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class Crew:
    """The demo district's people: team A (building 1), team B (building 2), the coordinator."""

    team_a: str
    team_b: str
    lead_a: str
    volunteers_a: tuple[str, ...]
    lead_b: str
    volunteers_b: tuple[str, ...]
    coordinator: str


def crew(server: LiveServer) -> Crew:
    records = server.records()
    teams = {r["kind"]: str(r["id"]) for (k, _), r in records.items() if k == "team"}
    members = sorted(
        (r for (k, _), r in records.items() if k == "member"), key=lambda r: str(r["id"])
    )

    def of(team: str, role: str) -> list[str]:
        return [str(m["id"]) for m in members if m.get("team_id") == team and m["role"] == role]

    team_a, team_b = teams["neighbour_service"], teams["three_person"]
    return Crew(
        team_a=team_a,
        team_b=team_b,
        lead_a=of(team_a, "team_lead")[0],
        volunteers_a=tuple(of(team_a, "volunteer")),
        lead_b=of(team_b, "team_lead")[0],
        volunteers_b=tuple(of(team_b, "volunteer")),
        coordinator=next(str(m["id"]) for m in members if m["role"] == "coordinator"),
    )


class Fleet:
    """Real phones (``LocalStore`` under ``root``) enrolled on ``server``."""

    def __init__(self, server: LiveServer, root: Path, **transport_options: Any) -> None:
        self.server = server
        self.root = root
        self.transport_options = transport_options
        self.phones: list[Phone] = []

    def add(self, member_id: str, code: str | None = None, via: str | None = None) -> Phone:
        """Enroll a device for ``member_id`` straight with the server; it then syncs via ``via``
        (e.g. a fault proxy's URL)."""
        code = code or self.server.issue_codes([member_id])[0]
        identity = enroll(self.server.url, code)
        store = local_store(self.root / identity.device_id)
        transport = fast_transport(via or self.server.url, **self.transport_options)
        phone = Phone(identity, store, transport)
        self.phones.append(phone)
        return phone

    def close(self) -> None:
        for phone in self.phones:
            phone.close()

    def sync_until_quiet(self, max_rounds: int = 10) -> int:
        """Everyone syncs, round after round, until a round moves nothing; the rounds taken.
        The workload only makes changes valid on the phone's copy, so a refusal must come from a
        concurrent change (:data:`CONCURRENT_REFUSALS`: another phone moved the status first,
        took the task, or the lead reassigned it); any other refusal is an error here."""
        for rounds in range(1, max_rounds + 1):
            moved = 0
            for phone in self.phones:
                try:
                    summary = phone.sync_until_quiet()
                except DeviceRevoked:
                    if phone.store.pending_count():
                        raise
                    continue  # revoked, and everything it held was handed over
                odd = [r for r in summary.rejected if r.code not in CONCURRENT_REFUSALS]
                if odd:
                    raise RuntimeError(f"{phone.device_id}: ops rejected: {odd[:3]}")
                moved += summary.sent + summary.received
            if moved == 0:
                return rounds
        raise RuntimeError(f"still syncing after {max_rounds} rounds")

    def created(self) -> list[Op]:
        """Every op any phone of the fleet recorded."""
        return [op for phone in self.phones for op in phone.created]
