"""Every catalog is complete in both languages and every error code has its text."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from sync import i18n
from sync.errors import LinliError

ROOT = Path(__file__).resolve().parents[2]
CATALOG_ROOTS = [p.parent for p in ROOT.glob("**/locales/zh-CN") if ".venv" not in p.parts]
CODE_LITERAL = re.compile(
    r"\b[A-Z][A-Za-z]*(?:Error|Rejected|Damaged|Failed|Locked|Pin|Lockout|Revoked|Problem)\(\s*\"([a-z_]+(?:\.[a-z_]+)+)\""
)


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("root", CATALOG_ROOTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_languages_have_the_same_keys_and_placeholders(root: Path) -> None:
    cats = i18n.load_folder(root)
    zh, en = cats["zh-CN"], cats["en"]
    assert zh, f"empty catalog in {root}"
    assert sorted(zh.keys() - en.keys()) == [], "missing in en"
    assert sorted(en.keys() - zh.keys()) == [], "missing in zh-CN"
    for key in zh:
        assert fields(zh[key]) == fields(en[key]), key
        assert zh[key].strip() and en[key].strip(), key


def source_files() -> list[Path]:
    return [p for d in ("app", "sync") for p in (ROOT / d).rglob("*.py")]


def test_every_error_code_in_the_source_has_catalog_text() -> None:
    for root in CATALOG_ROOTS:
        i18n.register(root)
    cats = i18n.catalogs()
    codes: set[str] = set()
    for path in source_files():
        codes.update(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    stack: list[type[LinliError]] = [LinliError]
    while stack:
        cls = stack.pop()
        codes.add(cls.code)
        stack.extend(cls.__subclasses__())
    missing = sorted(
        c for c in codes if f"error.{c}" not in cats["zh-CN"] or f"error.{c}" not in cats["en"]
    )
    assert missing == []


def test_t_fills_parameters_and_falls_back() -> None:
    assert "3" in i18n.t("error.store.wrong_pin", "en", remaining=3)
    assert "PIN" in i18n.t("error.store.wrong_pin", "zh-CN", remaining=3)
    assert i18n.t("no.such.key", "en") == "no.such.key"
    assert i18n.normalise("en_US") == "en"
    assert i18n.normalise(None) == "zh-CN"


def test_every_app_string_is_used() -> None:
    """A UI key nobody uses is dead text that drifts; keys built at run time (``f"ui.x.{v}"``)
    count as used through their literal prefix, error keys through their code."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in source_files())
    keys = i18n.load_folder(ROOT / "app" / "i18n" / "locales")["zh-CN"]

    def used(key: str) -> bool:
        if f'"{key}"' in source:
            return True
        if key.startswith("error.") and f'"{key.removeprefix("error.")}"' in source:
            return True
        cuts = [i + 1 for i, ch in enumerate(key) if ch in "._"]
        return any(f'f"{key[:cut]}{{' in source for cut in cuts)

    assert sorted(k for k in keys if not used(k)) == []


def test_english_plurals_follow_the_number() -> None:
    i18n.register(ROOT / "app" / "i18n" / "locales")
    assert i18n.fill("{n} {n:change|changes}", {"n": 1}) == "1 change"
    assert i18n.fill("{n} {n:change|changes}", {"n": 2}) == "2 changes"
    assert i18n.fill("{n} {n:change|changes}", {"n": 0}) == "0 changes"
    assert i18n.t("ui.syncpage.pending", "en", n=1).endswith("1 change")
    assert i18n.t("ui.syncpage.pending", "en", n=3).endswith("3 changes")
    assert "1 unfinished change was discarded" in i18n.t(
        "store.notice.torn_tail_dropped", "en", count=1
    )
    assert "2 unfinished changes were discarded" in i18n.t(
        "store.notice.torn_tail_dropped", "en", count=2
    )
    assert "2" in i18n.t("store.notice.torn_tail_dropped", "zh-CN", count=2)


def test_a_template_that_does_not_fit_its_parameters_comes_back_as_it_is() -> None:
    assert i18n.fill("{n:change|changes} {missing}", {"n": 1}) == "{n:change|changes} {missing}"
    assert i18n.fill("{x.y}", {"x": 1}) == "{x.y}"
