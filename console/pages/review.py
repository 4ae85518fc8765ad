"""审核 Review: the changes phones sent that the server refused for good (:mod:`sync.server.review`)
— list, show, apply, dismiss — within the account's scope (an item belongs to the scope of the
member whose phone sent it).

Showing one item opens its change, which may name residents: each view is audited
(``review.view``), and so is every decision, with the account as the one who decided."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import web
from console.web import Visitor
from sync import hlc
from sync.errors import LinliError
from sync.i18n import t
from sync.protocol import now_ms
from sync.server import audit, devices
from sync.server import review as queue
from sync.server.names import Directory

router = APIRouter()
STATES = (*queue.STATES, "all")


def reason(code: str, params: dict[str, Any], lang: str) -> str:
    found = t(f"error.{code}", lang, **params)
    return found if found != f"error.{code}" else code


def _names(request: Request) -> tuple[Directory, dict[str, str]]:
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        labels = {r["device_id"]: r["label"] for r in devices.listing(conn, rt.vault)}
    return Directory(rt), labels


@router.get("/review")
def review_list(request: Request, v: web.SignedIn) -> Response:
    state = request.query_params.get("state") or queue.OPEN
    state = state if state in STATES else queue.OPEN
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        items = queue.listing(conn, rt.vault, None if state == "all" else state)
    items = [i for i in items if v.scope.allows_member(i.member)]
    names, labels = _names(request)
    rows = [
        {
            "item": i,
            "device": labels.get(i.device) or i.device,
            "member": names.name("member", i.member),
            "reason": reason(i.code, i.params, v.lang),
        }
        for i in items
    ]
    return web.render(
        request, "review.html", {"rows": rows, "state": state, "states": STATES}, visitor=v
    )


def _item(request: Request, v: Visitor, review_id: int) -> queue.Item:
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        try:
            item = queue.get(conn, rt.vault, review_id)
        except LinliError as exc:
            raise web.PageRefusal(exc.code, status=404, **exc.params) from exc
    if not v.scope.allows_member(item.member):
        web.deny(request, v, "review", str(review_id))
    return item


def _show(
    request: Request, v: Visitor, item: queue.Item, error: str | None = None, status: int = 200
) -> Response:
    names, labels = _names(request)
    op = item.op
    changes = []
    if op is not None:
        changes = [(k, json.dumps(val, ensure_ascii=False)) for k, val in sorted(op.set.items())]
        for k, children in sorted(op.add.items()):
            changes += [(f"+ {k}", json.dumps(c, ensure_ascii=False)) for c in children]
    context = {
        "item": item,
        "device": labels.get(item.device) or item.device,
        "member": names.name("member", item.member),
        "reason": reason(item.code, item.params, v.lang),
        "made": hlc.wall_of(op.hlc) if op is not None else None,
        "changes": changes,
        "error": error,
    }
    return web.render(request, "review_item.html", context, visitor=v, status=status)


@router.get("/review/{review_id}")
def review_show(request: Request, review_id: int, v: web.SignedIn) -> Response:
    item = _item(request, v, review_id)
    web.record(request, v, audit.REVIEW_VIEW, str(review_id), kind=item.kind)
    return _show(request, v, item)


@router.post("/review/{review_id}/{decision}")
async def review_decide(request: Request, review_id: int, decision: str, v: web.Posted) -> Response:
    if decision not in ("apply", "dismiss"):
        raise web.PageRefusal("console.not_found", status=404)
    form = await request.form()
    note = str(form.get("note") or "") or None
    item = await run_in_threadpool(_item, request, v, review_id)
    rt = web.console_of(request).rt
    decide = queue.apply if decision == "apply" else queue.dismiss
    try:
        done = await run_in_threadpool(decide, rt, review_id, by=v.name, note=note, now=now_ms())
    except LinliError as exc:
        cause = exc.__cause__
        text = exc.describe(v.lang)
        if isinstance(cause, LinliError):
            text += " " + cause.describe(v.lang)
        return await run_in_threadpool(_show, request, v, item, text, 409)
    action = audit.REVIEW_APPLY if decision == "apply" else audit.REVIEW_DISMISS
    details = {"op": done.applied_op} if done.applied_op else {}
    await run_in_threadpool(web.record, request, v, action, str(review_id), **details)
    return web.redirect(f"{web.PREFIX}/review/{review_id}")
