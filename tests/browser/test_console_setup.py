"""Setting up an operation in the command centre, in Debian's Chromium against a real ``serve``
process (SQLite) and a real phone app process, as the demo coordinator of 观海轩社区:

1. 住户: a committee's GBK CSV (Chinese headers, 序号 and 性别 extra, three bad rows) → the
   column-mapping step → the preview lists all three (line, column, reason) and offers no
   commit → the fixed file commits (progress page) → after its sync the enrolled phone finds the
   new households in its household search;
2. 队伍: an XLSX roster made here with openpyxl, previewed and committed;
3. the enrollment sheet of that team: one card per member (name, team, code, expiry) with a QR
   whose link carries the server, the code and the server key's fingerprint;
4. scope: the coordinator cannot open another community's households, import or grid page (403,
   coded) and an admin finds the ``access.denied`` entries in the audit log.

Screenshots at 1366×768 and 768×1024 in zh-CN and en go to
``test-artifacts/screenshots/console/``, the phone's to ``test-artifacts/screenshots/``.
Steps run in file order; one whose prerequisite failed is skipped and names it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.demo import DEMO_PIN, enroll_phone
from sync.protocol import fingerprint_of, parse_enroll_link
from sync.server import config
from sync.server.accounts import users
from sync.server.demo import DEMO_ACCOUNT, DEMO_PASSWORD
from sync.server.harness import Member, PhoneProcess, ServerProcess
from sync.server.importing.places import add_place
from sync.server.names import Directory
from sync.server.runtime import Runtime
from tests.browser.driver import SHOTS, PhoneScreen, wait_for
from tests.browser.test_flow import sync_now, unlock

pytestmark = pytest.mark.browser
OUT = SHOTS / "console"
SIZES = ((1366, 768), (768, 1024))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
ADMIN, ADMIN_PASSWORD = "setup-admin", "a long admin password"
COMMUNITY = "观海轩社区"
OTHER = "东涌社区"  # a second community of the same street, outside the coordinator's scope
TARGETED = "观海轩重点人群帮扶队"  # the demo team whose area is the whole community
ROSTER_TEAM = "观海轩1栋邻里服务队"
ROSTER_HEADER = ("姓名", "电话", "角色", "队伍")
ROSTER_ROWS = (
    ("林晓东", "+86 139 0000 1001", "队长", ROSTER_TEAM),
    ("陈美玲", "139-0000-1002", "志愿者", ROSTER_TEAM),
    ("黄志强", "13900001003", "", ROSTER_TEAM),
)


@dataclass
class Setup:
    server: ServerProcess
    phone: PhoneProcess
    data_dir: Path
    community: str
    other: str
    teams: dict[str, str]
    passed: set[str] = field(default_factory=set)

    def need(self, *steps: str) -> None:
        missing = [s for s in steps if s not in self.passed]
        if missing:
            pytest.skip(f"needs the earlier step(s) {', '.join(missing)}, which did not pass")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("setup-browser")
    server = ServerProcess(root / "server")
    phone: PhoneProcess | None = None
    try:
        server.init()
        members = server.seed_demo()  # also adds the demo coordinator of 观海轩社区
        with Runtime.open(config.resolve(root / "server")) as rt:
            users.add(rt, ADMIN, "admin", [], password=ADMIN_PASSWORD, by="test", now=1)
            names = Directory(rt)
            places = names.records("place")
            community = next(p for p, r in places.items() if r.get("name") == COMMUNITY)
            street = str(places[community]["parent_id"])
            other = add_place(rt, level="community", name=OTHER, parent_id=street)
            team_ids = {str(r.get("name")): t for t, r in names.records("team").items()}
        server.start()
        # a volunteer of the team whose area is the whole community: its phone holds every
        # household of the community, so it receives the imported ones
        volunteer: Member = next(
            m for m in members if m.team_id == team_ids[TARGETED] and m.role == "volunteer"
        )
        code = server.enrollment_code(volunteer.member_id)
        enroll_phone(root / "phone", server.url, code, DEMO_PIN, label="帮扶队手机")
        phone = PhoneProcess(root / "phone", None, server.url)
        phone.start()
        yield Setup(server, phone, root / "server", community, other, team_ids)
    finally:
        if phone is not None:
            phone.stop()
        server.stop()


# -- helpers ------------------------------------------------------------------------------------
def open_console(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    return context, context.new_page()


def login(page: Page, url: str, name: str, password: str, then: str) -> None:
    page.goto(f"{url}/console/lang/zh-CN?next={then}")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("#login-form")).to_have_count(0)


def language(page: Page, url: str, lang: str, then: str) -> None:
    page.goto(f"{url}/console/lang/{lang}?next={then}")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def snap(page: Page, name: str, lang: str) -> None:
    """The page as it is, at both sizes (it never scrolls sideways)."""
    OUT.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 1, f"{name}: the page is {wide}px wider than the window"
        page.screenshot(path=str(OUT / f"{name}-{lang}-{width}x{height}.png"), full_page=True)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def shots(page: Page, name: str) -> None:
    """A GET page at both sizes in both languages (then back to zh-CN)."""
    for lang in ("zh-CN", "en"):
        if page.locator("html").get_attribute("lang") != lang:
            page.click("#lang-switch")
            expect(page.locator("html")).to_have_attribute("lang", lang)
        snap(page, name, lang)
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def upload_households(page: Page, url: str, community: str, path: Path, name: str) -> None:
    page.goto(f"{url}/console/households?community={community}")
    page.click("#import-link")
    expect(page.locator("#import-community")).to_have_value(community)
    page.set_input_files(
        "#import-file", {"name": name, "mimeType": "text/csv", "buffer": path.read_bytes()}
    )
    page.click("#import-submit")
    expect(page.locator("#mapping-form")).to_be_visible()


# -- 1. households import -----------------------------------------------------------------------
def test_1_gbk_households_preview_lists_three_bad_rows_then_the_fix_reaches_the_phone(
    browser: Browser, setup: Setup
) -> None:
    url = setup.server.url
    context, page = open_console(browser)
    try:
        login(page, url, DEMO_ACCOUNT, DEMO_PASSWORD, "/console/households")
        expect(page.locator("#households-table tbody tr")).to_have_count(120)
        upload_households(
            page,
            url,
            setup.community,
            FIXTURES / "committee-three-bad-rows-gbk.csv",
            "住户台账.csv",
        )
        # the mapping step: the Chinese headers detected, 序号 and 性别 ignored, not refused
        expect(page.locator("#import-file-line")).to_contain_text(re.compile("gb18030|gbk", re.I))
        for header, target in (
            ("楼栋", "building"),
            ("单元", "unit"),
            ("房号", "room"),
            ("姓名", "name"),
            ("联系电话", "resident_phone"),
            ("年龄", "age"),
            ("重点人员类别", "care"),
            ("管控状态", "control"),
        ):
            select = page.locator(f"#mapping-table select[name='map:{header}']")
            expect(select).to_have_value(target)
        for extra in ("序号", "性别"):
            expect(page.locator(f"#mapping-table select[name='map:{extra}']")).to_have_value("-")
            expect(page.locator("#ignored-columns")).to_contain_text(extra)
        # the preview: all three bad rows (line, column, reason), no commit
        rows = page.locator("#problems-table tr.problem")
        expect(rows).to_have_count(3)
        assert [rows.nth(i).get_attribute("data-line") for i in range(3)] == ["4", "5", "6"]
        expect(page.locator("#problem-count")).to_have_text("3")
        cells = [rows.nth(i).locator("td") for i in range(3)]
        for c in cells:
            expect(c.nth(1)).not_to_be_empty()  # the column
            expect(c.nth(3)).not_to_be_empty()  # the reason
        expect(cells[0].nth(1)).to_contain_text("年龄")  # 三十 is not an age
        expect(cells[1].nth(1)).to_contain_text("联系电话")  # 1380000 is not a phone
        expect(cells[2].nth(1)).to_contain_text("管控状态")  # 隔壁说的 is no control status
        expect(page.locator("#commit-button")).to_have_count(0)
        shots(page, "import-preview-problems")

        # the fixed file: no problem, the commit, its progress page
        upload_households(
            page, url, setup.community, FIXTURES / "committee-fixed-gbk.csv", "住户台账-改.csv"
        )
        expect(page.locator("#problems-table")).to_have_count(0)
        expect(page.locator("#import-counts .tile").first.locator(".num")).to_have_text("5")
        shots(page, "import-preview-ready")
        page.click("#commit-button")
        expect(page.locator("#import-progress")).to_be_visible()
        expect(page.locator("#import-done")).to_be_visible(timeout=30_000)
        expect(page.locator("#import-state")).to_have_attribute("data-state", "done")
        expect(page.locator("#import-progress progress")).to_have_attribute("value", "100")
        shots(page, "import-done")
        page.goto(f"{url}/console/households?community={setup.community}")
        expect(page.locator("#households-table tbody tr")).to_have_count(125)
        expect(page.locator("#households-table")).to_contain_text("周淑珍")
    finally:
        context.close()

    # the enrolled phone, after its sync: the household search finds the new households
    screen = PhoneScreen(browser, setup.phone.url, lang="zh-CN", name="setup-phone")
    try:
        screen.open()
        unlock(screen)
        screen.see_id("count-todo", timeout_s=60)
        sync_now(screen)
        screen.tap_tab(screen.t("ui.nav.requests"))
        screen.tap(screen.t("ui.field.requests.new"))
        screen.fill(screen.t("ui.field.new.household_search"), "周淑珍")
        found = wait_for(
            lambda: [i for i in screen.ids("household-") if i != "household-control"],
            20,
            "the imported household in the phone's household search",
        )
        assert len(found) == 1, found
        text = screen.text_of(found[0])
        assert "5栋" in text and "301" in text and "周淑珍" in text, text
        screen.shot("import-household-on-phone")
    finally:
        screen.close()
    setup.passed.add("households")


# -- 2. roster import from an XLSX ----------------------------------------------------------------
def roster_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "队员名单"
    sheet.append(ROSTER_HEADER)
    for row in ROSTER_ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_2_xlsx_roster_import_on_the_teams_page(
    browser: Browser, setup: Setup, tmp_path: Path
) -> None:
    url = setup.server.url
    context, page = open_console(browser)
    try:
        login(page, url, DEMO_ACCOUNT, DEMO_PASSWORD, "/console/teams")
        expect(page.locator("#teams-table")).to_contain_text(ROSTER_TEAM)
        shots(page, "teams")
        page.select_option("#roster-community", setup.community)
        page.set_input_files("#roster-file", str(roster_xlsx(tmp_path / "队员名单.xlsx")))
        page.click("#roster-upload button[type=submit]")
        expect(page.locator("#roster-plan")).to_be_visible()
        expect(page.locator("#roster-error")).to_have_count(0)
        expect(page.locator("#problems-table")).to_have_count(0)
        plan = page.locator("#roster-plan tbody tr")
        expect(plan).to_have_count(3)
        for name, *_ in ROSTER_ROWS:
            expect(page.locator("#roster-plan")).to_contain_text(name)
        expect(page.locator("#roster-plan")).to_contain_text(ROSTER_TEAM)
        shots(page, "roster-preview")
        page.click("#roster-commit button")
        expect(page.locator("#teams-done")).to_be_visible()
        page.goto(f"{url}/console/teams/{setup.teams[ROSTER_TEAM]}")
        members = page.locator("#members-table")
        for name, *_ in ROSTER_ROWS:
            expect(members).to_contain_text(name)
        expect(members).to_contain_text("13900001002")  # the phone as a phone, normalised
        lead = page.locator("#members-table tr", has_text="林晓东")
        expect(lead).to_contain_text("队长")
        shots(page, "team-after-roster")
    finally:
        context.close()
    setup.passed.add("roster")


# -- 3. the enrollment sheet ----------------------------------------------------------------------
def test_3_team_enrollment_sheet_has_one_labelled_qr_card_per_member(
    browser: Browser, setup: Setup
) -> None:
    setup.need("roster")
    url = setup.server.url
    team_id = setup.teams[ROSTER_TEAM]
    with Runtime.open(config.resolve(setup.data_dir)) as rt:
        fingerprint = fingerprint_of(rt.keys)
    context, page = open_console(browser)
    try:
        login(page, url, DEMO_ACCOUNT, DEMO_PASSWORD, f"/console/teams/{team_id}")
        never = page.locator("#members-table tbody tr", has=page.locator(".never"))
        waiting = sorted(never.locator("th.person").all_inner_texts())
        assert {"林晓东", "陈美玲", "黄志强"} <= set(waiting), waiting
        for lang in ("zh-CN", "en"):
            language(page, url, lang, f"/console/teams/{team_id}")
            page.select_option("#codes-expires", "72h")
            page.click("#codes-submit")
            expect(page.locator("#enroll-sheet")).to_be_visible()
            cards = page.locator("#enroll-sheet li.card")
            expect(cards).to_have_count(len(waiting))
            names = sorted(cards.locator("dd.name").all_inner_texts())
            assert [n.split()[0] for n in names] == waiting, names
            codes = set()
            for i in range(len(waiting)):
                card = cards.nth(i)
                code = str(card.get_attribute("data-code"))
                codes.add(code)
                expect(card.locator("dd.code")).to_have_text(code)
                expect(card.locator("dd").nth(1)).to_have_text(ROSTER_TEAM)
                expect(card.locator("dd").nth(3)).to_have_text(re.compile(r"\d{4}-\d\d-\d\d"))
                expect(card.locator("svg.qr")).to_be_visible()
                link = card.locator("svg.qr title").text_content() or ""
                parse_enroll_link(link)  # the phone's own parser accepts it
                query = parse_qs(urlsplit(link).query)
                assert query["server"] == [url] and query["code"] == [code], link
                assert query["fp"] == [fingerprint], link
            assert len(codes) == len(waiting), "each card has its own code"
            expect(page.locator(".sheet-meta")).to_contain_text(fingerprint)
            snap(page, "enroll-sheet", lang)
            page.emulate_media(media="print")
            page.pdf(path=str(OUT / f"enroll-sheet-{lang}.pdf"), format="A4")
            page.emulate_media(media="screen")
    finally:
        context.close()


# -- 4. scope -------------------------------------------------------------------------------------
def test_4_a_coordinator_cannot_open_another_communitys_pages_and_it_is_audited(
    browser: Browser, setup: Setup
) -> None:
    url = setup.server.url
    other = setup.other
    refused = (
        f"/console/households?community={other}",
        f"/console/households/import?community={other}",
        f"/console/grid/place/{other}",
    )
    context, page = open_console(browser)
    try:
        login(page, url, DEMO_ACCOUNT, DEMO_PASSWORD, "/console/households")
        options = page.locator("#community option").all_inner_texts()
        assert all(OTHER not in o for o in options), options
        for lang in ("zh-CN", "en"):
            language(page, url, lang, "/console/")
            for path in refused:
                answer = page.goto(url + path)
                assert answer is not None and answer.status == 403, (path, answer)
                expect(page.locator("#error-code")).to_have_text("console.forbidden")
                expect(page.locator("#error-message")).not_to_be_empty()
                expect(page.locator("body")).not_to_contain_text(OTHER)
            snap(page, "scope-forbidden", lang)
    finally:
        context.close()

    # an admin reads the refusals in the audit log
    context, page = open_console(browser)
    try:
        login(page, url, ADMIN, ADMIN_PASSWORD, "/console/audit")
        page.fill("#f-action", "access.denied")
        page.fill("#f-who", DEMO_ACCOUNT)
        page.click("#audit-filter button[type=submit]:not([name])")
        rows = page.locator("#audit-table tbody tr[data-action='access.denied']")
        expect(rows).to_have_count(2 * len(refused))
        for i in range(2 * len(refused)):
            expect(rows.nth(i)).to_contain_text(other)
            expect(rows.nth(i)).to_contain_text(DEMO_ACCOUNT)
        page.click("#audit-verify")
        expect(page.locator("#audit-verdict")).to_have_class(re.compile("notice"))
        shots(page, "scope-audit")
    finally:
        context.close()
