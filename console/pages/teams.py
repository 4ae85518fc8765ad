"""队伍 Teams: the teams of each community (邻里服务队, 三人小组, targeted teams) with their area
and members — create, edit, disable, add a member, move one between teams, disable one — a roster
import (CSV/XLSX, previewed with every problem, then committed) and enrollment codes for a whole
team in one action, shown as a printable A4 sheet of labelled QR codes.

Every change is a call to :mod:`sync.server.teams` / :mod:`sync.server.importing.roster` (the
CLI's service functions): ops of the system device, so phones receive it. The pages show
members' names and phones: each view is audited (``view.personal``); so are team changes
(``team.change``), the roster import (``import``) and code issuance (``enroll``, with the
count). Codes are shown once, in the answer to the POST that made them (the server keeps only
what is derived from them): the sheet is never a page one can come back to.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import uploads, web
from console.web import Visitor
from sync.domain.enums import ROLES, TEAM_KINDS
from sync.errors import LinliError
from sync.protocol import fingerprint_of
from sync.server import audit, enrollment, localtime, teams
from sync.server.importing import roster
from sync.server.names import Directory
from sync.server.runtime import Runtime

router = APIRouter()
TTL_CHOICES = ("24h", "72h", "7d")


def communities(names: Directory, v: Visitor) -> list[tuple[str, str]]:
    """``(id, path)`` of the communities the visitor may see, by path."""
    out = [
        (pid, names.place_path(pid))
        for pid, p in names.records("place").items()
        if p.get("level") == "community" and v.scope.allows_place(pid)
    ]
    return sorted(out, key=lambda c: c[1])


def area_choices(names: Directory, community_id: str) -> list[tuple[str, str]]:
    """``(id, name under the community)`` of the buildings and units of a community."""
    places = names.records("place")
    out = []
    for pid, p in places.items():
        if p.get("level") not in ("building", "unit"):
            continue
        chain = names.ancestors(pid)
        if community_id in chain:
            inner = reversed(chain[: chain.index(community_id)])
            out.append((pid, " / ".join(str(places[c].get("name", c)) for c in inner)))
    return sorted(out, key=lambda a: a[1])


def _visible(rt: Runtime, v: Visitor) -> tuple[Directory, list[teams.TeamRow]]:
    names = Directory(rt)
    return names, [t for t in teams.listing(rt, names) if v.scope.allows_team(t.team_id)]


def _team(request: Request, v: Visitor, team_id: str) -> tuple[Directory, teams.TeamRow]:
    rt = web.console_of(request).rt
    names = Directory(rt)
    row = next((t for t in teams.listing(rt, names) if t.team_id == team_id), None)
    if row is None:
        raise web.PageRefusal("console.no_team", status=404)
    if not v.scope.allows_team(team_id):
        web.deny(request, v, "team", team_id)
    return names, row


def _changed(request: Request, v: Visitor, target: str, what: str) -> None:
    web.record(request, v, audit.TEAM_CHANGE, target, what=what)


def _fail(exc: LinliError, lang: str) -> str:
    return exc.describe(lang)


@router.get("/teams")
def team_list(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    names, rows = _visible(rt, v)
    shown = sum(len(t.members) for t in rows)
    if shown:
        web.record(request, v, audit.VIEW_PERSONAL, "teams", rows=shown)
    context = {
        "teams": rows,
        "communities": communities(names, v),
        "place_name": lambda pid: names.place_path(pid),
        "kinds": TEAM_KINDS,
        "done": request.query_params.get("done"),
    }
    return web.render(request, "teams.html", context, visitor=v)


@router.post("/teams")
async def team_create(request: Request, v: web.Posted) -> Response:
    form = await request.form()
    community = str(form.get("community") or "")
    if not v.scope.allows_place(community):
        await run_in_threadpool(web.deny, request, v, "place", community)
    rt = web.console_of(request).rt
    try:
        team_id = await run_in_threadpool(
            lambda: teams.create_team(
                rt,
                name=str(form.get("name") or ""),
                kind=str(form.get("kind") or ""),
                community_id=community,
                area=[str(a) for a in form.getlist("area")],
            )
        )
    except LinliError as exc:
        raise web.PageRefusal(exc.code, status=400, **exc.params) from exc
    await run_in_threadpool(_changed, request, v, team_id, "create")
    return web.redirect(f"{web.PREFIX}/teams/{team_id}?done=created")


def _team_page(
    request: Request, v: Visitor, team_id: str, error: str | None = None, status: int = 200
) -> Response:
    rt = web.console_of(request).rt
    names, row = _team(request, v, team_id)
    if row.members:
        web.record(request, v, audit.VIEW_PERSONAL, team_id, rows=len(row.members))
    others = [
        (t.team_id, t.name)
        for t in _visible(rt, v)[1]
        if t.team_id != team_id and t.disabled_at is None and t.community_id == row.community_id
    ]
    context = {
        "team": row,
        "community": names.place_path(row.community_id),
        "areas": area_choices(names, row.community_id),
        "area_names": [names.place_path(p) for p in row.area],
        "others": others,
        "kinds": TEAM_KINDS,
        "roles": ROLES,
        "ttls": TTL_CHOICES,
        "done": request.query_params.get("done"),
        "error": error,
        "never": [m for m in row.members if not m.phones and m.disabled_at is None],
    }
    return web.render(request, "team.html", context, visitor=v, status=status)


@router.get("/teams/{team_id}")
def team_show(request: Request, team_id: str, v: web.SignedIn) -> Response:
    return _team_page(request, v, team_id)


@router.post("/teams/{team_id}/edit")
async def team_edit(request: Request, team_id: str, v: web.Posted) -> Response:
    form = await request.form()
    await run_in_threadpool(_team, request, v, team_id)
    rt = web.console_of(request).rt
    try:
        done = await run_in_threadpool(
            lambda: teams.edit_team(
                rt,
                team_id,
                name=str(form.get("name") or ""),
                kind=str(form.get("kind") or ""),
                area=[str(a) for a in form.getlist("area")],
            )
        )
    except LinliError as exc:
        return await run_in_threadpool(_team_page, request, v, team_id, _fail(exc, v.lang), 400)
    if done:
        await run_in_threadpool(_changed, request, v, team_id, "edit")
    return web.redirect(f"{web.PREFIX}/teams/{team_id}?done={'edited' if done else 'same'}")


@router.post("/teams/{team_id}/members")
async def member_add(request: Request, team_id: str, v: web.Posted) -> Response:
    form = await request.form()
    await run_in_threadpool(_team, request, v, team_id)
    rt = web.console_of(request).rt
    try:
        member_id = await run_in_threadpool(
            lambda: teams.add_member(
                rt,
                name=str(form.get("name") or ""),
                role=str(form.get("role") or "volunteer"),
                team_id=team_id,
                phone=str(form.get("phone") or "").strip() or None,
            )
        )
    except LinliError as exc:
        return await run_in_threadpool(_team_page, request, v, team_id, _fail(exc, v.lang), 400)
    await run_in_threadpool(_changed, request, v, member_id, "member.add")
    return web.redirect(f"{web.PREFIX}/teams/{team_id}?done=member_added")


def _member(request: Request, v: Visitor, member_id: str) -> str:
    """The member's current team (refused outside the scope)."""
    rt = web.console_of(request).rt
    found = Directory(rt).records("member").get(member_id)
    if found is None:
        raise web.PageRefusal("console.no_member", status=404)
    if not v.scope.allows_member(member_id):
        web.deny(request, v, "member", member_id)
    return str(found.get("team_id") or "")


@router.post("/members/{member_id}/move")
async def member_move(request: Request, member_id: str, v: web.Posted) -> Response:
    form = await request.form()
    target = str(form.get("team") or "")
    current = await run_in_threadpool(_member, request, v, member_id)
    await run_in_threadpool(_team, request, v, target)
    rt = web.console_of(request).rt
    try:
        done = await run_in_threadpool(teams.move_member, rt, member_id, target)
    except LinliError as exc:
        return await run_in_threadpool(_team_page, request, v, current, _fail(exc, v.lang), 400)
    if done:
        await run_in_threadpool(_changed, request, v, member_id, "member.move")
    return web.redirect(f"{web.PREFIX}/teams/{current}?done=member_moved")


@router.post("/members/{member_id}/{switch}")
def member_switch(request: Request, member_id: str, switch: str, v: web.Posted) -> Response:
    if switch not in ("disable", "enable"):
        raise web.PageRefusal("console.not_found", status=404)
    team_id = _member(request, v, member_id)
    rt = web.console_of(request).rt
    if teams.set_disabled(rt, "member", member_id, switch == "disable"):
        _changed(request, v, member_id, f"member.{switch}")
    return web.redirect(f"{web.PREFIX}/teams/{team_id}?done=member_{switch}d")


# -- enrollment codes and the printable sheet ---------------------------------------------------
def qr_svg(link: str) -> str:
    """An inline SVG QR code of ``link`` (its ``<title>`` is the link itself, escaped)."""
    return str(segno.make(link, error="m").svg_inline(scale=3, title=link, svgclass="qr"))


@router.post("/teams/{team_id}/codes")
async def team_codes(request: Request, team_id: str, v: web.Posted) -> Response:
    form = await request.form()
    ttl = str(form.get("expires") or "24h")
    ttl = ttl if ttl in TTL_CHOICES else "24h"
    everyone = form.get("everyone") == "1"
    _names, row = await run_in_threadpool(_team, request, v, team_id)
    console = web.console_of(request)
    rt = console.rt
    try:
        issued = await run_in_threadpool(
            lambda: teams.issue_team_codes(
                rt, team_id, ttl_s=enrollment.parse_duration(ttl), everyone=everyone
            )
        )
    except LinliError as exc:
        return await run_in_threadpool(_team_page, request, v, team_id, _fail(exc, v.lang), 400)
    await run_in_threadpool(
        web.record, request, v, audit.ENROLL, team_id, codes=len(issued), everyone=everyone
    )
    cards = [
        {
            "name": c.name,
            "role": c.role,
            "code": c.code,
            "link": c.link,
            "expires": localtime.show(c.expires_at, console.zone),
            "svg": qr_svg(c.link),
        }
        for c in issued
    ]
    context = {
        "team": row,
        "cards": cards,
        "server": rt.settings.public_url,
        "fingerprint": fingerprint_of(rt.keys),
    }
    return web.render(request, "enroll_sheet.html", context, visitor=v)


# -- roster import ----------------------------------------------------------------------------
def _roster_page(request: Request, v: Visitor, up: uploads.Upload, status: int = 200) -> Response:
    rt = web.console_of(request).rt
    names = Directory(rt)
    error = None
    preview = None
    try:
        preview = roster.preview(
            rt, uploads.source(rt, up), up.community_id, team_id=up.team_id, sheet=up.sheet
        )
    except LinliError as exc:
        error = exc.describe(v.lang)
    if preview is not None and preview.plan:
        web.record(request, v, audit.VIEW_PERSONAL, f"roster:{up.id}", rows=len(preview.plan))
    context = {
        "up": up,
        "preview": preview,
        "error": error,
        "community": names.place_path(up.community_id),
        "team_name": lambda tid: names.name("team", tid) if tid else "",
        "member_name": lambda mid: names.name("member", mid) if mid else "",
    }
    return web.render(request, "roster.html", context, visitor=v, status=status)


@router.post("/teams/roster")
async def roster_upload(request: Request) -> Response:
    form = await uploads.limited_form(request)
    v = await web.posted(request)
    community = str(form.get("community") or "")
    team_id = str(form.get("team") or "") or None
    if not await run_in_threadpool(v.scope.allows_place, community):
        await run_in_threadpool(web.deny, request, v, "place", community)
    if team_id is not None and not v.scope.allows_team(team_id):
        await run_in_threadpool(web.deny, request, v, "team", team_id)
    source = uploads.source_of(form)
    rt = web.console_of(request).rt
    up = await run_in_threadpool(
        uploads.create, rt, uploads.ROSTER, v.name, community, source, team_id
    )
    return web.redirect(f"{web.PREFIX}/teams/roster/{up.id}")


@router.get("/teams/roster/{upload_id}")
def roster_show(request: Request, upload_id: str, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    up = uploads.load(rt, upload_id, v.name, uploads.ROSTER)
    return _roster_page(request, v, up)


@router.post("/teams/roster/{upload_id}/commit")
def roster_commit(request: Request, upload_id: str, v: web.Posted) -> Response:
    rt = web.console_of(request).rt
    up = uploads.load(rt, upload_id, v.name, uploads.ROSTER)
    preview = roster.preview(
        rt, uploads.source(rt, up), up.community_id, team_id=up.team_id, sheet=up.sheet
    )
    for change in preview.plan:
        team = change.set.get("team_id")
        if isinstance(team, str) and not v.scope.allows_team(team):
            web.deny(request, v, "team", team)
    count = roster.commit(rt, preview)
    web.record(request, v, audit.IMPORT, up.community_id, kind="roster", members=count)
    up.state, up.result = uploads.DONE, {"members": count}
    uploads.save(rt, up)
    return web.redirect(f"{web.PREFIX}/teams?done=roster&count={count}")


# last: its path would catch the team routes above
@router.post("/teams/{team_id}/{switch}")
def team_switch(request: Request, team_id: str, switch: str, v: web.Posted) -> Response:
    if switch not in ("disable", "enable"):
        raise web.PageRefusal("console.not_found", status=404)
    _team(request, v, team_id)
    rt = web.console_of(request).rt
    if teams.set_disabled(rt, "team", team_id, switch == "disable"):
        _changed(request, v, team_id, switch)
    return web.redirect(f"{web.PREFIX}/teams/{team_id}?done={switch}d")
