"""通知 Notices: the notices of the communities in the account's scope — publish (to a community or
some of its buildings, with an optional expiry), edit, withdraw, and the "copy for the WeChat
group" text of each.

Every change is :mod:`sync.server.notices` (the ``notice`` command calls the same functions), so
phones receive it as ops; each is audited (``notice.publish``, ``notice.edit``,
``notice.withdraw``). A notice is in scope when every place it is for (its buildings, or its
community) is; asking for another is refused (403) and audited. Times are typed and shown in the
operation's time zone (``datetime-local`` fields, read with :func:`sync.server.localtime.parse`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from console import web
from console.web import Visitor
from sync.domain.enums import NOTICE_KINDS
from sync.domain.times import now_iso
from sync.errors import LinliError, ValidationError
from sync.server import localtime, notices
from sync.server.accounts import Scope
from sync.server.names import Directory
from sync.server.runtime import Runtime

router = APIRouter()
PUBLISH, EDIT, WITHDRAW = "notice.publish", "notice.edit", "notice.withdraw"
STATES = ("active", "expired", "withdrawn", "all")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


@dataclass(frozen=True, slots=True)
class Community:
    id: str
    name: str
    whole: bool  # the account may write to the whole community (else only some buildings)
    buildings: list[tuple[str, str]] = field(default_factory=list)  # (id, name) in scope


def allowed(scope: Scope, notice: notices.Notice) -> bool:
    """Every place the notice is for lies in the scope."""
    return all(scope.allows_place(p) for p in notice.places)


def communities(names: Directory, scope: Scope) -> list[Community]:
    """The communities the account may publish to, with the buildings it may target."""
    places = names.records("place")
    out: list[Community] = []
    for pid, place in places.items():
        if place.get("level") != "community":
            continue
        buildings = sorted(
            (
                (bid, str(b.get("name") or bid))
                for bid, b in places.items()
                if b.get("level") == "building"
                and b.get("parent_id") == pid
                and scope.allows_place(bid)
            ),
            key=lambda x: x[1],
        )
        if scope.allows_place(pid) or buildings:
            out.append(Community(pid, names.place_path(pid), scope.allows_place(pid), buildings))
    out.sort(key=lambda c: c.name)
    return out


def _notice(request: Request, v: Visitor, notice_id: str, names: Directory) -> notices.Notice:
    found = notices.get(web.console_of(request).rt, notice_id, names)
    if found is None:
        raise web.PageRefusal("console.not_found", status=404)
    if not allowed(v.scope, found):
        web.deny(request, v, "notice", notice_id)
    return found


def _local_input(iso: str | None, request: Request) -> str:
    if not iso:
        return ""
    zone = web.console_of(request).zone
    return localtime.show(iso, zone).replace(" ", "T")


def _row(n: notices.Notice, names: Directory, now: str) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "state": n.state(now),
        "target": notices.target_names(n, names),
        "published_at": n.published_at,
        "edited_at": n.edited_at,
        "expires_at": n.expires_at,
        "withdrawn_at": n.withdrawn_at,
    }


@router.get("/notices")
def notice_list(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    names = Directory(rt)
    state = request.query_params.get("state", "active")
    state = state if state in STATES else "active"
    now = now_iso()
    rows = [_row(n, names, now) for n in notices.listing(rt, lambda n: allowed(v.scope, n), names)]
    counts = {s: sum(r["state"] == s for r in rows) for s in STATES[:3]}
    counts["all"] = len(rows)
    if state != "all":
        rows = [r for r in rows if r["state"] == state]
    context = {
        "rows": rows,
        "state": state,
        "states": STATES,
        "counts": counts,
        "can_publish": bool(communities(names, v.scope)),
    }
    return web.render(request, "notices.html", context, visitor=v)


def _form_page(
    request: Request,
    v: Visitor,
    names: Directory,
    values: Mapping[str, Any],
    *,
    notice: notices.Notice | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "kinds": NOTICE_KINDS,
        "communities": communities(names, v.scope),
        "values": values,
        "notice": notice,
        "error": error,
    }
    if notice is not None:
        zone = web.console_of(request).zone
        context["row"] = _row(notice, names, now_iso())
        context["wechat"] = notices.wechat_text(notice, names, zone, v.lang)
        context["done"] = request.query_params.get("done")
    return web.render(request, "notice_form.html", context, visitor=v, status=status)


@router.get("/notices/new")
def new_form(request: Request, v: web.SignedIn) -> Response:
    names = Directory(web.console_of(request).rt)
    found = communities(names, v.scope)
    values = {
        "kind": "daily",
        "title": "",
        "body": "",
        "community": found[0].id if len(found) == 1 else "",
        "buildings": [],
        "expires": "",
    }
    return _form_page(request, v, names, values)


def _typed(form: FormData) -> dict[str, Any]:
    return {
        "kind": str(form.get("kind") or ""),
        "title": str(form.get("title") or "").strip(),
        "body": str(form.get("body") or "").replace("\r\n", "\n").strip(),
        "community": str(form.get("community") or ""),
        "buildings": [str(b) for b in form.getlist("buildings") if b],
        "expires": str(form.get("expires") or "").strip(),
    }


def _parse_expiry(request: Request, typed: str) -> str | None:
    return localtime.parse(typed, web.console_of(request).zone) if typed else None


def _check_scope(request: Request, v: Visitor, community: str, buildings: list[str]) -> None:
    places = buildings or [community]
    if not community or not all(v.scope.allows_place(p) for p in places):
        web.deny(request, v, "place", community or "-")


def _blank(values: Mapping[str, Any]) -> None:
    if not values["title"] or not values["body"]:
        raise ValidationError("console.notices.title_body")


@router.post("/notices")
async def publish(request: Request, v: web.Posted) -> Response:
    values = _typed(await request.form())
    rt = web.console_of(request).rt

    def act() -> Response:
        names = Directory(rt)
        _check_scope(request, v, values["community"], values["buildings"])
        try:
            _blank(values)
            notice_id = notices.publish(
                rt,
                kind=values["kind"],
                title=values["title"],
                body=values["body"],
                community_id=values["community"],
                buildings=values["buildings"],
                expires_at=_parse_expiry(request, values["expires"]),
            )
        except LinliError as exc:
            return _form_page(request, v, names, values, error=exc.describe(v.lang), status=400)
        web.record(request, v, PUBLISH, notice_id, buildings=len(values["buildings"]))
        return web.redirect(f"{web.PREFIX}/notices/{notice_id}?done=published")

    return await run_in_threadpool(act)


@router.get("/notices/{notice_id}")
def show(request: Request, notice_id: str, v: web.SignedIn) -> Response:
    names = Directory(web.console_of(request).rt)
    found = _notice(request, v, notice_id, names)
    values = {
        "kind": found.kind,
        "title": found.title,
        "body": found.body,
        "community": found.community_id,
        "buildings": list(found.buildings),
        "expires": _local_input(found.expires_at, request),
    }
    return _form_page(request, v, names, values, notice=found)


@router.post("/notices/{notice_id}/edit")
async def edit(request: Request, notice_id: str, v: web.Posted) -> Response:
    values = _typed(await request.form())
    rt = web.console_of(request).rt

    def act() -> Response:
        names = Directory(rt)
        found = _notice(request, v, notice_id, names)
        values["community"] = found.community_id
        _check_scope(request, v, found.community_id, values["buildings"])
        try:
            _blank(values)
            changed = notices.edit(
                rt,
                notice_id,
                {
                    "kind": values["kind"],
                    "title": values["title"],
                    "body": values["body"],
                    "buildings": values["buildings"],
                    "expires_at": _parse_expiry(request, values["expires"]),
                },
            )
        except LinliError as exc:
            return _form_page(
                request, v, names, values, notice=found, error=exc.describe(v.lang), status=400
            )
        if changed:
            web.record(request, v, EDIT, notice_id)
        done = "edited" if changed else "unchanged"
        return web.redirect(f"{web.PREFIX}/notices/{notice_id}?done={done}")

    return await run_in_threadpool(act)


@router.get("/notices/{notice_id}/withdraw")
def withdraw_confirm(request: Request, notice_id: str, v: web.SignedIn) -> Response:
    names = Directory(web.console_of(request).rt)
    found = _notice(request, v, notice_id, names)
    return web.render(request, "notice_withdraw.html", {"notice": found}, visitor=v)


@router.post("/notices/{notice_id}/withdraw")
def withdraw(request: Request, notice_id: str, v: web.Posted) -> Response:
    rt: Runtime = web.console_of(request).rt
    _notice(request, v, notice_id, Directory(rt))
    notices.withdraw(rt, notice_id)
    web.record(request, v, WITHDRAW, notice_id)
    return web.redirect(f"{web.PREFIX}/notices/{notice_id}?done=withdrawn")
