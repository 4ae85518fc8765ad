"""Enrolled devices: lookup, the :class:`Actor` a device acts as, listing and revocation.

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
            }
        )
    return out
