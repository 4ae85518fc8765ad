"""How ``serve`` runs uvicorn: the connection-level limits a phone (or anyone) cannot lift.

uvicorn bounds none of these by itself: ``timeout_keep_alive`` only runs BETWEEN requests (not
before the first one, nor while a request's headers trickle in), and ``limit_concurrency`` answers
503 to every request — ``/healthz`` included — while it still accepts the connections that fill the
descriptor table. So the HTTP protocol is :class:`GuardedHttpToolsProtocol`, which adds:

- a header deadline: a connection whose request headers are not complete within
  :attr:`Limits.header_timeout_s` of its first byte (or of being accepted) is closed;
- a header size bound (:attr:`Limits.max_header_bytes`);
- a connection cap per worker (:attr:`Limits.max_connections`, lowered to fit the descriptor limit):
  at the cap, a new connection evicts the OLDEST connection still waiting for its headers (a
  half-sent request), so a new ``/healthz`` is answered while half-sent requests hold the rest;
  if none is waiting for headers, the new connection is closed.

The limits reach the workers through ``LINLI_LIMIT_*`` environment variables
(:meth:`Limits.to_env`), read by :func:`sync.server.limits.Limits.from_env` in each worker.
"""

from __future__ import annotations

import asyncio
import os
import resource
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sync.server.limits import Limits

APP = "sync.server.api:create_app_from_env"
PROTOCOL = "sync.server.serving:GuardedHttpToolsProtocol"
FD_RESERVE = 64  # descriptors kept for the database pool, logs, pipes and the listening socket


def connection_cap(limits: Limits) -> int:
    """:attr:`Limits.max_connections`, lowered so the cap fits the descriptor limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    return max(16, min(limits.max_connections, soft - FD_RESERVE))


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a header deadline, size bound and connection cap."""

    limits: ClassVar[Limits | None] = None
    # Connections waiting for request headers, oldest first (dicts keep insertion order).
    waiting: ClassVar[dict[GuardedHttpToolsProtocol, None]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if GuardedHttpToolsProtocol.limits is None:
            GuardedHttpToolsProtocol.limits = Limits.from_env()
        self._bounds: Limits = GuardedHttpToolsProtocol.limits
        self._cap = connection_cap(self._bounds)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self._cap:
            oldest = next(iter(self.waiting), None)
            if oldest is None:
                self._refused = True
                transport.close()
                return
            oldest._drop()
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        if not self._refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._header_timer is not None
        super().data_received(data)
        if waiting and self._header_timer is not None:
            self._header_bytes += len(data)
            if self._header_bytes > self._bounds.max_header_bytes:
                self._drop()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()

    def _await_headers(self) -> None:
        if self._header_timer is None:
            self._header_bytes = 0
            self._header_timer = self.loop.call_later(self._bounds.header_timeout_s, self._drop)
            self.waiting[self] = None

    def _headers_done(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self.waiting.pop(self, None)

    def _drop(self) -> None:
        self._headers_done()
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_kwargs(host: str, port: int, workers: int, limits: Limits) -> dict[str, Any]:
    """The ``uvicorn.run`` keyword arguments for the linli server with ``limits``."""
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": max(1, workers),
        "log_level": "warning",
        "access_log": False,
        "http": PROTOCOL,
        "timeout_keep_alive": limits.keep_alive_s,
        # a backstop only: the guarded protocol keeps connections under the cap, and this
        # answers 503 to every request (health checks included) once it is reached
        "limit_concurrency": limits.max_connections + 64,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }


def run_server(host: str, port: int, workers: int, limits: Limits | None = None) -> None:
    """Serve the app named by ``LINLI_DATA_DIR``/``LINLI_DATABASE_URL`` until stopped."""
    limits = limits or Limits.from_env()
    os.environ.update(limits.to_env())
    uvicorn.run(APP, **uvicorn_kwargs(host, port, workers, limits))
