"""Cell values as committees write them -> domain values.

- key-care categories (:func:`care`): several per cell, separated by 、，,；;| or spaces
  (``独居老人、低保``); ``血透``/``放化疗`` are scheduled hospital treatment, ``困难/低保`` is
  hardship; a category that is none of linli's is kept as ``other`` with its text;
- control status (:func:`control`): ``居家隔离`` -> home_isolation, ``封控`` -> sealed …;
- yes/no (:func:`yes_no`): 是/否, √/×, Y/N, 1/0;
- an age (``85``, ``85岁``) -> its band; a band as written (``80+``, ``60-79``, ``80岁及以上``);
- phone numbers (:func:`phone`): full-width digits, spaces, dashes, brackets and ``+86``/``0086``
  removed from mobiles; landlines keep their area-code dash.

Each parser returns the value or raises :class:`Bad` with a reason code
(``importing.reason.<code>``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

from sync.domain.enums import AGE_BANDS, CARE_FLAGS, CONTROL
from sync.domain.values import is_phone
from sync.i18n import catalogs


class Bad(Exception):
    """A cell that does not read as its field's value: ``reason`` and its parameters."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _catalog_labels(enum: str) -> dict[str, str]:
    """``{normalised label: value}`` of an enum's labels in every language."""
    out: dict[str, str] = {}
    for entries in catalogs().values():
        for key, text in entries.items():
            if key.startswith(f"domain.{enum}."):
                out[_key(text)] = key.removeprefix(f"domain.{enum}.")
    return out


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace()).lower()


CARE_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "elderly_alone": ("独居老人", "独居", "空巢老人", "孤寡老人", "独居老年人"),
    "disabled": ("残疾人", "残疾", "残障", "残障人士", "残疾人士"),
    "pregnant": ("孕妇", "孕产妇", "孕期", "产妇"),
    "chronic_illness": ("慢性病", "慢病", "慢性病患者", "基础病", "基础疾病"),
    "child_without_guardian": ("无人监护儿童", "事实无人抚养儿童", "孤儿"),
    "very_old": ("高龄老人", "高龄", "80岁以上老人", "八十岁以上老人"),
    "scheduled_treatment": (
        "血透",
        "血液透析",
        "透析",
        "放化疗",
        "化疗",
        "放疗",
        "肿瘤放化疗",
        "定期就医",
        "血透/放化疗",
    ),
    "mental_illness": ("精神障碍", "精神病", "严重精神障碍", "精神障碍患者", "精神疾病"),
    "hardship": ("困难/低保", "困难", "低保", "困难户", "低保户", "特困", "特困人员", "低保对象"),
    "left_behind_child": ("留守儿童",),
    "other": ("其他", "其它"),
}
_NONE: Final = frozenset({"", "无", "否", "没有", "-", "—", "/", "none", "no", "n"})
_CARE: Final = {
    **{_key(v): v for v in CARE_FLAGS},
    **_catalog_labels("care_flag"),
    **{_key(a): flag for flag, names in CARE_ALIASES.items() for a in names},
}
_CARE_SPLIT = re.compile(r"[、，,；;|\s]+")

CONTROL_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "sealed": ("封控", "封控区", "封闭", "封闭管理", "封控管理"),
    "home_isolation": ("居家隔离", "居家隔离观察", "居家观察"),
    "controlled": ("管控", "管控区", "隔离", "集中隔离"),
    "precaution": ("防范", "防范区", "居家健康监测", "健康监测", "居家监测"),
    "normal": ("正常", "常态", "无", "否", "-", "解除", "已解除"),
}
_CONTROL: Final = {
    **{_key(v): v for v in CONTROL},
    **_catalog_labels("control"),
    **{_key(a): value for value, names in CONTROL_ALIASES.items() for a in names},
}
_YES: Final = frozenset({"是", "√", "✓", "✔", "y", "yes", "1", "有", "true", "对"})
_NO: Final = frozenset({"否", "×", "✗", "n", "no", "0", "无", "false", ""})
_AGE = re.compile(r"(\d{1,3})(?:岁|周岁)?")
_BANDS: Final = {
    **{_key(v): v for v in AGE_BANDS},
    **_catalog_labels("age_band"),
    "80岁以上": "80+",
    "80以上": "80+",
}
_AGE_EDGES: Final = ((6, "0-6"), (17, "7-17"), (59, "18-59"), (79, "60-79"))
MAX_AGE: Final = 130
_MOBILE_NOISE = re.compile(r"[\s\-－—()（）.]")
_PHONE_SPLIT = re.compile(r"[、，,；;/|]|\s{2,}")


def care_flag(text: str) -> str | None:
    """The category one word names, or ``None``."""
    return _CARE.get(_key(text))


def care(text: str) -> tuple[list[str], str | None]:
    """``(categories, other text)``: unknown words become ``other`` with their text."""
    key = _key(text)
    if key in _NONE:
        return [], None
    whole = _CARE.get(key)
    if whole is not None:
        return [whole], None
    flags: list[str] = []
    unknown: list[str] = []
    for word in _CARE_SPLIT.split(unicodedata.normalize("NFKC", text)):
        if _key(word) in _NONE:
            continue
        found = _CARE.get(_key(word))
        parts = [found] if found else [_CARE.get(_key(p)) for p in word.split("/")]
        if all(parts):
            flags.extend(p for p in parts if p and p not in flags)
        else:
            unknown.append(word)
    if unknown:
        if "other" not in flags:
            flags.append("other")
        return flags, "、".join(unknown)
    return flags, None


def control(text: str) -> str | None:
    key = _key(text)
    if not key:
        return None
    found = _CONTROL.get(key)
    if found is None:
        raise Bad("control")
    return found


def yes_no(text: str) -> bool:
    key = _key(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise Bad("yes_no")


def age_band(text: str) -> str | None:
    key = _key(text)
    if not key:
        return None
    if key in _BANDS:
        return _BANDS[key]
    m = _AGE.fullmatch(key)
    if m is None:
        raise Bad("age", max=MAX_AGE)
    age = int(m.group(1))
    if age > MAX_AGE:
        raise Bad("age", max=MAX_AGE)
    return next((band for edge, band in _AGE_EDGES if age <= edge), "80+")


def phone(text: str) -> str | None:
    """A valid phone number (see :func:`sync.domain.values.is_phone`) or ``None`` if empty."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value or value in _NONE:
        return None
    if len([p for p in _PHONE_SPLIT.split(value) if p.strip()]) > 1:
        raise Bad("two_phones")
    compact = _MOBILE_NOISE.sub("", value)
    for prefix in ("+86", "0086", "86"):
        if compact.startswith(prefix) and len(compact) == len(prefix) + 11:
            compact = compact[len(prefix) :]
            break
    if is_phone(compact):
        return compact
    spaced = "".join(value.split())
    if is_phone(spaced):
        return spaced
    landline = re.sub(r"[()（）\s]", "", value.replace("）", "-").replace(")", "-"))
    if is_phone(landline):
        return landline
    raise Bad("phone")
