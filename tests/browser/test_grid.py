"""The Grid page in Debian's Chromium against a real practice server, and a real phone process:
an admin creates a street and a community in the tree, sets a household 居家隔离 from today and
sees "第 1 天/共 14 天" on the console; after its sync the enrolled phone shows the same on the
household's task, under the 演练 banner. Screenshots at 1366×768 and 768×1024 in zh-CN and en
go to ``test-artifacts/screenshots/console/``, the phone's to ``test-artifacts/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.demo import DEMO_PIN, enroll_phone
from sync.server import config
from sync.server.accounts import users
from sync.server.harness import PhoneProcess, ServerProcess, team_pair
from sync.server.runtime import Runtime
from tests.browser.driver import SHOTS, PhoneScreen, wait_for
from tests.browser.test_flow import home_ids, sync_now, unlock

pytestmark = pytest.mark.browser
OUT = SHOTS / "console"
SIZES = {"laptop": (1366, 768), "tablet": (768, 1024)}
ADMIN, PASSWORD = "grid-admin", "a long admin password"


@dataclass
class Setup:
    server: ServerProcess
    phone: PhoneProcess
    data_dir: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("grid-browser")
    server = ServerProcess(root / "server")
    phone: PhoneProcess | None = None
    try:
        server.cli("init", "--public-url", server.url, "--practice")
        members = server.seed_demo()
        with Runtime.open(config.resolve(root / "server")) as rt:
            users.add(rt, ADMIN, "admin", [], password=PASSWORD, by="test", now=1)
        volunteer, _lead = team_pair(members)
        server.start()
        code = server.enrollment_code(volunteer.member_id)
        enroll_phone(root / "phone", server.url, code, DEMO_PIN, label="网格测试手机")
        # the phone counts days in its own calendar: in the field, the operation's zone
        phone = PhoneProcess(root / "phone", None, server.url, env={"TZ": "Asia/Shanghai"})
        phone.start()
        yield Setup(server, phone, root / "server")
    finally:
        if phone is not None:
            phone.stop()
        server.stop()


def target_of(data_dir: Path, assignment_id: str) -> str:
    with Runtime.open(config.resolve(data_dir)) as rt, rt.db.read() as conn:
        found = rt.ledger.world(conn).record("assignment", assignment_id)
    assert found is not None and found["target_kind"] == "household"
    return str(found["target_id"])


def login(page: Page, url: str) -> None:
    page.goto(f"{url}/console/lang/zh-CN?next=/console/grid")
    page.fill("#name", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#grid-tree")).to_be_visible()


def shots(page: Page, name: str) -> None:
    """The page at both sizes in both languages (then back to zh-CN at the laptop size)."""
    OUT.mkdir(parents=True, exist_ok=True)
    for lang in ("zh-CN", "en"):
        if page.locator("html").get_attribute("lang") != lang:
            page.click("#lang-switch")
            expect(page.locator("html")).to_have_attribute("lang", lang)
        for width, height in SIZES.values():
            page.set_viewport_size({"width": width, "height": height})
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, f"the page is {wide}px wider than the window"
            page.screenshot(path=str(OUT / f"{name}-{lang}-{width}x{height}.png"), full_page=True)
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.set_viewport_size({"width": 1366, "height": 768})


def test_grid_street_community_and_home_isolation_reach_the_phone(
    browser: Browser, setup: Setup
) -> None:
    url = setup.server.url
    # the phone: unlocked, its tasks there; the household of its first task
    screen = PhoneScreen(browser, setup.phone.url, lang="zh-CN", name="grid-phone")
    screen.open()
    unlock(screen)
    screen.see_id("count-todo", timeout_s=60)
    task = wait_for(lambda: home_ids(screen), 30, "the volunteer's tasks")[0]
    household = target_of(setup.data_dir, task)

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, url)
        expect(page.locator("#practice-banner")).to_be_visible()
        # a street under the demo district, then a community under the street
        page.click("#grid-tree a:text-is('大鹏湾区')")
        expect(page.locator("#place-name")).to_contain_text("大鹏湾区")
        page.fill("#child-name", "霞涌街道")
        page.click("#add-child-submit")
        expect(page.locator("#grid-done")).to_be_visible()
        page.click("#grid-children a:text-is('霞涌街道')")
        page.fill("#child-name", "新村社区")
        page.click("#add-child-submit")
        expect(page.locator("#grid-children")).to_contain_text("新村社区")
        shots(page, "grid-street")
        page.click("#grid-crumbs a:text-is('网格')")
        expect(page.locator("#grid-tree")).to_contain_text("新村社区")
        shots(page, "grid-tree")

        # the household: 居家隔离 from today (the form's default first day)
        page.goto(f"{url}/console/grid/household/{household}")
        page.select_option("#control-status", "home_isolation")
        page.click("#control-submit")
        expect(page.locator("#grid-done")).to_be_visible()
        expect(page.locator("#control-days")).to_have_text("第 1 天/共 14 天")
        expect(page.locator("#control-history")).to_contain_text(ADMIN)
        shots(page, "grid-household")
        page.click("#lang-switch")
        expect(page.locator("#control-days")).to_have_text("day 1 of 14")
    finally:
        context.close()

    # the phone, after its sync: the task's household shows the same, under the practice banner
    sync_now(screen)
    screen.tap_tab(screen.t("ui.nav.home"))
    screen.tap_id(f"assignment-{task}")
    screen.see_id("household-control", timeout_s=20)
    wait_for(
        lambda: "第 1 天/共 14 天" in screen.text_of("household-control"),
        20,
        f"day 1 of 14 on the phone: {screen.text_of('household-control')!r}",
    )
    assert "居家隔离" in screen.text_of("household-control")
    screen.see_id("practice-banner")
    screen.shot("grid-household-control")
    screen.close()
