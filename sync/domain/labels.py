"""UI text for record kinds, fields and enum values, from the ``domain.json`` catalogs.

Keys: ``domain.kind.<kind>``, ``domain.field.<field>``, ``domain.<enum>.<value>`` where ``<enum>``
is a name in :data:`~sync.domain.enums.ENUMS` (``domain.assignment.type.welfare_check``).
"""

from __future__ import annotations

from sync.domain.enums import ENUMS
from sync.i18n import t


def label(enum: str, value: str, lang: str | None = None) -> str:
    """The text of ``value`` of ``enum`` in ``lang``. An unknown enum name is a ``KeyError``
    (a programming mistake); an unknown value (a newer version's) reads "Other (value)", never
    an error."""
    if value not in ENUMS[enum]:
        return t("domain.unknown_value", lang, value=value)
    return t(f"domain.{enum}.{value}", lang)


def options(enum: str, lang: str | None = None) -> list[tuple[str, str]]:
    """``(value, text)`` of every value of ``enum``, in display order, for pickers."""
    return [(value, label(enum, value, lang)) for value in ENUMS[enum]]


def kind_label(kind: str, lang: str | None = None) -> str:
    return t(f"domain.kind.{kind}", lang)


def field_label(field: str, lang: str | None = None) -> str:
    """The text of a field name as errors report it (``phone``, ``result.quantity``,
    ``visits.outcome``, ``seen.status``): the last part names the field."""
    return t(f"domain.field.{field.rsplit('.', 1)[-1]}", lang)
