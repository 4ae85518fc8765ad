"""网格 Grid: the place tree the account's scope allows (district → street → community → building
→ unit → households), with create, rename and move, and the control status of each place and
household with its dates ("第 N 天/共 14 天") and history.

Every change is :mod:`sync.server.grid` (or ``add_place``) — the same functions as the CLI's
``place add|rename|move`` and ``control set`` — so phones receive it, and is audited. A place or
household outside the scope is refused (403, ``access.denied``); a move whose new parent lies
outside the scope is refused with ``console.grid_outside_scope``. No resident's name or phone is
shown here (households by their unit and room).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from console import web
from console.web import Visitor
from sync.domain import label, options
from sync.domain.control import NORMAL, control_days, days_text
from sync.domain.enums import PLACE_LEVELS
from sync.errors import LinliError
from sync.server import db, grid, localtime
from sync.server.importing.places import add_place
from sync.server.names import Directory
from sync.server.runtime import Runtime
from sync.server.state import record_aad

router = APIRouter()

PLACE_ADD = "place.add"
PLACE_RENAME = "place.rename"
PLACE_MOVE = "place.move"
CONTROL_SET = "control.set"


# -- reading -------------------------------------------------------------------------------
def households_at(rt: Runtime, place_id: str) -> dict[str, dict[str, Any]]:
    """The households whose place is ``place_id``, ``{id: record}``, by room."""
    t = db.records
    with rt.db.read() as conn:
        rows = conn.execute(
            select(t.c.entity_id, t.c.body).where(
                t.c.kind == "household", t.c.parent_ref == place_id
            )
        ).all()
    homes = {r.entity_id: rt.vault.open(r.body, record_aad("household", r.entity_id)) for r in rows}
    return dict(sorted(homes.items(), key=lambda kv: (str(kv[1].get("room") or ""), kv[0])))


def _one(rt: Runtime, kind: str, entity_id: str) -> dict[str, Any] | None:
    with rt.db.read() as conn:
        found = rt.ledger.world(conn).record(kind, entity_id)
    return found


def status_of(request: Request, v: Visitor, record: Mapping[str, Any] | None) -> dict[str, str]:
    """The control status as shown: its label, the day count, its dates (local)."""
    console = web.console_of(request)
    status = str((record or {}).get("control") or NORMAL)
    days = control_days(record, localtime.today(console.zone), console.zone)
    return {
        "value": status,
        "label": label("control", status, v.lang),
        "days": days_text(days, v.lang),
        "since": localtime.show_date((record or {}).get("control_since"), console.zone),
        "until": localtime.show_date((record or {}).get("control_until"), console.zone),
    }


def tree(request: Request, v: Visitor, names: Directory) -> list[dict[str, Any]]:
    """The places the visitor may see, depth first (each with its depth), names in order."""
    places = names.records("place")
    visible = {pid for pid in places if v.scope.allows_place(pid)}
    children: dict[str | None, list[str]] = {}
    for pid in visible:
        parent = places[pid].get("parent_id")
        children.setdefault(parent if parent in visible else None, []).append(pid)
    for ids in children.values():
        ids.sort(key=lambda p: str(places[p].get("name", "")))
    rows: list[dict[str, Any]] = []

    def walk(pid: str, depth: int) -> None:
        place = places[pid]
        rows.append(
            {
                "id": pid,
                "depth": depth,
                "name": str(place.get("name", pid)),
                "level": str(place.get("level", "")),
                "status": status_of(request, v, place),
            }
        )
        for child in children.get(pid, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return rows


def _level_label(level: str, lang: str) -> str:
    return label("place.level", level, lang)


def _allowed_place(request: Request, v: Visitor, place_id: str) -> dict[str, Any]:
    rt = web.console_of(request).rt
    found = _one(rt, "place", place_id)
    if found is None or not found.get("level"):
        raise web.PageRefusal("console.not_found", status=404)
    if not v.scope.allows_place(place_id):
        web.deny(request, v, "place", place_id)
    return found


def _allowed_household(request: Request, v: Visitor, household_id: str) -> dict[str, Any]:
    rt = web.console_of(request).rt
    found = _one(rt, "household", household_id)
    if found is None or not found.get("place_id"):
        raise web.PageRefusal("console.not_found", status=404)
    if not v.scope.allows_household(found):
        web.deny(request, v, "household", household_id)
    return found


def _history(request: Request, v: Visitor, record: Mapping[str, Any]) -> list[dict[str, str]]:
    zone = web.console_of(request).zone
    return [
        {
            "at": localtime.show(e.get("at"), zone),
            "by": str(e.get("by") or "—"),
            "from": label("control", str(e["from"]), v.lang) if e.get("from") else "—",
            "to": label("control", str(e.get("to")), v.lang),
            "since": localtime.show_date(e.get("since"), zone),
            "until": localtime.show_date(e.get("until"), zone),
        }
        for e in grid.history(record)
    ]


def _control_form(request: Request, v: Visitor, record: Mapping[str, Any]) -> dict[str, Any]:
    zone = web.console_of(request).zone
    return {
        "choices": options("control", v.lang),
        "today": localtime.today(zone).isoformat(),
        "status": status_of(request, v, record),
    }


# -- pages ---------------------------------------------------------------------------------
@router.get("/grid")
def grid_tree(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    names = Directory(rt)
    context = {
        "rows": tree(request, v, names),
        "levels": {lvl: _level_label(lvl, v.lang) for lvl in PLACE_LEVELS},
        "can_add_district": v.scope.whole,
        "done": request.query_params.get("done"),
    }
    return web.render(request, "grid.html", context, visitor=v)


def _place_page(
    request: Request,
    v: Visitor,
    place_id: str,
    place: dict[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    rt = web.console_of(request).rt
    names = Directory(rt)
    places = names.records("place")
    level = str(place.get("level", ""))
    depth = PLACE_LEVELS.index(level) if level in PLACE_LEVELS else 0
    crumbs = [
        {"id": pid, "name": str(places[pid].get("name", pid)), "link": v.scope.allows_place(pid)}
        for pid in reversed(names.ancestors(place_id))
    ]
    parent_level = PLACE_LEVELS[depth - 1] if depth > 0 else None
    parents = [
        {"id": pid, "path": names.place_path(pid)}
        for pid, p in places.items()
        if parent_level
        and p.get("level") == parent_level
        and pid != place.get("parent_id")
        and v.scope.allows_place(pid)
    ]
    parents.sort(key=lambda p: p["path"])
    kids: list[dict[str, Any]] = [
        {
            "id": pid,
            "name": str(p.get("name", pid)),
            "level": _level_label(str(p.get("level", "")), v.lang),
            "status": status_of(request, v, p),
        }
        for pid, p in places.items()
        if p.get("parent_id") == place_id
    ]
    kids.sort(key=lambda k: str(k["name"]))
    homes = [
        {
            "id": hid,
            "room": str(h.get("room") or ""),
            "address": str(h.get("address") or ""),
            "status": status_of(request, v, h),
        }
        for hid, h in households_at(rt, place_id).items()
    ]
    child_level = PLACE_LEVELS[depth + 1] if depth + 1 < len(PLACE_LEVELS) else None
    context = {
        "place_id": place_id,
        "place": place,
        "name": str(place.get("name", place_id)),
        "level": _level_label(level, v.lang),
        "crumbs": crumbs,
        "parents": parents,
        "parent_level": _level_label(parent_level, v.lang) if parent_level else None,
        "children": kids,
        "child_level": child_level,
        "child_level_label": _level_label(child_level, v.lang) if child_level else "",
        "homes": homes,
        "history": _history(request, v, place),
        "control": _control_form(request, v, place),
        "error": error,
        "done": request.query_params.get("done"),
    }
    return web.render(request, "grid_place.html", context, visitor=v, status=status)


@router.get("/grid/place/{place_id}")
def place_page(request: Request, place_id: str, v: web.SignedIn) -> Response:
    place = _allowed_place(request, v, place_id)
    return _place_page(request, v, place_id, place)


def _household_page(
    request: Request,
    v: Visitor,
    household_id: str,
    home: dict[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    names = Directory(web.console_of(request).rt)
    place_id = str(home.get("place_id"))
    context = {
        "household_id": household_id,
        "address": str(home.get("address") or ""),
        "room": str(home.get("room") or ""),
        "place_id": place_id,
        "place_path": names.place_path(place_id),
        "history": _history(request, v, home),
        "control": _control_form(request, v, home),
        "error": error,
        "done": request.query_params.get("done"),
    }
    return web.render(request, "grid_household.html", context, visitor=v, status=status)


@router.get("/grid/household/{household_id}")
def household_page(request: Request, household_id: str, v: web.SignedIn) -> Response:
    home = _allowed_household(request, v, household_id)
    return _household_page(request, v, household_id, home)


# -- changes -------------------------------------------------------------------------------
def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/grid/places")
async def place_add(request: Request, v: web.Posted) -> Response:
    form = await request.form()
    parent_id = _field(form, "parent") or None
    name = _field(form, "name")
    rt = web.console_of(request).rt
    if parent_id is None:
        if not v.scope.whole:
            await run_in_threadpool(web.deny, request, v, "place", "-")
        level = PLACE_LEVELS[0]
    else:
        parent = await run_in_threadpool(_allowed_place, request, v, parent_id)
        depth = PLACE_LEVELS.index(str(parent.get("level")))
        if depth + 1 >= len(PLACE_LEVELS):
            raise web.PageRefusal("console.bad_request", status=400)
        level = PLACE_LEVELS[depth + 1]
    try:
        new_id = await run_in_threadpool(
            lambda: add_place(rt, level=level, name=name, parent_id=parent_id)
        )
    except LinliError as exc:
        if parent_id is None:
            raise
        return await run_in_threadpool(
            _place_page, request, v, parent_id, parent, exc.describe(v.lang), 409
        )
    await run_in_threadpool(web.record, request, v, PLACE_ADD, new_id, level=level)
    back = f"/grid/place/{parent_id}" if parent_id else "/grid"
    return web.redirect(f"{web.PREFIX}{back}?done=added#place-{new_id}")


@router.post("/grid/place/{place_id}/rename")
async def place_rename(request: Request, place_id: str, v: web.Posted) -> Response:
    form = await request.form()
    place = await run_in_threadpool(_allowed_place, request, v, place_id)
    rt = web.console_of(request).rt
    try:
        await run_in_threadpool(grid.rename_place, rt, place_id, _field(form, "name"))
    except LinliError as exc:
        return await run_in_threadpool(
            _place_page, request, v, place_id, place, exc.describe(v.lang), 409
        )
    await run_in_threadpool(web.record, request, v, PLACE_RENAME, place_id)
    return web.redirect(f"{web.PREFIX}/grid/place/{place_id}?done=renamed")


@router.post("/grid/place/{place_id}/move")
async def place_move(request: Request, place_id: str, v: web.Posted) -> Response:
    form = await request.form()
    place = await run_in_threadpool(_allowed_place, request, v, place_id)
    parent_id = _field(form, "parent")
    if not v.scope.allows_place(parent_id):
        await run_in_threadpool(
            lambda: web.deny(
                request, v, "place", parent_id or "-", code="console.grid_outside_scope"
            )
        )
    rt = web.console_of(request).rt
    try:
        await run_in_threadpool(grid.move_place, rt, place_id, parent_id)
    except LinliError as exc:
        return await run_in_threadpool(
            _place_page, request, v, place_id, place, exc.describe(v.lang), 409
        )
    await run_in_threadpool(web.record, request, v, PLACE_MOVE, place_id, parent=parent_id)
    return web.redirect(f"{web.PREFIX}/grid/place/{place_id}?done=moved")


def _dates(request: Request, form: Mapping[str, Any]) -> tuple[str | None, str | None]:
    zone = web.console_of(request).zone
    since, until = _field(form, "since"), _field(form, "until")
    return (
        localtime.parse(since, zone) if since else localtime.today_start(zone),
        localtime.parse(until, zone) if until else None,
    )


async def _set_control(
    request: Request, v: Visitor, kind: str, entity_id: str, record: dict[str, Any]
) -> Response:
    form = await request.form()
    rt = web.console_of(request).rt
    status = _field(form, "status")
    try:
        since, until = _dates(request, form)
        await run_in_threadpool(
            lambda: grid.set_control(
                rt, kind, entity_id, status, since=since, until=until, by=v.name
            )
        )
    except LinliError as exc:
        page = _place_page if kind == "place" else _household_page
        return await run_in_threadpool(
            page, request, v, entity_id, record, exc.describe(v.lang), 409
        )
    await run_in_threadpool(web.record, request, v, CONTROL_SET, entity_id, kind=kind, to=status)
    return web.redirect(f"{web.PREFIX}/grid/{kind}/{entity_id}?done=control")


@router.post("/grid/place/{place_id}/control")
async def place_control(request: Request, place_id: str, v: web.Posted) -> Response:
    place = await run_in_threadpool(_allowed_place, request, v, place_id)
    return await _set_control(request, v, "place", place_id, place)


@router.post("/grid/household/{household_id}/control")
async def household_control(request: Request, household_id: str, v: web.Posted) -> Response:
    home = await run_in_threadpool(_allowed_household, request, v, household_id)
    return await _set_control(request, v, "household", household_id, home)
