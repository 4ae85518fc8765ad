"""Enrolled devices: lookup, the :class:`Actor` a device acts as, listing, retiring and revoking.

A device is ``active``, ``retired`` (handed back: its syncs are processed as usual, pull nothing
more and tell it to wipe once it has nothing left to send) or ``revoked`` (lost or stolen: the
ops it still sends go to the review queue, never into the data, the answer tells it to wipe, and
a request with nothing to hand over is refused with the signed ``sync.revoked``). Revoking a
retired phone is allowed (it was lost before it synced); retiring a revoked one is not.

A device's role and team are read from its member's CURRENT record on every sync (a coordinator
who moves a member to another team or changes their role changes what the device may do and pull
at its next sync); the values copied at enrollment are only a fallback and for listing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from sync.server import db
from sync.server.authz import SYSTEM, Actor
from sync.server.scope import World, device_keys, team_area
from sync.server.vault import Vault

SYSTEM_DEVICE = "srv-system"
SYSTEM_MEMBER = "system"
ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    member_id: str
    role: str
    team_id: str | None
    signing_public: bytes
    sealing_public: bytes
    revoked_at: int | None
    last_counter: int
    system: bool
    scope_sig: str | None = None
    retired_at: int | None = None

    @property
    def status(self) -> str:
        """``active``, ``retired`` or ``revoked``."""
        return status_of(self.retired_at, self.revoked_at)

    @property
    def wipe(self) -> str | None:
        """What its sync answers tell it: ``retired`` / ``revoked`` (wipe), ``None`` (active)."""
        state = self.status
        return None if state == ACTIVE else state


def status_of(retired_at: int | None, revoked_at: int | None) -> str:
    if revoked_at is not None:
        return REVOKED
    return RETIRED if retired_at is not None else ACTIVE


def load(conn: Connection, device_id: str) -> Device | None:
    row = conn.execute(select(db.devices).where(db.devices.c.device_id == device_id)).first()
    if row is None:
        return None
    return Device(
        device_id=row.device_id,
        member_id=row.member_id,
        role=row.role,
        team_id=row.team_id,
        signing_public=bytes(row.signing_public or b""),
        sealing_public=bytes(row.sealing_public or b""),
        revoked_at=row.revoked_at,
        last_counter=int(row.last_counter),
        system=bool(row.system),
        scope_sig=row.scope_sig,
        retired_at=row.retired_at,
    )


def actor_for(world: World, device: Device) -> Actor:
    """The actor a device is now: its member's current role and team, and that team's area."""
    if device.system:
        return Actor(device.device_id, device.member_id, SYSTEM, None)
    member = world.refs("member", device.member_id) or {}
    role = member.get("role") if isinstance(member.get("role"), str) else device.role
    team = member.get("team_id", device.team_id) if member else device.team_id
    team_id = team if isinstance(team, str) else None
    area = team_area(world.refs("team", team_id)) if team_id else frozenset()
    return Actor(device.device_id, device.member_id, str(role), team_id, area)


def pull_keys(world: World, actor: Actor) -> set[str] | None:
    """The scope keys the actor pulls under; ``None`` = everything (coordinators)."""
    if actor.sees_everything:
        return None
    team_refs = world.refs("team", actor.team_id) if actor.team_id else None
    return device_keys(world, actor.team_id, team_refs)


def scope_signature(keys: set[str] | None) -> str:
    """A short fingerprint of a device's pull scope (``None``: everything)."""
    text = "\x1f".join(sorted(keys)) if keys is not None else "\x00all"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def ensure_system(conn: Connection, now: int) -> None:
    """The server's own author of seeded and CLI-made ops (it has no keys and cannot sync)."""
    if load(conn, SYSTEM_DEVICE) is None:
        conn.execute(
            db.devices.insert().values(
                device_id=SYSTEM_DEVICE,
                member_id=SYSTEM_MEMBER,
                role=SYSTEM,
                team_id=None,
                enrolled_at=now,
                last_counter=0,
                system=True,
            )
        )


def revoke(conn: Connection, device_id: str, now: int) -> bool:
    """Mark a phone lost or stolen (also a retired one); False if none or already revoked."""
    result = conn.execute(
        update(db.devices)
        .where(
            db.devices.c.device_id == device_id,
            db.devices.c.revoked_at.is_(None),
            db.devices.c.system.is_(False),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def retire(conn: Connection, device_id: str, now: int) -> bool:
    """Mark a phone handed back; False if there is no such active phone."""
    result = conn.execute(
        update(db.devices)
        .where(
            db.devices.c.device_id == device_id,
            db.devices.c.revoked_at.is_(None),
            db.devices.c.retired_at.is_(None),
            db.devices.c.system.is_(False),
        )
        .values(retired_at=now)
    )
    return bool(result.rowcount)


def listing(conn: Connection, vault: Vault) -> list[dict[str, Any]]:
    """Every enrolled device (not the system one), newest first."""
    rows = conn.execute(
        select(db.devices)
        .where(db.devices.c.system.is_(False))
        .order_by(db.devices.c.enrolled_at.desc())
    )
    out = []
    for r in rows:
        label = vault.open(r.label, f"device:{r.device_id}") if r.label else ""
        out.append(
            {
                "device_id": r.device_id,
                "member_id": r.member_id,
                "label": label,
                "role": r.role,
                "team_id": r.team_id,
                "enrolled_at": r.enrolled_at,
                "last_sync_at": r.last_sync_at,
                "revoked": r.revoked_at is not None,
                "status": status_of(r.retired_at, r.revoked_at),
                "retired_at": r.retired_at,
                "revoked_at": r.revoked_at,
                "app_version": r.app_version,
                "schema_version": r.schema_version,
                "pending": r.pending,
                "reported_at": r.reported_at,
            }
        )
    return out
