"""The records as the rules see them inside one transaction: refs (plaintext ids) and bodies.

:class:`TxWorld` reads ``records`` in bulk (no query per op), keeps the records a batch changes
in an overlay, and can show the refs as they were when the transaction started
(:meth:`TxWorld.at_start`). The place tree is cached per process and reloaded only when the
``places`` counter (bumped in every transaction that writes a place) moves.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from sync.ops import Op
from sync.server import db
from sync.server.scope import REFS
from sync.server.vault import Vault

Key = tuple[str, str]
CHUNK = 400


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class OpCache:
    """Recently written or read ops by id, decoded (ops never change once stored), per process,
    with the size of each op's wire JSON once known (a pull's page is bounded in bytes).
    Teammates pull the same ops; this saves decrypting and parsing them again for each.
    Holds at most ``size`` ops (least recently used go first)."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._ops: OrderedDict[str, tuple[Op, int | None]] = OrderedDict()

    def get(self, op_id: str) -> Op | None:
        found = self.get_sized(op_id)
        return None if found is None else found[0]

    def get_sized(self, op_id: str) -> tuple[Op, int | None] | None:
        """The op and the bytes of its wire JSON (None if not known yet)."""
        with self._lock:
            found = self._ops.get(op_id)
            if found is not None:
                self._ops.move_to_end(op_id)
            return found

    def put(self, op: Op, size: int | None = None) -> None:
        with self._lock:
            if size is None and (known := self._ops.get(op.op_id)) is not None:
                size = known[1]
            self._ops[op.op_id] = (op, size)
            self._ops.move_to_end(op.op_id)
            while len(self._ops) > self._size:
                self._ops.popitem(last=False)


class PlaceCache:
    """The place tree's refs, per process, keyed by the ``places`` counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._places: dict[str, dict[str, Any]] = {}

    def get(self, conn: Connection, version: int) -> dict[str, dict[str, Any]]:
        with self._lock:
            if version == self._version:
                return self._places
        rows = conn.execute(
            select(db.records.c.entity_id, db.records.c.refs).where(db.records.c.kind == "place")
        )
        places = {r.entity_id: json.loads(r.refs) for r in rows}
        with self._lock:
            self._version, self._places = version, places
        return places


def _by_kind(keys: Iterable[Key]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, entity_id in sorted(keys):
        out.setdefault(kind, []).append(entity_id)
    return out


class TxWorld:
    """A :class:`~sync.server.scope.World` over one transaction, plus the batch's overlay.

    ``counters`` (``head``, ``places``) are read once, when the world is made."""

    def __init__(self, conn: Connection, vault: Vault, places: PlaceCache) -> None:
        self.conn = conn
        self.vault = vault
        self.counters = db.all_counters(conn)
        self._places = places.get(conn, self.counters["places"])
        self._base: dict[Key, dict[str, Any] | None] = {}
        self._bodies: dict[Key, dict[str, Any]] = {}
        self._looked_up: set[Key] = set()
        self._overlay_refs: dict[Key, dict[str, Any]] = {}
        self._overlay_records: dict[Key, dict[str, Any]] = {}

    # -- World ---------------------------------------------------------------------------
    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        key = (kind, entity_id)
        if key in self._overlay_refs:
            return self._overlay_refs[key]
        return self.base_refs(kind, entity_id)

    def base_refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        if kind == "place":
            return self._places.get(entity_id)
        key = (kind, entity_id)
        if key not in self._base:
            self.load_refs([key])
        return self._base.get(key)

    def at_start(self) -> _StartView:
        return _StartView(self)

    def place_ids(self) -> set[str]:
        """Every place, as it stands in this transaction (stored and new)."""
        return set(self._places) | {eid for kind, eid in self._overlay_refs if kind == "place"}

    # -- loading -------------------------------------------------------------------------
    def load_refs(self, keys: Iterable[Key]) -> None:
        """Fetch refs of records not loaded yet: one query per kind."""
        wanted = {k for k in keys if k[0] in REFS and k[0] != "place" and k not in self._base}
        t = db.records
        for kind, ids in _by_kind(wanted).items():
            for entity_id in ids:
                self._base[(kind, entity_id)] = None
            for part in chunks(ids):
                rows = self.conn.execute(
                    select(t.c.entity_id, t.c.refs).where(
                        t.c.kind == kind, db.in_list(self.conn, t.c.entity_id, part)
                    )
                )
                for r in rows:
                    self._base[(kind, r.entity_id)] = json.loads(r.refs)

    def load_records(self, keys: Iterable[Key]) -> None:
        """Fetch (and decrypt) the full records a batch will change: one query per kind."""
        wanted = {k for k in keys if k not in self._looked_up}
        self._looked_up.update(wanted)
        t = db.records
        for kind, ids in _by_kind(wanted).items():
            for entity_id in ids:
                if kind != "place":
                    self._base.setdefault((kind, entity_id), None)
            for part in chunks(ids):
                rows = self.conn.execute(
                    select(t.c.entity_id, t.c.refs, t.c.body).where(
                        t.c.kind == kind, db.in_list(self.conn, t.c.entity_id, part)
                    )
                )
                for r in rows:
                    key = (kind, r.entity_id)
                    if kind != "place":
                        self._base[key] = json.loads(r.refs)
                    self._bodies[key] = self.vault.open(r.body, record_aad(*key))

    # -- records -------------------------------------------------------------------------
    def record(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        key = (kind, entity_id)
        if key in self._overlay_records:
            return self._overlay_records[key]
        if key not in self._looked_up:
            self.load_records([key])
        return self._bodies.get(key)

    def existed(self, kind: str, entity_id: str) -> bool:
        """True if the record was in the database when the transaction started."""
        key = (kind, entity_id)
        if key not in self._looked_up:
            self.load_records([key])
        return key in self._bodies

    def put(self, kind: str, entity_id: str, record: dict[str, Any], refs: dict[str, Any]) -> None:
        self._overlay_records[(kind, entity_id)] = record
        self._overlay_refs[(kind, entity_id)] = refs

    def changed(self) -> dict[Key, dict[str, Any]]:
        return self._overlay_records


class _StartView:
    """The refs as they were when the transaction started (no overlay)."""

    def __init__(self, world: TxWorld) -> None:
        self._world = world

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        return self._world.base_refs(kind, entity_id)


def record_aad(kind: str, entity_id: str) -> str:
    return f"record:{kind}:{entity_id}"


def op_aad(op_id: str) -> str:
    return f"op:{op_id}"
