"""Resource limits checked BEFORE work: what one server process lets bodies cost it.

- :class:`Limits` — every bound, with defaults; read from ``LINLI_*`` environment variables so the
  ``serve`` command can hand them to its uvicorn workers (:meth:`Limits.to_env`).
- :class:`BodyBudget` — the per-process budget of request-body bytes in flight (being read or
  waiting to be processed). A request reserves its declared ``Content-Length`` (or its bytes as
  they arrive, for chunked bodies) before anything is read; when the budget is full it is refused
  at once with ``sync.server_busy`` (503 + ``Retry-After``) and its body is never read.
- :func:`body` — read one body under the budget, the size limit and two deadlines: no byte for
  :attr:`Limits.body_idle_s` or the whole body not in within
  ``body_base_s + size / body_min_rate`` → ``sync.body_timeout`` (408); the partial body is
  dropped and its reservation returned.

``/healthz`` and ``/readyz`` read no body, so they never wait for this budget; they run on the
event loop (not the worker thread pool the sync handler waits in). Connection-level limits
(header timeout, connection cap) are in :mod:`sync.server.serving`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields

from starlette.requests import Request

from sync.errors import SyncError
from sync.server.problems import Refusal

MIB = 1024 * 1024
RETRY_AFTER_S = 5
ENV_PREFIX = "LINLI_LIMIT_"


@dataclass(frozen=True, slots=True)
class Limits:
    """The server's resource bounds (per worker process unless said otherwise)."""

    body_budget_bytes: int = 16 * MIB
    body_idle_s: float = 10.0
    body_base_s: float = 30.0
    body_min_rate: int = 16 * 1024  # bytes/s a slow phone must still manage
    max_connections: int = 900
    header_timeout_s: float = 10.0
    max_header_bytes: int = 16 * 1024
    keep_alive_s: int = 5
    ready_timeout_s: float = 3.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The limits named by ``LINLI_LIMIT_<FIELD>`` variables; defaults for the rest."""
        source = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for f in fields(cls):
            raw = source.get(ENV_PREFIX + f.name.upper())
            if raw:
                values[f.name] = float(raw) if f.type == "float" else int(raw)
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def body_deadline_s(self, size: int) -> float:
        return self.body_base_s + size / max(1, self.body_min_rate)


class BodyBudget:
    """Bytes of request bodies in flight in this process. Used from the event loop only."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0

    def take(self, n: int) -> bool:
        if n <= 0:
            return True
        if self.used + n > self.total:
            return False
        self.used += n
        return True

    def give(self, n: int) -> None:
        self.used = max(0, self.used - n)


def _busy() -> Refusal:
    return Refusal(SyncError("sync.server_busy", retry_after=RETRY_AFTER_S))


def _declared(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit() or int(declared) > limit:
        raise Refusal(SyncError("sync.too_large", limit=limit))
    return int(declared)


@asynccontextmanager
async def body(
    request: Request, limit: int, budget: BodyBudget, limits: Limits
) -> AsyncIterator[bytes]:
    """The request's body, read under ``budget`` and the deadlines; the reservation is held
    until the block ends (the body is in memory until then)."""
    request.state.body_unread = True
    declared = _declared(request, limit)
    reserved = declared or 0
    if not budget.take(reserved):
        raise _busy()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limits.body_deadline_s(limit if declared is None else declared)
        buf = bytearray()
        chunks = request.stream().__aiter__()
        while True:
            wait = min(limits.body_idle_s, deadline - loop.time())
            try:
                if wait <= 0:
                    raise TimeoutError
                chunk = await asyncio.wait_for(chunks.__anext__(), wait)
            except StopAsyncIteration:
                break
            except TimeoutError:
                del buf
                raise Refusal(
                    SyncError("sync.body_timeout", seconds=round(limits.body_idle_s))
                ) from None
            size = len(buf) + len(chunk)
            if size > limit:
                raise Refusal(SyncError("sync.too_large", limit=limit))
            if size > reserved:
                if not budget.take(size - reserved):
                    raise _busy()
                reserved = size
            buf += chunk
        request.state.body_unread = False
        raw = bytes(buf)
        del buf
        yield raw
    finally:
        budget.give(reserved)
