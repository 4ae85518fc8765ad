"""How the benches report: an aligned two-column table on stdout and the JSON result file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def aligned(rows: Sequence[tuple[str, str]]) -> str:
    """``rows`` as ``name  value`` lines, the values in one column."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def write_json(path: Path, result: Any, *, indent: int = 1, ensure_ascii: bool = False) -> None:
    """Write a bench's ``result`` to ``path``, making its folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=indent, ensure_ascii=ensure_ascii), encoding="utf-8")
