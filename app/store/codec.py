"""JSON-like values: canonical plain copies, fast deep copies, and the on-disk encoding.

Records are JSON-like (dict/list/str/int/float/bool/None). :func:`plain` turns anything
mapping- or sequence-shaped an op or merge may hand over (``MappingProxyType``, tuples) into fresh
plain containers and refuses everything else, so a stored record never aliases a caller's object
and always encodes. :func:`clone` is the fast deep copy used for every record handed out: a
type-dispatched recursion over dicts and lists, about twice as fast as ``copy.deepcopy``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_ATOMS = (str, int, float, bool, type(None))
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class NotJson(TypeError):
    """A value that is not JSON-like (an object, a set, bytes, a non-string key, NaN...)."""


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dict and list containers; atoms are immutable)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _ATOMS else clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _ATOMS else clone(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A fresh plain-JSON copy of ``value``; :class:`NotJson` if it holds anything else."""
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


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. Only ever called on data that went through :func:`plain`."""
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise NotJson(str(exc)) from exc


def loads(data: bytes | str) -> Any:
    return json.loads(data)
