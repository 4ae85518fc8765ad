"""The HTTP routes: thin. Every refusal is turned into a signed problem in ONE place.

- ``GET /healthz`` → ``{"ok": true, "version", "protocol"}``
- ``POST /v1/enroll`` → JSON enroll answer (:mod:`.enrollment`)
- ``POST /v1/sync`` → sealed answer (:mod:`.service`)

Bodies are read as a stream and refused with ``sync.too_large`` as soon as they pass the limit
(a declared ``Content-Length`` over it is refused before reading anything). Malformed input
always yields a coded 4xx; only a real fault yields 5xx.

``create_app_from_env`` is the factory uvicorn workers import (``LINLI_DATA_DIR``,
``LINLI_DATABASE_URL`` name the server).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sync import protocol
from sync.errors import LinliError, SyncError
from sync.server import config, enrollment, logs
from sync.server.problems import Answer, Refusal, internal, problem
from sync.server.runtime import Runtime
from sync.server.service import SyncService

VERSION = "0.1.0"
MAX_ENROLL_BYTES = 64 * 1024

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
                    "required": ["v", "code_id", "signing_public", "sealing_public", "proof"],
                    "properties": {
                        "v": {"type": "integer", "enum": [protocol.PROTOCOL_VERSION]},
                        "code_id": {"type": "string"},
                        "signing_public": {"type": "string", "description": "base64url"},
                        "sealing_public": {"type": "string", "description": "base64url"},
                        "label": {"type": "string"},
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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Refusal(SyncError("sync.too_large", limit=limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(SyncError("sync.too_large", limit=limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _respond(answer: Answer) -> Response:
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


def create_app(rt: Runtime) -> FastAPI:
    app = FastAPI(
        title="linli sync server",
        version=VERSION,
        description="Enrollment and sealed, signed sync for the linli app (docs/protocol.md).",
    )
    service = SyncService(rt)
    app.state.runtime = rt

    @app.exception_handler(Refusal)
    async def _refusal(_request: Request, exc: Refusal) -> Response:
        return _respond(problem(exc.error, rt.keys, device=exc.device, batch=exc.batch))

    @app.exception_handler(LinliError)
    async def _coded(_request: Request, exc: LinliError) -> Response:
        return _respond(problem(exc, rt.keys))

    @app.exception_handler(Exception)
    async def _fault(_request: Request, exc: Exception) -> Response:
        logs.event("fault", error=type(exc).__name__)
        return _respond(internal(rt.keys))

    @app.get(protocol.HEALTH_PATH)
    def healthz() -> dict[str, Any]:
        return {"ok": True, "version": VERSION, "protocol": protocol.PROTOCOL_VERSION}

    @app.post(
        protocol.ENROLL_PATH,
        summary="Enroll a device with a one-time code (JSON body, see docs/protocol.md)",
        openapi_extra=_ENROLL_DOC,
    )
    async def enroll(request: Request) -> Response:
        raw = await _read_body(request, MAX_ENROLL_BYTES)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise Refusal(SyncError("sync.malformed", reason="enroll")) from exc
        answer = await run_in_threadpool(enrollment.enroll, rt, body)
        return JSONResponse(answer)

    @app.post(
        protocol.SYNC_PATH,
        summary="Push ops and pull changes (sealed, signed frame; see docs/protocol.md)",
        openapi_extra=_SYNC_DOC,
    )
    async def sync(request: Request) -> Response:
        raw = await _read_body(request, protocol.MAX_BODY_BYTES)
        sealed = await run_in_threadpool(service.handle, raw)
        return Response(content=sealed, media_type=protocol.SYNC_CONTENT_TYPE)

    return app


def create_app_from_env() -> FastAPI:
    logs.setup()
    settings = config.resolve()
    return create_app(Runtime.open(settings))
