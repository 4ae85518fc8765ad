"""Plain-text tables whose columns line up with Chinese text (wide characters count as two)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import click

GAP = "  "


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [width(h) for h in headers]
    for row in rows:
        widths = [max(w, width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)]
        return GAP.join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=1))
