"""The HTTP routes: thin. Every refusal is turned into a signed problem in ONE place.

- ``GET /healthz`` → ``{"ok": true, "version", "protocol"}`` (alive; answers from the event loop)
- every answer, refusals included, carries ``X-Linli-Time: <server ms>`` (docs/protocol.md)
- ``GET /readyz`` → ``{"ok": true}`` when the database answers and its schema is at this code's
  head, else a signed 503 with ``Retry-After``: ``server.schema_behind`` (run ``upgrade``),
  ``server.schema_ahead`` (update the server) or ``server.not_ready``
- ``POST /v1/enroll`` → JSON enroll answer (:mod:`.enrollment`)
- ``POST /v1/sync`` → sealed answer (:mod:`.service`)

Bodies are read as a stream under the process's body budget and deadlines
(:mod:`sync.server.limits`): refused with ``sync.too_large`` as soon as they pass the limit (a
declared ``Content-Length`` over it is refused before reading anything), ``sync.server_busy``
(503 + ``Retry-After``) when the budget is full, ``sync.body_timeout`` (408) when they stall. A
refusal sent before the body was read closes the connection. Text that can never be stored
(a lone surrogate escape) is ``sync.bad_text`` (400). Malformed input always yields a coded 4xx;
only a real fault yields 5xx.

``create_app_from_env`` is the factory uvicorn workers import (``LINLI_DATA_DIR``,
``LINLI_DATABASE_URL`` name the server). It also mounts the apps installed under the entry-point
group :data:`MOUNT_GROUP` (the command centre at ``/console``: ``console.app:mount``), each a
function ``mount(app, runtime)``, unless ``LINLI_MOUNTS=0`` (``serve --no-console``). ``sync``
never imports those packages; they find this app through the entry point.
"""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import entry_points
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync import protocol
from sync.errors import LinliError
from sync.protocol.envelope import strict_json
from sync.protocol.messages import TIME_HEADER
from sync.server import config, enrollment, limits, localtime, logs, rounds
from sync.server.problems import Answer, Refusal, internal, problem
from sync.server.runtime import Runtime
from sync.server.service import SyncService

VERSION = "0.1.0"
MAX_ENROLL_BYTES = 64 * 1024
READY_PATH = "/readyz"
#: the ``/readyz`` refusals that name the schema (sync/server/schema.py)
SCHEMA_CODES = frozenset({"server.schema_behind", "server.schema_ahead"})

# The bodies are read by hand (size limits, sealed frames), so they are described here for the
# OpenAPI document rather than through pydantic models.
_PROBLEM = {
    "description": "A coded refusal, signed by the server (X-Linli-Signature)",
    "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}},
}
_ENROLL_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": [
                        "v",
                        "code_id",
                        "signing_public",
                        "sealing_public",
                        "sealed",
                        "proof",
                    ],
                    "properties": {
                        "v": {"type": "integer", "enum": [protocol.ENROLL_VERSION]},
                        "code_id": {"type": "string"},
                        "signing_public": {"type": "string", "description": "base64url"},
                        "sealing_public": {"type": "string", "description": "base64url"},
                        "sealed": {"type": "string", "description": "label, sealed"},
                        "proof": {"type": "string", "description": "HMAC by the code"},
                    },
                }
            }
        },
    },
    "responses": {"400": _PROBLEM, "401": _PROBLEM, "404": _PROBLEM, "410": _PROBLEM},
}
_SYNC_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            protocol.SYNC_CONTENT_TYPE: {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "A sealed, signed request frame (docs/protocol.md)",
                }
            }
        },
    },
    "responses": {
        "200": {
            "description": "A sealed, signed response frame",
            "content": {
                protocol.SYNC_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        },
        "400": _PROBLEM,
        "403": _PROBLEM,
        "413": _PROBLEM,
    },
}


def _respond(answer: Answer, *, close: bool = False) -> Response:
    headers = {**answer.headers, "Connection": "close"} if close else dict(answer.headers)
    headers[TIME_HEADER] = str(protocol.now_ms())
    return Response(content=answer.body, status_code=answer.status, headers=headers)


class _ServerTime:
    """Every HTTP answer says the server's time (``X-Linli-Time``) so phones can see their skew,
    even when refused. Plain ASGI (it only touches the response start), so streamed request
    bodies pass untouched; faults answered by :func:`_respond` carry it too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if TIME_HEADER not in headers:
                    headers.append(TIME_HEADER, str(protocol.now_ms()))
            await send(message)

        await self.app(scope, receive, stamped)


def _database_answers(rt: Runtime) -> None:
    """Raise unless the database answers a trivial query (and, for SQLite, its file is there:
    a pooled connection keeps reading a file that was removed)."""
    path = rt.db.engine.url.database if rt.db.is_sqlite else None
    if path and path != ":memory:" and not os.path.exists(path):
        raise FileNotFoundError(path)
    rt.db.check_schema()  # initialised and at this code's head (server.schema_behind/_ahead)


def _not_ready(exc: Exception) -> LinliError:
    """``/readyz``'s refusal: the schema's own code when it is not at head (``upgrade``, or update
    the server), else ``server.not_ready``."""
    retry = limits.RETRY_AFTER_S
    if isinstance(exc, LinliError) and exc.code in SCHEMA_CODES:
        logs.event("not_ready", error=exc.code)
        return LinliError(exc.code, **{**exc.params, "retry_after": retry})
    logs.event("not_ready", error=type(exc).__name__)
    return LinliError("server.not_ready", retry_after=retry)


def create_app(rt: Runtime, bounds: limits.Limits | None = None) -> FastAPI:
    app = FastAPI(
        title="linli sync server",
        version=VERSION,
        description="Enrollment and sealed, signed sync for the linli app (docs/protocol.md).",
    )
    service = SyncService(rt)
    bounds = bounds or limits.Limits.from_env()
    budget = limits.BodyBudget(bounds.body_budget_bytes)
    app.state.runtime = rt
    app.state.body_budget = budget

    app.add_middleware(_ServerTime)

    @app.exception_handler(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> Response:
        answer = problem(exc.error, rt.keys, device=exc.device, batch=exc.batch)
        return _respond(answer, close=getattr(request.state, "body_unread", False))

    @app.exception_handler(LinliError)
    async def _coded(_request: Request, exc: LinliError) -> Response:
        return _respond(problem(exc, rt.keys))

    @app.exception_handler(Exception)
    async def _fault(_request: Request, exc: Exception) -> Response:
        logs.event("fault", error=type(exc).__name__)
        return _respond(internal(rt.keys))

    @app.get(protocol.HEALTH_PATH)
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "version": VERSION, "protocol": protocol.PROTOCOL_VERSION}

    @app.get(READY_PATH, responses={"503": _PROBLEM})
    async def readyz() -> dict[str, Any]:
        try:
            await asyncio.wait_for(run_in_threadpool(_database_answers, rt), bounds.ready_timeout_s)
        except Exception as exc:
            raise Refusal(_not_ready(exc)) from None
        return {"ok": True}

    @app.post(
        protocol.ENROLL_PATH,
        summary="Enroll a device with a one-time code (JSON body, see docs/protocol.md)",
        openapi_extra=_ENROLL_DOC,
    )
    async def enroll(request: Request) -> Response:
        async with limits.body(request, MAX_ENROLL_BYTES, budget, bounds) as raw:
            body = strict_json(raw, "enroll")
            answer = await run_in_threadpool(enrollment.enroll, rt, body)
        return JSONResponse(answer)

    @app.post(
        protocol.SYNC_PATH,
        summary="Push ops and pull changes (sealed, signed frame; see docs/protocol.md)",
        openapi_extra=_SYNC_DOC,
    )
    async def sync(request: Request) -> Response:
        async with limits.body(request, protocol.MAX_BODY_BYTES, budget, bounds) as raw:
            sealed = await run_in_threadpool(service.handle, raw)
        return Response(content=sealed, media_type=protocol.SYNC_CONTENT_TYPE)

    return app


#: the entry-point group of apps ``serve`` mounts beside the sync API (``mount(app, runtime)``)
MOUNT_GROUP = "linli.server.mounts"
#: ``0`` turns the mounted apps off (``serve --no-console``)
ENV_MOUNTS = "LINLI_MOUNTS"


def mount_extensions(app: FastAPI, rt: Runtime) -> list[str]:
    """Mount every installed app of :data:`MOUNT_GROUP`; their names."""
    mounted = []
    for entry in sorted(entry_points(group=MOUNT_GROUP), key=lambda e: e.name):
        entry.load()(app, rt)
        mounted.append(entry.name)
    return mounted


#: seconds between two looks for recurring rounds due (``0``: no scheduler in this process)
ENV_ROUNDS_TICK = "LINLI_ROUNDS_TICK_S"


def start_scheduler(app: FastAPI, rt: Runtime) -> None:
    """Generate recurring rounds from this server process (every worker runs one scheduler: the
    database keeps each round's slot to one generation, :mod:`sync.server.rounds`)."""
    tick = float(os.environ.get(ENV_ROUNDS_TICK, "30"))
    if tick <= 0:
        return
    scheduler = rounds.Scheduler(rt, localtime.zone(rt.settings.timezone), tick)
    app.router.on_startup.append(scheduler.start)
    app.router.on_shutdown.append(scheduler.stop)


def create_app_from_env() -> FastAPI:
    logs.setup()
    settings = config.resolve()
    rt = Runtime.open(settings)
    app = create_app(rt)
    start_scheduler(app, rt)
    if os.environ.get(ENV_MOUNTS, "1") != "0":
        mount_extensions(app, rt)
    return app
