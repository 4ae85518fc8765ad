"""Message catalogs (zh-CN first, English complete) and ``t(key, lang, **params)``.

A catalog is a folder per language (``zh-CN/``, ``en/``) of flat JSON files mapping keys to
``str.format`` templates. ``sync`` ships the catalog for errors and records; the app registers its
own folder with :func:`register`. Files are split by owner (``errors.json``, ``domain.json`` …)
so each module keeps its own strings.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_SYNC_LOCALES = Path(__file__).with_name("locales")
_lock = threading.Lock()
_roots: list[Path] = [_SYNC_LOCALES]
_cache: dict[str, dict[str, str]] | None = None


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
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
