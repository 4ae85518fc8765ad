"""``python -m bench app --json PATH [--docs 5000] [--taps 50] [--starts 3]``: the phone app.

Set-up (not timed): a real server (:class:`bench.harness.LiveServer`, SQLite, demo district) gets
extra households, residents and assignments in a volunteer's team area, written through the
server's own admin path, until that volunteer's scope holds ``--docs`` records; a phone data dir
is enrolled with the real :meth:`Device.enroll`, which pulls them all into its encrypted store.

``cold_start_s`` — from spawning ``python -m app`` to the home screen being interactive in
Chromium: the process starts, its web server answers, a fresh browser context (nothing cached)
loads the app, the script switches on the accessibility DOM, types the PIN and taps "unlock", and
the clock stops when the home screen's to-do counter (``count-todo``) is in the accessibility
DOM showing a number, less the PIN derivation (``unlock_kdf_ms``, reported on its own: its cost
is a security choice, see ``docs/security.md``). Median of ``--starts`` runs;
``cold_start_with_kdf_s`` keeps the whole wait.

``unlock_kdf_ms`` — one PIN key derivation with the store's parameters
(:func:`app.store.keyfile.unlock_kdf_ms`, the call the unlock makes), median of three, timed in
this process just before the cold starts.

``tap_to_durable_ms`` — from the tap on a visit's "done" button (the script's CDP mouse click,
timed with ``time.monotonic_ns()`` just before it is sent) to the visit's op being committed in
the store: the phone runs as :mod:`bench.app_phone` (the real app plus a store listener) and
logs ``time.monotonic_ns()`` right after each atomic, fsynced local commit (CLOCK_MONOTONIC is
shared by every process on the machine). Median of ``--taps`` taps on different assignments.
Targets: ``cold_start_s`` ≤ 2.5, ``tap_to_durable_ms`` ≤ 50.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.i18n import tr_in
from app.services.device import Device
from app.store.keyfile import unlock_kdf_ms
from app.store.tables import KINDS
from bench.app_phone import COMMIT_LOG_ENV
from bench.harness import LiveServer
from sync.domain.labels import label
from sync.server.harness import PhoneProcess

PIN = "246810"
LANG = "zh-CN"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 390, "height": 844}
GIVEN = ("秀英", "建国", "桂兰", "志强", "玉梅", "国华", "淑珍", "海涛")
SURNAMES = "张王李赵刘陈杨黄"
TARGETS = {"cold_start_s": 2.5, "tap_to_durable_ms": 50.0, "unlock_kdf_ms_min": 300.0}


@dataclass(frozen=True)
class Target:
    assignment_id: str
    room: str  # unique in the search box: "B0007"


# ---------------------------------------------------------------- set-up


def pick_volunteer(server: LiveServer) -> dict[str, Any]:
    members = server.members()
    leads = {m.get("team_id") for m in members if m.get("role") == "team_lead"}
    for m in members:
        if m.get("role") == "volunteer" and m.get("team_id") in leads:
            return m
    raise RuntimeError("the demo district has no volunteer in a team with a lead")


def seed(server: LiveServer, volunteer: dict[str, Any], extra: int, taps: int) -> list[Target]:
    """``extra`` more records in the volunteer's team area; ``taps`` + 5 assignments are theirs."""
    records = server.records()
    team = records[("team", volunteer["team_id"])]
    area = set(team.get("area") or ())
    units = [
        (pid, r)
        for (kind, pid), r in records.items()
        if kind == "place" and r.get("parent_id") in area
    ]
    buildings = {pid: r for (kind, pid), r in records.items() if kind == "place" and pid in area}
    crew = [  # the rest of the team: their work is in the store too, not on this one's list
        m["id"]
        for m in server.members()
        if m.get("team_id") == volunteer["team_id"] and m["id"] != volunteer["id"]
    ]
    if not units or not crew:
        raise RuntimeError("the volunteer's team has no units or volunteers to seed")
    mine = taps + 5
    assignments = max(mine, extra // 9)
    households = max(mine, (extra - assignments) // 3)
    residents = extra - assignments - households
    targets: list[Target] = []

    def build(a: Any) -> None:
        homes: list[tuple[str, str]] = []
        for i in range(households):
            unit_id, unit = units[i % len(units)]
            building = str(buildings.get(str(unit.get("parent_id")), {}).get("name", "1栋"))
            room = f"B{i:04d}"
            values = {
                "place_id": unit_id,
                "building": building.split()[-1],
                "unit": unit["name"],
                "room": room,
                "address": f"{building} {unit['name']} {room}",
                "phone": f"139{i:08d}",
                "control": "sealed",
            }
            homes.append((a.op("household", set=values).entity_id, room))
        for i in range(residents):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
            values = {"household_id": homes[i % len(homes)][0], "name": name, "age_band": "18-59"}
            a.op("resident", set=values)
        for i in range(assignments):
            home, room = homes[i % len(homes)]
            assignee = volunteer["id"] if i < mine else crew[i % len(crew)]
            values = {
                "type": "notice_delivery",
                "target_kind": "household",
                "target_id": home,
                "team_id": volunteer["team_id"],
                "assignee_id": assignee,
                "priority": "normal",
                "title": "送达封控期间告知书",
                "status": "pending",
            }
            op = a.op("assignment", set=values)
            if i < mine:
                targets.append(Target(op.entity_id, room))

    server.write(build)
    return targets


def stored_records(device: Device) -> int:
    store = device.require_store()
    return sum(store.count(kind) for kind in KINDS)


def prepare_phone(
    server: LiveServer, volunteer: dict[str, Any], data_dir: Path, docs: int, taps: int
) -> tuple[int, list[Target]]:
    """Enroll with the real ``Device.enroll``, top the scope up to ``docs`` records on the
    server, pull them; the phone is left locked. Returns the store's record count and targets."""
    device = Device(data_dir)
    try:
        device.enroll(server.url, server.issue_code(volunteer["id"]), PIN, label="基准测试手机")
        targets = seed(server, volunteer, max(0, docs - stored_records(device)), taps)
        device.sync()
        return stored_records(device), targets
    finally:
        device.lock()


# ---------------------------------------------------------------- in the browser


def _enable_semantics(page: Any, timeout_ms: float) -> None:
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=timeout_ms)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")


def _home_ready(page: Any, timeout_ms: float) -> None:
    page.wait_for_function(
        """() => { const e = document.querySelector('[flt-semantics-identifier="count-todo"]');
                   return !!e && /\\d/.test(e.textContent || e.getAttribute('aria-label') || ''); }""",
        timeout=timeout_ms,
    )


def cold_start(context: Any, phone: PhoneProcess) -> tuple[dict[str, float], Any]:
    """Spawn the app and bring its home screen up in a new page of ``context``.

    Returns the seconds of each phase and in total, and the open page."""
    page = context.new_page()
    t0 = time.monotonic()
    phone.start(wait=False)
    phone.wait_ready(60)
    t_up = time.monotonic()
    page.goto(phone.url, wait_until="domcontentloaded")
    _enable_semantics(page, 60_000)
    pin = page.locator(f'input[aria-label="{tr_in(LANG, "ui.unlock.pin")}"]')
    pin.wait_for(state="attached", timeout=60_000)
    t_pin = time.monotonic()
    pin.click()
    pin.fill(PIN)
    page.get_by_role("button", name=tr_in(LANG, "ui.unlock.submit")).first.click()
    t_tap = time.monotonic()
    _home_ready(page, 60_000)
    t_home = time.monotonic()
    phases = {
        "total": t_home - t0,
        "process_up": t_up - t0,
        "pin_screen": t_pin - t_up,
        "typing": t_tap - t_pin,
        "unlock_to_home": t_home - t_tap,
    }
    return phases, page


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def _commits_after(log: Path, t0_ns: int, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists():
            for line in log.read_text(encoding="ascii").splitlines():
                _, _, stamp = line.partition(" ")
                if stamp and int(stamp) > t0_ns:
                    return int(stamp)
        time.sleep(0.002)
    raise RuntimeError(f"no commit logged within {timeout_s} s of the tap")


def _tap(page: Any, target: Any) -> tuple[float, float]:
    """Where to tap ``target`` once it has stopped moving (screens slide in)."""
    target.wait_for(state="attached", timeout=15_000)
    last = None
    for _ in range(30):
        box = target.bounding_box()
        if box is not None and box == last:
            break
        last = box
        time.sleep(0.1)
    if last is None:
        raise RuntimeError("the element to tap has no place on screen")
    return last["x"] + last["width"] / 2, last["y"] + last["height"] / 2


def _in_view(page: Any, target: Any, fold: float = 100.0) -> tuple[float, float]:
    """Where to tap ``target``, scrolled up first when it sits at the bottom, under the tab bar
    (not timed)."""
    x, y = _tap(page, target)
    if y > VIEWPORT["height"] - fold:
        page.mouse.move(VIEWPORT["width"] / 2, VIEWPORT["height"] / 2)
        page.mouse.wheel(0, 400)
        x, y = _tap(page, target)
    if y > VIEWPORT["height"] - fold:
        raise RuntimeError("the element to tap stays under the tab bar")
    return x, y


def tap_to_durable(page: Any, targets: list[Target], log: Path) -> list[float]:
    """Milliseconds from each "done" tap to its op's commit, one assignment per tap."""
    search = page.locator(f'input[aria-label*="{tr_in(LANG, "ui.field.home.search")}"]').first
    done = page.get_by_role("button", name=label("visit.outcome", "done", LANG), exact=True)
    back = page.get_by_role("button", name=re.compile(r"^(Back|返回)$"))
    out = []
    for target in targets:
        item = page.locator(f'[flt-semantics-identifier="assignment-{target.assignment_id}"]')
        for attempt in range(3):  # typing or a tap while the list redraws can be lost
            page.mouse.click(*_tap(page, search))
            time.sleep(0.2)
            page.keyboard.press("Control+A")
            page.keyboard.type(target.room)
            try:
                item.wait_for(state="attached", timeout=5_000)
                page.mouse.click(*_in_view(page, item))
                done.first.wait_for(state="attached", timeout=5_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        x, y = _in_view(page, done.first)
        t0 = time.monotonic_ns()
        page.mouse.click(x, y)
        committed = _commits_after(log, t0)
        out.append((committed - t0) / 1e6)
        page.locator('[flt-semantics-identifier="visit-saved"]').wait_for(
            state="attached", timeout=15_000
        )
        page.mouse.click(*_tap(page, back.first))
        search.wait_for(state="attached", timeout=15_000)
        time.sleep(0.3)
    return out


# ---------------------------------------------------------------- main


def starts_and_page(
    browser: Any, phone: PhoneProcess, starts: int
) -> tuple[list[dict[str, float]], list[dict[str, float]], Any]:
    """``starts`` timed starts with the app's files in the browser cache (after one untimed
    visit: like an installed app, whose code is on the phone) and ``starts`` with a fresh
    browser profile each (a first visit, downloading the Flutter bundle). The last cached start
    stays up; its page is returned."""
    if starts < 1:
        raise ValueError("--starts must be at least 1")
    fresh: list[dict[str, float]] = []
    for i in range(starts):
        context = browser.new_context(viewport=VIEWPORT)
        phases, _ = cold_start(context, phone)
        fresh.append(phases)
        print(
            f"  start {i + 1}/{starts}, fresh browser profile: {phases['total']:.2f} s", flush=True
        )
        context.close()
        phone.stop()
    cached: list[dict[str, float]] = []
    context = browser.new_context(viewport=VIEWPORT)
    page = None
    for i in range(-1, starts):
        if page is not None:
            page.close()
            phone.stop()
        phases, page = cold_start(context, phone)
        if i >= 0:
            cached.append(phases)
            print(
                f"  start {i + 1}/{starts}, app files cached: {phases['total']:.2f} s", flush=True
            )
    return cached, fresh, page


def run(docs: int, taps: int, starts: int, failure_shot: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="linli-bench-app-"))
    log = root / "commits.log"
    try:
        with LiveServer("sqlite", demo=True) as server:
            volunteer = pick_volunteer(server)
            stored, targets = prepare_phone(server, volunteer, root / "phone", docs, taps)
            phone = PhoneProcess(
                root / "phone",
                None,
                server.url,
                lang=LANG,
                env={COMMIT_LOG_ENV: str(log)},
                module="bench.app_phone",
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    kdf_ms = statistics.median(unlock_kdf_ms() for _ in range(3))
                    cached, fresh, page = starts_and_page(browser, phone, starts)
                    try:
                        taps_ms = tap_to_durable(page, targets[:taps], log)
                    except Exception:
                        page.screenshot(path=str(failure_shot))
                        print(f"the tap loop failed; its screen: {failure_shot}", flush=True)
                        raise
                finally:
                    browser.close()
                    phone.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "docs": stored,
        "cold_start_s": round(statistics.median(r["total"] for r in cached) - kdf_ms / 1000, 3),
        "cold_start_with_kdf_s": round(statistics.median(r["total"] for r in cached), 3),
        "unlock_kdf_ms": round(kdf_ms, 1),
        "cold_start_phases_s": _medians(cached),
        "cold_start_runs_s": [round(r["total"], 3) for r in cached],
        "cold_start_nocache_s": round(statistics.median(r["total"] for r in fresh), 3),
        "cold_start_nocache_runs_s": [round(r["total"], 3) for r in fresh],
        "tap_to_durable_ms": round(statistics.median(taps_ms), 2),
        "tap_to_durable_p90_ms": round(statistics.quantiles(taps_ms, n=10)[-1], 2),
        "tap_to_durable_max_ms": round(max(taps_ms), 2),
        "taps": len(taps_ms),
        "targets": TARGETS,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench app", description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument("--docs", type=int, default=5000, help="records in the phone's store")
    parser.add_argument("--taps", type=int, default=50, help="done taps to time")
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    args = parser.parse_args(argv)
    result = run(args.docs, args.taps, args.starts, args.json.with_suffix(".failure.png"))
    rows = [
        ("records in the store", f"{result['docs']}", ""),
        ("cold_start_s (median)", f"{result['cold_start_s']:.2f}", "≤ 2.5"),
        ("  with the PIN derivation", f"{result['cold_start_with_kdf_s']:.2f}", ""),
        ("unlock_kdf_ms", f"{result['unlock_kdf_ms']:.0f}", "≥ 300"),
        ("  uncached first visit", f"{result['cold_start_nocache_s']:.2f}", ""),
        *(
            (f"  phase {name}", f"{value:.2f}", "")
            for name, value in result["cold_start_phases_s"].items()
            if name != "total"
        ),
        ("tap_to_durable_ms (median)", f"{result['tap_to_durable_ms']:.1f}", "≤ 50"),
        ("tap_to_durable_ms (p90)", f"{result['tap_to_durable_p90_ms']:.1f}", ""),
    ]
    for name, value, goal in rows:
        print(f"{name:<28} {value:>10}  {goal}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
