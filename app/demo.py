"""``make demo``: a server with the demo district and two enrolled phones, in web mode.

``python -m app.demo`` recreates ``.linli-demo/`` in the current folder, then:

1. ``python -m sync.server init`` + ``demo`` (SQLite under ``.linli-demo/server``) and ``serve``;
2. enrolls a volunteer and the team lead of the same team, each with the real
   :meth:`Device.enroll` into its own data dir (one folder per phone) with the demo PIN;
3. runs one app process per phone (volunteer on :8550, team lead on :8551);
4. prints the addresses, the PIN and a spare enrollment code for trying the first-run screen,
   and waits for Ctrl-C, then stops every child process.

Ports come from ``LINLI_DEMO_SERVER_PORT`` / ``LINLI_DEMO_VOLUNTEER_PORT`` /
``LINLI_DEMO_LEAD_PORT``. The process helpers here (:class:`ServerProcess`,
:class:`PhoneProcess`, :func:`enroll_phone`) are also what the browser tests and ``bench app``
use to run real servers and phones.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.i18n import tr_in
from sync.domain.labels import label
from sync.i18n import normalise

DEMO_PIN = "246810"
DEMO_DIR = Path(".linli-demo")
_CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4})+\b")
_MEMBER = re.compile(
    r"^\s+(mb-\S+)\s+(\S+)\s+(volunteer|team_lead|coordinator)\s+(\S+)\s*$", re.MULTILINE
)


class DemoError(RuntimeError):
    """A child process failed to start or a server command failed (text includes its output)."""


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str
    role: str
    team_id: str | None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if this process dies, so no phone or server is left over."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers (any HTTP status) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise DemoError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status: it answers
                return
            if time.monotonic() > deadline:
                raise DemoError(f"{url} did not answer within {timeout_s:.0f} s") from exc
            time.sleep(0.05)


class _Child:
    """One child process with its output in a log file."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children itself
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it does not exit in time."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


class ServerProcess(_Child):
    """A real ``python -m sync.server`` over one data dir (SQLite unless ``database`` is given)."""

    def __init__(self, data_dir: Path, port: int, *, database: str | None = None) -> None:
        super().__init__("server", data_dir.parent / f"{data_dir.name}.log")
        self.data_dir, self.port, self.database = data_dir, port, database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _base(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "sync.server",
            "--lang",
            "en",
            "--data-dir",
            str(self.data_dir),
        ]
        return argv + (["--database", self.database] if self.database else [])

    def cli(self, *args: str) -> str:
        """Run one server command; its stdout, or :class:`DemoError` with its output."""
        done = subprocess.run(
            [*self._base(), *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise DemoError(f"sync.server {' '.join(args)}: {done.stdout}{done.stderr}".strip())
        return done.stdout

    def init(self) -> None:
        self.cli("init", "--public-url", self.url)

    def seed_demo(self) -> list[Member]:
        out = self.cli("demo")
        members = [
            Member(m, name, role, None if team == "-" else team)
            for m, name, role, team in _MEMBER.findall(out)
        ]
        if not members:
            raise DemoError(f"sync.server demo printed no members: {out[:500]}")
        return members

    def enrollment_code(self, member_id: str) -> str:
        out = self.cli("enroll", "--member", member_id, "--no-terminal-qr", "--url", self.url)
        found = _CODE.search(out)
        if found is None:
            raise DemoError(f"no enrollment code in: {out[:500]}")
        return found.group(0)

    def devices(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = json.loads(self.cli("devices", "--json"))
        return rows

    def revoke(self, device_id: str) -> None:
        self.cli("revoke", device_id)

    def start(self, timeout_s: float = 30.0) -> None:
        self._spawn([*self._base(), "serve", "--host", "127.0.0.1", "--port", str(self.port)])
        try:
            wait_http(self.url + "/healthz", timeout_s, self.proc)
        except DemoError as exc:
            raise DemoError(f"{exc}\n{self.log_tail()}") from exc


class PhoneProcess(_Child):
    """A real ``python -m app`` in web mode: one phone with its own data dir."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        server_url: str | None,
        *,
        lang: str = "zh-CN",
        probe_max_s: float = 3.0,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"phone:{port}", data_dir.parent / f"{data_dir.name}.log")
        self.data_dir, self.port, self.server_url = data_dir, port, server_url
        self.lang, self.probe_max_s = lang, probe_max_s
        self.extra_args, self.env = list(extra_args), dict(env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "app", "--data-dir", str(self.data_dir)]
        argv += ["--port", str(self.port), "--lang", self.lang]
        argv += ["--probe-max", str(self.probe_max_s)]
        if self.server_url:
            argv += ["--server", self.server_url]
        return argv + self.extra_args

    def start(self, timeout_s: float = 60.0, *, wait: bool = True) -> None:
        self._spawn(self.argv(), self.env)
        if wait:
            try:
                wait_http(self.url + "/", timeout_s, self.proc)
            except DemoError as exc:
                raise DemoError(f"{exc}\n{self.log_tail()}") from exc


def enroll_phone(data_dir: Path, server_url: str, code: str, pin: str, label: str) -> str:
    """Enroll a phone's data dir with the real :meth:`Device.enroll`; returns its device id."""
    from app.services.device import Device

    device = Device(data_dir)
    try:
        device.enroll(server_url, code, pin, label=label)
        return device.identity.device_id if device.identity else ""
    finally:
        device.lock()


def team_pair(members: Sequence[Member]) -> tuple[Member, Member]:
    """The first team's lead and its first volunteer."""
    for lead in members:
        if lead.role == "team_lead":
            for volunteer in members:
                if volunteer.role == "volunteer" and volunteer.team_id == lead.team_id:
                    return volunteer, lead
    raise DemoError("the demo district has no team with a lead and a volunteer")


def _port(env: str, default: int) -> int:
    return int(os.environ.get(env) or default)


def _wait_for_stop(
    stop: threading.Event, children: Sequence[_Child], say: Callable[..., None]
) -> None:
    while not stop.wait(1.0):
        for child in children:
            if not child.running:
                say("ui.demo.child_exited", name=child.name, log=str(child.log_path))
                return


def main(argv: Sequence[str] | None = None) -> int:
    lang = normalise(os.environ.get("LINLI_LANG"))

    def say(key: str, **params: object) -> None:
        print(tr_in(lang, key, **params), flush=True)

    root = DEMO_DIR.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    server = ServerProcess(root / "server", _port("LINLI_DEMO_SERVER_PORT", 8700))
    phones: list[PhoneProcess] = []
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        say("ui.demo.starting_server", url=server.url, path=str(root))
        server.init()
        members = server.seed_demo()
        volunteer, lead = team_pair(members)
        server.start()
        ports = {
            volunteer: _port("LINLI_DEMO_VOLUNTEER_PORT", 8550),
            lead: _port("LINLI_DEMO_LEAD_PORT", 8551),
        }
        for member, folder in ((volunteer, "volunteer"), (lead, "lead")):
            say("ui.demo.enrolling", name=member.name, role=label("member.role", member.role, lang))
            code = server.enrollment_code(member.member_id)
            enroll_phone(root / folder, server.url, code, DEMO_PIN, label=f"demo {folder}")
            phones.append(PhoneProcess(root / folder, ports[member], server.url, lang=lang))
        for phone in phones:
            phone.start()
        spare = next(m for m in members if m.role == "volunteer" and m != volunteer)
        spare_code = server.enrollment_code(spare.member_id)
        say("ui.demo.ready", server=server.url, pin=DEMO_PIN)
        say("ui.demo.volunteer", url=phones[0].url, name=volunteer.name)
        say("ui.demo.lead", url=phones[1].url, name=lead.name)
        spare_dir = root / "spare"
        say(
            "ui.demo.spare",
            code=spare_code,
            name=spare.name,
            command=f"{sys.executable} -m app --data-dir {spare_dir} --port 8552 --server {server.url}",
        )
        say("ui.demo.logs", path=str(root))
        _wait_for_stop(stop, [server, *phones], say)
    except DemoError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        say("ui.demo.stopping")
        for child in [*phones, server]:
            child.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
