"""Reading the file: encodings, formats, size, zip bombs, headers, values, phones, fill-down."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from sync.errors import ValidationError
from sync.server.importing import columns, labels, sheets
from sync.server.importing.files import MAX_BYTES, Source, from_path, from_stream
from sync.server.importing.labels import Bad
from tests.unit.server.importing.helpers import HEADER, csv_source, xlsx_source

ROW = "1,5栋,1单元,301,周淑珍,女,85,13800003333,独居老人,居家隔离,需上门"


@pytest.mark.parametrize(
    ("encoding", "bom", "detected"),
    [
        ("utf-8", b"", "utf_8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
    ],
)
def test_encodings_are_detected(encoding: str, bom: bytes, detected: str) -> None:
    # 䶮 is outside GBK: only GB18030 (and UTF-8) can hold it
    name = "刘䶮" if encoding in ("gb18030", "utf-8") else "刘岩"
    text = f"{HEADER}\r\n{ROW.replace('周淑珍', name)}\r\n" * 1
    grid = sheets.read(Source("hh.csv", bom + text.encode(encoding)))
    assert grid.encoding == detected
    assert grid.rows[1][1][4] == name


def test_a_binary_file_named_csv_is_refused() -> None:
    data = bytes(range(256)) * 64
    with pytest.raises(ValidationError) as info:
        sheets.read(Source("hh.csv", data))
    assert info.value.code == "import.binary"


def test_an_old_excel_file_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValidationError) as info:
        sheets.read(Source("hh.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600))
    assert info.value.code == "import.old_excel"


class CountingStream(io.RawIOBase):
    """An endless upload that counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


def test_a_50_mb_upload_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    stream = CountingStream()
    with pytest.raises(ValidationError) as info:
        from_stream("big.csv", io.BufferedReader(stream))
    assert info.value.code == "import.too_big"
    assert stream.read_bytes <= MAX_BYTES + 64 * 1024
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: the size says 50 MB
    with pytest.raises(ValidationError) as again:
        from_path(big)
    assert again.value.code == "import.too_big"


def test_a_zip_bomb_xlsx_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    with pytest.raises(ValidationError) as info:
        sheets.read(Source("bomb.xlsx", out.getvalue()))
    assert info.value.code == "import.unsafe_xlsx"


def test_a_damaged_xlsx_is_a_coded_error() -> None:
    with pytest.raises(ValidationError) as info:
        sheets.read(Source("bad.xlsx", b"PK\x03\x04" + b"garbage" * 100))
    assert info.value.code == "import.bad_xlsx"


def test_xlsx_formulas_are_kept_as_text_merged_cells_filled_numbers_whole() -> None:
    source = xlsx_source(
        [
            ["观海轩社区居民台账"],
            ["楼栋", "单元", "房号", "姓名", "联系电话"],
            ["5栋", "1单元", 301, "周淑珍", 13800003333],
            [None, None, 302, '=HYPERLINK("http://x","吴德胜")', "13800003334"],
        ],
        merges=("A3:A4", "B3:B4"),
    )
    grid = sheets.read(source)
    assert grid.kind == "xlsx" and grid.sheet == "居民台账"
    assert grid.rows[2] == (3, ["5栋", "1单元", "301", "周淑珍", "13800003333"])
    _line, cells = grid.rows[3]
    assert cells[:3] == ["5栋", "1单元", "302"]
    assert cells[3] == '=HYPERLINK("http://x","吴德胜")'
    assert (4, 3) in grid.formulas and 4 in grid.merged


def test_a_missing_sheet_lists_the_sheets() -> None:
    with pytest.raises(ValidationError) as info:
        sheets.read(xlsx_source([["楼栋", "房号"], ["1", "2"]]), sheet="第二页")
    assert info.value.code == "import.no_sheet" and info.value.params["sheets"] == "居民台账"


def test_header_aliases_title_rows_ignored_columns_and_overrides() -> None:
    rows = sheets.read(csv_source(["观海轩社区 重点人员台账,,", HEADER, ROW])).rows
    at = columns.find_header(rows, {})
    assert at == 1
    _by_index, shown, ignored = columns.mapping(rows[at][1], {})
    assert shown == {
        "楼栋": "building",
        "单元": "unit",
        "房号": "room",
        "姓名": "name",
        "年龄": "age",
        "联系电话": "resident_phone",
        "重点人员类别": "care",
        "管控状态": "control",
        "备注": "care_note",
    }
    assert ignored == ["序号", "性别"]
    overrides = columns.parse_overrides(["户主=name", "门牌=room", "备注=-"])
    _, shown2, ignored2 = columns.mapping(["楼号", "门牌", "户主", "备注", "是否低保"], overrides)
    assert shown2 == {
        "楼号": "building",
        "门牌": "room",
        "户主": "name",
        "是否低保": "care:hardship",
    }
    assert ignored2 == ["备注"]


def test_bad_overrides_and_missing_columns_are_coded() -> None:
    with pytest.raises(ValidationError) as bad:
        columns.parse_overrides(["户主=shoe_size"])
    assert bad.value.code == "import.bad_map"
    with pytest.raises(ValidationError) as missing:
        columns.mapping(["姓名", "单元", "楼栋"], {})
    assert (
        missing.value.code == "import.missing_columns" and missing.value.params["missing"] == "room"
    )


@pytest.mark.parametrize(
    ("text", "flags", "other"),
    [
        ("独居老人", ["elderly_alone"], None),
        ("困难/低保", ["hardship"], None),
        ("血透", ["scheduled_treatment"], None),
        ("放化疗", ["scheduled_treatment"], None),
        ("高龄老人、精神障碍", ["very_old", "mental_illness"], None),
        ("留守儿童", ["left_behind_child"], None),
        ("残疾人/低保", ["disabled", "hardship"], None),
        ("慢性病 孕妇", ["chronic_illness", "pregnant"], None),
        ("无", [], None),
        ("独居老人，退役军人", ["elderly_alone", "other"], "退役军人"),
        ("elderly_alone|disabled", ["elderly_alone", "disabled"], None),
    ],
)
def test_care_categories(text: str, flags: list[str], other: str | None) -> None:
    assert labels.care(text) == (flags, other)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("居家隔离", "home_isolation"),
        ("封控", "sealed"),
        ("防范区", "precaution"),
        ("", None),
        ("管控区", "controlled"),
        ("sealed", "sealed"),
        ("常态", "normal"),
    ],
)
def test_control_labels(text: str, value: str | None) -> None:
    assert labels.control(text) == value


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("0", "0-6"),
        ("6", "0-6"),
        ("7", "7-17"),
        ("17", "7-17"),
        ("18", "18-59"),
        ("59", "18-59"),
        ("60", "60-79"),
        ("79岁", "60-79"),
        ("80", "80+"),
        ("102", "80+"),
        ("80+", "80+"),
        ("60-79", "60-79"),
        ("80 岁及以上", "80+"),
        ("", None),
    ],
)
def test_ages_become_bands(text: str, band: str | None) -> None:
    assert labels.age_band(text) == band


@pytest.mark.parametrize("text", ["200", "八十", "-3", "12.5"])
def test_bad_ages(text: str) -> None:
    with pytest.raises(Bad):
        labels.age_band(text)


def test_yes_no() -> None:
    assert [labels.yes_no(t) for t in ("是", "√", "Y", "1", "否", "", "×", "0")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(Bad):
        labels.yes_no("也许")


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("+86 138 0000 3333", "13800003333"),
        ("138-0000-3333", "13800003333"),
        ("0086 13800003333", "13800003333"),
        ("８６１３８００００３３３３", "13800003333"),
        ("(+86)138 0000 3333", "13800003333"),
        ("0752-5551234", "07525551234"),
        ("0752-5551234-801", "0752-5551234-801"),
        ("0752 5551234", "07525551234"),
        ("12345", "12345"),
        ("", None),
    ],
)
def test_phone_normalisation(text: str, phone: str | None) -> None:
    assert labels.phone(text) == phone


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1380000", "phone"), ("13800003333、13900003333", "two_phones"), ("电话坏了", "phone")],
)
def test_bad_phones(text: str, reason: str) -> None:
    with pytest.raises(Bad) as info:
        labels.phone(text)
    assert info.value.reason == reason
