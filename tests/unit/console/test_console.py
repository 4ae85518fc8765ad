"""The console mounted on the server's app in-process (``mount()`` called directly): pages,
CSRF, scope refusals, languages and catalogs. The entry point and a real ``serve`` process are in
tests/integration/server/test_console_http.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.app import mount
from sync.domain import make_op
from sync.hlc import HybridClock
from sync.protocol import Rejection
from sync.server import audit, demo, devices
from sync.server import review as queue
from sync.server.accounts import users
from sync.server.api import create_app
from sync.server.runtime import Runtime
from tests.unit.server.conftest import make_runtime

PASSWORD = "correct horse battery"
CONSOLE = Path(__file__).resolve().parents[3] / "console"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Runtime, demo.DemoSummary]]:
    rt = make_runtime(tmp_path / "server")
    summary = demo.seed(rt)
    users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=1)
    users.add(rt, "coord", "coordinator", [summary.community_id], password=PASSWORD, by="c", now=1)
    yield rt, summary
    rt.close()


def client(rt: Runtime, base_url: str = "http://127.0.0.1:8700") -> TestClient:
    app = create_app(rt)
    mount(app, rt)
    return TestClient(app, base_url=base_url)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(c: TestClient, name: str, password: str = PASSWORD) -> None:
    pre = csrf_of(c.get("/console/login").text)
    r = c.post(
        "/console/login",
        data={"csrf": pre, "name": name, "password": password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_pages_need_a_login_and_the_cookie_is_strict(world) -> None:
    rt, _summary = world
    c = client(rt)
    r = c.get("/console/devices", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")
    pre = csrf_of(c.get("/console/login").text)
    r = c.post(
        "/console/login",
        data={"csrf": pre, "name": "coord", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "linli_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie.split("linli_console_pre")[0]  # http public URL
    page = c.get("/console/")
    assert page.status_code == 200 and 'id="count-households"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert re.search(r'id="count-households"><span class="num">120<', page.text)


def test_a_post_without_the_csrf_token_is_refused_with_a_coded_page(world) -> None:
    rt, _ = world
    c = client(rt)
    pre = csrf_of(c.get("/console/login").text)
    r = c.post("/console/login", data={"name": "coord", "password": PASSWORD})
    assert r.status_code == 403 and 'id="error-code">console.csrf<' in r.text
    r = c.post("/console/login", data={"csrf": pre + "x", "name": "coord", "password": PASSWORD})
    assert r.status_code == 403
    login(c, "coord")
    r = c.post("/console/logout", data={})
    assert r.status_code == 403 and "console.csrf" in r.text
    assert c.get("/console/").status_code == 200  # still logged in: nothing happened
    token = csrf_of(c.get("/console/").text)
    r = c.post("/console/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/console/", follow_redirects=False).status_code == 303


def test_wrong_password_then_throttled_with_plain_words(world) -> None:
    rt, _ = world
    c = client(rt)
    for _ in range(5):
        pre = csrf_of(c.get("/console/login").text)
        r = c.post("/console/login", data={"csrf": pre, "name": "coord", "password": "nope" * 4})
        assert r.status_code == 401 and 'data-code="account.bad_login"' in r.text
    pre = csrf_of(c.get("/console/login").text)
    r = c.post("/console/login", data={"csrf": pre, "name": "coord", "password": PASSWORD})
    assert r.status_code == 429 and "15 分钟后再试" in r.text


def test_a_coordinator_cannot_open_another_communitys_device_or_review_item(world) -> None:
    rt, _summary = world
    # a second community with its own team, member and phone
    from sync.server import admin

    def build(a: admin.Author) -> tuple[str, str]:
        place = a.op("place", set={"name": "别的社区", "level": "community"}).entity_id
        team = a.op(
            "team",
            set={"name": "别队", "kind": "three_person", "community_id": place, "area": [place]},
        ).entity_id
        member = a.op("member", set={"name": "外人", "role": "volunteer", "team_id": team})
        return place, member.entity_id

    (place, member_id), _ = admin.write(rt, build)
    notice = make_op(
        "notice",
        None,
        set={"kind": "daily", "title": "t", "body": "b", "community_id": place,
             "published_at": "2022-04-01T00:00:00Z"},
        current=None, clock=HybridClock(), device="d-other", member=member_id,
    )  # fmt: skip
    with rt.db.write() as conn:
        conn.execute(
            devices.db.devices.insert().values(
                device_id="d-other", member_id=member_id, role="volunteer", team_id=None,
                enrolled_at=1, last_counter=0, system=False,
            )
        )  # fmt: skip
        phone = devices.load(conn, "d-other")
        assert phone is not None
        rejected = [Rejection(notice.op_id, "op.forbidden_role", {})]
        assert queue.keep(conn, rt.vault, phone, [notice], rejected, 5) == 1
    c = client(rt)
    login(c, "coord")
    assert "d-other" not in c.get("/console/devices").text
    r = c.get("/console/devices/d-other/revoke")
    assert r.status_code == 403 and "console.forbidden" in r.text
    token = csrf_of(c.get("/console/").text)
    r = c.post("/console/devices/d-other/revoke", data={"csrf": token})
    assert r.status_code == 403
    with rt.db.read() as conn:
        assert devices.load(conn, "d-other").revoked_at is None  # type: ignore[union-attr]
        denied = audit.listing(conn, action=audit.ACCESS_DENIED)
    assert [(e.who, e.target) for e in denied] == [("coord", "d-other")] * 2
    assert 'id="review-1"' not in c.get("/console/review").text
    r = c.get("/console/review/1")
    assert r.status_code == 403 and "console.forbidden" in r.text
    r = c.post("/console/review/1/dismiss", data={"csrf": token})
    assert r.status_code == 403
    with rt.db.read() as conn:
        assert queue.get(conn, rt.vault, 1).state == queue.OPEN
        denied = audit.listing(conn, action=audit.ACCESS_DENIED)
    assert [e.target for e in denied] == ["1", "1", "d-other", "d-other"]
    assert c.get("/console/audit").status_code == 403  # admins only
    admin_client = client(rt)
    login(admin_client, "admin1")
    assert "d-other" in admin_client.get("/console/devices").text
    page = admin_client.get("/console/audit?action=access")
    assert page.status_code == 200 and page.text.count('data-action="access.denied"') == 5
    assert 'id="review-1"' in admin_client.get("/console/review").text


def test_english_switch_and_every_page_renders_in_both_languages(world) -> None:
    rt, _ = world
    c = client(rt)
    login(c, "admin1")
    for lang, word in (("en", "Devices"), ("zh-CN", "设备")):
        c.get(f"/console/lang/{lang}?next=/console/")
        for path in ("/console/", "/console/devices", "/console/review", "/console/audit"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            assert word in r.text and "console." not in re.sub(r"<[^>]+>", "", r.text)


def test_a_one_time_password_must_be_changed_first(world) -> None:
    rt, _ = world
    _, one_time = users.reset(rt, "coord", password=None, by="cli", now=2)
    assert one_time
    c = client(rt)
    login(c, "coord", one_time)
    r = c.get("/console/devices", follow_redirects=False)
    assert r.headers["location"] == "/console/password"
    token = csrf_of(c.get("/console/password").text)
    new = "a much better password"
    r = c.post(
        "/console/password",
        data={"csrf": token, "current": one_time, "new": new, "again": new},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert c.get("/console/devices").status_code == 200


def test_console_catalogs_have_the_same_keys_and_every_code() -> None:
    zh: dict[str, str] = {}
    en: dict[str, str] = {}
    for lang, merged in (("zh-CN", zh), ("en", en)):
        for path in sorted((CONSOLE / "locales" / lang).glob("*.json")):  # each page's own file
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    assert zh.keys() == en.keys()
    for page in (CONSOLE / "locales/en").glob("*.json"):  # each page's own catalog too
        en = {**en, **json.loads(page.read_text(encoding="utf-8"))}
    codes = set()
    for path in CONSOLE.rglob("*.py"):
        codes |= set(
            re.findall(r'(?:Refusal|LinliError)\(\s*"(console\.[a-z_.]+)"', path.read_text())
        )
    assert codes and all(f"error.{code}" in en for code in codes)
    templates = "".join(p.read_text() for p in (CONSOLE / "templates").glob("*.html"))
    for key in re.findall(r't\("(console\.[a-z_.]+)"', templates):
        assert key.endswith((".", "_")) or key in en, key  # built in place: checked by rendering


def test_retire_and_review_decisions_in_scope_are_done_and_audited(world) -> None:
    rt, summary = world
    from sync.server import admin

    team = summary.teams["观海轩1栋邻里服务队"]
    member = admin.create_member(rt, name="志愿者甲", role="volunteer", team_id=team)
    notice = make_op(
        "notice",
        None,
        set={"kind": "daily", "title": "t", "body": "b", "community_id": summary.community_id,
             "published_at": "2022-04-01T00:00:00Z"},
        current=None, clock=HybridClock(), device="d-mine", member=member,
    )  # fmt: skip
    with rt.db.write() as conn:
        conn.execute(
            devices.db.devices.insert().values(
                device_id="d-mine", member_id=member, role="volunteer", team_id=team,
                enrolled_at=1, last_counter=0, system=False,
            )
        )  # fmt: skip
        phone = devices.load(conn, "d-mine")
        assert phone is not None
        rejected = [Rejection(notice.op_id, "op.forbidden_role", {})]
        queue.keep(conn, rt.vault, phone, [notice], rejected, 5)
    c = client(rt)
    login(c, "coord")
    assert 'id="device-d-mine"' in c.get("/console/devices").text
    confirm = c.get("/console/devices/d-mine/retire")
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.text
    r = c.post("/console/devices/d-mine/retire", data={"csrf": csrf_of(confirm.text)})
    assert r.status_code == 200 and 'id="devices-done"' in r.text
    again = c.post("/console/devices/d-mine/retire", data={"csrf": csrf_of(confirm.text)})
    assert again.status_code == 409 and "console.retire_not_possible" in again.text
    item = c.get("/console/review/1")
    assert item.status_code == 200 and 'id="apply-form"' in item.text
    r = c.post("/console/review/1/apply", data={"csrf": csrf_of(item.text), "note": "ok"})
    assert r.status_code == 200 and 'id="review-decided"' in r.text and "coord" in r.text
    with rt.db.read() as conn:
        assert devices.load(conn, "d-mine").retired_at is not None  # type: ignore[union-attr]
        decided = queue.get(conn, rt.vault, 1)
        actions = [(e.who, e.action, e.target) for e in reversed(audit.listing(conn))]
    assert decided.state == queue.APPLIED and decided.decided_by == "coord"
    assert actions[-4:] == [
        ("coord", "device.retire", "d-mine"),
        ("coord", "review.view", "1"),
        ("coord", "review.apply", "1"),
        ("coord", "review.view", "1"),
    ]


def test_the_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    from sync.server import config

    settings = config.resolve(tmp_path / "s", None, "https://linli.example.org")
    config.init_data_dir(settings, save_database=False)
    rt = make_runtime(tmp_path / "s")
    try:
        users.add(rt, "admin1", "admin", [], password=PASSWORD, by="cli", now=1)
        c = client(rt, "https://linli.example.org")
        pre = csrf_of(c.get("/console/login").text)
        r = c.post(
            "/console/login",
            data={"csrf": pre, "name": "admin1", "password": PASSWORD},
            follow_redirects=False,
        )
        session_cookie = next(
            v for v in r.headers.get_list("set-cookie") if v.startswith("linli_console=")
        )
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    finally:
        rt.close()


def test_htmx_gets_the_fragment_and_a_browser_the_whole_page(world) -> None:
    rt, _summary = world
    c = client(rt)
    login(c, "coord")
    whole = c.get("/console/").text
    part = c.get("/console/", headers={"HX-Request": "true"}).text
    assert "<html" in whole and 'id="count-review"' in whole
    assert "<html" not in part and 'id="count-review"' in part and "<nav" not in part
