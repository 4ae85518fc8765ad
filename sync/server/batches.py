"""Each processed batch's answer, stored sealed with the batch (table ``batches``): the same
batch id again — a retry after a lost answer — gets the same acks, rejections and receipt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from sync.errors import SyncError
from sync.protocol import Receipt, Rejection, ServerCopy
from sync.server import db
from sync.server.vault import Vault


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """What a batch was answered. ``restart``: the device's pull scope had changed (new team,
    area or role) when this batch was processed, so its pull starts from the beginning — stored,
    so a retry of this batch restarts too (the pending restart itself is device state: see
    :meth:`sync.server.service.SyncService._commit`)."""

    acks: list[str]
    rejected: list[Rejection]
    receipt: Receipt | None
    restart: bool
    partial: list[Rejection] = field(default_factory=list)
    records: list[ServerCopy] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The stored form; ``partial`` and ``records`` only when there are any (rows stored
        before they existed read back with none)."""
        out: dict[str, Any] = {
            "acks": list(self.acks),
            "rejected": [r.to_dict() for r in self.rejected],
            "receipt": self.receipt.to_dict() if self.receipt is not None else None,
            "restart": self.restart,
        }
        if self.partial:
            out["partial"] = [r.to_dict() for r in self.partial]
        if self.records:
            out["records"] = [c.to_dict() for c in self.records]
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BatchAnswer:
        receipt = raw.get("receipt")
        return cls(
            acks=list(raw["acks"]),
            rejected=[Rejection.from_dict(r) for r in raw["rejected"]],
            receipt=Receipt.from_dict(receipt) if receipt else None,
            restart=bool(raw.get("restart")),
            partial=[Rejection.from_dict(r) for r in raw.get("partial", [])],
            records=[ServerCopy.from_dict(c) for c in raw.get("records", [])],
        )


def _aad(batch_id: str) -> str:
    return f"batch:{batch_id}"


def load(conn: Connection, vault: Vault, batch_id: str, device_id: str) -> BatchAnswer | None:
    """The stored answer to ``batch_id``, if it was processed; ``sync.replay`` if another
    device sent it."""
    row = conn.execute(
        select(db.batches.c.device_id, db.batches.c.response).where(
            db.batches.c.batch_id == batch_id
        )
    ).first()
    if row is None:
        return None
    if row.device_id != device_id:
        raise SyncError("sync.replay")
    return BatchAnswer.from_dict(vault.open(row.response, _aad(batch_id)))


def store(
    conn: Connection,
    vault: Vault,
    answer: BatchAnswer,
    *,
    batch_id: str,
    device_id: str,
    counter: int,
    now: int,
) -> None:
    conn.execute(
        db.batches.insert().values(
            batch_id=batch_id,
            device_id=device_id,
            counter=counter,
            created_at=now,
            response=vault.seal(answer.to_dict(), _aad(batch_id)),
        )
    )
