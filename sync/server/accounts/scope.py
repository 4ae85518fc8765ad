"""What an account may see: its places and everything beneath them.

:class:`Scope` is built once per request from the account's places and the place tree (the
plaintext ``parent_id`` refs of ``place`` records: no decryption). Pages and exports ask it about
every row they read, on the server:

- :meth:`Scope.allows_place` — a place at or under one of the account's places;
- :meth:`Scope.allows_team` — a team whose community or any of whose area places is allowed;
- :meth:`Scope.allows_member` — a member of an allowed team (a member without a team, such as a
  coordinator's own phone, only for a whole-operation scope);
- :meth:`Scope.allows_household` — a household whose place is allowed.

An admin without places has the whole operation (:attr:`Scope.whole`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from sync.server import db
from sync.server.accounts.users import Account
from sync.server.scope import MAX_DEPTH


def refs_of_kind(conn: Connection, kind: str) -> dict[str, dict[str, Any]]:
    """``{id: refs}`` of every ``kind`` record (plaintext ids only)."""
    t = db.records
    rows = conn.execute(select(t.c.entity_id, t.c.refs).where(t.c.kind == kind))
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        refs = json.loads(r.refs) if r.refs else {}
        out[r.entity_id] = refs if isinstance(refs, dict) else {}
    return out


@dataclass(frozen=True, slots=True)
class Scope:
    places: frozenset[str] | None  # None: the whole operation
    parents: Mapping[str, str | None] = field(default_factory=dict)
    teams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    members: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def whole_operation(cls) -> Scope:
        return cls(None)

    @classmethod
    def load(cls, conn: Connection, account: Account) -> Scope:
        places = frozenset(account.scope) if account.scope else None
        if places is None and not account.is_admin:
            places = frozenset()  # a coordinator without places sees nothing
        parents = {
            pid: (refs.get("parent_id") if isinstance(refs.get("parent_id"), str) else None)
            for pid, refs in refs_of_kind(conn, "place").items()
        }
        return cls(places, parents, refs_of_kind(conn, "team"), refs_of_kind(conn, "member"))

    @property
    def whole(self) -> bool:
        return self.places is None

    def chain(self, place_id: str) -> list[str]:
        out: list[str] = []
        current: str | None = place_id
        while current and current not in out and len(out) < MAX_DEPTH:
            out.append(current)
            current = self.parents.get(current)
        return out

    def allows_place(self, place_id: str | None) -> bool:
        if self.places is None:
            return True
        if not place_id:
            return False
        return any(p in self.places for p in self.chain(place_id))

    def allows_any_place(self, place_ids: Iterable[Any]) -> bool:
        return any(isinstance(p, str) and self.allows_place(p) for p in place_ids)

    def allows_team(self, team_id: str | None) -> bool:
        if self.places is None:
            return True
        refs = self.teams.get(team_id or "")
        if refs is None:
            return False
        area: list[Any] = refs["area"] if isinstance(refs.get("area"), list) else []
        return self.allows_any_place([refs.get("community_id"), *area])

    def allows_member(self, member_id: str | None) -> bool:
        if self.places is None:
            return True
        refs = self.members.get(member_id or "") or {}
        team = refs.get("team_id")
        return isinstance(team, str) and self.allows_team(team)

    def allows_household(self, household_refs: Mapping[str, Any] | None) -> bool:
        place = (household_refs or {}).get("place_id")
        return self.allows_place(place if isinstance(place, str) else None)
