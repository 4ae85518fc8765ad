"""Drive one phone's screen (a real ``python -m app`` in web mode) in Debian's Chromium.

Flutter draws on a canvas; tests read and tap through its accessibility DOM, which the page
builds once ``flt-semantics-placeholder`` is clicked. Texts are looked up in the app's catalogs by
key, in the language the phone is showing, so a reworded label does not break a test.
Every wait polls with a bounded timeout and, when it runs out, says what it waited for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Browser, FloatRect, Locator, Page

from app.i18n import tr_in
from bench.app import VIEWPORT

PHONE = VIEWPORT
SMALL = {"width": 360, "height": 640}
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
STEP_S = 0.3  # the app's Python side needs a moment between actions

T = TypeVar("T")


class StepTimeout(AssertionError):
    """A bounded wait ran out."""


def wait_for(check: Callable[[], T | None], timeout_s: float, what: str, every_s: float = 0.2) -> T:
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        try:
            last = check()
        except Exception as exc:  # the DOM changes under us while Flutter rebuilds
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise StepTimeout(f"waited {timeout_s:.0f} s for {what}; last seen: {last!r}")
        time.sleep(every_s)


def pattern_of(template: str, **groups: str) -> re.Pattern[str]:
    """A regex for a catalog template: ``groups`` name capture patterns, other fields match any."""
    out, pos = "", 0
    for found in re.finditer(r"\{(\w+)\}", template):
        out += re.escape(template[pos : found.start()])
        name = found.group(1)
        out += f"(?P<{name}>{groups[name]})" if name in groups else ".*?"
        pos = found.end()
    return re.compile(out + re.escape(template[pos:]))


class PhoneScreen:
    """One phone's screen in its own browser context (separate storage, phone viewport)."""

    def __init__(
        self, browser: Browser, url: str, lang: str = "zh-CN", name: str = "phone"
    ) -> None:
        self.url, self.lang, self.name = url, lang, name
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=1)  # type: ignore[arg-type]
        self.page: Page = self.context.new_page()

    # ------------------------------------------------------------------ session

    def open(self, timeout_s: float = 60.0) -> None:
        """Load the app and switch on Flutter's accessibility DOM."""
        self.page.goto(self.url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
        self.page.wait_for_selector(
            "flt-semantics-placeholder", state="attached", timeout=timeout_s * 1000
        )
        self.page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
        self.page.wait_for_selector("flt-semantics", state="attached", timeout=timeout_s * 1000)

    def close(self) -> None:
        self.context.close()

    # ------------------------------------------------------------------ texts

    def t(self, key: str, **params: Any) -> str:
        text = tr_in(self.lang, key, **params)
        assert text != key, f"catalog key {key} is missing"
        return text

    # ------------------------------------------------------------------ finding

    def field(self, label: str) -> Locator:
        """A text field by its label (password fields have no textbox role, so by aria-label;
        "contains", as Flutter may merge nearby texts into a field's label)."""
        q = label.replace('"', '\\"')
        return self.page.locator(f'input[aria-label*="{q}"], textarea[aria-label*="{q}"]').first

    def button(self, name: str, exact: bool = False) -> Locator:
        return self.page.get_by_role("button", name=name, exact=exact).first

    def by_id(self, identifier: str) -> Locator:
        return self.page.locator(f'[flt-semantics-identifier="{identifier}"]').first

    def ids(self, prefix: str) -> list[str]:
        """The semantics identifiers on screen starting with ``prefix``, in document order."""
        found: list[str] = self.page.evaluate(
            """p => Array.from(document.querySelectorAll('[flt-semantics-identifier]'))
                   .map(e => e.getAttribute('flt-semantics-identifier'))
                   .filter(i => i.startsWith(p))""",
            prefix,
        )
        return found

    def text_of(self, identifier: str) -> str:
        """Everything the accessibility DOM says inside one identified element."""
        text: str = self.page.evaluate(
            """id => {
                const el = document.querySelector(`[flt-semantics-identifier="${id}"]`);
                if (!el) return '';
                const labels = [el, ...el.querySelectorAll('*')]
                    .map(e => e.getAttribute('aria-label') || '').filter(Boolean);
                return [el.textContent || '', ...labels].join(' ');
            }""",
            identifier,
        )
        return text

    def all_text(self) -> str:
        text: str = self.page.evaluate(
            """() => {
                const host = document.querySelector('flt-semantics-host') || document.body;
                const labels = Array.from(host.querySelectorAll('[aria-label]'))
                    .map(e => e.getAttribute('aria-label'));
                return [host.textContent || '', ...labels].join(' ');
            }"""
        )
        return text

    def has_text(self, text: str) -> bool:
        return text in self.all_text()

    # ------------------------------------------------------------------ acting

    def fill(self, label: str, value: str) -> None:
        box = self.field(label)
        self._click(self._reach(box, f"field {label!r}", 15.0), f"field {label!r}")
        box.fill(value)
        time.sleep(STEP_S)

    def _reach(self, target: Locator, what: str, timeout_s: float) -> Locator:
        """Wait for ``target``; scroll the screen down (lists build rows on demand) if needed."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                target.wait_for(state="attached", timeout=1500)
                return target
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise StepTimeout(
                        f"{what} did not appear on {self.name} in {timeout_s:.0f} s"
                    ) from exc
                self.scroll(600)

    def scroll(self, dy: int) -> None:
        size = self.page.viewport_size or PHONE
        self.page.mouse.move(size["width"] / 2, size["height"] / 2)
        self.page.mouse.wheel(0, dy)
        time.sleep(STEP_S)

    def _box(self, target: Locator) -> FloatRect | None:
        """Where ``target`` is once it stops moving (a screen slides in for ~300 ms)."""
        last = None
        for _ in range(15):
            try:
                box = target.bounding_box(timeout=2000)
            except Exception:  # re-created by a rebuild: look it up again
                box = None
            if box is not None and box == last:
                return box
            last = box
            time.sleep(0.1)
        return last

    def _click(self, target: Locator, what: str, at: tuple[float, float] | None = None) -> None:
        """Tap ``target`` the way a finger does: at its place on screen, scrolling it out from
        under the app bar or the bottom bar first. (Flutter rebuilds its accessibility nodes
        often, which trips Playwright's element click; a tap at a point does not care.)"""
        height = (self.page.viewport_size or PHONE)["height"]
        for attempt in range(8):
            box = self._box(target)
            if box is None:
                continue
            x = box["x"] + (at[0] if at else box["width"] / 2)
            y = box["y"] + (at[1] if at else box["height"] / 2)
            if attempt < 6 and y > height - 96:
                self.scroll(int(min(y - height / 2, height / 2)))
                continue
            if attempt < 6 and y < 84:
                self.scroll(-int(height / 3))
                continue
            self.page.mouse.click(x, y)
            time.sleep(STEP_S)
            return
        raise StepTimeout(f"could not tap {what} on {self.name}")

    def tap(self, name: str, exact: bool = False, timeout_s: float = 15.0) -> None:
        """Tap a button by its visible text (scrolling down to it if needed)."""
        what = f"button {name!r}"
        self._click(self._reach(self.button(name, exact), what, timeout_s), what)

    def tap_tab(self, name: str) -> None:
        """A tab of the bottom navigation bar, going back up from a detail screen first."""
        tabs = self.page.get_by_role("tablist").first
        for _ in range(4):
            try:
                tabs.wait_for(state="attached", timeout=2000)
                break
            except Exception:
                self.back()
        box = self._box(self.page.get_by_role("tab", name=name).first)
        if box is None:
            raise StepTimeout(f"no tab {name!r} on {self.name}")
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        time.sleep(STEP_S)

    def reach_id(self, identifier: str, timeout_s: float = 15.0) -> Locator:
        """The identified element, scrolling down until it is built."""
        return self._reach(self.by_id(identifier), identifier, timeout_s)

    def tap_id(self, identifier: str, timeout_s: float = 15.0) -> None:
        self._click(self.reach_id(identifier, timeout_s), identifier)

    def tap_in(self, container: Locator, name: str) -> None:
        """Tap the button ``name`` inside ``container`` (e.g. "Reassign" on one card)."""
        self._click(container.get_by_role("button", name=name).first, f"{name!r} in a card")

    def pick(self, option: str, nth: int = 0) -> None:
        """Choose ``option`` in the ``nth`` dropdown on screen. A Flet dropdown shows in the
        accessibility DOM as an unnamed, expandable button as wide as its row; the field itself
        sits at the left, so tap near its left edge."""
        field = self.page.locator("flt-semantics[role=button][aria-expanded]").nth(nth)
        self._click(field, "a dropdown", at=(40, 24))
        self.tap(option, exact=True)

    def back(self) -> None:
        """The app bar's back arrow (Flutter labels it "Back" / 返回 in the semantics tree)."""
        arrow = self.page.get_by_role("button", name=re.compile(r"^(Back|返回)$")).first
        self._click(arrow, "the back arrow")
        time.sleep(STEP_S)

    # ------------------------------------------------------------------ waiting

    def see(self, text: str, timeout_s: float = 15.0) -> str:
        return wait_for(
            lambda: text if self.has_text(text) else None, timeout_s, f"{text!r} on {self.name}"
        )

    def see_id(self, identifier: str, timeout_s: float = 15.0) -> Locator:
        target = self.by_id(identifier)
        target.wait_for(state="attached", timeout=timeout_s * 1000)
        return target

    # ------------------------------------------------------------------ the sync bar

    def pending(self) -> int | None:
        """The pending-changes count the sync bar shows (None if the bar is not on screen)."""
        text = self.text_of("sync-state")
        pattern = pattern_of(tr_in(self.lang, "ui.sync.bar"), pending=r"\d+")
        found = pattern.search(text)
        return int(found.group("pending")) if found else None

    def wait_pending(self, check: Callable[[int], bool], timeout_s: float, what: str) -> int:
        def ok() -> tuple[int] | None:
            n = self.pending()
            return (n,) if n is not None and check(n) else None

        return wait_for(ok, timeout_s, f"{what} (sync bar on {self.name})")[0]

    # ------------------------------------------------------------------ screenshots

    def settle(self) -> None:
        """Let Flutter lay out and paint after a change."""
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        time.sleep(0.4)

    def shot(self, name: str) -> list[Path]:
        """Screenshots of the current screen at 390×844 and 360×640 in the phone's language."""
        paths = []
        self.page.mouse.move(1, 1)  # no hover highlight or tooltip where the last tap was
        for size in (PHONE, SMALL):
            if self.page.viewport_size != size:
                self.page.set_viewport_size(size)  # type: ignore[arg-type]
            self.settle()
            path = SHOTS / self.lang / f"{name}-{size['width']}x{size['height']}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(path))
            paths.append(path)
        self.page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        self.settle()
        return paths
