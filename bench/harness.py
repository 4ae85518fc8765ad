"""A real sync server for benchmarks and end-to-end tests, and enrollment of devices on it.

- :class:`LiveServer` — the shared :class:`~sync.server.harness.ServerProcess` with its own temp
  data dir, on SQLite or on a fresh PostgreSQL database ``<pg_prefix>_<random>`` (created and
  dropped here), ``init`` (+ ``demo``) before ``serve``; ``stop()`` ends the process and removes
  everything it made.
- Enrollment through the real flow: codes from the CLI (:meth:`LiveServer.issue_code`) or, for
  many devices, from the server's own admin API in one go (:meth:`LiveServer.issue_codes`); the
  device side is always ``POST /v1/enroll`` through :func:`sync.client.enroll`.
- The server's view for checks: :meth:`LiveServer.records`, :meth:`LiveServer.op_ids`,
  :meth:`LiveServer.visible_to`.

The phones themselves are in :mod:`bench.phones`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sync.client import HttpTransport, Identity
from sync.client import enroll as enroll_with
from sync.server.harness import ServerProcess, pg_create, pg_drop, pg_url

Key = tuple[str, str]


class LiveServer(ServerProcess):
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
        self.db, self.demo, self.pg_prefix = db, demo, pg_prefix
        self.start_timeout_s = start_timeout_s
        self.root = Path(tempfile.mkdtemp(prefix="linli-server-"))
        super().__init__(self.root / "data", workers=workers, log_path=self.root / "server.log")
        self.pg_name: str | None = None
        self.demo_output = ""
        self._runtime: Any = None

    @property
    def database_url(self) -> str | None:
        return self.database

    def start(self, timeout_s: float | None = None) -> None:
        """Create the database (PostgreSQL), ``init`` (+ ``demo``), then serve."""
        if self.db == "postgres" and self.pg_name is None:
            self.pg_name = pg_create(self.pg_prefix)
            self.database = pg_url(self.pg_name)
        if not self.data_dir.exists():
            self.init()
            if self.demo:
                self.demo_output = self.cli("demo")
        super().start(timeout_s or self.start_timeout_s)

    def stop(self, timeout_s: float = 20.0) -> None:
        """End the server's process group, close handles, drop the database, remove files."""
        super().stop(timeout_s)
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self.pg_name:
            pg_drop(self.pg_name)
            self.pg_name = None
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return self.log_tail()

    def issue_code(self, member_id: str, expires: str = "2h") -> str:
        """A one-time enrollment code from ``python -m sync.server enroll --member``."""
        return self.enrollment_code(member_id, expires=expires)

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

    def held_for_review(self) -> set[str]:
        """Ids of the ops the server holds in its review queue (refused, kept for a decision)."""
        from sync.server import db

        with self.runtime().db.read() as conn:
            return set(conn.execute(select(db.review.c.op_id)).scalars())

    def leave(self, device_id: str, how: str) -> None:
        """``retire`` (handed back) or ``revoke`` (lost or stolen) a device, as the CLI does."""
        from sync.protocol import now_ms
        from sync.server import devices

        with self.runtime().db.write() as conn:
            done = (devices.retire if how == "retire" else devices.revoke)(
                conn, device_id, now_ms()
            )
        assert done, (device_id, how)

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


def enroll(url: str, code: str, label: str = "张秀英的手机") -> Identity:
    """Enroll a new device over HTTP with the real client (keys made here, server keys pinned)."""
    transport = HttpTransport(url)
    try:
        return enroll_with(transport, code, label)
    finally:
        transport.close()


def enroll_many(url: str, codes: Sequence[str], threads: int = 8) -> list[Identity]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda c: enroll(url, c, "志愿者手机"), codes))
