"""The values a file last gave each household and resident of a community (``import_values``).

Sealed under the data key, bound to their row (``import:<community>:<entity>``), read all at
once for a preview and written in the same transaction as the ops of each commit chunk — so an
interrupted commit's finished chunks read as unchanged when it is run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, select

from sync.protocol import now_ms
from sync.server import db
from sync.server.state import chunks
from sync.server.vault import Vault

T = db.import_values


def _aad(community_id: str, entity_id: str) -> str:
    return f"import:{community_id}:{entity_id}"


def load(
    conn: Connection, vault: Vault, community_id: str, ids: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """``{entity id: values}`` for the community (only ``ids`` when given)."""
    query = select(T.c.entity_id, T.c.body).where(T.c.community_id == community_id)
    out: dict[str, dict[str, Any]] = {}
    parts = (
        [query]
        if ids is None
        else [query.where(db.in_list(conn, T.c.entity_id, part)) for part in chunks(ids)]
    )
    for q in parts:
        for r in conn.execute(q):
            out[r.entity_id] = vault.open(r.body, _aad(community_id, r.entity_id))
    return out


def save(
    conn: Connection,
    vault: Vault,
    community_id: str,
    values: Mapping[str, tuple[str, Mapping[str, Any]]],
) -> None:
    """Replace the remembered values of ``{entity id: (kind, values)}``."""
    if not values:
        return
    ids = list(values)
    for part in chunks(ids):
        conn.execute(
            delete(T).where(T.c.community_id == community_id, db.in_list(conn, T.c.entity_id, part))
        )
    at = now_ms()
    rows = [
        {
            "community_id": community_id,
            "entity_id": entity_id,
            "kind": kind,
            "body": vault.seal(dict(body), _aad(community_id, entity_id)),
            "updated_at": at,
        }
        for entity_id, (kind, body) in values.items()
    ]
    db.insert_rows(conn, T, rows)
