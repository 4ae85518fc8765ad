"""The sync engine's ports: the phone store's outbox and the HTTP transport.

The engine receives these and never imports the app: the phone store (``app/store``) satisfies
:class:`OutboxPort` with exactly these method names, and :class:`~sync.client.transport.HttpTransport`
(or a test fake) satisfies :class:`Transport`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.ops import Op


class OutboxPort(Protocol):
    """Local ops waiting to be sent, remote ops to merge, the pull cursor, receipts and meta."""

    def pending_ops(self, limit: int | None = None) -> list[Op]: ...

    def pending_count(self) -> int: ...

    def acknowledge(self, op_ids: Iterable[str], retain: bool = True) -> int: ...

    def requeue_sent(self) -> int: ...

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int: ...

    def rebuild(
        self, copies: Iterable[tuple[str, str, Mapping[str, Any] | None]], settled: Iterable[str]
    ) -> int: ...

    def cursor(self) -> str | None: ...

    def add_receipt(self, receipt: dict[str, Any]) -> object: ...

    def get_meta(self, key: str, default: Any = None) -> Any: ...

    def set_meta(self, key: str, value: Any) -> object: ...


@dataclass(frozen=True, slots=True)
class TransportResponse:
    """One HTTP answer. ``headers`` keys are lower case."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Transport(Protocol):
    """Moves bytes to and from the server. Network failures raise ``SyncError``
    (``sync.unreachable`` / ``sync.timeout``); HTTP error statuses are returned, not raised."""

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse: ...

    def get(self, path: str) -> TransportResponse: ...
