"""JSON-like values: the one plain-copy helper and the one canonical JSON encoding.

Records and op bodies are JSON-like (dict/list/str/int/float/bool/None). :func:`plain` turns
anything mapping- or sequence-shaped an op or a merge may hand over (``MappingProxyType``, tuples)
into fresh plain containers and refuses everything else, so a record never aliases a caller's
object and always encodes. :func:`canonical_json` is the encoding every MAC and signature covers
and the merge's tie-break compares: UTF-8, sorted keys, no whitespace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["NotJson", "canonical_json", "canonical_text", "plain"]

_ATOMS: Final = (str, int, float, bool, type(None))
_CANONICAL: Final = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class NotJson(TypeError):
    """A value that is not JSON-like (an object, a set, bytes, a non-string key, NaN...)."""


def plain(value: Any) -> Any:
    """A fresh plain-JSON copy of ``value`` (mappings → dict, tuples → list);
    :class:`NotJson` if it holds anything else."""
    if type(value) in _ATOMS:
        if type(value) is float and value != value:  # NaN has no JSON form
            raise NotJson("NaN")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise NotJson(f"key of type {type(k).__name__}")
            out[k] = plain(v)
        return out
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise NotJson(f"value of type {type(value).__name__}")


def canonical_text(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no whitespace, non-ASCII kept."""
    return _CANONICAL.encode(value)


def canonical_json(value: Any) -> bytes:
    """:func:`canonical_text` as UTF-8: the bytes every MAC and signature covers."""
    return _CANONICAL.encode(value).encode()
