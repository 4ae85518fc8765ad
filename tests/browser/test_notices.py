"""A notice published, edited and withdrawn in the command centre reaching an enrolled phone, and
a contact added there showing on the phone — Debian's Chromium, a real server process, the team
lead's phone served by ``python -m app``. Then the Notices and Contacts pages photographed at
1366×768 and 768×1024 in zh-CN and English (``test-artifacts/screenshots/console/``)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from sync.server.demo import DEMO_ACCOUNT, DEMO_PASSWORD
from tests.browser.conftest import PIN, World
from tests.browser.driver import SHOTS, PhoneScreen, pattern_of, wait_for

pytestmark = pytest.mark.browser
OUT = SHOTS / "console"
SIZES = {"laptop": (1366, 768), "tablet": (768, 1024)}


def console(browser: Browser, world: World, lang: str = "zh-CN", size: str = "laptop") -> Page:
    width, height = SIZES[size]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{world.server.url}/console/lang/{lang}?next=/console/notices")
    page.fill("#name", DEMO_ACCOUNT)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#notices-table")).to_be_visible()
    return page


def phone_sync(screen: PhoneScreen) -> None:
    screen.tap_tab(screen.t("ui.nav.settings"))
    screen.tap_id("settings-open-sync")
    screen.tap(screen.t("ui.syncpage.sync_now"))
    done = pattern_of(screen.t("ui.syncpage.done"))
    wait_for(lambda: done.search(screen.all_text()), 30, f"a finished sync on {screen.name}")
    screen.back()
    screen.tap_tab(screen.t("ui.nav.notices"))


def notice_ids(screen: PhoneScreen) -> list[str]:
    return [i.removeprefix("notice-") for i in screen.ids("notice-") if "unread-" not in i]


def test_01_a_notice_published_edited_withdrawn_reaches_the_phone(
    world: World, browser: Browser
) -> None:
    lead = world.screen("lead", browser)
    lead.fill(lead.t("ui.unlock.pin"), PIN)
    lead.tap(lead.t("ui.unlock.submit"))
    page = console(browser, world)
    try:
        page.click("#notice-new")
        page.select_option("#f-kind", "rumour_rebuttal")
        page.fill("#f-title", "辟谣：网传今晚断水不实")
        page.fill("#f-body", "供水正常，请勿转发。")
        page.click("#notice-submit")
        expect(page.locator("#notice-done")).to_be_visible()
        expect(page.locator("#wechat-copy")).to_be_visible()  # JavaScript shows the button
        expect(page.locator("#wechat-text")).to_have_value(
            re.compile(r"^【辟谣】辟谣：网传今晚断水不实\n")
        )
        page.screenshot(path=str(OUT / "notice-zh-CN-1366x768.png"), full_page=True)
        notice = page.url.split("/notices/")[1].split("?")[0]
        phone_sync(lead)
        wait_for(lambda: notice in notice_ids(lead), 20, "the notice on the phone")
        lead.see("辟谣：网传今晚断水不实")
        lead.shot("notices-published")

        page.fill("#f-title", "辟谣：网传今晚断水不实（更新）")
        page.click("#notice-submit")
        expect(page.locator("#notice-done")).to_be_visible()
        phone_sync(lead)
        lead.see("辟谣：网传今晚断水不实（更新）")
        lead.tap_id(f"notice-{notice}")
        lead.see_id("notice-title")
        assert "（更新）" in lead.text_of("notice-title")
        lead.back()

        page.click("#notice-withdraw")
        page.click("#confirm-submit")
        expect(page.locator("#notice-state")).to_have_text("已撤回")
        phone_sync(lead)
        wait_for(lambda: notice not in notice_ids(lead), 20, "the withdrawn notice to leave")
        lead.shot("notices-withdrawn")
        world.passed.add("notices")
    finally:
        page.context.close()


def test_02_a_contact_added_in_the_console_shows_on_the_phone(
    world: World, browser: Browser
) -> None:
    world.need("notices")
    lead = world.screen("lead", browser)
    page = console(browser, world)
    try:
        page.click("#nav-contacts")
        page.select_option("#f-kind", "duty_doctor")
        page.fill("#f-label", "社区卫生服务站")
        page.fill("#f-name", "林晓医生")
        page.fill("#f-phone", "138-0000-7777")
        page.click("#contact-submit")
        expect(page.locator("#contacts-done")).to_be_visible()
        phone_sync(lead)
        lead.tap_id("notices-contacts")
        lead.see("林晓医生")
        assert lead.has_text("13800007777")
        lead.shot("contacts-added")
        lead.back()
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_03_the_pages_at_both_sizes_and_languages(
    world: World, browser: Browser, lang: str, size: str
) -> None:
    width, height = SIZES[size]
    OUT.mkdir(parents=True, exist_ok=True)
    page = console(browser, world, lang, size)
    try:
        for path, marker, name in (
            ("/console/notices?state=all", "#notices-table", "notices"),
            ("/console/notices/new", "#notice-form", "notice-new"),
            ("/console/contacts", "table.contacts", "contacts"),
        ):
            page.goto(f"{world.server.url}{path}")
            expect(page.locator(marker).first).to_be_visible()
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, f"{name}: the page is {wide}px wider than the window"
            page.screenshot(path=str(OUT / f"{name}-{lang}-{width}x{height}.png"), full_page=True)
    finally:
        page.context.close()
