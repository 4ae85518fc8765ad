"""Every code the server raises has zh-CN and English text saying what to do next."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.i18n import catalogs
from sync.server.problems import STATUS

SERVER = Path(__file__).resolve().parents[3] / "sync" / "server"
RAISED = re.compile(
    r'(?:Error|Rejected|Damaged|Refused|Refusal|LinliError)\(\s*"([a-z_]+\.[a-z_.]+)"'
)


def raised_codes() -> set[str]:
    found: set[str] = set()
    for path in SERVER.rglob("*.py"):
        found.update(RAISED.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_the_server_codes() -> None:
    codes = raised_codes()
    assert {"sync.replay", "op.out_of_scope", "import.not_ready", "enroll.used"} <= codes


@pytest.mark.parametrize("code", sorted(raised_codes() | set(STATUS)))
def test_code_has_both_languages(code: str) -> None:
    cats = catalogs()
    for lang in ("zh-CN", "en"):
        assert f"error.{code}" in cats[lang], (lang, code)


def test_server_catalog_files_have_the_same_keys() -> None:
    import json

    root = SERVER.parent / "locales"
    zh = json.loads((root / "zh-CN" / "server.json").read_text(encoding="utf-8"))
    en = json.loads((root / "en" / "server.json").read_text(encoding="utf-8"))
    assert zh.keys() == en.keys()
    assert all(v.strip() for v in [*zh.values(), *en.values()])
