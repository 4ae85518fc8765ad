"""A loopback HTTP/1.1 proxy that injects faults and emulates a thin link.

Used by the fault benchmark and the fault-injection tests, between a device and a real server,
both on 127.0.0.1. It understands just enough HTTP/1.1 (request line, headers, Content-Length
bodies, keep-alive) to apply one fault to one request/response exchange:

- ``drop_request``  — close the connection without forwarding anything;
- ``drop_response`` — forward the request, wait for the server's full response (so the server
  has committed), then close without sending it;
- ``truncate``      — send only part of the response, then close;
- ``stall``         — forward the request, hold the response for ``stall_s``, then close;
- ``error_5xx``     — answer 503 without forwarding.

``rate_bps`` and ``rtt_s`` emulate a thin link: each direction is delayed by half the round-trip
time and paced to the rate. Every loop is bounded; the proxy only ever connects to its target.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAULTS = ("drop_request", "drop_response", "truncate", "stall", "error_5xx")
_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024

Policy = Callable[[], str | None]


def random_faults(rate: float, seed: int | None = None, kinds: tuple[str, ...] = FAULTS) -> Policy:
    """A policy that picks a fault with probability ``rate`` for each exchange."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def choose() -> str | None:
        with lock:
            return rng.choice(kinds) if rng.random() < rate else None

    return choose


@dataclass
class Stats:
    exchanges: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    bytes_up: int = 0
    bytes_down: int = 0

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())


class _Closed(Exception):
    pass


class _Link:
    """Pacing for one direction of a thin link."""

    def __init__(self, rate_bps: float | None, delay_s: float) -> None:
        self.rate = rate_bps / 8 if rate_bps else None  # bytes per second
        self.delay = delay_s

    def send(self, sock: socket.socket, data: bytes) -> None:
        if self.delay:
            time.sleep(self.delay)
        if not self.rate:
            sock.sendall(data)
            return
        chunk = max(512, int(self.rate / 50))  # ~20 ms slices
        for i in range(0, len(data), chunk):
            part = data[i : i + chunk]
            started = time.monotonic()
            sock.sendall(part)
            wait = len(part) / self.rate - (time.monotonic() - started)
            if wait > 0:
                time.sleep(wait)


def _read_message(sock: socket.socket, buf: bytearray) -> bytes:
    """One HTTP message (headers + Content-Length body) from ``sock``; leftovers stay in ``buf``."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > _MAX_HEADER:
            raise _Closed("header too large")
        data = sock.recv(65536)
        if not data:
            raise _Closed("peer closed")
        buf.extend(data)
    head_end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise _Closed("chunked bodies are not supported by this proxy")
    if length > _MAX_BODY:
        raise _Closed("body too large")
    while len(buf) < head_end + length:
        data = sock.recv(65536)
        if not data:
            raise _Closed("peer closed mid-body")
        buf.extend(data)
    message = bytes(buf[: head_end + length])
    del buf[: head_end + length]
    return message


_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
    b"content-length: 11\r\nconnection: close\r\n\r\nunavailable"
)


class FaultProxy:
    """``with FaultProxy(("127.0.0.1", port), policy=...) as proxy: proxy.url``."""

    def __init__(
        self,
        target: tuple[str, int],
        policy: Policy | None = None,
        rate_bps: float | None = None,
        rtt_s: float = 0.0,
        stall_s: float = 2.0,
    ) -> None:
        self.target = target
        self.policy: Policy = policy or (lambda: None)
        self.up = _Link(rate_bps, rtt_s / 2)
        self.down = _Link(rate_bps, rtt_s / 2)
        self.stall_s = stall_s
        self.stats = Stats()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _count(self, fault: str | None, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self.stats.exchanges += 1
            self.stats.bytes_up += up
            self.stats.bytes_down += down
            if fault:
                self.stats.faults[fault] = self.stats.faults.get(fault, 0) + 1

    def _handle(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        cbuf, ubuf = bytearray(), bytearray()
        try:
            client.settimeout(30)
            while not self._stop.is_set():
                request = _read_message(client, cbuf)
                fault = self.policy()
                if fault == "drop_request":
                    self._count(fault)
                    return
                if fault == "error_5xx":
                    self._count(fault)
                    client.sendall(_503)
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.target, timeout=60)
                self.up.send(upstream, request)
                response = _read_message(upstream, ubuf)
                self._count(fault, len(request), len(response))
                if fault == "drop_response":
                    return
                if fault == "truncate":
                    client.sendall(response[: max(1, len(response) // 2)])
                    return
                if fault == "stall":
                    self._stop.wait(self.stall_s)
                    return
                self.down.send(client, response)
        except (_Closed, OSError, ValueError):
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()
