"""The app's catalogs (``app/i18n/locales``) on top of sync's, and the current language.

Views call :func:`tr` for every string; the language is a process-wide setting the settings
screen changes (each app process is one phone with one person on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync import i18n as _i18n

LOCALES = Path(__file__).with_name("locales")
_i18n.register(LOCALES)

LANGUAGES = _i18n.LANGUAGES
_current = _i18n.DEFAULT_LANGUAGE


def language() -> str:
    return _current


def set_language(lang: str) -> str:
    global _current
    _current = _i18n.normalise(lang)
    return _current


def tr(key: str, /, **params: Any) -> str:
    """The text of ``key`` in the current language."""
    return _i18n.t(key, _current, **params)


def tr_in(lang: str, key: str, /, **params: Any) -> str:
    return _i18n.t(key, lang, **params)
