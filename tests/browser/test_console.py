"""The command centre in Debian's Chromium against a real server process: login and the
devices page at 1366×768 and 768×1024, in zh-CN and English, with a wrong password first.
Screenshots go to ``test-artifacts/screenshots/console/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from sync.server.demo import DEMO_ACCOUNT, DEMO_PASSWORD
from sync.server.harness import ServerProcess
from tests.browser.driver import SHOTS
from tests.integration.server.conftest import Phone

pytestmark = pytest.mark.browser
OUT = SHOTS / "console"
SIZES = {"laptop": (1366, 768), "tablet": (768, 1024)}
NAV = {"zh-CN": ("概览", "设备", "审核"), "en": ("Overview", "Devices", "Review")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("console-browser")
    server = ServerProcess(root / "server")
    server.init()
    members = server.seed_demo()  # also adds the demo coordinator account
    server.start()
    try:
        volunteer = next(m for m in members if m.role == "volunteer")
        phone = Phone(server.url)
        assert (
            phone.enroll(server.enrollment_code(volunteer.member_id), "演示手机").status_code == 200
        )
        phone.sync()
        yield server
    finally:
        server.stop()


def _no_page_overflow(page: Page) -> None:
    """The page never scrolls sideways (wide tables scroll inside their own box)."""
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"the page is {wide}px wider than the window"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_login_and_devices(browser: Browser, server: ServerProcess, lang: str, size: str) -> None:
    width, height = SIZES[size]
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, locale=lang)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/lang/{lang}?next=/console/devices")
        expect(page.locator("#login-form")).to_be_visible()
        page.fill("#name", DEMO_ACCOUNT)
        page.fill("#password", "not the password")
        page.click("#login-submit")
        expect(page.locator("#login-error")).to_have_attribute("data-code", "account.bad_login")
        page.screenshot(path=str(OUT / f"login-error-{lang}-{width}x{height}.png"))
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-submit")
        expect(page.locator("#devices-table")).to_be_visible()
        expect(page.locator("#devices-table tbody tr")).to_have_count(1)
        expect(page.locator("#devices-table")).to_contain_text("演示手机")
        for word in NAV[lang]:
            expect(page.locator("nav.main")).to_contain_text(word)
        expect(page.locator("#nav-devices")).to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-audit")).to_have_count(0)  # a coordinator: no audit page
        _no_page_overflow(page)
        page.screenshot(path=str(OUT / f"devices-{lang}-{width}x{height}.png"), full_page=True)
        page.click("#nav-overview")
        expect(page.locator("#count-households .num")).to_have_text("120")
        _no_page_overflow(page)
        page.screenshot(path=str(OUT / f"overview-{lang}-{width}x{height}.png"))
        page.click("#logout")
        expect(page.locator("#login-notice")).to_be_visible()
    finally:
        context.close()
