"""Shared checks for the server integration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from sync.server import db
from sync.server.runtime import Runtime


def fingerprint(rt: Runtime) -> dict[str, Any]:
    """Everything a refused request must leave unchanged."""
    with rt.db.read() as conn:
        out: dict[str, Any] = {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("ops", db.ops),
                ("feed", db.feed),
                ("records", db.records),
                ("batches", db.batches),
            )
        }
        out["head"] = db.get_counter(conn, "head")
        out["counters"] = sorted(
            conn.execute(select(db.devices.c.device_id, db.devices.c.last_counter)).all()
        )
    return out


def server_record(backend: Any, kind: str, entity_id: str) -> dict[str, Any]:
    """The server's record (decrypted) of an entity; ``backend`` is a test ``Backend``."""
    rt: Runtime = backend.runtime()
    try:
        with rt.db.read() as conn:
            record = rt.ledger.world(conn).record(kind, entity_id)
    finally:
        rt.close()
    assert record is not None, (kind, entity_id)
    return record
