"""通讯录 Contacts: the contact directory of each community in the account's scope — each team's
lead and members, the community office, the duty doctor, hotlines (120, 12345) — added, edited
and removed here or with the ``contact`` command (both call :mod:`sync.server.contacts`), pushed
to every phone of the community.

The page shows people's names and phone numbers, so every view is audited (``view.personal``
with the row count); changes are audited as ``contact.add``, ``contact.edit``,
``contact.remove``. An entry of a community outside the scope is refused (403) and audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from console import web
from console.web import Visitor
from sync.domain.enums import CONTACT_KINDS
from sync.errors import LinliError
from sync.server import audit, contacts
from sync.server.names import Directory

router = APIRouter()
ADD, EDIT, REMOVE = "contact.add", "contact.edit", "contact.remove"
FIELDS = ("kind", "label", "name", "phone", "team_id", "note")


def _communities(names: Directory, v: Visitor) -> list[tuple[str, str]]:
    return sorted(
        (
            (pid, names.place_path(pid))
            for pid, p in names.records("place").items()
            if p.get("level") == "community" and v.scope.allows_place(pid)
        ),
        key=lambda x: x[1],
    )


def _teams(names: Directory, v: Visitor) -> list[dict[str, str]]:
    return sorted(
        (
            {"id": tid, "name": str(t.get("name") or tid), "community": str(t.get("community_id"))}
            for tid, t in names.records("team").items()
            if v.scope.allows_place(str(t.get("community_id") or ""))
        ),
        key=lambda x: x["name"],
    )


def _members(names: Directory, v: Visitor) -> list[dict[str, str]]:
    """Team members with a phone on record, in scope (to add to the directory in one step)."""
    teams = {t["id"]: t["name"] for t in _teams(names, v)}
    out = [
        {"id": mid, "name": str(m.get("name") or mid), "team": teams[str(m.get("team_id"))]}
        for mid, m in names.records("member").items()
        if m.get("phone") and str(m.get("team_id")) in teams
    ]
    out.sort(key=lambda m: (m["team"], m["name"]))
    return out


def _page(
    request: Request,
    v: Visitor,
    names: Directory,
    values: Mapping[str, Any] | None = None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rt = web.console_of(request).rt
    found = contacts.listing(rt, lambda c: v.scope.allows_place(c.community_id), names=names)
    groups = [
        {
            "id": cid,
            "name": cname,
            "rows": [
                {**_shown(c), "team": names.name("team", c.team_id)}
                for c in found
                if c.community_id == cid
            ],
        }
        for cid, cname in _communities(names, v)
    ]
    web.record(request, v, audit.VIEW_PERSONAL, "contacts", rows=len(found))
    communities = _communities(names, v)
    context = {
        "groups": groups,
        "kinds": CONTACT_KINDS,
        "communities": communities,
        "teams": _teams(names, v),
        "members": _members(names, v),
        "values": values
        or {f: "" for f in FIELDS}
        | {"community": communities[0][0] if len(communities) == 1 else ""},
        "error": error,
        "done": request.query_params.get("done"),
    }
    return web.render(request, "contacts.html", context, visitor=v, status=status)


def _shown(c: contacts.Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "label": c.label,
        "name": c.name,
        "phone": c.phone,
        "team_id": c.team_id or "",
        "note": c.note,
        "community": c.community_id,
    }


@router.get("/contacts")
def contact_list(request: Request, v: web.SignedIn) -> Response:
    return _page(request, v, Directory(web.console_of(request).rt))


def _typed(form: FormData) -> dict[str, Any]:
    return {name: str(form.get(name) or "").strip() for name in (*FIELDS, "community", "member")}


@router.post("/contacts")
async def add(request: Request, v: web.Posted) -> Response:
    values = _typed(await request.form())
    rt = web.console_of(request).rt

    def act() -> Response:
        names = Directory(rt)
        try:
            if values["member"]:
                member = values["member"]
                if not v.scope.allows_member(member):
                    web.deny(request, v, "member", member)
                made = contacts.from_member(rt, member, names)
                typed = {k: values[k] for k in ("kind", "label", "note") if values[k]}
                made |= typed
            else:
                made = {k: values[k] for k in FIELDS} | {"community_id": values["community"]}
            if not v.scope.allows_place(made["community_id"]):
                web.deny(request, v, "place", made["community_id"] or "-")
            contact_id = contacts.add(
                rt,
                community_id=made["community_id"],
                kind=made.get("kind") or "other",
                label=made.get("label") or "",
                phone=made.get("phone") or "",
                name=made.get("name") or None,
                team_id=made.get("team_id") or None,
                note=made.get("note") or None,
            )
        except web.PageRefusal:
            raise
        except LinliError as exc:
            return _page(request, v, names, values, error=exc.describe(v.lang), status=400)
        web.record(request, v, ADD, contact_id, member=bool(values["member"]))
        return web.redirect(f"{web.PREFIX}/contacts?done=added#contact-{contact_id}")

    return await run_in_threadpool(act)


def _contact(request: Request, v: Visitor, contact_id: str, names: Directory) -> contacts.Contact:
    found = contacts.get(web.console_of(request).rt, contact_id, names)
    if found is None or found.removed_at:
        raise web.PageRefusal("console.not_found", status=404)
    if not v.scope.allows_place(found.community_id):
        web.deny(request, v, "contact", contact_id)
    return found


def _edit_page(
    request: Request,
    v: Visitor,
    names: Directory,
    found: contacts.Contact,
    values: Mapping[str, Any],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    teams = [t for t in _teams(names, v) if t["community"] == found.community_id]
    context = {
        "contact": found,
        "community": names.place_path(found.community_id),
        "kinds": CONTACT_KINDS,
        "teams": teams,
        "values": values,
        "error": error,
    }
    return web.render(request, "contact_edit.html", context, visitor=v, status=status)


@router.get("/contacts/{contact_id}")
def edit_form(request: Request, contact_id: str, v: web.SignedIn) -> Response:
    names = Directory(web.console_of(request).rt)
    found = _contact(request, v, contact_id, names)
    web.record(request, v, audit.VIEW_PERSONAL, contact_id, rows=1)
    return _edit_page(request, v, names, found, _shown(found))


@router.post("/contacts/{contact_id}/edit")
async def edit(request: Request, contact_id: str, v: web.Posted) -> Response:
    values = _typed(await request.form())
    rt = web.console_of(request).rt

    def act() -> Response:
        names = Directory(rt)
        found = _contact(request, v, contact_id, names)
        changes = {k: values[k] or None for k in FIELDS}
        try:
            changed = contacts.edit(rt, contact_id, changes)
        except LinliError as exc:
            return _edit_page(
                request, v, names, found, values, error=exc.describe(v.lang), status=400
            )
        if changed:
            web.record(request, v, EDIT, contact_id)
        done = "edited" if changed else "unchanged"
        return web.redirect(f"{web.PREFIX}/contacts?done={done}#contact-{contact_id}")

    return await run_in_threadpool(act)


@router.get("/contacts/{contact_id}/remove")
def remove_confirm(request: Request, contact_id: str, v: web.SignedIn) -> Response:
    names = Directory(web.console_of(request).rt)
    found = _contact(request, v, contact_id, names)
    return web.render(request, "contact_remove.html", {"contact": found}, visitor=v)


@router.post("/contacts/{contact_id}/remove")
def remove(request: Request, contact_id: str, v: web.Posted) -> Response:
    rt = web.console_of(request).rt
    _contact(request, v, contact_id, Directory(rt))
    contacts.remove(rt, contact_id)
    web.record(request, v, REMOVE, contact_id)
    return web.redirect(f"{web.PREFIX}/contacts?done=removed")
