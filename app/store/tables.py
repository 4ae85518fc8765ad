"""The in-memory tables: TinyDB as the query engine over dicts that only the journal may change.

TinyDB's stock ``Table._update_table`` reads the whole table from its storage, rebuilds it twice
and writes it back: O(n) per write. :class:`MemoryTable` keeps the documents in one dict keyed by
string ids (record ids, zero-padded outbox numbers, meta keys) and overrides ``_read_table`` /
``_update_table``, so TinyDB's searches and query cache work unchanged while every mutation still
funnels through ``_update_table`` — which refuses to run unless :meth:`Tables.apply` is applying
a change set that is already durable in the journal.

Stored documents are never mutated in place: a change replaces a whole document. That is what lets
compaction capture a consistent state with shallow dict copies while writers go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Table

from app.store.journal import Changes, State
from sync.domain.schema import KINDS as KIND_SPECS

#: one table per record kind of the domain, in the domain's order
KINDS: tuple[str, ...] = tuple(KIND_SPECS)
OUTBOX = "outbox"
META = "meta"
RECEIPTS = "receipts"
TABLES: tuple[str, ...] = (*KINDS, OUTBOX, META, RECEIPTS)


class MemoryTable(Table):
    """A TinyDB table whose documents live in one in-memory dict, changed only by the journal."""

    document_id_class = str  # type: ignore[assignment]
    default_query_cache_capacity = 32

    def __init__(
        self,
        storage: Storage,
        name: str,
        cache_size: int = default_query_cache_capacity,
        persist_empty: bool = False,
    ) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._applying = False
        super().__init__(storage, name, cache_size=cache_size, persist_empty=persist_empty)

    def _read_table(self) -> dict[str, Any]:
        return self.docs

    def _update_table(self, updater: Callable[[dict[Any, Any]], None]) -> None:
        if not self._applying:
            raise RuntimeError("store tables change only through LocalStore (journal first)")
        updater(self.docs)
        self.clear_cache()

    def apply(self, changes: Iterable[tuple[str, dict[str, Any] | None]]) -> None:
        def updater(docs: dict[Any, Any]) -> None:
            for key, doc in changes:
                if doc is None:
                    docs.pop(key, None)
                else:
                    docs[key] = doc

        self._applying = True
        try:
            self._update_table(updater)
        finally:
            self._applying = False


class _MemoryDB(TinyDB):
    table_class = MemoryTable


class Tables:
    """Every table of one store, by name."""

    def __init__(self) -> None:
        self._db = _MemoryDB(storage=MemoryStorage)
        self.by_name: dict[str, MemoryTable] = {
            name: self._db.table(name)  # type: ignore[misc]
            for name in TABLES
        }

    def load(self, state: State) -> None:
        """Fill empty tables from a snapshot (unknown table names are damage, not silently lost)."""
        for name, docs in state.items():
            self.by_name[name].apply(docs.items())

    def apply(self, changes: Changes) -> None:
        grouped: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}
        for name, key, doc in changes:
            grouped.setdefault(name, []).append((key, doc))
        for name, items in grouped.items():
            self.by_name[name].apply(items)

    def capture(self) -> State:
        """A consistent copy of every table (shallow: documents are never mutated in place)."""
        return {name: dict(table.docs) for name, table in self.by_name.items()}

    def docs(self, name: str) -> dict[str, dict[str, Any]]:
        return self.by_name[name].docs

    def search(
        self,
        name: str,
        where: Mapping[str, Any] | None,
        predicate: Callable[[dict[str, Any]], bool] | None,
    ) -> list[dict[str, Any]]:
        """Stored documents matching ``where`` (field equality) and ``predicate``. Not copies."""
        table = self.by_name[name]
        found: Iterable[dict[str, Any]] = (
            table.search(Query().fragment(dict(where))) if where else table.docs.values()
        )
        if predicate is not None:
            found = [doc for doc in found if predicate(doc)]
        return list(found)
