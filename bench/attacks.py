"""Hostile clients and ``/proc`` measurements, shared by ``bench abuse`` and the abuse tests.

- Process figures read from ``/proc`` of the real server: :func:`process_tree`, :func:`pss_mb`
  (proportional set size summed over the server's processes), :func:`cpu_s` (user + system time).
- Attacks over raw sockets: :func:`stall_bodies` (bodies that stop half-way),
  :func:`half_sent_requests` (requests whose headers never finish), :func:`bomb_body` (a signed,
  sealed request whose payload inflates to megabytes of ``[],[],…``), :func:`forged_request`.
"""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from sync import protocol
from sync.crypto import sealing
from sync.protocol import DeviceKeys

MIB = 1024 * 1024
_FRAME_PREFIX = b"LNLI\x01"


# ---------------------------------------------------------------- /proc


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from ``/proc/<pid>/task/*/children``)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return out


def pss_mb(pids: Iterable[int]) -> float:
    """PSS summed over ``pids`` in MB (processes that are gone count 0)."""
    total_kib = 0
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
    return total_kib / 1024


def cpu_s(pids: Iterable[int]) -> float:
    """CPU seconds used so far by ``pids`` (every thread; ``schedstat`` is in nanoseconds, where
    ``/proc/<pid>/stat`` only counts 10 ms ticks)."""
    total_ns = 0
    for p in pids:
        for stat in Path(f"/proc/{p}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total_ns += int(stat.read_text().split()[0])
    return total_ns / 1e9


def limit_descriptors(pids: Iterable[int], n: int) -> None:
    """Set RLIMIT_NOFILE of running processes to ``n`` (like ``ulimit -n n``)."""
    for p in pids:
        resource.prlimit(p, resource.RLIMIT_NOFILE, (n, n))


def raise_own_descriptors(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


# ---------------------------------------------------------------- raw HTTP


def _connect(address: tuple[str, int], timeout: float) -> socket.socket:
    sock = socket.create_connection(address, timeout=timeout)
    sock.settimeout(timeout)
    return sock


def _stall_one(address: tuple[str, int], size: int, sent: int) -> socket.socket | None:
    head = (
        f"POST {protocol.SYNC_PATH} HTTP/1.1\r\nHost: linli\r\n"
        f"Content-Type: {protocol.SYNC_CONTENT_TYPE}\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    try:
        sock = _connect(address, 5.0)
    except OSError:
        return None
    try:
        sock.sendall(head)
        block = b"\x00" * (256 * 1024)
        left = sent
        while left > 0:
            sock.sendall(block[: min(left, len(block))])
            left -= min(left, len(block))
    except OSError:
        pass  # refused early (the server closed) or our send buffer is full: still stalled
    return sock


def stall_bodies(
    address: tuple[str, int], n: int, size: int = 4 * MIB, sent: int = 2 * MIB
) -> list[socket.socket]:
    """``n`` connections that each declare a ``size`` body, send ``sent`` bytes and stop."""
    raise_own_descriptors(n + 256)
    with ThreadPoolExecutor(max_workers=min(n, 64)) as pool:
        socks = list(pool.map(lambda _i: _stall_one(address, size, sent), range(n)))
    return [s for s in socks if s is not None]


def half_sent_requests(address: tuple[str, int], n: int) -> list[socket.socket]:
    """``n`` connections that send the start of a request's headers and nothing more."""
    raise_own_descriptors(n + 256)
    out: list[socket.socket] = []
    for _ in range(n):
        try:
            sock = _connect(address, 2.0)
            sock.sendall(b"POST /v1/sync HTTP/1.1\r\nHost: linli\r\nX-Wait: ")
            out.append(sock)
        except OSError:
            break
    return out


def answer_of(sock: socket.socket, timeout: float) -> bytes:
    """What the server wrote on ``sock`` within ``timeout`` (b"" if it closed without a word)."""
    sock.settimeout(timeout)
    data = b""
    with contextlib.suppress(OSError):
        while len(data) < 65536:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data and data.startswith(b"HTTP/1.1 ") and b'"error"' in data:
                break
    return data


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True if the server closed ``sock`` (without an answer) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True  # reset


def status_of(answer: bytes) -> int | None:
    if not answer.startswith(b"HTTP/1.1 "):
        return None
    return int(answer[9:12])


def close_all(socks: Sequence[socket.socket]) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def healthz_ok(url: str, timeout: float = 5.0) -> bool:
    try:
        r = httpx.get(f"{url}{protocol.HEALTH_PATH}", timeout=timeout)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and r.json().get("ok") is True


# ---------------------------------------------------------------- signed, sealed payloads


def forged_request(
    device_id: str, keys: DeviceKeys, server_sealing: bytes, payload: bytes, counter: int = 1
) -> bytes:
    """A request frame signed by an enrolled device around an arbitrary compressed payload."""
    header = protocol.RequestHeader(
        device_id, f"b-abuse-{time.time_ns()}", counter, protocol.now_ms()
    ).to_bytes()
    sealed = sealing.seal(server_sealing, payload, protocol.REQUEST_INFO, header)
    unsigned = b"".join(
        (
            _FRAME_PREFIX,
            len(header).to_bytes(2, "big"),
            header,
            len(sealed).to_bytes(4, "big"),
            sealed,
        )
    )
    return unsigned + keys.signing.sign(unsigned)


def bomb_payload(inflated: int = 32 * MIB) -> bytes:
    """``{"ops":[[],[],…]}`` of ``inflated`` bytes, compressed (32 MiB → ~33 KiB)."""
    start, item, end = b'{"ops":[', b"[],", b"[]]}"
    count = (inflated - len(start) - len(end)) // len(item)
    deflater = zlib.compressobj(9)
    parts = [deflater.compress(start)]
    block = item * 65536
    for _ in range(count // 65536):
        parts.append(deflater.compress(block))
    parts.append(deflater.compress(item * (count % 65536) + end))
    parts.append(deflater.flush())
    return b"".join(parts)


def json_payload(obj: Any) -> bytes:
    """``obj`` as ASCII-escaped JSON (so lone surrogates survive as ``\\ud800``), compressed."""
    return zlib.compress(json.dumps(obj).encode("ascii"))


def bomb_body(device_id: str, keys: DeviceKeys, server_sealing: bytes, counter: int = 1) -> bytes:
    return forged_request(device_id, keys, server_sealing, bomb_payload(), counter)
