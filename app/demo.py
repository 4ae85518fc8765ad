"""``make demo``: a server with the demo district and two enrolled phones, in web mode.

``python -m app.demo`` recreates ``.linli-demo/`` in the current folder, then:

1. ``python -m sync.server init`` + ``demo`` (SQLite under ``.linli-demo/server``) and ``serve``;
2. enrolls a volunteer and the team lead of the same team, each with the real
   :meth:`Device.enroll` into its own data dir (one folder per phone) with the demo PIN;
3. runs one app process per phone (volunteer on :8550, team lead on :8551);
4. prints the addresses, the PIN, the command centre's demo login (``/console``) and a spare
   enrollment code for trying the first-run screen,
   and waits for Ctrl-C, then stops every child process.

Ports come from ``LINLI_DEMO_SERVER_PORT`` / ``LINLI_DEMO_VOLUNTEER_PORT`` /
``LINLI_DEMO_LEAD_PORT``. The server and phone processes are the ones of
:mod:`sync.server.harness`, which the tests and the benchmarks use too; :func:`enroll_phone` (the
app's own enrollment into a data dir) is shared with the browser tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from app.i18n import tr_in
from sync.domain.labels import label
from sync.i18n import normalise
from sync.server.demo import DEMO_ACCOUNT, DEMO_PASSWORD
from sync.server.harness import HarnessError, PhoneProcess, ServerProcess, team_pair

DEMO_PIN = "246810"
DEMO_DIR = Path(".linli-demo")
Child = ServerProcess | PhoneProcess


def enroll_phone(data_dir: Path, server_url: str, code: str, pin: str, label: str) -> str:
    """Enroll a phone's data dir with the real :meth:`Device.enroll`; returns its device id."""
    from app.services.device import Device

    device = Device(data_dir)
    try:
        device.enroll(server_url, code, pin, label=label)
        return device.identity.device_id if device.identity else ""
    finally:
        device.lock()


def _port(env: str, default: int) -> int:
    return int(os.environ.get(env) or default)


def _wait_for_stop(
    stop: threading.Event, children: Sequence[Child], say: Callable[..., None]
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
    server = ServerProcess(
        root / "server", _port("LINLI_DEMO_SERVER_PORT", 8700), log_path=root / "server.log"
    )
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
        say(
            "ui.demo.console",
            url=f"{server.url}/console/",
            name=DEMO_ACCOUNT,
            password=DEMO_PASSWORD,
        )
        spare_dir = root / "spare"
        say(
            "ui.demo.spare",
            code=spare_code,
            name=spare.name,
            command=f"{sys.executable} -m app --data-dir {spare_dir} --port 8552 --server {server.url}",
        )
        say("ui.demo.logs", path=str(root))
        _wait_for_stop(stop, [server, *phones], say)
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        say("ui.demo.stopping")
        for child in [*phones, server]:
            child.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
