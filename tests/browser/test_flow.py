"""One end-to-end flow on real phones and a real server, in file order.

A volunteer enrolls through the first-run screen, locks and unlocks (a wrong PIN is explained),
works with the server stopped (a visit marked done, a resident's request logged: both kept on the
phone, the pending count goes up), sees the phone sync by itself when the server is back; the team
lead's phone sees the visit after its sync and reassigns a task to the volunteer, which arrives on
the volunteer's phone. Then screenshots of every main screen, the switch to English, and the
revoked flow (the server revokes the phone → it wipes itself and says why).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from sync.domain.labels import label
from tests.browser.conftest import PIN, World
from tests.browser.driver import PhoneScreen, pattern_of, wait_for

pytestmark = pytest.mark.browser

SYNC_S = 45.0  # probe backoff is capped at 3 s; a sync takes well under a second


def home_ids(screen: PhoneScreen) -> list[str]:
    """Assignment ids listed on a home screen / member list (not their status chips)."""
    return [
        i.removeprefix("assignment-")
        for i in screen.ids("assignment-")
        if not i.startswith("assignment-status-")
    ]


def unlock(screen: PhoneScreen, pin: str = PIN) -> None:
    screen.fill(screen.t("ui.unlock.pin"), pin)
    screen.tap(screen.t("ui.unlock.submit"))


def sync_now(screen: PhoneScreen) -> None:
    """Settings → the sync screen → "Sync now" (the way a person forces a pull) → back."""
    screen.tap_tab(screen.t("ui.nav.settings"))
    screen.tap_id("settings-open-sync")
    screen.tap(screen.t("ui.syncpage.sync_now"))
    done = pattern_of(screen.t("ui.syncpage.done"))
    wait_for(lambda: done.search(screen.all_text()), 30, f"a finished sync on {screen.name}")
    screen.back()


def test_01_enroll_through_first_run_screen(world: World, browser: Browser) -> None:
    v = world.screen("volunteer", browser)
    v.see(v.t("ui.setup.submit"))
    code = world.server.enrollment_code(world.volunteer.member_id)
    v.fill(v.t("ui.setup.server"), world.server.url)
    v.fill(v.t("ui.setup.code"), code)
    v.fill(v.t("ui.setup.pin"), PIN)
    v.fill(v.t("ui.setup.pin_again"), PIN)
    v.shot("setup")
    v.tap(v.t("ui.setup.submit"))
    v.see_id("count-todo", timeout_s=60)
    wait_for(lambda: home_ids(v), 30, "the volunteer's assignments on the home screen")
    rows = world.server.devices()
    mine = [r for r in rows if r["member_id"] == world.volunteer.member_id]
    assert len(mine) == 1, f"the server lists {len(mine)} devices for the volunteer"
    world.facts["volunteer_device"] = str(mine[0]["device_id"])
    world.passed.add("enrolled")


def test_02_lock_and_unlock_with_the_pin(world: World, browser: Browser) -> None:
    world.need("enrolled")
    v = world.screens["volunteer"]
    v.tap_tab(v.t("ui.nav.settings"))
    v.tap(v.t("ui.settings.lock_now"))
    v.see(v.t("ui.unlock.intro"))
    v.shot("unlock")
    unlock(v, "000000")
    wrong_pin = pattern_of(v.t("error.store.wrong_pin"), remaining=r"\d+")
    wait_for(lambda: wrong_pin.search(v.all_text()), 15, "the wrong-PIN error when unlocking")
    unlock(v)
    v.see_id("count-todo", timeout_s=30)
    world.passed.add("unlocked")


def test_03_offline_visit_and_request_are_kept_on_the_phone(world: World, browser: Browser) -> None:
    world.need("unlocked")
    v = world.screens["volunteer"]
    world.server.stop()
    v.tap_tab(v.t("ui.nav.home"))
    before = v.wait_pending(lambda n: n >= 0, 10, "the pending count")
    target = home_ids(v)[0]
    world.facts["done_assignment"] = target
    v.tap_id(f"assignment-{target}")
    v.tap(label("visit.outcome", "done", v.lang), exact=True)
    v.see_id("visit-saved")
    assert v.has_text(v.t("ui.field.saved_local")), "the app must say the visit is kept here"
    v.wait_pending(lambda n: n == before + 1, 10, f"pending {before + 1} after the visit")
    address = v.text_of("assignment-address").strip()
    # a resident's request for the same household, from its assignment
    v.tap(v.t("ui.field.visit.log_request"))
    v.pick(label("request.category", "medicine", v.lang))
    v.fill(v.t("ui.field.new.description"), "需要降压药，家中已断药两天")
    v.tap(v.t("ui.field.new.save"))
    v.see(v.t("ui.field.saved_local"))
    v.wait_pending(lambda n: n == before + 2, 10, f"pending {before + 2} after the request")
    world.facts["request_address"] = address
    world.passed.add("offline")


def test_04_back_online_it_syncs_by_itself(world: World, browser: Browser) -> None:
    world.need("offline")
    v = world.screens["volunteer"]
    world.server.start()  # same data dir, same port
    v.wait_pending(lambda n: n == 0, SYNC_S, "pending 0 without a tap after the server is back")
    world.passed.add("synced")


def test_05_the_lead_sees_the_visit_and_reassigns(world: World, browser: Browser) -> None:
    world.need("synced")
    lead = world.screen("lead", browser)
    unlock(lead)
    lead.see_id("count-todo", timeout_s=30)
    sync_now(lead)
    lead.tap_tab(lead.t("ui.nav.team"))
    lead.tap_id(f"member-{world.volunteer.member_id}")
    done = world.facts["done_assignment"]
    done_label = label("assignment.status", "done", lead.lang)
    lead.reach_id(f"status-{done}")  # finished work is listed last
    wait_for(
        lambda: done_label in lead.text_of(f"status-{done}"),
        20,
        "the volunteer's visit (status done) on the lead's team board",
    )
    # reassign another volunteer's open task to this volunteer
    lead.back()
    other = next(
        m
        for m in world.members
        if m.team_id == world.lead.team_id
        and m.role == "volunteer"
        and m.member_id != world.volunteer.member_id
    )
    lead.tap_id(f"member-{other.member_id}")
    task = wait_for(lambda: home_ids(lead), 15, f"{other.name}'s tasks")[0]
    card = lead.reach_id(f"assignment-{task}")
    lead.tap_in(card, lead.t("ui.team.reassign"))
    lead.tap_id(f"reassign-to-{world.volunteer.member_id}")
    lead.see(lead.t("ui.team.reassigned", name=world.volunteer.name))
    world.facts["reassigned"] = task
    lead.wait_pending(lambda n: n == 0, SYNC_S, "the lead's reassignment synced by itself")
    world.passed.add("reassigned")


def test_06_the_reassigned_task_arrives_on_the_volunteer_phone(
    world: World, browser: Browser
) -> None:
    world.need("reassigned")
    v = world.screens["volunteer"]
    sync_now(v)
    v.tap_tab(v.t("ui.nav.home"))
    task = world.facts["reassigned"]
    wait_for(lambda: task in home_ids(v), 20, f"task {task} on the volunteer's home screen")
    world.passed.add("arrived")


def listed(screen: PhoneScreen, prefix: str) -> list[str]:
    """Ids of list items ``<prefix><id>`` (not their ``<prefix>status-…`` parts)."""
    parts = ("status-", "sla-", "unread-")
    return [
        i.removeprefix(prefix)
        for i in screen.ids(prefix)
        if not i.removeprefix(prefix).startswith(parts)
    ]


def volunteer_tour(v: PhoneScreen) -> None:
    """Every main screen of the volunteer's phone, photographed at both sizes."""
    v.tap_tab(v.t("ui.nav.home"))
    wait_for(lambda: home_ids(v), 15, "tasks on the home screen")
    v.shot("home")
    v.tap_id(f"assignment-{home_ids(v)[0]}")
    v.see_id("assignment-address")
    v.shot("assignment")
    v.tap_tab(v.t("ui.nav.requests"))
    first = wait_for(lambda: listed(v, "request-"), 15, "requests on the requests screen")[0]
    v.shot("requests")
    v.tap_id(f"request-{first}")
    v.see_id("request-status")
    v.shot("request-detail")
    v.back()
    v.tap(v.t("ui.field.requests.new"))
    v.see(v.t("ui.field.new.save"))
    v.shot("new-request")
    v.tap_tab(v.t("ui.nav.notices"))
    wait_for(lambda: listed(v, "notice-"), 15, "notices on the notices screen")
    v.shot("notices")
    v.tap_id("notices-contacts")
    wait_for(lambda: listed(v, "contact-"), 15, "the contact directory")
    v.shot("contacts")
    v.tap_tab(v.t("ui.nav.settings"))
    v.see_id("me-name")
    v.shot("settings")
    v.tap_id("settings-open-sync")
    v.see(v.t("ui.syncpage.sync_now"))
    v.shot("sync")
    v.back()


def lead_tour(lead: PhoneScreen) -> None:
    lead.tap_tab(lead.t("ui.nav.team"))
    lead.see_id("team-totals")
    lead.shot("team-board")
    lead.tap(lead.t("ui.team.summary"))
    lead.see_id("summary-done")
    lead.shot("team-summary")
    lead.back()


def test_07_main_screens_in_chinese(world: World, browser: Browser) -> None:
    world.need("arrived")
    volunteer_tour(world.screens["volunteer"])
    lead_tour(world.screens["lead"])
    world.passed.add("toured")


def switch_to_english(screen: PhoneScreen) -> None:
    screen.tap_tab(screen.t("ui.nav.settings"))
    screen.tap(screen.t("ui.settings.lang_en"), exact=True)
    screen.lang = "en"
    screen.see(screen.t("ui.settings.title"))
    wait_for(
        lambda: screen.page.get_by_role("tab", name=screen.t("ui.nav.home")).count(),
        15,
        "the navigation bar in English",
    )


def test_08_language_switch_to_english(world: World, browser: Browser) -> None:
    world.need("unlocked")
    v, lead = world.screens["volunteer"], world.screens.get("lead")
    switch_to_english(v)
    assert v.has_text(v.t("ui.settings.lock_now")) or v.has_text(v.t("ui.settings.language"))
    world.passed.add("english")
    v.tap(v.t("ui.settings.lock_now"))
    v.see(v.t("ui.unlock.intro"))
    v.shot("unlock")
    unlock(v)
    v.see_id("count-todo", timeout_s=30)
    volunteer_tour(v)
    if lead is not None and "reassigned" in world.passed:
        switch_to_english(lead)
        lead_tour(lead)


def test_09_a_revoked_phone_wipes_itself_and_says_why(world: World, browser: Browser) -> None:
    from app.store import LocalStore

    world.need("enrolled")
    v = world.screens["volunteer"]
    if not world.server.running:
        world.server.start()
    world.server.revoke(world.facts["volunteer_device"])
    v.tap_tab(v.t("ui.nav.settings"))
    v.tap_id("settings-open-sync")
    v.tap(v.t("ui.syncpage.sync_now"))
    v.see(v.t("ui.revoked"), timeout_s=30)
    v.see(v.t("ui.setup.submit"))
    assert not LocalStore.exists(world.phones["volunteer"].data_dir), "local data must be wiped"
    v.shot("setup-after-revoked")
    wait_for(lambda: not v.has_text(v.t("ui.revoked")), 15, "the revoked notice to fade")
    v.shot("setup")
