"""Change ops: the unit every mutation produces and every replica merges.

An op names one entity (``kind``, ``entity_id``), the fields it sets, the append-only children it
adds, and — for fields under a state machine such as ``status`` — the values its author saw
(``seen``), so a transition can be judged from the op alone, in any order. ``hlc`` and ``device``
order ops for last-writer-wins; ``member`` is the person who made the change.

On the wire and on disk an op is a compact JSON object with the short keys of :data:`WIRE_KEYS`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from sync import hlc as _hlc
from sync.errors import ValidationError

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: attribute -> wire key (the one map both directions use)
WIRE_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "op_id": "i",
        "kind": "k",
        "entity_id": "e",
        "hlc": "t",
        "device": "d",
        "member": "m",
        "set": "s",
        "add": "a",
        "seen": "p",
        "schema": "v",
    }
)
#: the attributes every op carries as non-empty strings
_HEAD: Final = ("op_id", "kind", "entity_id", "hlc", "device", "member")
#: the attributes that are omitted from the wire form when empty
_BODY: Final = ("set", "add", "seen")


def new_id(prefix: str = "") -> str:
    """A unique, roughly time-ordered id: 12 hex digits of ms time + 10 random hex digits."""
    return f"{prefix}{_hlc.wall_ms():012x}{secrets.token_hex(5)}"


@dataclass(frozen=True, slots=True)
class Op:
    op_id: str
    kind: str
    entity_id: str
    hlc: str
    device: str
    member: str
    set: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    add: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=lambda: _EMPTY)
    seen: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: the domain schema version the op was made with (``sync.domain.schema.SCHEMA_VERSION``);
    #: 1, the first, is left out of the wire form, so ops of earlier builds read unchanged
    schema: int = 1

    @property
    def order(self) -> tuple[str, str]:
        """The total order key of last-writer-wins: ``(hlc, device)``."""
        return (self.hlc, self.device)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {WIRE_KEYS[name]: getattr(self, name) for name in _HEAD}
        if self.set:
            out[WIRE_KEYS["set"]] = dict(self.set)
        if self.add:
            out[WIRE_KEYS["add"]] = {
                name: [dict(c) for c in items] for name, items in self.add.items()
            }
        if self.seen:
            out[WIRE_KEYS["seen"]] = dict(self.seen)
        if self.schema != 1:
            out[WIRE_KEYS["schema"]] = self.schema
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Op:
        """Parse a wire/disk op; malformed input raises :class:`ValidationError` (``op.malformed``)."""
        if not isinstance(raw, Mapping):
            raise ValidationError("op.malformed", reason="not an object")
        try:
            strs = {name: raw[WIRE_KEYS[name]] for name in _HEAD}
        except KeyError as exc:
            raise ValidationError("op.malformed", reason=f"missing {exc.args[0]}") from exc
        for name, value in strs.items():
            if not isinstance(value, str) or not value or len(value) > 200:
                raise ValidationError("op.malformed", reason=f"bad {name}")
        if not _hlc.is_valid(strs["hlc"]):
            raise ValidationError("op.malformed", reason="bad hlc")
        sets, adds, seen = (raw.get(WIRE_KEYS[name], {}) for name in _BODY)
        if (
            not isinstance(sets, Mapping)
            or not isinstance(seen, Mapping)
            or not isinstance(adds, Mapping)
        ):
            raise ValidationError("op.malformed", reason="bad body")
        schema = raw.get(WIRE_KEYS["schema"], 1)
        if type(schema) is not int or not 1 <= schema <= 10_000:
            raise ValidationError("op.malformed", reason="bad schema version")
        children: dict[str, tuple[Mapping[str, Any], ...]] = {}
        for name, items in adds.items():
            if not isinstance(items, list) or not all(
                isinstance(c, Mapping) and isinstance(c.get("id"), str) for c in items
            ):
                raise ValidationError("op.malformed", reason=f"bad children {name}")
            children[str(name)] = tuple(MappingProxyType(dict(c)) for c in items)
        return cls(
            op_id=strs["op_id"],
            kind=strs["kind"],
            entity_id=strs["entity_id"],
            hlc=strs["hlc"],
            device=strs["device"],
            member=strs["member"],
            set=MappingProxyType(dict(sets)),
            add=MappingProxyType(children),
            seen=MappingProxyType(dict(seen)),
            schema=schema,
        )
