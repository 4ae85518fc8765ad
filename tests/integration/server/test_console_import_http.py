"""The console's households import and team enrollment sheet through a REAL ``serve`` process
with two workers (the upload, preview, commit and progress may each reach another worker), on
SQLite and PostgreSQL: a GBK file with three bad rows is previewed with all three, the fixed
file commits in the background and its households reach an enrolled phone after its sync."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx

from sync import protocol
from sync.server import audit
from tests.integration.server.conftest import Backend, enrolled, phone_record

PASSWORD = "correct horse battery"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:400]
    return found.group(1)


def _coordinator(backend: Backend, community: str) -> None:
    proc = backend.process()
    subprocess.run(
        [*proc._base(), "user", "add", "coord", "--role", "coordinator", "--scope", community,
         "--password-stdin"],
        input=PASSWORD + "\n", env=proc._env(), capture_output=True, text=True, check=True,
    )  # fmt: skip


def _upload(c: httpx.Client, token: str, community: str, path: Path) -> str:
    r = c.post(
        "/console/households/import",
        data={"csrf": token, "community": community},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )
    assert r.status_code == 303, r.text[:300]
    return str(r.headers["location"])


def test_console_import_reaches_an_enrolled_phone(backend: Backend) -> None:
    with backend.process(workers=2) as server:
        world, (coordinator,) = enrolled(backend, server.url, "coordinator")
        _coordinator(backend, world.community)
        before = backend.fingerprint()
        with httpx.Client(base_url=server.url, timeout=60) as c:
            pre = _csrf(c.get("/console/login").text)
            r = c.post("/console/login", data={"csrf": pre, "name": "coord", "password": PASSWORD})
            assert r.status_code == 303
            token = _csrf(c.get("/console/households/import").text)
            bad = _upload(c, token, world.community, FIXTURES / "committee-three-bad-rows-gbk.csv")
            page = c.get(bad)
            assert re.findall(r'class="problem" data-line="(\d+)"', page.text) == ["4", "5", "6"]
            assert 'id="commit-button"' not in page.text
            assert backend.fingerprint() == before
            fixed = _upload(c, token, world.community, FIXTURES / "committee-fixed-gbk.csv")
            assert 'id="commit-button"' in c.get(fixed).text
            r = c.post(fixed + "/commit", data={"csrf": token})
            assert r.status_code == 303
            deadline = time.monotonic() + 60
            while True:
                progress = c.get(r.headers["location"], headers={"HX-Request": "true"})
                if progress.status_code == 286:
                    break
                assert progress.status_code == 200 and time.monotonic() < deadline
                time.sleep(0.2)
            assert 'id="import-done"' in progress.text
            # the team sheet: one QR per member, each with the server's fingerprint
            r = c.post(f"/console/teams/{world.team_a}/codes", data={"csrf": token})
            assert r.status_code == 200
            links = re.findall(r"<title>(linli://[^<]+)</title>", r.text)
            assert links and len(links) == r.text.count('class="card"')
            link = protocol.parse_enroll_link(links[0].replace("&amp;", "&"))
            assert link.fingerprint and link.server == "http://127.0.0.1:8700"
        coordinator.pull_all()
    names = {
        (phone_record(coordinator, "resident", o.entity_id) or {}).get("name")
        for o in coordinator.received.values()
        if o.kind == "resident"
    }
    assert {"周淑珍", "吴德胜", "王芳", "赵建国", "孙丽", "钱进"} <= names
    rt = backend.runtime()
    try:
        with rt.db.read() as conn:
            imports = [e for e in audit.listing(conn) if e.action == audit.IMPORT]
        assert len(imports) == 1 and imports[0].details["households"] == 5
    finally:
        rt.close()
