"""The 住户 Households page in-process: the list (audited), and the import — upload, the
column mapping, the preview listing every problem, decisions, the background commit with its
progress — and bad uploads refused with a coded page and nothing written."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync.server import audit, demo
from sync.server.accounts import users
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.unit.console.test_console import PASSWORD, client, csrf_of, login
from tests.unit.server.conftest import make_runtime

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Runtime, demo.DemoSummary]]:
    rt = make_runtime(tmp_path / "server")
    summary = demo.seed(rt)
    users.add(rt, "coord", "coordinator", [summary.community_id], password=PASSWORD, by="c", now=1)
    yield rt, summary
    rt.close()


def _upload(c: TestClient, token: str, community: str, name: str, data: bytes) -> str:
    r = c.post(
        "/console/households/import",
        data={"csrf": token, "community": community},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    return str(r.headers["location"])


def _actions(rt: Runtime, action: str) -> list[audit.Entry]:
    with rt.db.read() as conn:
        return [e for e in audit.listing(conn) if e.action == action]


def test_list_of_households_is_audited(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    page = c.get("/console/households")
    assert page.status_code == 200
    assert page.text.count('id="household-') == 120
    entry = _actions(rt, audit.VIEW_PERSONAL)[-1]
    assert entry.target == summary.community_id and entry.details == {"rows": 120}


def test_gbk_file_with_three_bad_rows_then_the_fixed_file_commits(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    token = csrf_of(c.get("/console/households/import").text)
    before = len(Directory(rt).records("household"))
    bad = (FIXTURES / "committee-three-bad-rows-gbk.csv").read_bytes()
    page = c.get(_upload(c, token, summary.community_id, "台账.csv", bad))
    assert page.status_code == 200
    lines = re.findall(r'class="problem" data-line="(\d+)"', page.text)
    assert lines == ["4", "5", "6"]
    assert 'id="commit-button"' not in page.text
    assert "序号" in page.text and 'id="ignored-columns"' in page.text
    assert 'name="map:楼栋"' in page.text
    fixed = (FIXTURES / "committee-fixed-gbk.csv").read_bytes()
    location = _upload(c, token, summary.community_id, "台账-改.csv", fixed)
    page = c.get(location)
    assert 'id="commit-button"' in page.text
    r = c.post(location + "/commit", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/progress")
    deadline = time.monotonic() + 30
    while True:
        progress = c.get(r.headers["location"], headers={"HX-Request": "true"})
        if progress.status_code == 286:
            break
        assert progress.status_code == 200 and time.monotonic() < deadline
        time.sleep(0.1)
    assert 'id="import-done"' in progress.text
    assert 'data-state="done"' in progress.text  # on the part htmx swaps in
    assert len(Directory(rt).records("household")) == before + 5
    entry = _actions(rt, audit.IMPORT)[-1]
    assert entry.target == summary.community_id and entry.details["households"] == 5
    # the stored upload is sealed: no resident name in clear on disk
    for path in (rt.settings.data_dir / "console-uploads").iterdir():
        assert "周淑珍".encode("gbk") not in path.read_bytes()
        assert "周淑珍".encode() not in path.read_bytes()


def test_the_mapping_step_can_ignore_or_reassign_a_column(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    token = csrf_of(c.get("/console/households/import").text)
    data = "幢号,门牌,住户姓名\n9栋,101,甲\n".encode()
    location = _upload(c, token, summary.community_id, "a.csv", data)
    page = c.get(location)
    assert 'id="import-error"' in page.text  # no known header: say so, offer the mapping
    r = c.post(
        location + "/mapping",
        data={"csrf": token, "map:幢号": "building", "map:门牌": "room", "map:住户姓名": "name"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get(location)
    assert 'id="import-error"' not in page.text and 'id="commit-button"' in page.text


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (64 * 1024 * 1024))
    return out.getvalue()


def test_bad_uploads_are_refused_with_a_code_and_nothing_written(world) -> None:
    rt, summary = world
    c = client(rt)
    login(c, "coord")
    token = csrf_of(c.get("/console/households/import").text)
    before = len(Directory(rt).records("household"))
    big = b"\xe6\xa5\xbc\xe6\xa0\x8b,\xe6\x88\xbf\xe5\x8f\xb7\n" + b"a" * (50 * 1024 * 1024)
    r = c.post(
        "/console/households/import",
        data={"csrf": token, "community": summary.community_id},
        files={"file": ("big.csv", big, "text/csv")},
    )
    assert r.status_code == 413 and 'id="error-code">import.too_big<' in r.text
    for name, data, code in (
        ("bomb.xlsx", _zip_bomb(), "import.unsafe_xlsx"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "import.binary"),
    ):
        page = c.get(_upload(c, token, summary.community_id, name, data))
        assert 'id="import-error"' in page.text and 'id="commit-button"' not in page.text
        from sync.errors import LinliError

        assert LinliError(code).describe("zh-CN") in page.text
    r = c.post(
        "/console/households/import",
        data={"community": summary.community_id},
        files={"file": ("a.csv", b"a,b\n", "text/csv")},
    )
    assert r.status_code == 403 and "console.csrf" in r.text
    assert len(Directory(rt).records("household")) == before
    assert not _actions(rt, audit.IMPORT)
