"""A device's enrolled identity: who it is, its private keys and the server keys it pinned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.errors import SyncError
from sync.protocol import DeviceKeys, b64d, b64e


@dataclass(frozen=True, slots=True)
class Identity:
    """Saved by the app in its encrypted store (``to_dict`` holds PRIVATE keys)."""

    device_id: str
    member_id: str
    name: str
    role: str
    team_id: str | None
    keys: DeviceKeys = field(repr=False)
    server_signing_public: bytes = field(repr=False)
    server_sealing_public: bytes = field(repr=False)
    server_url: str | None = None
    enrolled_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "member_id": self.member_id,
            "name": self.name,
            "role": self.role,
            "team_id": self.team_id,
            "keys": self.keys.to_dict(),
            "server_signing_public": b64e(self.server_signing_public),
            "server_sealing_public": b64e(self.server_sealing_public),
            "server_url": self.server_url,
            "enrolled_at": self.enrolled_at,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Identity:
        try:
            return cls(
                device_id=str(raw["device_id"]),
                member_id=str(raw["member_id"]),
                name=str(raw["name"]),
                role=str(raw["role"]),
                team_id=None if raw.get("team_id") is None else str(raw["team_id"]),
                keys=DeviceKeys.from_dict(raw["keys"]),
                server_signing_public=b64d(raw["server_signing_public"], "server signing key"),
                server_sealing_public=b64d(raw["server_sealing_public"], "server sealing key"),
                server_url=raw.get("server_url"),
                enrolled_at=int(raw.get("enrolled_at", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError("sync.bad_key", what="identity") from exc
