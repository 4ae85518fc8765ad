"""UI text: every enum value, kind and field has zh-CN and English text, and errors read well."""

from __future__ import annotations

import pytest

from sync import i18n
from sync.domain import ENUMS, KINDS, field_label, kind_label, label, options


@pytest.mark.parametrize("enum", sorted(ENUMS))
def test_every_enum_value_has_text_in_both_languages(enum: str) -> None:
    cats = i18n.catalogs()
    for value in ENUMS[enum]:
        key = f"domain.{enum}.{value}"
        assert key in cats["zh-CN"] and key in cats["en"], key
        assert label(enum, value, "zh-CN") != label(enum, value, "en")
    assert [v for v, _ in options(enum, "en")] == list(ENUMS[enum])


def test_examples() -> None:
    assert label("assignment.type", "nucleic_acid_sampling", "zh-CN") == "核酸采样"
    assert label("assignment.type", "nucleic_acid_sampling", "en") == "Nucleic-acid sampling"
    assert label("control", "sealed") == "封控区"
    assert label("assignment.status", "from_the_future", "en") == "Other (from_the_future)"
    assert label("assignment.status", "from_the_future", "zh-CN") == "其他（from_the_future）"
    with pytest.raises(KeyError):
        label("no.such.enum", "x")


def test_every_kind_and_field_has_text() -> None:
    cats = i18n.catalogs()
    for kind, spec in KINDS.items():
        assert f"domain.kind.{kind}" in cats["en"]
        assert kind_label(kind, "zh-CN") != kind_label(kind, "en")
        names = set(spec.fields) | set(spec.children)
        for child in spec.children.values():
            names |= set(child.fields)
        for name in names:
            assert f"domain.field.{name}" in cats["zh-CN"], name
            assert f"domain.field.{name}" in cats["en"], name
    assert field_label("result.quantity", "zh-CN") == "数量"
    assert field_label("seen.status", "en") == "Status"
