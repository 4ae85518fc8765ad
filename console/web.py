"""What every console page shares: the templates, who is asking, CSRF, refusals and rendering.

A page is a function on an :class:`fastapi.APIRouter` that takes a :class:`Visitor` from one of
the dependencies below and returns :func:`render`:

- :func:`signed_in` — a complete session (else a redirect to the login page); an account whose
  password must change is sent to the password page first;
- :func:`admin` — the same, for admins only (``console.admin_only``, 403);
- :func:`posted` — for every POST: a signed-in visitor whose form (or ``X-CSRF-Token`` header)
  carries the session's CSRF token (``console.csrf``, 403, otherwise).

Routes are plain ``def`` functions (FastAPI runs them in its thread pool): the server's services
are synchronous. A :class:`PageRefusal` (or any coded :class:`LinliError`) becomes the coded
error page in the visitor's language; :func:`deny` also writes ``access.denied`` to the audit log
— every page calls it for a row outside the account's :class:`Scope`. A request with
``HX-Request`` gets the template's ``fragment`` block only (htmx swaps it in); without
JavaScript the same URL returns the whole page.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sync.errors import LinliError
from sync.i18n import normalise, t
from sync.protocol import now_ms
from sync.server import audit, config, localtime
from sync.server.accounts import Scope, Session, sessions
from sync.server.accounts.users import Account
from sync.server.runtime import Runtime

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
COOKIE = "linli_console"
PRE_COOKIE = "linli_console_pre"  # the login form's CSRF token (double-submit)
LANG_COOKIE = "linli_console_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
YEAR_S = 365 * 24 * 3600


class PageRefusal(LinliError):
    """A coded refusal shown as the console's error page (``error.<code>`` in the catalogs)."""

    code = "console.forbidden"
    http_status = 403

    def __init__(self, code: str | None = None, /, status: int = 403, **params: Any) -> None:
        super().__init__(code, **params)
        self.status = status


class NeedLogin(Exception):
    """No usable session: go to the login page (with why, if the cookie was refused)."""

    def __init__(self, notice: str | None = None, clear: bool = False) -> None:
        super().__init__(notice)
        self.notice = notice
        self.clear = clear


@dataclass(frozen=True, slots=True)
class Console:
    """The console's state, one per server process (``request.app.state.console``)."""

    rt: Runtime
    env: jinja2.Environment
    secure: bool
    practice: bool
    zone: tzinfo

    @classmethod
    def create(cls, rt: Runtime) -> Console:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        saved = config.read_config(rt.settings.data_dir)
        return cls(
            rt=rt,
            env=env,
            secure=rt.settings.public_url.lower().startswith("https://"),
            practice=bool(saved.get("practice")),
            zone=localtime.zone(rt.settings.timezone),
        )


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in account behind a request, with its scope and language."""

    session: Session
    scope: Scope
    lang: str
    address: str

    @property
    def account(self) -> Account:
        return self.session.account

    @property
    def name(self) -> str:
        return self.session.account.name

    @property
    def csrf(self) -> str:
        return self.session.csrf


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def lang_of(request: Request) -> str:
    return normalise(request.cookies.get(LANG_COOKIE))


def address_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def safe_next(target: str | None) -> str:
    """A redirect target inside the console (never another site)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


def here(request: Request) -> str:
    """This request's path and query (the mount's prefix included)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def _session_of(request: Request) -> Session | None:
    console = console_of(request)
    try:
        return sessions.resolve(console.rt, request.cookies.get(COOKIE), now_ms())
    except LinliError as exc:
        raise NeedLogin(exc.code, clear=True) from exc


def _visitor(request: Request, *, allow_must_change: bool = False) -> Visitor:
    session = _session_of(request)
    if session is None or not session.complete:
        raise NeedLogin()
    if session.account.must_change and not allow_must_change:
        raise PasswordFirst()
    console = console_of(request)
    with console.rt.db.read() as conn:
        scope = Scope.load(conn, session.account)
    return Visitor(session, scope, lang_of(request), address_of(request))


class PasswordFirst(Exception):
    """The account holds a one-time password: it must choose its own before anything else."""


def signed_in(request: Request) -> Visitor:
    return _visitor(request)


def signed_in_any(request: Request) -> Visitor:
    """Signed in, even with a one-time password still to change (the password page)."""
    return _visitor(request, allow_must_change=True)


def admin(request: Request) -> Visitor:
    v = _visitor(request)
    if not v.account.is_admin:
        deny(request, v, "page", request.url.path, code="console.admin_only")
    return v


async def form_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def posted(request: Request) -> Visitor:
    """A POST from a signed-in visitor with the session's CSRF token."""
    given = await form_token(request)
    v = await run_in_threadpool(_visitor, request, allow_must_change=True)
    if not sessions.csrf_ok(v.session, given):
        raise PageRefusal("console.csrf")
    if v.account.must_change and not request.url.path.endswith("/password"):
        raise PasswordFirst()
    return v


def deny(
    request: Request, v: Visitor, kind: str, target: str, *, code: str = "console.forbidden"
) -> None:
    """Refuse a row outside the visitor's scope (or an admin page): audit it, then 403."""
    rt = console_of(request).rt
    with rt.db.write() as conn:
        audit.record(
            conn,
            v.name,
            audit.ACCESS_DENIED,
            str(target),
            {"kind": kind, "path": request.url.path[:200]},
            now=now_ms(),
        )
    raise PageRefusal(code, kind=kind)


def record(request: Request, v: Visitor, action: str, target: str, **details: Any) -> None:
    """An audit entry for what the visitor just saw or did (ids and counts only)."""
    rt = console_of(request).rt
    with rt.db.write() as conn:
        audit.record(conn, v.name, action, target, details, now=now_ms())


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    visitor: Visitor | None = None,
    status: int = 200,
    lang: str | None = None,
) -> HTMLResponse:
    console = console_of(request)
    code = visitor.lang if visitor else (lang or lang_of(request))

    def tr(key: str, **params: Any) -> str:
        return t(key, code, **params)

    def local(ms: int | None) -> str:
        return localtime.show(ms, console.zone) if ms is not None else ""

    from console.pages import NAV

    page = console.env.get_template(template)
    values = {
        "t": tr,
        "local": local,
        "lang": code,
        "other_lang": "en" if code == "zh-CN" else "zh-CN",
        "visitor": visitor,
        "csrf": visitor.csrf if visitor else "",
        "nav": [
            item for item in NAV if not (item.admin and not (visitor and visitor.account.is_admin))
        ],
        "practice": console.practice,
        "prefix": PREFIX,
        "here": here(request),
        "timezone": console.rt.settings.timezone,
        "quote": quote,
        **(context or {}),
    }
    if request.headers.get("HX-Request") and "fragment" in page.blocks:
        ctx = page.new_context(values)
        body = "".join(page.blocks["fragment"](ctx))
    else:
        body = page.render(values)
    response = HTMLResponse(body, status_code=status)
    return response


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def set_cookie(response: Response, console: Console, name: str, value: str, **kw: Any) -> None:
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=console.secure,
        **kw,
    )


def clear_cookie(response: Response, console: Console, name: str) -> None:
    response.delete_cookie(
        name, path=PREFIX, httponly=True, samesite="strict", secure=console.secure
    )


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)


#: the visitor of a page (signed in), of an admin page, and of a CSRF-checked POST
SignedIn = Annotated[Visitor, Depends(signed_in)]
SignedInAny = Annotated[Visitor, Depends(signed_in_any)]
Admin = Annotated[Visitor, Depends(admin)]
Posted = Annotated[Visitor, Depends(posted)]
