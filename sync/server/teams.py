"""Teams and their members: create, edit, disable, add, move — and enrollment codes for a team.

The one service the CLI (``team …``, ``member …``) and the command centre's 队伍 Teams page share.
Every change is an op of the ``system`` device through :func:`sync.server.admin.write`, so phones
receive it. A team's area is a list of places at or under its community (checked here: a team of
one community may not reach into another). Disabling sets ``disabled_at`` (domain schema 4) and
enabling clears it; a disabled team or member stays in the data (history keeps pointing at it) but
gets no new enrollment codes. Moving a member is setting its ``team_id``: its phones pull the new
team's data from their next sync (a device acts as its member's current team).

:func:`issue_team_codes` gives every active member of a team who has no active phone a one-time
enrollment code in one action (or every active member, with ``everyone``); each code is what
:func:`sync.server.enrollment.issue` makes, and only the caller ever sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from sync.domain.times import now_iso
from sync.errors import ValidationError
from sync.server import admin, db, enrollment
from sync.server.admin import Author
from sync.server.names import Directory
from sync.server.runtime import Runtime


@dataclass(frozen=True, slots=True)
class MemberRow:
    member_id: str
    name: str
    role: str
    phone: str
    team_id: str | None
    disabled_at: str | None
    #: phones of this member not retired or revoked
    active_phones: int
    #: phones ever enrolled
    phones: int


@dataclass(frozen=True, slots=True)
class TeamRow:
    team_id: str
    name: str
    kind: str
    community_id: str
    area: tuple[str, ...]
    disabled_at: str | None
    members: tuple[MemberRow, ...]


def phone_counts(rt: Runtime) -> dict[str, tuple[int, int]]:
    """``{member id: (active phones, phones ever enrolled)}`` (plaintext columns only)."""
    t = db.devices
    out: dict[str, tuple[int, int]] = {}
    with rt.db.read() as conn:
        rows = conn.execute(
            select(t.c.member_id, t.c.retired_at, t.c.revoked_at).where(t.c.system.is_(False))
        )
        for r in rows:
            active, ever = out.get(r.member_id, (0, 0))
            live = r.retired_at is None and r.revoked_at is None
            out[r.member_id] = (active + live, ever + 1)
    return out


def members(names: Directory, counts: dict[str, tuple[int, int]]) -> list[MemberRow]:
    """Every member, by name."""
    out = []
    for mid, m in names.records("member").items():
        active, ever = counts.get(mid, (0, 0))
        team = m.get("team_id")
        out.append(
            MemberRow(
                member_id=mid,
                name=str(m.get("name", "")),
                role=str(m.get("role", "volunteer")),
                phone=str(m.get("phone") or ""),
                team_id=team if isinstance(team, str) else None,
                disabled_at=m.get("disabled_at"),
                active_phones=active,
                phones=ever,
            )
        )
    out.sort(key=lambda r: (r.name, r.member_id))
    return out


def listing(rt: Runtime, names: Directory | None = None) -> list[TeamRow]:
    """Every team with its members, by name."""
    names = names or Directory(rt)
    people = members(names, phone_counts(rt))
    by_team: dict[str, list[MemberRow]] = {}
    for person in people:
        by_team.setdefault(person.team_id or "", []).append(person)
    out = []
    for tid, team in names.records("team").items():
        out.append(
            TeamRow(
                team_id=tid,
                name=str(team.get("name", "")),
                kind=str(team.get("kind", "")),
                community_id=str(team.get("community_id", "")),
                area=tuple(team.get("area") or ()),
                disabled_at=team.get("disabled_at"),
                members=tuple(by_team.get(tid, [])),
            )
        )
    out.sort(key=lambda r: (r.disabled_at is not None, r.name, r.team_id))
    return out


def _check_area(a: Author, community_id: str, area: Iterable[str]) -> list[str]:
    """The area's places, each existing and at or under the community (``team.bad_area``)."""
    out: list[str] = []
    for place in area:
        a.require("place", place)
        current: str | None = place
        seen = 0
        while current is not None and current != community_id and seen < 16:
            parent = (a.record("place", current) or {}).get("parent_id")
            current = parent if isinstance(parent, str) else None
            seen += 1
        if current != community_id:
            raise ValidationError("team.bad_area", place=place)
        if place not in out:
            out.append(place)
    return out


def create_team(
    rt: Runtime, *, name: str, kind: str, community_id: str, area: Iterable[str] = ()
) -> str:
    """A new team; its area defaults to nothing (the team then sees its own records only)."""

    def build(a: Author) -> str:
        a.require("place", community_id)
        if (a.record("place", community_id) or {}).get("level") != "community":
            raise ValidationError("team.not_community", place=community_id)
        places = _check_area(a, community_id, area)
        values = {"name": name.strip(), "kind": kind, "community_id": community_id, "area": places}
        return a.op("team", set=values).entity_id

    return admin.write(rt, build)[0]


def edit_team(
    rt: Runtime,
    team_id: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    area: Iterable[str] | None = None,
) -> bool:
    """Change what is given; ``False`` when nothing differed (no op written)."""

    def build(a: Author) -> bool:
        team = a.record("team", team_id)
        if team is None:
            raise ValidationError("admin.not_found", kind="team", id=team_id)
        values: dict[str, Any] = {}
        if name is not None and name.strip() != team.get("name"):
            values["name"] = name.strip()
        if kind is not None and kind != team.get("kind"):
            values["kind"] = kind
        if area is not None:
            places = _check_area(a, str(team.get("community_id")), area)
            if sorted(places) != sorted(team.get("area") or ()):
                values["area"] = places
        if values:
            a.op("team", team_id, set=values)
        return bool(values)

    return admin.write(rt, build)[0]


def set_disabled(rt: Runtime, kind: str, entity_id: str, disabled: bool) -> bool:
    """Disable (``disabled_at`` = now) or enable a ``team`` or ``member``; ``False`` if it
    already was."""
    if kind not in ("team", "member"):
        raise ValidationError("validation.invalid", field="kind", reason=kind)

    def build(a: Author) -> bool:
        record = a.record(kind, entity_id)
        if record is None:
            raise ValidationError("admin.not_found", kind=kind, id=entity_id)
        if (record.get("disabled_at") is not None) == disabled:
            return False
        a.op(kind, entity_id, set={"disabled_at": now_iso() if disabled else None})
        return True

    return admin.write(rt, build)[0]


def _active_team(a: Author, team_id: str) -> dict[str, Any]:
    team = a.record("team", team_id)
    if team is None:
        raise ValidationError("admin.not_found", kind="team", id=team_id)
    if team.get("disabled_at") is not None:
        raise ValidationError("team.disabled", team=str(team.get("name", team_id)))
    return team


def clean_phone(text: str | None) -> str | None:
    """A typed phone number as stored (``+86``, spaces and dashes dropped; ``team.bad_phone``)."""
    from sync.server.importing.labels import Bad, phone

    try:
        return phone(text or "")
    except Bad as exc:
        raise ValidationError("team.bad_phone", phone=(text or "")[:40]) from exc


def add_member(rt: Runtime, *, name: str, role: str, team_id: str, phone: str | None = None) -> str:
    """A new member of an active team (the phone as :func:`clean_phone` reads it)."""
    phone = clean_phone(phone)

    def build(a: Author) -> str:
        _active_team(a, team_id)
        values: dict[str, Any] = {"name": name.strip(), "role": role, "team_id": team_id}
        if phone:
            values["phone"] = phone
        return a.op("member", set=values).entity_id

    return admin.write(rt, build)[0]


def move_member(rt: Runtime, member_id: str, team_id: str) -> bool:
    """Put a member in another (active) team; ``False`` if it is already there."""

    def build(a: Author) -> bool:
        member = a.record("member", member_id)
        if member is None:
            raise ValidationError("admin.not_found", kind="member", id=member_id)
        _active_team(a, team_id)
        if member.get("team_id") == team_id:
            return False
        a.op("member", member_id, set={"team_id": team_id})
        return True

    return admin.write(rt, build)[0]


@dataclass(frozen=True, slots=True)
class TeamCode:
    """One member's new code: show it once (the server keeps only what is derived from it)."""

    member_id: str
    name: str
    role: str
    code: str
    link: str
    expires_at: int


def issue_team_codes(
    rt: Runtime,
    team_id: str,
    *,
    ttl_s: int = enrollment.DEFAULT_TTL_S,
    everyone: bool = False,
    server_url: str | None = None,
) -> list[TeamCode]:
    """A one-time code for each active member of an active team without an active phone (or
    each active member, with ``everyone``), by name. ``team.disabled`` for a disabled team."""
    names = Directory(rt)
    team = names.records("team").get(team_id)
    if team is None:
        raise ValidationError("admin.not_found", kind="team", id=team_id)
    if team.get("disabled_at") is not None:
        raise ValidationError("team.disabled", team=str(team.get("name", team_id)))
    counts = phone_counts(rt)
    wanted = [
        m
        for m in members(names, counts)
        if m.team_id == team_id and m.disabled_at is None and (everyone or not m.active_phones)
    ]
    out = []
    for m in wanted:
        issued = enrollment.issue(rt, m.member_id, ttl_s)
        link = enrollment.link_for(rt, issued.code, server_url)
        out.append(TeamCode(m.member_id, m.name, m.role, issued.code, link, issued.expires_at))
    return out
