"""Every value check: what it accepts, and the coded error for what it refuses."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sync.domain import values
from sync.domain.enums import CARE_FLAGS
from sync.errors import ValidationError


def code_of(check: values.Check, value: Any) -> str | None:
    try:
        check("f", value)
    except ValidationError as exc:
        assert exc.params["field"] == "f"
        assert not re.search(r"\{\w+\}", exc.describe("zh-CN") + exc.describe("en")), exc
        return exc.code
    return None


@pytest.mark.parametrize(
    "number",
    [
        "13800000000",
        "19912345678",
        "0755-12345678",
        "075512345678",
        "010-6512345",
        "0755-12345678-801",
        "82345678",
        "120",
        "12345",
        "95598",
        "400-810-8888",
        "8008101234",
    ],
)
def test_phone_accepts_mobiles_landlines_and_service_numbers(number: str) -> None:
    assert code_of(values.phone, number) is None
    assert values.is_phone(number)


@pytest.mark.parametrize(
    "number",
    [
        "12800000000",  # 11 digits starting 12: no such mobile prefix
        "1380000000",  # 10 digits
        "138000000000",  # 12 digits
        "138 0000 0000",
        "+8613800000000",
        "0755--12345678",
        "1234567",
        "abc",
        "",
        "0" * 21,
    ],
)
def test_phone_refuses_malformed_numbers(number: str) -> None:
    assert code_of(values.phone, number) == "validation.phone"
    assert not values.is_phone(number)


def test_phone_refuses_non_text() -> None:
    assert code_of(values.phone, 13800000000) == "validation.type"


@pytest.mark.parametrize("good", ["hh-0001", "as-01a2258b0030dd7a25db2f", "pl.unit:3_2", "a" * 100])
def test_ident_accepts_bounded_plain_ids(good: str) -> None:
    assert code_of(values.ident, good) is None


@pytest.mark.parametrize("bad", ["", "-leading", "has space", "住户1", "a" * 101, "x/y"])
def test_ident_refuses_empty_long_or_odd_ids(bad: str) -> None:
    assert code_of(values.ident, bad) == "validation.id"


def test_ident_refuses_non_text() -> None:
    assert code_of(values.ident, 7) == "validation.type"
    assert code_of(values.ident, None) == "validation.type"


def test_text_checks_blank_length_and_control_characters() -> None:
    short = values.text(5)
    assert code_of(short, "张秀英") is None
    assert code_of(short, "   ") == "validation.empty"
    assert code_of(short, "一二三四五六") == "validation.too_long"
    assert code_of(short, "a\nb") == "validation.control_chars"
    assert code_of(short, "a\x00") == "validation.control_chars"
    assert code_of(short, ["张"]) == "validation.type"
    long = values.text(50, multiline=True)
    assert code_of(long, "第一行\n第二行\t备注") is None
    assert code_of(long, "bell\x07") == "validation.control_chars"


@pytest.mark.parametrize("good", ["2022-04-01T08:00:00Z", "2026-12-31T23:59:59Z"])
def test_time_accepts_canonical_utc(good: str) -> None:
    assert code_of(values.time, good) is None


@pytest.mark.parametrize(
    "bad",
    [
        "2022-04-01T08:00:00+08:00",
        "2022-04-01T08:00:00",
        "2022-04-01 08:00:00Z",
        "2022-04-01T08:00:00.5Z",
        "2022-02-30T08:00:00Z",
        "2022-04-01",
        "",
    ],
)
def test_time_refuses_other_forms(bad: str) -> None:
    assert code_of(values.time, bad) == "validation.time"


def test_enum_and_enum_set() -> None:
    status = values.enum("assignment.status")
    assert code_of(status, "pending") is None
    assert code_of(status, "finished") == "validation.enum"
    assert code_of(status, 1) == "validation.type"
    flags = values.enum_set("care_flag")
    assert code_of(flags, []) is None
    assert code_of(flags, ["elderly_alone", "pregnant"]) is None
    assert code_of(flags, ("disabled",)) is None
    assert code_of(flags, ["elderly_alone", "elderly_alone"]) == "validation.duplicate"
    assert code_of(flags, ["lonely"]) == "validation.enum"
    assert code_of(flags, "elderly_alone") == "validation.type"
    assert code_of(flags, ["other"] * (len(CARE_FLAGS) + 1)) == "validation.too_many"
    with pytest.raises(KeyError):
        values.enum("no.such.enum")


def test_id_list() -> None:
    area = values.id_list(3)
    assert code_of(area, ["pl-1", "pl-2"]) is None
    assert code_of(area, ["pl-1", "pl-1"]) == "validation.duplicate"
    assert code_of(area, ["pl-1", "坏 id"]) == "validation.id"
    assert code_of(area, ["a", "b", "c", "d"]) == "validation.too_many"


def test_count_refuses_negatives_bools_and_floats() -> None:
    people = values.count(100)
    assert code_of(people, 0) is None
    assert code_of(people, 100) is None
    assert code_of(people, -1) == "validation.number"
    assert code_of(people, 101) == "validation.number"
    assert code_of(people, True) == "validation.type"
    assert code_of(people, 2.0) == "validation.type"
    assert code_of(people, "3") == "validation.type"


def test_errors_never_carry_the_refused_value() -> None:
    with pytest.raises(ValidationError) as info:
        values.phone("phone", "张秀英 13912345678")
    assert "张秀英" not in str(info.value.to_dict())
    assert "13912345678" not in info.value.describe("en")
