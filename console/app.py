"""The command centre as an ASGI app, and :func:`mount`, the server's entry point into it.

``python -m sync.server serve`` loads :func:`mount` through the entry-point group
``linli.server.mounts`` (pyproject) and calls it with its FastAPI app and runtime; the console
then answers under ``/console`` (``serve --no-console`` skips it). It is a sub-application with
its own refusal pages (HTML in the visitor's language, not the sync API's signed JSON problems)
and security headers; its pages are the routers listed in :mod:`console.pages`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import web
from console.pages import PAGES
from sync import i18n
from sync.errors import LinliError
from sync.server import logs
from sync.server.runtime import Runtime

LOCALES = Path(__file__).resolve().parent / "locales"
STATIC = Path(__file__).resolve().parent / "static"

#: every answer of the console (the pages load only their own files: no inline script)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Headers:
    """Security headers on every answer; ``Cache-Control: no-store`` on pages (not on the
    vendored files, which browsers may keep)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = "/static/" in scope.get("path", "")

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                for name, value in SECURITY_HEADERS.items():
                    headers.append((name.lower().encode(), value.encode()))
                cache = b"public, max-age=3600" if static else b"no-store"
                headers.append((b"cache-control", cache))
            await send(message)

        await self.app(scope, receive, add)


def build(rt: Runtime) -> FastAPI:
    """The console app (mounted at ``/console`` by :func:`mount`)."""
    i18n.register(LOCALES)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = web.Console.create(rt)
    app.add_middleware(_Headers)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for page in PAGES:
        app.include_router(page.router)

    @app.exception_handler(web.NeedLogin)
    async def _login(request: Request, exc: web.NeedLogin) -> Response:
        target = f"{web.PREFIX}/login?next={web.quote(web.here(request), safe='')}"
        if exc.notice:
            target += f"&notice={web.quote(exc.notice)}"
        response = web.redirect(target)
        if exc.clear:
            web.clear_cookie(response, app.state.console, web.COOKIE)
        return response

    @app.exception_handler(web.PasswordFirst)
    async def _password(_request: Request, _exc: web.PasswordFirst) -> Response:
        return web.redirect(f"{web.PREFIX}/password")

    @app.exception_handler(LinliError)
    async def _coded(request: Request, exc: LinliError) -> Response:
        status = getattr(exc, "status", None) or exc.http_status
        return web.render(
            request,
            "error.html",
            {"code": exc.code, "message": exc.describe(web.lang_of(request))},
            status=status if 400 <= status < 600 else 400,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = "console.not_found" if exc.status_code == 404 else "console.bad_request"
        refusal = LinliError(code)
        return web.render(
            request,
            "error.html",
            {"code": code, "message": refusal.describe(web.lang_of(request))},
            status=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> Response:
        logs.event("console.fault", error=type(exc).__name__)
        fault = LinliError("console.fault")
        return web.render(
            request,
            "error.html",
            {"code": fault.code, "message": fault.describe(web.lang_of(request))},
            status=500,
        )

    return app


def mount(app: FastAPI, runtime: Runtime) -> None:
    """The entry point ``linli.server.mounts: console``: serve the console at ``/console``."""
    app.mount(web.PREFIX, build(runtime), name="console")
