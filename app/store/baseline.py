"""Plain TinyDB on a JSON file: the baseline ``bench/store.py`` measures the linli store against.

Lives here because this package is the project's only TinyDB importer. Not used by the app: a
``JSONStorage`` rewrites the whole file on every write and is not crash-safe (see docs/store.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB


class PlainTinyDB:
    """One table of a TinyDB ``JSONStorage`` file, with the three operations the benchmark times."""

    def __init__(self, path: Path, table: str) -> None:
        self._db = TinyDB(path)
        self._table = self._db.table(table)

    def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        return self._table.insert_multiple(docs)

    def insert(self, doc: Mapping[str, Any]) -> int:
        return self._table.insert(doc)

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> None:
        self._table.update(dict(fields), doc_ids=[doc_id])

    def find(self, field: str, value: Any) -> list[dict[str, Any]]:
        return [dict(doc) for doc in self._table.search(Query()[field] == value)]

    def close(self) -> None:
        self._db.close()
