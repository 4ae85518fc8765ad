"""One way to run a real server and a real phone: what the tests, the benchmarks and ``make demo``
all use.

- :func:`free_port` — a free TCP port on 127.0.0.1;
- :func:`pg_create` / :func:`pg_drop` / :func:`fresh_database` — an empty PostgreSQL database
  ``<prefix>_<random>`` on 127.0.0.1:5432 (user ``postgres``), dropped afterwards; they fail
  (never skip) when PostgreSQL is down;
- :func:`wait_http` — poll a URL until it answers, with a deadline, failing early if the process
  that should answer has exited;
- :class:`ServerProcess` — ``python -m sync.server`` over one data dir (SQLite unless a database
  URL is given): the CLI (``init``, ``demo``, ``enroll``, ``devices``, ``revoke`` … in argv form),
  ``serve`` on 127.0.0.1 with a health wait, and a teardown that never leaves a process behind;
- :class:`PhoneProcess` — ``python -m app`` in web mode: one phone with its own data dir. It is
  spawned by module name; :mod:`sync` never imports :mod:`app`.

Every child runs in its own session (Ctrl-C reaches only the parent, which stops its children)
and, on Linux, gets SIGTERM if the parent dies. ``stop()`` sends SIGTERM to the child's process
group (uvicorn workers included), then SIGKILL if it is still there after the grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
CODE_RE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
_MEMBER = re.compile(
    r"^\s+(mb-\S+)\s+(\S+)\s+(volunteer|team_lead|coordinator)\s+(\S+)\s*$", re.MULTILINE
)
#: Variables of the caller's shell that would point a child server at another database or dir.
_SERVER_ENV_DROP = ("LINLI_DATABASE_URL", "LINLI_DATA_DIR")


class HarnessError(RuntimeError):
    """A child process failed to start or a server command failed (text includes its output)."""


@dataclass(frozen=True)
class Member:
    """One member as ``python -m sync.server demo`` lists it."""

    member_id: str
    name: str
    role: str
    team_id: str | None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- PostgreSQL


def pg_url(name: str) -> str:
    return PG_URL.format(name=name)


def pg_create(prefix: str) -> str:
    """Create an empty database ``<prefix>_<random>``; its name."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(prefix: str = "linli_test") -> Iterator[str]:
    """A fresh PostgreSQL database for the block; yields its SQLAlchemy URL, drops it after."""
    name = pg_create(prefix)
    try:
        yield pg_url(name)
    finally:
        pg_drop(name)


# ---------------------------------------------------------------- waiting


def wait_http(
    url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None, *, ok: bool = False
) -> None:
    """Poll ``url`` until it answers or ``timeout_s`` passes.

    Any HTTP status counts as an answer, unless ``ok``: then only a 200 with ``{"ok": true}``
    (the server's ``/healthz``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"the process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if not ok or json.loads(answer.read() or b"{}").get("ok") is True:
                    return
        except urllib.error.HTTPError:
            if not ok:
                return  # an HTTP error status: it answers
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise HarnessError(f"{url} did not answer within {timeout_s:.0f} s")
        time.sleep(0.05)


# ---------------------------------------------------------------- child processes


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if this process dies, so no phone or server is left over."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


class _Child:
    """One child process in its own session, its output in a log file."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM to the process group (a graceful shutdown), SIGKILL if it outstays
        ``timeout_s``; then the log is closed. Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait(10)
            _signal_group(proc, signal.SIGKILL)  # workers the leader left behind, if any
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self, timeout_s: float = 60.0) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start; if that fails, stop what did start, then raise."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def _wait(self, url: str, timeout_s: float, *, ok: bool) -> None:
        try:
            wait_http(url, timeout_s, self.proc, ok=ok)
        except HarnessError as exc:
            self.stop()
            raise HarnessError(f"{self.name}: {exc}\n{self.log_tail()}") from exc


class ServerProcess(_Child):
    """A real ``python -m sync.server`` over ``data_dir`` (SQLite unless ``database`` is a URL).

    ``with ServerProcess(dir) as server:`` starts ``serve`` (after ``init`` where needed, by the
    caller) and stops it at the end. CLI commands run with ``LINLI_LANG=en`` and without the
    caller's ``LINLI_DATABASE_URL`` / ``LINLI_DATA_DIR``.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        database: str | None = None,
        workers: int = 1,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir, self.database, self.workers = data_dir, database, workers
        self.port = port or free_port()
        log = log_path or data_dir.parent / f"{data_dir.name}-{self.port}.log"
        super().__init__(f"server:{self.port}", log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def _base(self) -> list[str]:
        argv = [sys.executable, "-m", "sync.server", "--data-dir", str(self.data_dir)]
        return argv + (["--database", self.database] if self.database else [])

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SERVER_ENV_DROP}
        return {**env, "LINLI_LANG": "en"}

    # -- the CLI ---------------------------------------------------------------------------
    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``python -m sync.server ARGS`` on this server's data; :class:`HarnessError` with
        its output if it fails and ``check``."""
        done = subprocess.run(
            [*self._base(), *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            raise HarnessError(f"sync.server {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done

    def cli(self, *args: str) -> str:
        """Run one server command; its stdout."""
        return self.run(*args).stdout

    def init(self, public_url: str | None = None) -> None:
        self.cli("init", "--public-url", public_url or self.url)

    def seed_demo(self) -> list[Member]:
        """``demo``: seed the demo district; the members it lists."""
        return parse_members(self.cli("demo"))

    def enrollment_code(self, member_id: str, *, expires: str | None = None) -> str:
        """A one-time enrollment code from ``enroll --member``."""
        args = ["enroll", "--member", member_id, "--no-terminal-qr", "--url", self.url]
        out = self.cli(*args, *(["--expires", expires] if expires else []))
        found = CODE_RE.search(out)
        if found is None:
            raise HarnessError(f"no enrollment code in: {out[:500]}")
        return found.group(0)

    def devices(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.cli("devices", "--json"))
        return rows

    def revoke(self, device_id: str) -> None:
        self.cli("revoke", device_id)

    # -- serving ---------------------------------------------------------------------------
    def start(self, timeout_s: float = 60.0) -> None:
        """``serve`` on 127.0.0.1:port; returns once ``/healthz`` says ok."""
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn([*self._base(), *serve, "--workers", str(self.workers)], self._env())
        self._wait(self.url + "/healthz", timeout_s, ok=True)


def parse_members(out: str) -> list[Member]:
    members = [
        Member(m, name, role, None if team == "-" else team)
        for m, name, role, team in _MEMBER.findall(out)
    ]
    if not members:
        raise HarnessError(f"sync.server demo printed no members: {out[:500]}")
    return members


def team_pair(members: Sequence[Member]) -> tuple[Member, Member]:
    """The first team's volunteer and its lead."""
    for lead in members:
        if lead.role == "team_lead":
            for volunteer in members:
                if volunteer.role == "volunteer" and volunteer.team_id == lead.team_id:
                    return volunteer, lead
    raise HarnessError("the demo district has no team with a lead and a volunteer")


class PhoneProcess(_Child):
    """A real phone in web mode: ``python -m app`` (or ``module``) with its own data dir."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None,
        server_url: str | None,
        *,
        lang: str = "zh-CN",
        probe_max_s: float = 3.0,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        module: str = "app",
    ) -> None:
        self.data_dir, self.port, self.server_url = data_dir, port or free_port(), server_url
        super().__init__(f"phone:{self.port}", data_dir.parent / f"{data_dir.name}.log")
        self.lang, self.probe_max_s, self.module = lang, probe_max_s, module
        self.extra_args, self.env = list(extra_args), dict(env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", self.module, "--data-dir", str(self.data_dir)]
        argv += ["--port", str(self.port), "--lang", self.lang]
        argv += ["--probe-max", str(self.probe_max_s)]
        if self.server_url:
            argv += ["--server", self.server_url]
        return argv + self.extra_args

    def start(self, timeout_s: float = 60.0, *, wait: bool = True) -> None:
        """Spawn the phone; with ``wait``, return once its web server answers."""
        self._spawn(self.argv(), {**os.environ, **self.env})
        if wait:
            self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        self._wait(self.url + "/", timeout_s, ok=False)
