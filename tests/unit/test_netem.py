"""The fault proxy used by the fault tests and benchmarks does what it says."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench.netem import FaultProxy


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Upstream.hits.append(body)
        reply = b"echo:" + body
        self.send_response(200)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def upstream() -> Iterator[tuple[str, int]]:
    Upstream.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield ("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/x", body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_clean_exchange_passes_through(upstream: tuple[str, int]) -> None:
    with FaultProxy(upstream) as proxy:
        assert post(proxy.port, b"hello") == (200, b"echo:hello")
    assert proxy.stats.exchanges == 1 and proxy.stats.faults_injected == 0


def test_drop_request_never_reaches_the_server(upstream: tuple[str, int]) -> None:
    with (
        FaultProxy(upstream, policy=lambda: "drop_request") as proxy,
        pytest.raises((http.client.HTTPException, OSError)),
    ):
        post(proxy.port, b"lost")
    assert Upstream.hits == []


def test_drop_response_reaches_the_server_but_not_the_client(upstream: tuple[str, int]) -> None:
    with (
        FaultProxy(upstream, policy=lambda: "drop_response") as proxy,
        pytest.raises((http.client.HTTPException, OSError)),
    ):
        post(proxy.port, b"committed")
    assert Upstream.hits == [b"committed"]
    assert proxy.stats.faults == {"drop_response": 1}


def test_truncate_and_5xx(upstream: tuple[str, int]) -> None:
    with (
        FaultProxy(upstream, policy=lambda: "truncate") as proxy,
        pytest.raises((http.client.HTTPException, OSError)),
    ):
        post(proxy.port, b"x" * 5000)
    with FaultProxy(upstream, policy=lambda: "error_5xx") as proxy:
        assert post(proxy.port, b"y")[0] == 503


def test_stall_holds_then_closes(upstream: tuple[str, int]) -> None:
    with (
        FaultProxy(upstream, policy=lambda: "stall", stall_s=0.2) as proxy,
        pytest.raises((http.client.HTTPException, OSError)),
    ):
        post(proxy.port, b"slow")
    assert Upstream.hits == [b"slow"]
