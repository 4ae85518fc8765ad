"""Login (password, then the TOTP code if the account has one), logout, the account's own password
and the language switch. The work is :mod:`sync.server.accounts.sessions`'; these routes only
carry forms and cookies.

The login form has no session yet, so its CSRF token is a random value in a ``SameSite=Strict``
cookie that the form repeats (double submit); every later form carries the session's token.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import web
from sync.errors import LinliError
from sync.i18n import LANGUAGES, normalise
from sync.protocol import now_ms
from sync.server.accounts import sessions, users

router = APIRouter()

#: the notices the login page may be asked to show (``?notice=``): why the visitor is here
NOTICES = frozenset({"console.session_foreign", "console.session_expired", "console.logged_out"})


def _login_page(
    request: Request,
    *,
    error: LinliError | None = None,
    status: int = 200,
    name: str = "",
    pre: str | None = None,
    target: str | None = None,
) -> Response:
    console = web.console_of(request)
    token = pre or request.cookies.get(web.PRE_COOKIE) or web.new_pre_token()
    notice = request.query_params.get("notice")
    lang = web.lang_of(request)
    response = web.render(
        request,
        "login.html",
        {
            "pre": token,
            "name": name,
            "next": web.safe_next(target or request.query_params.get("next")),
            "error": error.describe(lang) if error else None,
            "error_code": error.code if error else None,
            "notice": LinliError(notice).describe(lang) if notice in NOTICES else None,
        },
        status=status,
    )
    if request.cookies.get(web.PRE_COOKIE) != token:
        web.set_cookie(response, console, web.PRE_COOKIE, token)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    console = web.console_of(request)
    form = await request.form()
    pre = request.cookies.get(web.PRE_COOKIE)
    given = form.get(web.CSRF_FIELD)
    if not (pre and isinstance(given, str) and secrets.compare_digest(pre, given)):
        raise web.PageRefusal("console.csrf")
    name = str(form.get("name") or "")
    password = str(form.get("password") or "")
    target = web.safe_next(str(form.get("next") or ""))
    try:
        opened = await run_in_threadpool(
            sessions.login,
            console.rt,
            name,
            password,
            address=web.address_of(request),
            now=now_ms(),
        )
    except LinliError as exc:
        status = 429 if exc.code == "account.throttled" else 401
        return _login_page(request, error=exc, status=status, name=name[:64], target=target)
    if not opened.session.complete:
        target = f"{web.PREFIX}/login/totp?next={web.quote(target, safe='')}"
    elif opened.session.account.must_change:
        target = f"{web.PREFIX}/password"
    response = web.redirect(target)
    web.set_cookie(response, console, web.COOKIE, opened.cookie)
    web.clear_cookie(response, console, web.PRE_COOKIE)
    return response


def _pending(request: Request) -> sessions.Session:
    """The session waiting for its TOTP code (else back to the login page)."""
    session = web._session_of(request)
    if session is None:
        raise web.NeedLogin()
    if session.complete:
        raise _Done()
    return session


class _Done(Exception):
    pass


@router.get("/login/totp")
def totp_form(request: Request) -> Response:
    try:
        session = _pending(request)
    except _Done:
        return web.redirect(web.safe_next(request.query_params.get("next")))
    return _totp_page(request, session)


def _totp_page(
    request: Request,
    session: sessions.Session,
    error: LinliError | None = None,
    status: int = 200,
    target: str | None = None,
) -> Response:
    lang = web.lang_of(request)
    return web.render(
        request,
        "totp.html",
        {
            "csrf": session.csrf,
            "next": web.safe_next(target or request.query_params.get("next")),
            "error": error.describe(lang) if error else None,
            "error_code": error.code if error else None,
        },
        status=status,
    )


@router.post("/login/totp")
async def totp(request: Request) -> Response:
    console = web.console_of(request)
    form = await request.form()
    try:
        session = await run_in_threadpool(_pending, request)
    except _Done:
        return web.redirect(web.PREFIX + "/")
    if not sessions.csrf_ok(session, str(form.get(web.CSRF_FIELD) or "")):
        raise web.PageRefusal("console.csrf")
    target = web.safe_next(str(form.get("next") or ""))
    try:
        done = await run_in_threadpool(
            sessions.second_factor,
            console.rt,
            session,
            str(form.get("code") or ""),
            address=web.address_of(request),
            now=now_ms(),
        )
    except LinliError as exc:
        status = 429 if exc.code == "account.throttled" else 401
        return _totp_page(request, session, exc, status, target)
    if done.account.must_change:
        target = f"{web.PREFIX}/password"
    return web.redirect(target)


@router.post("/logout")
def logout(request: Request, v: web.Posted) -> Response:
    console = web.console_of(request)
    sessions.end(console.rt, v.session, now_ms(), address=v.address)
    response = web.redirect(f"{web.PREFIX}/login?notice=console.logged_out")
    web.clear_cookie(response, console, web.COOKIE)
    return response


@router.get("/password")
def password_form(request: Request, v: web.SignedInAny) -> Response:
    return web.render(
        request,
        "password.html",
        {"error": None, "min": users.MIN_PASSWORD, "done": request.query_params.get("done")},
        visitor=v,
    )


@router.post("/password")
async def password(request: Request, v: web.Posted) -> Response:
    console = web.console_of(request)
    form = await request.form()
    current, new = str(form.get("current") or ""), str(form.get("new") or "")
    error: LinliError | None = None
    if new != str(form.get("again") or ""):
        error = LinliError("console.password_mismatch")
    else:
        try:
            await run_in_threadpool(
                users.change_password,
                console.rt,
                v.name,
                current,
                new,
                keep_session=v.session.token_hash,
                now=now_ms(),
            )
        except LinliError as exc:
            error = exc
    if error is None:
        return web.redirect(f"{web.PREFIX}/password?done=1")
    return web.render(
        request,
        "password.html",
        {"error": error.describe(v.lang), "min": users.MIN_PASSWORD, "done": None},
        visitor=v,
        status=400,
    )


@router.get("/lang/{code}")
def language(request: Request, code: str) -> Response:
    """Switch the console's language (a cookie), then back to the page."""
    chosen = normalise(code)
    if chosen not in LANGUAGES:
        chosen = normalise(None)
    response = web.redirect(web.safe_next(request.query_params.get("next")))
    web.set_cookie(response, web.console_of(request), web.LANG_COOKIE, chosen, max_age=web.YEAR_S)
    return response
