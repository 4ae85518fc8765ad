"""概览 Overview: how much of the operation the account sees — places, households, teams, phones
and open review items, each counted within its scope (from the plaintext refs: no decryption)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from console import web
from sync.server import db
from sync.server import review as queue
from sync.server.accounts import Scope
from sync.server.accounts.scope import refs_of_kind
from sync.server.vault import Vault

router = APIRouter()


def counts(conn: Connection, vault: Vault, scope: Scope) -> dict[str, int]:
    """The overview's numbers for ``scope``."""
    places = [pid for pid in scope.parents if scope.allows_place(pid)]
    households = [
        hid for hid, refs in refs_of_kind(conn, "household").items() if scope.allows_household(refs)
    ]
    teams = [tid for tid in scope.teams if scope.allows_team(tid)]
    t = db.devices
    rows = conn.execute(
        select(t.c.member_id, t.c.team_id).where(
            t.c.system.is_(False), t.c.revoked_at.is_(None), t.c.retired_at.is_(None)
        )
    ).all()
    phones = [r for r in rows if device_allowed(scope, r.member_id, r.team_id)]
    items = queue.listing(conn, vault, queue.OPEN)
    review = [i for i in items if scope.allows_member(i.member)]
    return {
        "places": len(places),
        "households": len(households),
        "teams": len(teams),
        "devices": len(phones),
        "review": len(review),
    }


def device_allowed(scope: Scope, member_id: str, team_id: str | None) -> bool:
    """A phone belongs to its member's current team (else the team it enrolled with)."""
    if member_id in scope.members:
        return scope.allows_member(member_id)
    return scope.allows_team(team_id) or scope.whole


@router.get("/")
def overview(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        numbers = counts(conn, rt.vault, v.scope)
    return web.render(request, "overview.html", {"counts": numbers}, visitor=v)
