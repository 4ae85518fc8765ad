"""Browser-test fixtures: one real server process, real phone processes, Debian's Chromium.

The world (module scope): ``python -m sync.server`` init + demo + serve on a free port with its
own temp data dir; the team lead's phone enrolled with the real ``Device.enroll`` and served by
``python -m app``; the volunteer's phone served un-enrolled (the flow enrolls it through the
first-run screen). Steps of one flow run in file order; a step whose prerequisite failed is
skipped and names it, so the first failure is the one that says where. When a test fails, every
open phone screen is saved under ``test-artifacts/screenshots/failures/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from app.demo import DEMO_PIN, enroll_phone
from bench.app import CHROMIUM, CHROMIUM_ARGS
from sync.server.harness import Member, PhoneProcess, ServerProcess, team_pair
from tests.browser.driver import SHOTS, PhoneScreen

PIN = DEMO_PIN


@dataclass
class World:
    root: Path
    server: ServerProcess
    members: list[Member]
    volunteer: Member
    lead: Member
    phones: dict[str, PhoneProcess] = field(default_factory=dict)
    screens: dict[str, PhoneScreen] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    facts: dict[str, str] = field(default_factory=dict)

    def need(self, *steps: str) -> None:
        """Skip this step when one it builds on did not pass (that failure says where)."""
        missing = [s for s in steps if s not in self.passed]
        if missing:
            pytest.skip(f"needs the earlier step(s) {', '.join(missing)}, which did not pass")

    def screen(self, who: str, browser: Browser, lang: str = "zh-CN") -> PhoneScreen:
        if who not in self.screens:
            phone = self.phones[who]
            screen = PhoneScreen(browser, phone.url, lang=lang, name=who)
            screen.open()
            self.screens[who] = screen
        return self.screens[who]

    def member_named(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    shutil.rmtree(SHOTS / "failures", ignore_errors=True)  # only this run's failures
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("browser-world")
    server = ServerProcess(root / "server")
    phones: dict[str, PhoneProcess] = {}
    built: World | None = None
    try:
        server.init()
        members = server.seed_demo()
        volunteer, lead = team_pair(members)
        server.start()
        code = server.enrollment_code(lead.member_id)
        enroll_phone(root / "lead", server.url, code, PIN, label="队长的手机")
        phones["lead"] = PhoneProcess(root / "lead", None, server.url)
        phones["volunteer"] = PhoneProcess(root / "volunteer", None, server.url)
        for phone in phones.values():
            phone.start(wait=False)  # both start at once, then wait for each
        for phone in phones.values():
            phone.wait_ready()
        built = World(root, server, members, volunteer, lead, phones)
        yield built
    finally:
        # close the module's phone tabs first: a Flet page left open keeps repainting and
        # reconnecting, costing the rest of the run most of a core
        for screen in built.screens.values() if built is not None else ():
            screen.close()
        for phone in phones.values():
            phone.stop()
        server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _shots_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not request.node.stash.get(_FAILED, False) or "world" not in request.fixturenames:
        return
    w: World = request.getfixturevalue("world")
    for who, screen in w.screens.items():
        path = SHOTS / "failures" / f"{request.node.name}-{who}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            screen.page.screenshot(path=str(path))
        except Exception as exc:  # the page may be gone; the failure itself is what matters
            print(f"no failure screenshot of {who}: {exc}")
        else:
            print(f"failure screenshot: {path}")
