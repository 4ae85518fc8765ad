"""A real sync server for benchmarks and end-to-end tests, and enrollment of devices on it.

- :class:`LiveServer` — ``python -m sync.server init`` (+ ``demo``) + ``serve`` on 127.0.0.1 with
  a free port and its own temp data dir, on SQLite or on a fresh PostgreSQL database
  ``linli_bench_<random>`` (created and dropped here); waits for ``/healthz``; ``stop()`` ends the
  process group it started and removes everything it made.
- Enrollment through the real flow: codes from the CLI (:meth:`LiveServer.issue_code`) or, for
  many devices, from the server's own admin API in one go (:meth:`LiveServer.issue_codes`); the
  device side is always ``POST /v1/enroll`` through :class:`~sync.client.SyncEngine`.
- The server's view for checks: :meth:`LiveServer.records`, :meth:`LiveServer.op_ids`,
  :meth:`LiveServer.visible_to`.

The phones themselves are in :mod:`bench.phones`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import select

from sync.client import HttpTransport, Identity, SyncEngine
from sync.ops import Op

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
CODE_RE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
Key = tuple[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- PostgreSQL


def pg_create(prefix: str = "linli_bench") -> str:
    """Create an empty database ``<prefix>_<random>``; its name. Fails if PostgreSQL is down."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- the server process


class LiveServer:
    """A real server process. ``with LiveServer("sqlite", demo=True) as server: server.url``."""

    def __init__(
        self,
        db: str = "sqlite",
        *,
        demo: bool = False,
        workers: int = 1,
        pg_prefix: str = "linli_bench",
        start_timeout_s: float = 60.0,
    ) -> None:
        if db not in ("sqlite", "postgres"):
            raise ValueError(f"db must be sqlite or postgres, not {db!r}")
        self.db = db
        self.demo = demo
        self.workers = workers
        self.pg_prefix = pg_prefix
        self.start_timeout_s = start_timeout_s
        self.root = Path(tempfile.mkdtemp(prefix="linli-server-"))
        self.data_dir = self.root / "data"
        self.pg_name: str | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.demo_output = ""
        self._runtime: Any = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LiveServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def database_url(self) -> str | None:
        return PG_URL.format(name=self.pg_name) if self.pg_name else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def start(self) -> None:
        if self.db == "postgres":
            self.pg_name = pg_create(self.pg_prefix)
        self.cli("init", "--public-url", "http://127.0.0.1:8700")
        if self.demo:
            self.demo_output = self.cli("demo").stdout
        self.port = free_port()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*self._base(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=ROOT,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"the server exited while starting:\n{self.logs()}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(f"{self.url}/healthz", timeout=1.0)
                if r.status_code == 200 and r.json().get("ok") is True:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz in time:\n{self.logs()}")

    def stop(self) -> None:
        """End the server's process group, close handles, drop the database, remove files."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self.pg_name:
            pg_drop(self.pg_name)
            self.pg_name = None
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    # -- the CLI ---------------------------------------------------------------------------
    def _base(self) -> list[str]:
        cmd = [sys.executable, "-m", "sync.server", "--data-dir", str(self.data_dir)]
        if self.database_url:
            cmd += ["--database", self.database_url]
        return cmd

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "LINLI_LANG": "en"}
        env.pop("LINLI_DATABASE_URL", None)
        env.pop("LINLI_DATA_DIR", None)
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``python -m sync.server ARGS`` against this server's data; raises on failure."""
        done = subprocess.run(
            [*self._base(), *args],
            cwd=ROOT,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sync.server {args[0]} failed: {done.stdout}\n{done.stderr}")
        return done

    def issue_code(self, member_id: str, expires: str = "2h") -> str:
        """A one-time enrollment code from ``python -m sync.server enroll --member``."""
        out = self.cli("enroll", "--member", member_id, "--expires", expires, "--no-terminal-qr")
        found = CODE_RE.search(out.stdout)
        if found is None:
            raise RuntimeError(f"no enrollment code in the CLI output: {out.stdout}")
        return found.group(0)

    def revoke(self, device_id: str) -> None:
        self.cli("revoke", device_id)

    # -- the server's own API, in this process (bulk setup and checks) -------------------------
    def runtime(self) -> Any:
        """The server's :class:`~sync.server.runtime.Runtime` on the same data dir and database."""
        if self._runtime is None:
            from sync.server import config
            from sync.server.runtime import Runtime

            self._runtime = Runtime.open(config.resolve(self.data_dir, self.database_url))
        return self._runtime

    def write(self, build: Callable[[Any], Any]) -> Any:
        """Run ``build(author)`` through the server's admin path (ops of the system device,
        committed in one transaction); returns what ``build`` returns."""
        from sync.server import admin

        return admin.write(self.runtime(), build)[0]

    def issue_codes(self, member_ids: Sequence[str], ttl_s: int = 7200) -> list[str]:
        """One code per member from the server's enrollment API (no process per code)."""
        from sync.server import enrollment

        return [enrollment.issue(self.runtime(), m, ttl_s).code for m in member_ids]

    def records(self) -> dict[Key, dict[str, Any]]:
        """Every merged record on the server, decrypted: ``{(kind, id): record}``."""
        from sync.server import db
        from sync.server.state import record_aad

        rt = self.runtime()
        t = db.records
        with rt.db.read() as conn:
            rows = conn.execute(select(t.c.kind, t.c.entity_id, t.c.body))
            return {
                (r.kind, r.entity_id): rt.vault.open(r.body, record_aad(r.kind, r.entity_id))
                for r in rows
            }

    def op_ids(self) -> list[str]:
        """The id of every op row the server holds (an op applied twice would show twice)."""
        from sync.server import db

        with self.runtime().db.read() as conn:
            return list(conn.execute(select(db.ops.c.op_id)).scalars())

    def members(self) -> list[dict[str, Any]]:
        return [r for (kind, _), r in self.records().items() if kind == "member"]

    def visible_to(self, device_id: str) -> Callable[[str, str], bool]:
        """``(kind, id) -> bool``: does this record lie in the device's pull scope now?"""
        from sync.server import db, devices
        from sync.server.scope import entity_keys

        rt = self.runtime()
        with rt.db.read() as conn:
            world = rt.ledger.world(conn)
            device = devices.load(conn, device_id)
            if device is None:
                raise KeyError(device_id)
            keys = devices.pull_keys(world, devices.actor_for(world, device))
            if keys is None:
                return lambda kind, entity_id: True
            t = db.records
            rows = conn.execute(select(t.c.kind, t.c.entity_id, t.c.refs)).all()
            visible = {
                (r.kind, r.entity_id)
                for r in rows
                if entity_keys(world, r.kind, r.entity_id, json.loads(r.refs)) & keys
            }
        return lambda kind, entity_id: (kind, entity_id) in visible


# ---------------------------------------------------------------- devices


class _NoOutbox:
    """What enrollment needs of an outbox: nothing (the device has no store yet)."""

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        return []

    def pending_count(self) -> int:
        return 0

    def acknowledge(self, op_ids: Iterable[str]) -> int:
        return 0

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        return 0

    def cursor(self) -> str | None:
        return None

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        return None

    def get_meta(self, key: str, default: Any = None) -> Any:
        return default

    def set_meta(self, key: str, value: Any) -> None:
        return None


def enroll(url: str, code: str, label: str = "张秀英的手机") -> Identity:
    """Enroll a new device over HTTP with the real client (keys made here, server keys pinned)."""
    transport = HttpTransport(url)
    try:
        return SyncEngine(_NoOutbox()).enroll(transport, code, label)
    finally:
        transport.close()


def enroll_many(url: str, codes: Sequence[str], threads: int = 8) -> list[Identity]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda c: enroll(url, c, "志愿者手机"), codes))
