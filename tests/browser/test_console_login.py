"""Logging in to the command centre in Debian's Chromium against a real server process: the
second factor (TOTP) step, and throttling after repeated wrong passwords — each refusal a coded,
plain message. Screenshots go to ``test-artifacts/screenshots/console/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from sync.server.accounts.sessions import ACCOUNT_LIMIT
from sync.server.demo import DEMO_ACCOUNT, DEMO_PASSWORD
from sync.server.harness import ServerProcess
from tests.browser.driver import SHOTS

pytestmark = pytest.mark.browser
OUT = SHOTS / "console"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("console-login")
    server = ServerProcess(root / "server")
    server.init()
    server.seed_demo()  # also adds the demo coordinator account
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _login(page: Page, server: ServerProcess, password: str) -> None:
    page.goto(f"{server.url}/console/lang/zh-CN?next=/console/")
    page.fill("#name", DEMO_ACCOUNT)
    page.fill("#password", password)
    page.click("#login-submit")


def test_a_second_factor_is_asked_and_checked(browser: Browser, server: ServerProcess) -> None:
    printed = server.run("user", "totp", DEMO_ACCOUNT).stdout
    uri = re.search(r"otpauth://\S+", printed)
    assert uri is not None, printed
    secret = parse_qs(urlparse(uri.group(0)).query)["secret"][0]
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        _login(page, server, DEMO_PASSWORD)
        expect(page.locator("#totp-form")).to_be_visible()  # the password alone is not enough
        page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        page.click("#totp-submit")
        expect(page.locator("#login-error")).to_be_visible()
        page.screenshot(path=str(OUT / "totp-error-zh-CN-1366x768.png"))
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("#totp-submit")
        expect(page.locator("#nav-overview")).to_have_attribute("aria-current", "page")
        page.click("#logout")
        expect(page.locator("#login-notice")).to_be_visible()
    finally:
        context.close()
        server.run("user", "totp", DEMO_ACCOUNT, "--off")


def test_repeated_wrong_passwords_are_throttled(browser: Browser, server: ServerProcess) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        for _ in range(ACCOUNT_LIMIT):
            _login(page, server, "not the password")
            expect(page.locator("#login-error")).to_have_attribute("data-code", "account.bad_login")
        _login(page, server, DEMO_PASSWORD)  # even the right password waits now
        error = page.locator("#login-error")
        expect(error).to_have_attribute("data-code", "account.throttled")
        expect(error).to_contain_text("分钟")  # says how long to wait
        page.screenshot(path=str(OUT / "login-throttled-zh-CN-1366x768.png"))
    finally:
        context.close()
