"""Message catalogs (zh-CN first, English complete) and ``t(key, lang, **params)``.

A catalog is a folder per language (``zh-CN/``, ``en/``) of flat JSON files mapping keys to
``str.format`` templates. ``sync`` ships the catalog for errors and records; the app registers its
own folder with :func:`register`. Files are split by owner (``errors.json``, ``domain.json`` …)
so each module keeps its own strings.

Plurals: a placeholder whose format spec holds a ``|`` picks a word by its number,
``{n:change|changes}`` → "change" when ``n`` is 1, "changes" otherwise. English templates say
``"{n} {n:change|changes}"``; Chinese has no plural and needs none.
"""

from __future__ import annotations

import json
import string
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_SYNC_LOCALES = Path(__file__).with_name("locales")
_lock = threading.Lock()
_roots: list[Path] = [_SYNC_LOCALES]
_cache: dict[str, dict[str, str]] | None = None


class _PluralFormatter(string.Formatter):
    """``str.format`` plus the plural spec ``{n:one|other}``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, _, other = format_spec.partition("|")
            return one if value == 1 else other
        return super().format_field(value, format_spec)


_PLURAL = _PluralFormatter()


def fill(template: str, params: Mapping[str, Any]) -> str:
    """``template`` with ``params`` filled in (plural specs included; a ``dict`` subclass with
    ``__missing__`` may supply absent ones); a template that does not fit is returned as it is."""
    try:
        if "|" in template:
            return _PLURAL.vformat(template, (), params)
        return template.format_map(params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


def register(root: Path) -> None:
    """Add a catalog folder (holding ``zh-CN/`` and ``en/``) to the ones :func:`t` reads."""
    global _cache
    with _lock:
        if root not in _roots:
            _roots.append(root)
            _cache = None


def load_folder(root: Path) -> dict[str, dict[str, str]]:
    """Every key of one catalog folder, per language. Duplicate keys across files are an error."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        merged: dict[str, str] = {}
        lang_dir = root / lang
        for path in sorted(lang_dir.glob("*.json")) if lang_dir.is_dir() else []:
            data = json.loads(path.read_text(encoding="utf-8"))
            clash = merged.keys() & data.keys()
            if clash:
                raise ValueError(f"duplicate catalog keys in {path}: {sorted(clash)}")
            merged.update(data)
        out[lang] = merged
    return out


def catalogs() -> dict[str, dict[str, str]]:
    """All registered catalogs merged, per language."""
    global _cache
    with _lock:
        if _cache is None:
            merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
            for root in _roots:
                for lang, entries in load_folder(root).items():
                    merged[lang].update(entries)
            _cache = merged
        return _cache


def normalise(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    low = lang.replace("_", "-").lower()
    return "en" if low.startswith("en") else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` (falling back to zh-CN, then to the key itself)."""
    cats = catalogs()
    template = cats[normalise(lang)].get(key) or cats[DEFAULT_LANGUAGE].get(key)
    if template is None:
        return key
    return fill(template, params)
