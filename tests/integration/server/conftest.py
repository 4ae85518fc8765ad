"""Fixtures: a REAL server process (``python -m sync.server serve``) on SQLite or PostgreSQL.

PostgreSQL tests create ``linli_test_<random>`` on 127.0.0.1:5432 (user postgres) and drop it at
the end; if PostgreSQL is unreachable they FAIL (never skip).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync import protocol
from sync.ops import Op, new_id
from sync.protocol import DeviceKeys, SyncRequest, SyncResponse
from sync.server import config
from sync.server.harness import ServerProcess, fresh_database
from sync.server.runtime import Runtime
from tests.integration.server.helpers import fingerprint
from tests.integration.server.world import World, build_world, code_for


@dataclass
class Backend:
    """A server's data (dir + database) before and between server processes."""

    data_dir: Path
    database: str | None  # None: SQLite in the data dir

    def process(self, workers: int = 1) -> ServerProcess:
        return ServerProcess(self.data_dir, database=self.database, workers=workers)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.process().run(*args, check=check)

    def runtime(self) -> Runtime:
        return Runtime.open(config.resolve(self.data_dir, self.database))

    def fingerprint(self) -> dict[str, Any]:
        """What a refused request or command must leave unchanged (see ``helpers``)."""
        rt = self.runtime()
        try:
            return fingerprint(rt)
        finally:
            rt.close()


def start_server(backend: Backend, workers: int = 1) -> ServerProcess:
    """``serve`` on a free port; returns once healthy (the caller stops it)."""
    server = backend.process(workers)
    server.start()
    return server


@pytest.fixture
def pg_database() -> Iterator[str]:
    with fresh_database("linli_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    database = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    b = Backend(tmp_path / "server", database)
    b.cli("init", "--public-url", "http://127.0.0.1:8700")
    return b


@pytest.fixture
def server(backend: Backend) -> Iterator[ServerProcess]:
    with backend.process() as s:
        yield s


@dataclass
class Phone:
    """A test device speaking the real protocol over HTTP (no app store behind it)."""

    url: str
    keys: DeviceKeys = field(default_factory=DeviceKeys.generate)
    device_id: str = ""
    member_id: str = ""
    role: str = ""
    team_id: str | None = None
    server_signing: bytes = b""
    server_sealing: bytes = b""
    counter: int = 0
    cursor: str | None = None
    received: dict[str, Op] = field(default_factory=dict)

    def enroll(self, code: str, label: str = "测试手机") -> httpx.Response:
        body = protocol.enroll_request(code, self.keys, label)
        r = httpx.post(f"{self.url}{protocol.ENROLL_PATH}", json=body, timeout=30)
        if r.status_code == 200:
            answer = protocol.parse_enroll_response(code, r.json())
            self.device_id, self.member_id = answer.device_id, answer.member_id
            self.role, self.team_id = answer.role, answer.team_id
            self.server_signing = answer.server_signing_public
            self.server_sealing = answer.server_sealing_public
        return r

    def request(
        self,
        ops: list[Op] | None = None,
        *,
        batch: str | None = None,
        counter: int | None = None,
        limit: int = 1000,
    ) -> SyncRequest:
        if counter is None:
            self.counter += 1
            counter = self.counter
        return SyncRequest(
            self.device_id, batch or new_id("b"), counter, list(ops or []), self.cursor, limit
        )

    def seal(self, req: SyncRequest) -> bytes:
        return protocol.seal_request(req, self.keys, self.server_signing, self.server_sealing)

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(
            f"{self.url}{protocol.SYNC_PATH}",
            content=body,
            headers={"Content-Type": protocol.SYNC_CONTENT_TYPE},
            timeout=60,
        )

    def send(self, req: SyncRequest) -> SyncResponse:
        r = self.post(self.seal(req))
        assert r.status_code == 200, (r.status_code, r.text)
        resp = protocol.open_response(r.content, self.keys, self.server_signing, req.batch_id)
        for op in resp.changes:
            self.received[op.op_id] = op
        self.cursor = resp.cursor
        return resp

    def sync(self, ops: list[Op] | None = None, **kw: Any) -> SyncResponse:
        return self.send(self.request(ops, **kw))

    def pull_all(self) -> None:
        while self.sync().more:
            pass

    def problem(self, r: httpx.Response) -> protocol.Problem:
        assert protocol.verify_problem(
            r.content, r.headers.get(protocol.SIGNATURE_HEADER), self.server_signing
        ), r.text
        found = protocol.parse_problem(r.content)
        assert found is not None
        return found


def phone_record(phone: Phone, kind: str, entity_id: str) -> dict[str, Any] | None:
    """The phone's view of a record: the ops it received, merged."""
    from sync.merge import apply_op

    record: dict[str, Any] | None = None
    for op in sorted(phone.received.values(), key=lambda o: o.order):
        if op.kind == kind and op.entity_id == entity_id:
            record = apply_op(record, op)
    return record


def phone_op(
    phone: Phone,
    kind: str,
    entity_id: str | None = None,
    *,
    set: dict[str, Any] | None = None,
    add: dict[str, tuple[dict[str, Any], ...]] | None = None,
    current: dict[str, Any] | None = None,
) -> Op:
    from sync.domain import make_op
    from sync.hlc import HybridClock

    if current is None and entity_id is not None:
        current = phone_record(phone, kind, entity_id)
    return make_op(
        kind,
        entity_id,
        set=set,
        add=add,
        current=current,
        clock=HybridClock(),
        device=phone.device_id,
        member=phone.member_id,
    )


def enrolled(backend: Backend, url: str, *members: str) -> tuple[World, list[Phone]]:
    """The invented world built on ``backend`` and one phone enrolled as each named member
    (a :class:`World` attribute, e.g. ``"volunteer_a"``) at the server at ``url``."""
    rt = backend.runtime()
    try:
        world = build_world(rt)
        phones = []
        for member in members:
            phone = Phone(url)
            assert phone.enroll(code_for(rt, getattr(world, member))).status_code == 200
            phones.append(phone)
    finally:
        rt.close()
    return world, phones


def no_answer_op(phone: Phone, assignment_id: str, visit_id: str) -> Op:
    """The phone's op for a door knocked at 08:30 with nobody home: a revisit at 10:30."""
    visit = {
        "id": visit_id,
        "at": "2022-04-01T08:30:00Z",
        "member": phone.member_id,
        "outcome": "no_answer",
        "note": "敲门无人应答",
    }
    return phone_op(
        phone,
        "assignment",
        assignment_id,
        set={"status": "no_answer", "revisit_due": "2022-04-01T10:30:00Z"},
        add={"visits": (visit,)},
    )
