"""Cells from a CSV or an XLSX file, as text, line by line.

CSV: UTF-8 (with or without BOM) is tried first; otherwise the encoding is detected with
charset-normalizer and accepted only if it is one a Chinese spreadsheet is saved in (GB18030 and
its subsets GBK/GB2312, Big5, UTF-16) and decodes the whole file.

XLSX: read with python-calamine (about ten times faster than openpyxl here, see
``docs/benchmarks.md``). Before anything is parsed the zip is checked: at most
:data:`MAX_ENTRIES` entries, every entry inflated with a budget of :data:`MAX_UNZIPPED` bytes in
total and a ratio of at most :data:`MAX_RATIO` (a zip bomb is refused after inflating a little
past the budget, never whole). calamine reports a formula's cached result; linli never evaluates
formulas, so the formulas of the sheet are read from its XML and given as their text
(``=B2+1``), which the import then reports as a problem to replace with a value. Merged cells are
filled from their top-left cell. Numbers that are whole come out without ``.0`` (room 301,
phone 13800000000).
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Final

from sync.errors import ValidationError
from sync.server.importing.files import CSV, XLSX, Source, sniff

MAX_ENTRIES: Final = 2000
MAX_UNZIPPED: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 200
#: rows beyond this are refused (``import.too_many_rows``)
MAX_ROWS: Final = 100_000
_TEXT_ENCODINGS: Final = ("gb18030", "gbk", "gb2312", "big5", "utf_16", "utf_16_le", "utf_16_be")
_CELL_FORMULA = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)', re.S)


@dataclass(slots=True)
class Grid:
    """The file's rows: ``(line, cells)``, cells as stripped text (``""`` when empty)."""

    kind: str
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    #: (line, column index) of cells that hold a formula (given as its text)
    formulas: set[tuple[int, int]] = field(default_factory=set)
    #: lines with a cell filled from a merged range
    merged: set[int] = field(default_factory=set)


def read(source: Source, sheet: str | None = None) -> Grid:
    if sniff(source) == CSV:
        return read_csv(source)
    return read_xlsx(source, sheet)


# -- CSV -------------------------------------------------------------------------------------
def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``; ``import.encoding`` when no accepted encoding reads it."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf_8_sig"]
    else:
        candidates = ["utf_8"]
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            candidates = ["utf_16"]
    for encoding in candidates:
        try:
            return data.decode(encoding), "utf-8-sig" if encoding == "utf_8_sig" else encoding
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    guesses = [m.encoding for m in from_bytes(data[:65536])]
    # a GBK file is read as GB18030 (its superset): a rarer character does not break it
    for encoding in [("gb18030" if g in ("gbk", "gb2312") else g) for g in guesses] + ["gb18030"]:
        if encoding not in _TEXT_ENCODINGS:
            continue
        try:
            return data.decode(encoding), encoding.replace("_", "-")
        except UnicodeDecodeError:
            continue
    raise ValidationError("import.encoding")


def read_csv(source: Source) -> Grid:
    text, encoding = decode(source.data)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((line, [c.strip() for c in cells]))
                if len(rows) > MAX_ROWS:
                    raise ValidationError("import.too_many_rows", max=MAX_ROWS)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError("import.bad_csv", line=reader.line_num) from exc
    return Grid(CSV, rows, encoding=encoding)


# -- XLSX ------------------------------------------------------------------------------------
def _inflate_checked(data: bytes) -> dict[str, bytes]:
    """The zip's worksheets' XML (inflated within the budgets); refusals for a bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationError("import.bad_xlsx") from exc
    if len(infos) > MAX_ENTRIES:
        raise ValidationError("import.unsafe_xlsx")
    budget = MAX_UNZIPPED
    sheets: dict[str, bytes] = {}
    for info in infos:
        if info.file_size > budget or info.file_size > max(info.compress_size, 1) * MAX_RATIO:
            raise ValidationError("import.unsafe_xlsx")
        try:
            with archive.open(info) as member:
                chunk = member.read(budget + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise ValidationError("import.bad_xlsx") from exc
        if len(chunk) > budget or len(chunk) > max(info.compress_size, 1) * MAX_RATIO:
            raise ValidationError("import.unsafe_xlsx")
        budget -= len(chunk)
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            sheets[info.filename] = chunk
    return sheets


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def _formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) (0-based) -> ``=`` + the formula's text, for every formula cell."""
    if b"<f" not in xml:
        return {}
    found: dict[tuple[int, int], str] = {}
    for m in _CELL_FORMULA.finditer(xml):
        body = html.unescape((m.group(3) or b"").decode("utf-8", "replace"))
        found[(int(m.group(2)) - 1, _column_index(m.group(1)))] = "=" + body
    return found


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def read_xlsx(source: Source, sheet: str | None) -> Grid:
    sheet_xml = _inflate_checked(source.data)
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(source.data))
        names = list(book.sheet_names)
        if sheet is not None and sheet not in names:
            raise ValidationError("import.no_sheet", sheet=sheet, sheets="、".join(names) or "-")
        index = names.index(sheet) if sheet is not None else 0
        found = book.get_sheet_by_index(index)
        # from A1, so that row and column indexes are the sheet's (merged ranges, formulas)
        values = found.to_python(skip_empty_area=False)
        merged = list(found.merged_cell_ranges or [])
    except CalamineError as exc:
        raise ValidationError("import.bad_xlsx") from exc
    except (ValueError, OSError, IndexError) as exc:
        raise ValidationError("import.bad_xlsx") from exc
    # calamine numbers sheets in workbook order; the XML part of sheet N is usually sheetN.xml
    xml = sheet_xml.get(f"xl/worksheets/sheet{index + 1}.xml", b"")
    formulas = _formulas(xml)
    grid: dict[int, list[str]] = {}
    for r, row in enumerate(values):
        grid[r] = [cell_text(v) for v in row]
    del values
    out = Grid(XLSX, [], sheet=names[index], sheets=names)
    for (r, c), formula in formulas.items():
        cells = grid.setdefault(r, [])
        cells.extend([""] * (c + 1 - len(cells)))
        cells[c] = formula
        out.formulas.add((r + 1, c))
    for (r0, c0), (r1, c1) in merged:
        top = grid.get(r0, [])
        value = top[c0] if c0 < len(top) else ""
        for r in range(r0, r1 + 1):
            cells = grid.setdefault(r, [])
            cells.extend([""] * (c1 + 1 - len(cells)))
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and not cells[c]:
                    cells[c] = value
                    out.merged.add(r + 1)
    for r in sorted(grid):
        cells = grid[r]
        if any(cells):
            out.rows.append((r + 1, cells))
            if len(out.rows) > MAX_ROWS:
                raise ValidationError("import.too_many_rows", max=MAX_ROWS)
    return out
