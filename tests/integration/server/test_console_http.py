"""The command centre through a REAL ``python -m sync.server serve`` process: the console comes
from the installed entry point (``linli.server.mounts``), not from a test's ``mount()`` call."""

from __future__ import annotations

import re
import subprocess

import httpx

from sync.server import audit
from tests.integration.server.conftest import Backend

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:400]
    return found.group(1)


def _login(c: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    pre = _csrf(c.get("/console/login").text)
    return c.post("/console/login", data={"csrf": pre, "name": name, "password": password})


def _accounts(backend: Backend) -> None:
    """Seed the demo district; add a coordinator of its community and an admin (``user add``,
    the password on standard input)."""
    backend.cli("demo")
    proc = backend.process()
    for args in (
        ["user", "add", "coord", "--role", "coordinator", "--scope", "观海轩社区"],
        ["user", "add", "boss", "--role", "admin"],
    ):
        done = subprocess.run(
            [*proc._base(), *args, "--password-stdin"],
            input=PASSWORD + "\n",
            env=proc._env(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert args[2] in done.stdout and PASSWORD not in done.stdout


def test_login_overview_devices_and_refusals_through_serve(backend: Backend) -> None:
    _accounts(backend)
    with backend.process() as server, httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/console/devices").headers["location"].startswith("/console/login")
        r = _login(c, "coord", "wrong password!!")
        assert r.status_code == 401 and 'data-code="account.bad_login"' in r.text
        r = _login(c, "coord")
        assert r.status_code == 303 and r.headers["location"] == "/console/"
        page = c.get("/console/")
        assert page.status_code == 200
        assert re.search(r'id="count-households"><span class="num">120<', page.text)
        devices = c.get("/console/devices")
        assert devices.status_code == 200 and 'id="devices-table"' in devices.text
        # a POST without the CSRF token
        r = c.post("/console/logout", data={})
        assert r.status_code == 403 and 'id="error-code">console.csrf<' in r.text
        # a coordinator on the admin page: 403 and an audit entry
        assert c.get("/console/audit").status_code == 403
        # a cookie from another server is refused
        forged = httpx.Client(base_url=server.url, timeout=30)
        forged.cookies.set("linli_console", "abc.def", path="/console")
        r = forged.get("/console/")
        assert r.status_code == 303 and "console.session_foreign" in r.headers["location"]
        forged.close()
        # throttling: five wrong passwords, then a plain message with the wait
        other = httpx.Client(base_url=server.url, timeout=30)
        for _ in range(5):
            assert _login(other, "coord", "wrong password!!").status_code == 401
        r = _login(other, "coord")
        assert r.status_code == 429 and 'data-code="account.throttled"' in r.text
        assert "15 分钟后再试" in r.text  # zh-CN by default, saying how long to wait
        other.close()
    rt = backend.runtime()
    try:
        with rt.db.read() as conn:
            actions = [e.action for e in reversed(audit.listing(conn, limit=1000))]
            assert audit.verify(conn).ok
    finally:
        rt.close()
    assert actions.count("login.failed") == 6 and "access.denied" in actions
    assert actions[-1] == "login.throttled"


def test_serve_no_console_serves_no_console(backend: Backend) -> None:
    proc = backend.process()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(proc.port), "--no-console"]
    proc._spawn([*proc._base(), *serve], proc._env())
    try:
        proc._wait(proc.url + "/healthz", 60, ok=True)
        assert httpx.get(proc.url + "/console/login", timeout=10).status_code == 404
    finally:
        proc.stop()
