"""Value checks: one function per kind of field value, each raising a coded ``ValidationError``.

A check is ``check(field, value) -> None``. ``field`` is the name reported in the error (dotted for
nested values: ``result.quantity``, ``visits.outcome``). Errors never carry the rejected value:
it may be a resident's name or phone typed into the wrong box, and errors end up in logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from sync.domain import times
from sync.domain.enums import ENUMS
from sync.errors import OpRejected, ValidationError

Check = Callable[[str, Any], None]

ID_MAX: Final = 100
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Landline: area code (0 + 2-3 digits) or a local number not starting 0/1, 7-8 digits, and an
# optional extension.
_LANDLINE = re.compile(r"(?:0\d{2,3}-?\d|[2-9])\d{6,7}(?:-\d{1,6})?")
# Public service numbers (110, 120, 12345, 12320) and 95xxx/96xxx hotlines; 400/800 numbers.
_SERVICE = re.compile(r"1\d{2,4}|9[56]\d{3,4}|[48]00-?\d{3}-?\d{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def expect_type(field: str, value: Any, kind: Any, expected: str) -> None:
    """``value`` is an instance of ``kind`` (never a bool: no field holds one)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValidationError("validation.type", field=field, expected=expected)


def ident(field: str, value: Any) -> None:
    """A record or child id: 1-100 characters of letters, digits and ``_ . : -``."""
    expect_type(field, value, str, "id")
    if len(value) > ID_MAX or not _ID.fullmatch(value):
        raise ValidationError("validation.id", field=field, max=ID_MAX)


def text(max_len: int, *, multiline: bool = False) -> Check:
    """Non-blank text of at most ``max_len`` characters; line breaks only if ``multiline``."""
    control = _CONTROL_MULTILINE if multiline else _CONTROL

    def check(field: str, value: Any) -> None:
        expect_type(field, value, str, "text")
        if not value.strip():
            raise ValidationError("validation.empty", field=field)
        if len(value) > max_len:
            raise ValidationError("validation.too_long", field=field, max=max_len)
        if control.search(value):
            raise ValidationError("validation.control_chars", field=field)

    return check


def is_phone(value: object) -> bool:
    """A Chinese mobile number, a landline (with area code/extension) or a service number."""
    if not isinstance(value, str) or len(value) > 20:
        return False
    if value.isdigit() and value.startswith("1") and len(value) >= 11:
        return bool(_MOBILE.fullmatch(value))
    return any(p.fullmatch(value) for p in (_MOBILE, _LANDLINE, _SERVICE))


def phone(field: str, value: Any) -> None:
    expect_type(field, value, str, "phone")
    if not is_phone(value):
        raise ValidationError("validation.phone", field=field)


def time(field: str, value: Any) -> None:
    """A canonical record time, ``YYYY-MM-DDTHH:MM:SSZ`` (see :mod:`sync.domain.times`)."""
    expect_type(field, value, str, "time")
    if not times.is_iso(value):
        raise ValidationError("validation.time", field=field)


def enum(name: str) -> Check:
    """One value of the enum ``name`` (a key of :data:`~sync.domain.enums.ENUMS`)."""
    values = frozenset(ENUMS[name])

    def check(field: str, value: Any) -> None:
        expect_type(field, value, str, "choice")
        if value not in values:
            raise ValidationError("validation.enum", field=field)

    return check


def _unique_list(field: str, value: Any, max_items: int, item: Check) -> None:
    expect_type(field, value, list | tuple, "list")
    if len(value) > max_items:
        raise ValidationError("validation.too_many", field=field, max=max_items)
    for element in value:
        item(field, element)
    if len(set(value)) != len(value):
        raise ValidationError("validation.duplicate", field=field)


def enum_set(name: str) -> Check:
    """A list of distinct values of the enum ``name`` (possibly empty)."""
    member = enum(name)
    limit = len(ENUMS[name])

    def check(field: str, value: Any) -> None:
        _unique_list(field, value, limit, member)

    return check


def id_list(max_items: int) -> Check:
    """A list of distinct ids (possibly empty)."""

    def check(field: str, value: Any) -> None:
        _unique_list(field, value, max_items, ident)

    return check


def count(maximum: int = 1_000_000) -> Check:
    """A whole number from 0 to ``maximum``."""

    def check(field: str, value: Any) -> None:
        expect_type(field, value, int, "number")
        if not 0 <= value <= maximum:
            raise ValidationError("validation.number", field=field, min=0, max=maximum)

    return check


def check_fields(
    prefix: str,
    value: Any,
    checks: Mapping[str, Check],
    required: Collection[str],
    *,
    kind: str,
) -> None:
    """Check a mapping of named values (a result, a child): names known, required ones present,
    every value valid. Unknown names are ``op.unknown_field``; ``None`` clears an optional one."""
    expect_type(prefix, value, Mapping, "object")
    for name, element in value.items():
        field = f"{prefix}.{name}"
        if name not in checks:
            raise OpRejected("op.unknown_field", kind=kind, field=field)
        if element is None and name not in required:
            continue
        checks[name](field, element)
    for name in required:
        if value.get(name) is None:
            raise ValidationError("validation.required", field=f"{prefix}.{name}")
