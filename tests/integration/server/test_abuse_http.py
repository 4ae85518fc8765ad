"""A server that cannot be starved: each attack against a REAL server process (SQLite and
PostgreSQL), with memory read from the server's ``/proc`` (speed goals are in ``bench abuse``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from bench import attacks
from sync import protocol
from sync.server import config
from sync.server.harness import PG_ADMIN_DSN as PG_ADMIN
from tests.integration.server.conftest import (
    Backend,
    Phone,
    ServerProcess,
    enrolled,
    no_answer_op,
    start_server,
)
from tests.integration.server.helpers import fingerprint
from tests.integration.server.world import World, build_world, code_for

MIB = 1024 * 1024


@pytest.fixture
def guarded(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """A server with short deadlines (the limits reach it through its environment)."""
    monkeypatch.setenv("LINLI_LIMIT_BODY_IDLE_S", "2")
    monkeypatch.setenv("LINLI_LIMIT_HEADER_TIMEOUT_S", "3")
    s = start_server(backend)
    yield s
    s.stop()


@pytest.fixture
def phone(backend: Backend, guarded: ServerProcess) -> tuple[Phone, World]:
    world, (p,) = enrolled(backend, guarded.url, "volunteer_a")
    return p, world


def _pids(server: ServerProcess) -> list[int]:
    return attacks.process_tree(server.proc.pid)


def test_stalled_bodies_are_bounded_refused_and_dropped(guarded: ServerProcess) -> None:
    pids = _pids(guarded)
    idle = attacks.pss_mb(pids)
    socks = attacks.stall_bodies(("127.0.0.1", guarded.port), 40, 4 * MIB, 2 * MIB)
    try:
        time.sleep(0.5)
        grown = attacks.pss_mb(pids) - idle
        assert attacks.healthz_ok(guarded.url, timeout=2)
        answers = [attacks.answer_of(s, 6.0) for s in socks]
    finally:
        attacks.close_all(socks)
    statuses = [attacks.status_of(a) for a in answers]
    # 16 MiB budget: at most 4 bodies of 4 MiB are read, the rest are refused before reading
    assert grown <= 48, grown
    assert statuses.count(503) >= 30, statuses
    assert all(b"Retry-After" in a or b"retry-after" in a for a in answers if b" 503 " in a[:13])
    # the bodies being read stall and are dropped after the idle deadline, with a coded 408
    assert statuses.count(408) >= 1, statuses
    assert all(b"sync.body_timeout" in a for a in answers if attacks.status_of(a) == 408)
    assert set(statuses) <= {503, 408}, statuses
    assert attacks.healthz_ok(guarded.url, timeout=2)


def test_half_sent_requests_cannot_starve_healthz(guarded: ServerProcess) -> None:
    attacks.limit_descriptors(_pids(guarded), 256)
    socks = attacks.half_sent_requests(("127.0.0.1", guarded.port), 300)
    try:
        assert len(socks) == 300
        assert attacks.healthz_ok(guarded.url, timeout=2.5)
        # every half-sent request is closed after the header deadline (3 s here)
        time.sleep(3.5)
        assert all(attacks.closed_by_server(s, 0.5) for s in socks[-20:])
    finally:
        attacks.close_all(socks)
    assert attacks.healthz_ok(guarded.url)


def test_a_trickling_header_is_closed_at_the_deadline(guarded: ServerProcess) -> None:
    sock = attacks.half_sent_requests(("127.0.0.1", guarded.port), 1)[0]
    try:
        for _ in range(5):  # one header byte a second keeps no connection alive past 3 s
            time.sleep(1)
            try:
                sock.sendall(b"x")
            except OSError:
                break
        assert attacks.closed_by_server(sock, 1.5)
    finally:
        sock.close()


def test_object_bomb_is_refused_while_inflating(
    backend: Backend, guarded: ServerProcess, phone: tuple[Phone, World]
) -> None:
    p, _world = phone
    body = attacks.bomb_body(p.device_id, p.keys, p.server_sealing)
    assert len(body) < 40 * 1024
    pids = _pids(guarded)
    idle = attacks.pss_mb(pids)
    peak = idle
    with httpx.Client(timeout=60) as client:
        r = client.post(
            f"{guarded.url}{protocol.SYNC_PATH}",
            content=body,
            headers={"Content-Type": protocol.SYNC_CONTENT_TYPE},
        )
        peak = max(peak, attacks.pss_mb(pids))
    assert r.status_code == 413, r.text
    assert p.problem(r).code == "sync.too_large"
    assert peak - idle <= 32, (idle, peak)
    p.sync()  # the same device syncs normally afterwards


def test_lone_surrogate_is_a_coded_400_every_time_not_a_500(
    backend: Backend, guarded: ServerProcess, phone: tuple[Phone, World]
) -> None:
    p, world = phone
    p.pull_all()
    good = no_answer_op(p, world.assignment_a, "v-abuse-1")
    raw = good.to_dict()
    raw["a"]["visits"][0]["note"] = "敲门无人应答\ud800"  # valid JSON, text that cannot be stored
    payload = {"ops": [raw], "cursor": p.cursor, "pull_limit": 100, "priority": False}
    rt = backend.runtime()
    try:
        before = fingerprint(rt)
        for attempt in range(2):
            p.counter += 1
            body = attacks.forged_request(
                p.device_id, p.keys, p.server_sealing, attacks.json_payload(payload), p.counter
            )
            r = p.post(body)
            assert r.status_code == 400, (attempt, r.status_code, r.text)
            found = p.problem(r)
            assert found.code == "sync.bad_text"
        assert fingerprint(rt) == before
    finally:
        rt.close()
    p.sync([good])  # the phone is not stuck: the next honest batch is accepted


def test_enroll_with_a_lone_surrogate_is_a_coded_400_and_spends_no_code(
    backend: Backend, guarded: ServerProcess
) -> None:
    rt = backend.runtime()
    try:
        code = code_for(rt, build_world(rt).volunteer_a)
    finally:
        rt.close()
    p = Phone(guarded.url)
    body = protocol.enroll_request(code, p.keys, "测试手机")
    body["label"] = "测试\udc00"  # the proof no longer matches, but the text is refused first
    r = httpx.post(
        f"{guarded.url}{protocol.ENROLL_PATH}",
        content=json.dumps(body).encode("ascii"),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {"code": "sync.bad_text", "params": {"field": "enroll"}}
    assert p.enroll(code).status_code == 200


def test_readyz_reports_an_unreachable_database(backend: Backend, guarded: ServerProcess) -> None:
    r = httpx.get(f"{guarded.url}/readyz", timeout=10)
    assert r.status_code == 200 and r.json() == {"ok": True}
    if backend.database:
        name = backend.database.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    else:
        path = backend.data_dir / config.SQLITE_FILE
        path.rename(path.with_suffix(".gone"))
    r = httpx.get(f"{guarded.url}/readyz", timeout=10)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "server.not_ready"
    assert r.headers["Retry-After"] == "5"
    assert attacks.healthz_ok(guarded.url)
    if not backend.database:
        path.with_suffix(".gone").rename(path)
        assert httpx.get(f"{guarded.url}/readyz", timeout=10).status_code == 200
