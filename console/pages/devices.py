"""设备 Devices: every phone by person — team, last sync and app build (local time), changes
still waiting on the phone at its last report — and retire/revoke with a confirmation step.

Retire and revoke are :func:`sync.server.devices.retire` / :func:`~sync.server.devices.revoke`
with an audit entry in the same write transaction. A phone outside the account's scope is never
listed, and asking for it is refused (403) and audited."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import web
from console.pages.overview import device_allowed
from console.web import Visitor
from sync.protocol import now_ms
from sync.server import audit, devices, teams
from sync.server.names import Directory
from sync.server.runtime import Runtime

router = APIRouter()
ACTIONS = {"retire": audit.DEVICE_RETIRE, "revoke": audit.DEVICE_REVOKE}


def people(rt: Runtime, v: Visitor) -> list[dict[str, Any]]:
    """The phones the visitor may see, grouped by member (name order), newest phone first."""
    with rt.db.read() as conn:
        rows = devices.listing(conn, rt.vault)
    names = Directory(rt)
    members = names.records("member")
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if device_allowed(v.scope, row["member_id"], row["team_id"]):
            grouped[row["member_id"]].append(row)
    out = []
    for member_id, phones in grouped.items():
        member = members.get(member_id) or {}
        team_id = member.get("team_id", phones[0]["team_id"])
        out.append(
            {
                "member_id": member_id,
                "name": str(member.get("name") or member_id),
                "role": str(member.get("role") or phones[0]["role"]),
                "team": names.name("team", team_id) if team_id else "",
                "phones": phones,
            }
        )
    out.sort(key=lambda p: (p["team"], p["name"]))
    return out


def _allowed_device(request: Request, v: Visitor, device_id: str) -> dict[str, Any]:
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        found = next(
            (r for r in devices.listing(conn, rt.vault) if r["device_id"] == device_id), None
        )
    if found is None:
        raise web.PageRefusal("console.no_device", status=404, device=device_id[:80])
    if not device_allowed(v.scope, found["member_id"], found["team_id"]):
        web.deny(request, v, "device", device_id)
    return found


#: the "silent for N hours" filter's choices
SILENT_HOURS = (2, 6, 12, 24, 48, 72)


def silent(rows: list[dict[str, Any]], hours: int, now: int) -> list[dict[str, Any]]:
    """People with an active phone that has not synced for ``hours`` (or never), only those
    phones."""
    limit = now - hours * 3600 * 1000
    out = []
    for person in rows:
        quiet = [
            p
            for p in person["phones"]
            if p["status"] == "active" and (p["last_sync_at"] or p["enrolled_at"] or 0) < limit
        ]
        if quiet:
            out.append({**person, "phones": quiet})
    return out


def never_enrolled(rt: Runtime, v: Visitor) -> list[dict[str, Any]]:
    """Active members in the visitor's scope who have never enrolled a phone, by team."""
    names = Directory(rt)
    counts = teams.phone_counts(rt)
    team_names = {tid: str(t.get("name", "")) for tid, t in names.records("team").items()}
    out = [
        {"member_id": m.member_id, "name": m.name, "role": m.role, "team_id": m.team_id,
         "team": team_names.get(m.team_id or "", "")}
        for m in teams.members(names, counts)
        if not m.phones and m.disabled_at is None and v.scope.allows_member(m.member_id)
        and m.team_id
    ]  # fmt: skip
    out.sort(key=lambda m: (m["team"], m["name"]))
    return out


@router.get("/devices")
def device_list(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    hours_text = request.query_params.get("silent", "")
    hours = int(hours_text) if hours_text.isdigit() and int(hours_text) in SILENT_HOURS else None
    rows = people(rt, v)
    if hours is not None:
        rows = silent(rows, hours, now_ms())
    never = never_enrolled(rt, v)  # members' names only, as the phones above: not audited
    context = {
        "people": rows,
        "never": never,
        "silent": hours,
        "silent_choices": SILENT_HOURS,
        "done": request.query_params.get("done"),
        "done_device": request.query_params.get("device", ""),
    }
    return web.render(request, "devices.html", context, visitor=v)


@router.get("/devices/{device_id}/{action}")
def confirm(request: Request, device_id: str, action: str, v: web.SignedIn) -> Response:
    if action not in ACTIONS:
        raise web.PageRefusal("console.not_found", status=404)
    found = _allowed_device(request, v, device_id)
    return web.render(
        request, "device_confirm.html", {"device": found, "action": action}, visitor=v
    )


@router.post("/devices/{device_id}/{action}")
def act(request: Request, device_id: str, action: str, v: web.Posted) -> Response:
    if action not in ACTIONS:
        raise web.PageRefusal("console.not_found", status=404)
    _allowed_device(request, v, device_id)
    rt = web.console_of(request).rt
    now = now_ms()
    with rt.db.write() as conn:
        change = devices.retire if action == "retire" else devices.revoke
        done = change(conn, device_id, now)
        if done:
            audit.record(conn, v.name, ACTIONS[action], device_id, now=now)
    if not done:
        raise web.PageRefusal(f"console.{action}_not_possible", status=409, device=device_id)
    return web.redirect(f"{web.PREFIX}/devices?done={action}&device={web.quote(device_id)}")
