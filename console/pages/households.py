"""住户 Households: the households of a community with their residents, and the households import
(:mod:`sync.server.importing`, the service ``import-households`` uses) in four steps:

1. upload (CSV or XLSX; refused past the service's size limit before the form is parsed);
2. the column mapping the service detected, adjustable with a select per column (unknown columns
   are listed as ignored, never refused);
3. the preview: counts, every problem row (line, column, value, what to do) and every ambiguous
   resident with a decision (one of the recorded residents, or a new one);
4. the commit, in a background thread of the server (:func:`console.uploads.start_commit`),
   with its progress polled by htmx (without JavaScript the progress page refreshes itself);
   an interrupted commit is offered again and completes (the service's commit is idempotent).

The list and the preview show residents' names and phones: each view is audited
(``view.personal``); the commit is audited as ``import`` with its counts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from console import uploads, web
from console.pages.teams import communities
from console.web import Visitor
from sync.domain.enums import CARE_FLAGS
from sync.errors import LinliError
from sync.server import audit, db, importing
from sync.server.accounts.scope import refs_of_kind
from sync.server.importing import columns, sheets
from sync.server.names import Directory
from sync.server.runtime import Runtime
from sync.server.state import chunks, record_aad

router = APIRouter()
#: households listed at most on one page (the rest: narrow by building)
MAX_LISTED = 1000
MAPPABLE = (
    *columns.HOUSEHOLD_FIELDS,
    *columns.RESIDENT_FIELDS,
    *(columns.FLAG_PREFIX + f for f in CARE_FLAGS),
)


def _community(request: Request, v: Visitor, names: Directory) -> tuple[str, list[Any]]:
    allowed = communities(names, v)
    wanted = request.query_params.get("community") or (allowed[0][0] if allowed else "")
    if wanted and not v.scope.allows_place(wanted):
        web.deny(request, v, "place", wanted)
    return wanted, allowed


def households_of(rt: Runtime, community_id: str, v: Visitor) -> list[dict[str, Any]]:
    """The community's households in the visitor's scope, each with its residents, by address."""
    with rt.db.read() as conn:
        refs = refs_of_kind(conn, "household")
        ids = [
            hid
            for hid, r in refs.items()
            if isinstance(r.get("place_id"), str)
            and community_id in v.scope.chain(r["place_id"])
            and v.scope.allows_household(r)
        ]
        t = db.records
        homes: dict[str, dict[str, Any]] = {}
        people: dict[str, list[dict[str, Any]]] = {}
        for part in chunks(sorted(ids)[:MAX_LISTED]):
            for r in conn.execute(
                select(t.c.entity_id, t.c.body).where(
                    t.c.kind == "household", db.in_list(conn, t.c.entity_id, part)
                )
            ):
                homes[r.entity_id] = rt.vault.open(r.body, record_aad("household", r.entity_id))
            for p in conn.execute(
                select(t.c.entity_id, t.c.body, t.c.parent_ref).where(
                    t.c.kind == "resident", db.in_list(conn, t.c.parent_ref, part)
                )
            ):
                body = rt.vault.open(p.body, record_aad("resident", p.entity_id))
                people.setdefault(str(p.parent_ref), []).append(body)
    out = [
        {"id": hid, **h, "residents": sorted(people.get(hid, []), key=lambda p: p.get("name", ""))}
        for hid, h in homes.items()
    ]
    out.sort(
        key=lambda h: (str(h.get("building", "")), str(h.get("unit", "")), str(h.get("room", "")))
    )
    return out


@router.get("/households")
def household_list(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    names = Directory(rt)
    community, allowed = _community(request, v, names)
    rows = households_of(rt, community, v) if community else []
    if rows:
        web.record(request, v, audit.VIEW_PERSONAL, community, rows=len(rows))
    context = {
        "rows": rows,
        "community": community,
        "communities": allowed,
        "limit": MAX_LISTED,
    }
    return web.render(request, "households.html", context, visitor=v)


@router.get("/households/import")
def import_form(request: Request, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    community, allowed = _community(request, v, Directory(rt))
    context = {"community": community, "communities": allowed, "max_mb": importing.MAX_BYTES >> 20}
    return web.render(request, "import_upload.html", context, visitor=v)


@router.post("/households/import")
async def import_upload(request: Request) -> Response:
    form = await uploads.limited_form(request)
    v = await web.posted(request)
    community = str(form.get("community") or "")
    if not v.scope.allows_place(community):
        await run_in_threadpool(web.deny, request, v, "place", community)
    source = uploads.source_of(form)
    rt = web.console_of(request).rt
    up = await run_in_threadpool(uploads.create, rt, uploads.HOUSEHOLDS, v.name, community, source)
    return web.redirect(f"{web.PREFIX}/households/import/{up.id}")


def _load(request: Request, v: Visitor, upload_id: str) -> uploads.Upload:
    up = uploads.load(web.console_of(request).rt, upload_id, v.name, uploads.HOUSEHOLDS)
    if not v.scope.allows_place(up.community_id):
        web.deny(request, v, "place", up.community_id)
    return up


def _headers(source: importing.Source, up: uploads.Upload) -> list[str]:
    """The file's header cells (the detected header row, else its first row)."""
    grid = sheets.read(source, up.sheet)
    overrides = columns.parse_overrides([f"{h}={f}" for h, f in up.mapping.items()])
    try:
        at = columns.find_header(grid.rows, overrides)
    except LinliError:
        at = 0
    return [c for c in grid.rows[at][1] if c] if grid.rows else []


@router.get("/households/import/{upload_id}")
def import_preview(request: Request, upload_id: str, v: web.SignedIn) -> Response:
    rt = web.console_of(request).rt
    up = _load(request, v, upload_id)
    if up.state in (uploads.COMMITTING, uploads.DONE):
        return web.redirect(f"{web.PREFIX}/households/import/{up.id}/progress")
    source = uploads.source(rt, up)
    preview = None
    error = None
    headers: list[str] = []
    try:
        headers = _headers(source, up)
        preview = importing.preview(
            rt, source, up.community_id, mapping=up.mapping, sheet=up.sheet, decisions=up.decisions
        )
    except LinliError as exc:
        error = exc.describe(v.lang)
    if preview is not None and (preview.problems or preview.ambiguities):
        shown = len(preview.problems) + len(preview.ambiguities)
        web.record(request, v, audit.VIEW_PERSONAL, f"import:{up.id}", rows=shown)
    current = dict(preview.mapping) if preview else {}
    for header, target in up.mapping.items():
        current.setdefault(header, target)
    context = {
        "up": up,
        "preview": preview,
        "error": error,
        "headers": headers,
        "current": current,
        "fields": MAPPABLE,
        "community": Directory(rt).place_path(up.community_id),
    }
    return web.render(request, "import_preview.html", context, visitor=v)


@router.post("/households/import/{upload_id}/mapping")
async def import_mapping(request: Request, upload_id: str, v: web.Posted) -> Response:
    form = await request.form()
    up = await run_in_threadpool(_load, request, v, upload_id)
    mapping: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("map:") and isinstance(value, str):
            header = key.removeprefix("map:")
            if value in MAPPABLE or value == columns.IGNORE:
                mapping[header] = value
    up.mapping = mapping
    up.decisions = {}
    await run_in_threadpool(uploads.save, web.console_of(request).rt, up)
    return web.redirect(f"{web.PREFIX}/households/import/{up.id}")


@router.post("/households/import/{upload_id}/decide")
async def import_decide(request: Request, upload_id: str, v: web.Posted) -> Response:
    form = await request.form()
    up = await run_in_threadpool(_load, request, v, upload_id)
    decisions: dict[int, str] = {}
    for key, value in form.multi_items():
        line = key.removeprefix("decide:")
        if key.startswith("decide:") and line.isdigit() and isinstance(value, str) and value:
            decisions[int(line)] = value[:40]
    up.decisions = decisions
    await run_in_threadpool(uploads.save, web.console_of(request).rt, up)
    return web.redirect(f"{web.PREFIX}/households/import/{up.id}")


@router.post("/households/import/{upload_id}/commit")
def import_commit(request: Request, upload_id: str, v: web.Posted) -> Response:
    rt = web.console_of(request).rt
    up = _load(request, v, upload_id)
    if up.state == uploads.DONE:
        return web.redirect(f"{web.PREFIX}/households/import/{up.id}/progress")
    if up.state == uploads.COMMITTING and not up.stale:
        return web.redirect(f"{web.PREFIX}/households/import/{up.id}/progress")
    preview = importing.preview(
        rt, uploads.source(rt, up), up.community_id, mapping=up.mapping, sheet=up.sheet,
        decisions=up.decisions,
    )  # fmt: skip
    if not preview.ready:
        raise web.PageRefusal(
            "import.not_ready",
            status=409,
            problems=len(preview.problems),
            undecided=len(preview.undecided),
        )
    uploads.start_commit(rt, up)
    return web.redirect(f"{web.PREFIX}/households/import/{up.id}/progress")


@router.get("/households/import/{upload_id}/progress")
def import_progress(request: Request, upload_id: str, v: web.SignedIn) -> Response:
    up = _load(request, v, upload_id)
    context = {
        "up": up,
        "percent": int(100 * up.done / up.total) if up.total else 0,
        "error": LinliError(up.error).describe(v.lang) if up.error else None,
        "polling": up.state == uploads.COMMITTING and not up.stale,
    }
    # htmx stops polling on 286 once the commit no longer moves (done, failed or interrupted)
    status = 286 if request.headers.get("HX-Request") and not context["polling"] else 200
    return web.render(request, "import_progress.html", context, visitor=v, status=status)
