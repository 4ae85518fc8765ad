"""Which column fills which field: Chinese (and English) header aliases, and the override.

Fields a column can fill (the names ``--map`` takes):

- the household: ``building``, ``unit``, ``room`` (building and room required; without a unit
  the household hangs under its building), ``address``, ``household_phone``, ``control``,
  ``household_note``;
- the resident of the row: ``name``, ``resident_phone``, ``age`` (an age or an age band),
  ``care`` (categories, several per cell), ``care_note``;
- ``care:<category>`` — a 是/否 column for one category (``是否独居老人``, ``低保``);
- ``-`` — ignore the column.

The header row is the first of the first :data:`HEADER_SEARCH` rows in which at least two cells
are known headers (a title row above it is skipped). A column with no alias and no override is
ignored and listed, never refused. The English names of the CSV format linli used before
(``phone``, ``note``, ``age_band``, ``care_flags`` …) are aliases too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from sync.domain.enums import CARE_FLAGS
from sync.errors import ValidationError
from sync.server.importing import labels

HOUSEHOLD_FIELDS: Final = (
    "building",
    "unit",
    "room",
    "address",
    "household_phone",
    "control",
    "household_note",
)
RESIDENT_FIELDS: Final = ("name", "resident_phone", "age", "care", "care_note")
FLAG_PREFIX: Final = "care:"
IGNORE: Final = "-"
FIELDS: Final = frozenset(
    HOUSEHOLD_FIELDS + RESIDENT_FIELDS + tuple(FLAG_PREFIX + f for f in CARE_FLAGS)
)
REQUIRED: Final = ("building", "room")
HEADER_SEARCH: Final = 10

ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "building": ("楼栋", "楼栋号", "楼号", "栋", "栋号", "幢", "楼", "楼宇", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("房号", "房间号", "房间", "门牌号", "户号", "室", "room"),
    "address": ("地址", "住址", "详细地址", "家庭住址", "address"),
    "household_phone": ("户主电话", "家庭电话", "固定电话", "座机", "phone", "household_phone"),
    "control": ("管控状态", "管控", "管控类型", "管控情况", "防控状态", "control"),
    "household_note": ("户备注", "家庭备注", "note", "household_note"),
    "name": ("姓名", "居民姓名", "名字", "name"),
    "resident_phone": (
        "联系电话",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系方式",
        "电话号码",
        "resident_phone",
    ),
    "age": ("年龄", "年龄段", "age", "age_band"),
    "care": (
        "重点人员类别",
        "重点人员",
        "重点人群",
        "人员类别",
        "关爱类别",
        "特殊人群",
        "care_flags",
        "care",
    ),
    "care_note": ("备注", "说明", "情况说明", "care_note"),
}
#: headers ignored without being "unknown" (kept out of the data on purpose)
KNOWN_IGNORED: Final = frozenset({"序号", "编号", "性别", "身份证号", "身份证号码", "民族"})
_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")


def norm(header: str) -> str:
    """A header as compared: NFKC, no brackets' content, no spaces or ``*``, lower case."""
    text = unicodedata.normalize("NFKC", header)
    text = _BRACKETS.sub("", text)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "*:：").lower()


_BY_ALIAS: Final = {norm(a): f for f, names in ALIASES.items() for a in names}


def field_of(header: str) -> str | None:
    """The field a header names, or ``None``."""
    key = norm(header)
    if not key:
        return None
    if key in _BY_ALIAS:
        return _BY_ALIAS[key]
    flag = labels.care_flag(key.removeprefix("是否"))
    if flag is not None and flag != "other":
        return FLAG_PREFIX + flag
    return None


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``列名=field`` items (``--map``) -> ``{normalised header: field}``."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        target = target.strip()
        if not sep or not norm(header) or (target not in FIELDS and target != IGNORE):
            raise ValidationError(
                "import.bad_map", item=item, fields=", ".join(sorted(FIELDS)) + ", -"
            )
        out[norm(header)] = target
    return out


def find_header(rows: list[tuple[int, list[str]]], overrides: Mapping[str, str]) -> int:
    """The index (in ``rows``) of the header row."""
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH]):
        known = sum(1 for c in cells if norm(c) in overrides or field_of(c) is not None)
        if known >= 2:
            return index
    raise ValidationError("import.no_header", fields=", ".join(REQUIRED))


def mapping(
    header: list[str], overrides: Mapping[str, str]
) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """``({column index: field}, {header: field}, ignored headers)``. Of two columns for one
    field the first counts (the second is listed as ignored); a required field no column fills
    is ``import.missing_columns``."""
    by_index: dict[int, str] = {}
    shown: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        if not cell:
            continue
        target = overrides.get(norm(cell)) or field_of(cell)
        if target is None or target == IGNORE:
            ignored.append(cell)
            continue
        if target in by_index.values():
            ignored.append(cell)  # a second column for a field: the first one counts
            continue
        by_index[index] = target
        shown[cell] = target
    missing = [f for f in REQUIRED if f not in by_index.values()]
    if missing:
        raise ValidationError(
            "import.missing_columns",
            missing=", ".join(missing),
            found=", ".join(header) or "-",
        )
    return by_index, shown, ignored
