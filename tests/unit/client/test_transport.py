"""HttpTransport against a real HTTP server on 127.0.0.1 (stdlib, in a thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.client.transport import HttpTransport
from sync.errors import SyncError
from sync.server.harness import free_port


class Script:
    """What the test server answers, one entry per request: (status, body, delay seconds[,
    extra headers])."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, float] | tuple[int, bytes, float, dict[str, str]]]
        self.answers = []
        self.seen: list[tuple[str, str, bytes, str]] = []


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append(
                (self.command, self.path, body, self.headers.get("Content-Type") or "")
            )
            status, out, delay, *extra = (
                script.answers.pop(0) if script.answers else (200, b"{}", 0.0)
            )
            time.sleep(delay)
            self.send_response(status)
            for name, value in (extra[0] if extra else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.send_header("X-Linli-Signature", "sig-value")
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on an oversized answer is expected here


@pytest.fixture
def served() -> Iterator[tuple[str, Script]]:
    script = Script()
    server = QuietServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def transport(url: str, sleeps: list[float], **kw: object) -> HttpTransport:
    return HttpTransport(url, sleep=sleeps.append, rand=lambda: 1.0, **kw)  # type: ignore[arg-type]


def test_post_sends_bytes_and_returns_status_body_and_lowercase_headers(served) -> None:
    url, script = served
    script.answers.append((200, b"\x00sealed\xff", 0.0))
    resp = transport(url, []).post("/v1/sync", b"\x01body", "application/octet-stream")
    assert (resp.status, resp.body) == (200, b"\x00sealed\xff")
    assert resp.header("X-Linli-Signature") == "sig-value"
    assert script.seen == [("POST", "/v1/sync", b"\x01body", "application/octet-stream")]


def test_retries_busy_gateway_statuses_with_capped_backoff(served) -> None:
    url, script = served
    script.answers += [(503, b"busy", 0.0), (502, b"bad", 0.0), (200, b"ok", 0.0)]
    sleeps: list[float] = []
    resp = transport(url, sleeps, backoff_base=1.0, backoff_cap=1.5).post("/v1/sync", b"x", "a/b")
    assert resp.status == 200 and len(script.seen) == 3
    assert sleeps == [1.0, 1.5]  # rand() = 1.0: the full window, 1 then capped at 1.5


def test_gives_back_the_last_busy_answer_after_the_retries(served) -> None:
    url, script = served
    script.answers += [(503, b"busy", 0.0)] * 3
    sleeps: list[float] = []
    resp = transport(url, sleeps, retries=2).post("/v1/sync", b"x", "a/b")
    assert resp.status == 503 and len(script.seen) == 3 and len(sleeps) == 2


def test_client_errors_are_not_retried(served) -> None:
    url, script = served
    script.answers.append((400, b'{"error": {"code": "sync.malformed"}}', 0.0))
    sleeps: list[float] = []
    assert transport(url, sleeps).post("/v1/sync", b"x", "a/b").status == 400
    assert sleeps == [] and len(script.seen) == 1


def test_full_jitter_stays_inside_the_window() -> None:
    draws = iter([0.0, 0.5, 0.999])
    t = HttpTransport("http://127.0.0.1:1", rand=lambda: next(draws), backoff_base=2.0)
    assert [t.backoff(0), t.backoff(1), t.backoff(10)] == [0.0, 2.0, 0.999 * 8.0]


def test_refused_connection_becomes_sync_unreachable_after_retries() -> None:
    sleeps: list[float] = []
    t = transport(f"http://127.0.0.1:{free_port()}", sleeps, retries=2)
    with pytest.raises(SyncError) as err:
        t.post("/v1/sync", b"x", "a/b")
    assert err.value.code == "sync.unreachable" and len(sleeps) == 2
    assert not t.reachable(timeout=0.5)


def test_slow_server_becomes_sync_timeout(served) -> None:
    url, script = served
    script.answers += [(200, b"late", 0.6)] * 2
    t = transport(url, [], retries=1, read_timeout=0.2)
    with pytest.raises(SyncError) as err:
        t.post("/v1/sync", b"x", "a/b")
    assert err.value.code == "sync.timeout"
    assert len(script.seen) == 2


def test_oversized_answer_is_refused(served) -> None:
    url, script = served
    script.answers.append((200, b"z" * 5000, 0.0))
    with pytest.raises(SyncError) as err:
        transport(url, [], max_body=4096).get("/v1/anything")
    assert err.value.code == "sync.too_large"


def test_reachable_probes_healthz(served) -> None:
    url, script = served
    script.answers += [(200, b'{"ok": true, "protocol": 1}', 0.0), (200, b"<html>", 0.0)]
    t = transport(url, [])
    assert t.reachable()
    assert not t.reachable()
    assert [s[1] for s in script.seen] == ["/healthz", "/healthz"]


def test_a_busy_server_is_asked_again_after_its_retry_after(served) -> None:
    url, script = served
    script.answers += [(503, b"busy", 0.0, {"Retry-After": "2"}), (200, b"ok", 0.0)]
    sleeps: list[float] = []
    resp = transport(url, sleeps, backoff_base=0.1).post("/v1/sync", b"x", "a/b")
    assert resp.status == 200 and len(script.seen) == 2
    assert sleeps == [2.0]  # the server's wait, not the 0.1 s backoff


def test_retry_after_is_capped_and_busy_answers_without_it_use_the_backoff(served) -> None:
    url, script = served
    script.answers += [
        (503, b"busy", 0.0, {"Retry-After": "3600"}),
        (502, b"bad", 0.0),
        (200, b"ok", 0.0),
    ]
    sleeps: list[float] = []
    t = transport(url, sleeps, backoff_base=1.0, retry_after_cap=30.0)
    assert t.post("/v1/sync", b"x", "a/b").status == 200
    assert sleeps == [30.0, 2.0]  # capped Retry-After; then the second retry's window


def test_a_read_timeout_on_get_is_retried_then_becomes_sync_timeout(served) -> None:
    url, script = served
    script.answers += [(200, b"late", 0.6)] * 3
    sleeps: list[float] = []
    with transport(url, sleeps, retries=2, read_timeout=0.2) as t, pytest.raises(SyncError) as err:
        t.get("/v1/anything")
    assert err.value.code == "sync.timeout" and err.value.params["seconds"] == 0.2
    assert len(script.seen) == 3 and len(sleeps) == 2


def test_the_probe_asks_once_even_when_the_server_is_busy(served) -> None:
    url, script = served
    script.answers += [(503, b"busy", 0.0, {"Retry-After": "1"}), (200, b'{"ok": true}', 0.0)]
    sleeps: list[float] = []
    assert not transport(url, sleeps).reachable()
    assert sleeps == [] and len(script.seen) == 1
