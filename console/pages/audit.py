"""审计 Audit (admins only): the audit log, newest first, filtered by action, account, target and
local dates, a page at a time; and whether its hash chain is intact."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import web
from sync.server import audit

router = APIRouter()
PAGE = 100


def _day_ms(text: str, request: Request, *, end: bool) -> int | None:
    """Local midnight of a ``YYYY-MM-DD`` (the next day's for ``end``) in epoch ms."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return int(day.replace(tzinfo=web.console_of(request).zone).timestamp() * 1000)


@router.get("/audit")
def audit_page(request: Request, v: web.Admin) -> Response:
    q = request.query_params
    filters = {k: (q.get(k) or "").strip() for k in ("action", "who", "target", "since", "until")}
    before = q.get("before")
    rt = web.console_of(request).rt
    with rt.db.read() as conn:
        entries = audit.listing(
            conn,
            who=filters["who"] or None,
            action=filters["action"] or None,
            target=filters["target"] or None,
            since=_day_ms(filters["since"], request, end=False) if filters["since"] else None,
            until=_day_ms(filters["until"], request, end=True) if filters["until"] else None,
            before_id=int(before) if before and before.isdigit() else None,
            limit=PAGE,
        )
        verdict = audit.verify(conn) if q.get("verify") else None
    more = entries[-1].id if len(entries) == PAGE else None
    context = {"entries": entries, "filters": filters, "more": more, "verdict": verdict}
    return web.render(request, "audit.html", context, visitor=v)
