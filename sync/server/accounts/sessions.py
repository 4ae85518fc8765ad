"""Console sessions (server-side, revocable), login throttling and the login steps.

A session is a row of ``console_sessions`` keyed by the sha256 of a random 256-bit token. The
browser holds ``<token>.<tag>`` in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` when
the public URL is https), where the tag is a MAC of the token under a key derived from this
server's data key (:meth:`Vault.tag`): a cookie made by another server (another data key) is
refused before any lookup (``console.session_foreign``). A session ends after :data:`IDLE_MS`
without a request, at logout, and when its account is disabled or its password reset.
Each session has its own CSRF token, which every POST form carries.

Throttling: failed logins are counted per account (``u:<name>``) and per address
(``a:<address>``) over :data:`WINDOW_MS`; at :data:`ACCOUNT_LIMIT` (or :data:`ADDRESS_LIMIT`)
failures further attempts are refused with ``account.throttled`` saying how many minutes to wait,
even with the right password. A success clears the account's count.

:func:`login` and :func:`second_factor` are the whole login; the console's pages only call them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, update

from sync.errors import LinliError, ValidationError
from sync.server import audit, db
from sync.server.accounts import users
from sync.server.accounts.users import Account
from sync.server.runtime import Runtime
from sync.server.vault import Vault

IDLE_MS = 12 * 3600 * 1000
#: how stale ``seen_at`` may get before a request refreshes it (one write a minute at most)
TOUCH_MS = 60 * 1000
WINDOW_MS = 15 * 60 * 1000
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
PASSWORD, TOTP, OK = "password", "totp", "ok"
_TAG_PREFIX = "console-session:"


class LoginRefused(LinliError):
    """A login step refused: wrong name/password/code, throttled, or a session not valid."""

    code = "account.bad_login"
    http_status = 401


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    account: Account
    stage: str
    csrf: str
    created_at: int
    seen_at: int

    @property
    def complete(self) -> bool:
        return self.stage == OK


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the cookie value to set (once) and the session."""

    cookie: str
    session: Session


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie_value(vault: Vault, token: str) -> str:
    return f"{token}.{vault.tag(_TAG_PREFIX + token)}"


def _token_of(vault: Vault, cookie: str) -> str:
    """The token of a cookie this server made; ``console.session_foreign`` otherwise."""
    token, _, tag = cookie.rpartition(".")
    if not token or not vault.tagged(_TAG_PREFIX + token, tag):
        raise LoginRefused("console.session_foreign")
    return token


# -- throttling -------------------------------------------------------------------------------


def _keys(name: str | None, address: str) -> list[tuple[str, int]]:
    keys = [(f"a:{address[:150]}", ADDRESS_LIMIT)]
    if name:
        keys.insert(0, (f"u:{name[:64]}", ACCOUNT_LIMIT))
    return keys


def wait_ms(conn: Connection, name: str | None, address: str, now: int) -> int:
    """How long until another attempt for this account from this address is allowed (0: now)."""
    t = db.console_attempts
    longest = 0
    for key, limit in _keys(name, address):
        recent = conn.execute(
            select(t.c.at)
            .where(t.c.key == key, t.c.at > now - WINDOW_MS)
            .order_by(t.c.at.desc())
            .limit(limit)
        ).scalars()
        times = list(recent)
        if len(times) >= limit:
            longest = max(longest, times[-1] + WINDOW_MS - now)
    return longest


def _failed(conn: Connection, name: str | None, address: str, now: int) -> None:
    t = db.console_attempts
    conn.execute(delete(t).where(t.c.at <= now - WINDOW_MS))
    for key, _limit in _keys(name, address):
        conn.execute(t.insert().values(key=key, at=now))


def _throttled(wait: int) -> LoginRefused:
    return LoginRefused("account.throttled", minutes=max(1, -(-wait // 60000)))


def failures(conn: Connection, key: str, now: int) -> int:
    t = db.console_attempts
    return int(
        conn.execute(
            select(func.count()).select_from(t).where(t.c.key == key, t.c.at > now - WINDOW_MS)
        ).scalar_one()
    )


# -- sessions ---------------------------------------------------------------------------------


def _open(conn: Connection, vault: Vault, account: Account, stage: str, now: int) -> Opened:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    conn.execute(
        db.console_sessions.insert().values(
            token_hash=hashed,
            user_name=account.name,
            stage=stage,
            csrf=csrf,
            created_at=now,
            seen_at=now,
        )
    )
    return Opened(_cookie_value(vault, token), Session(hashed, account, stage, csrf, now, now))


def resolve(rt: Runtime, cookie: str | None, now: int) -> Session | None:
    """The live session of a cookie; ``None`` without one. ``console.session_foreign`` for a
    cookie this server did not make, ``console.session_expired`` for one that ended (idle,
    logged out, account disabled or reset). Refreshes ``seen_at`` at most once a minute."""
    if not cookie:
        return None
    hashed = token_hash(_token_of(rt.vault, cookie))
    t = db.console_sessions
    with rt.db.read() as conn:
        row = conn.execute(select(t).where(t.c.token_hash == hashed)).first()
        account = users.load(conn, row.user_name) if row else None
    if row is None or account is None:
        raise LoginRefused("console.session_expired")
    if row.revoked_at is not None or not account.active or row.seen_at + IDLE_MS <= now:
        raise LoginRefused("console.session_expired")
    if now - row.seen_at >= TOUCH_MS:
        with rt.db.write() as conn:
            conn.execute(update(t).where(t.c.token_hash == hashed).values(seen_at=now))
    return Session(hashed, account, row.stage, row.csrf, int(row.created_at), now)


def end(rt: Runtime, session: Session, now: int, *, address: str) -> None:
    """Logout: the session ends at once (its cookie no longer opens anything)."""
    t = db.console_sessions
    with rt.db.write() as conn:
        conn.execute(
            update(t)
            .where(t.c.token_hash == session.token_hash, t.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        audit.record(
            conn, session.account.name, audit.LOGOUT, session.account.name,
            {"address": address[:150]}, now=now,
        )  # fmt: skip


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(session.csrf, str(given))


# -- the login steps --------------------------------------------------------------------------


def login(rt: Runtime, name: str, password: str, *, address: str, now: int) -> Opened:
    """Check a name and password. A session at stage ``ok`` — or ``totp`` when the account has
    a second factor (then :func:`second_factor`). ``account.throttled`` (minutes to wait) or
    ``account.bad_login`` (never saying which of name and password was wrong)."""
    name = name.strip()[:64]
    with rt.db.read() as conn:
        wait = wait_ms(conn, name, address, now)
        stored = users.stored_hash(conn, name) if not wait else None
    if wait:
        with rt.db.write() as conn:
            audit.record(
                conn, "-", audit.LOGIN_THROTTLED, _known(conn, name),
                {"address": address[:150]}, now=now,
            )  # fmt: skip
        raise _throttled(wait)
    matched = users.password_matches(stored, password)
    if not matched:  # recorded in its own transaction, which must commit before refusing
        with rt.db.write() as conn:
            _failed(conn, name, address, now)
            audit.record(
                conn,
                "-",
                audit.LOGIN_FAILED,
                _known(conn, name),
                {"address": address[:150], "step": PASSWORD},
                now=now,
            )
        raise LoginRefused("account.bad_login")
    with rt.db.write() as conn:
        account = users.require(conn, name)
        conn.execute(delete(db.console_attempts).where(db.console_attempts.c.key == f"u:{name}"))
        secret, _ = users.totp_secret(conn, rt.vault, name)
        stage = TOTP if secret else OK
        opened = _open(conn, rt.vault, account, stage, now)
        if stage == OK:
            audit.record(conn, name, audit.LOGIN_OK, name, {"address": address[:150]}, now=now)
    return opened


def second_factor(rt: Runtime, session: Session, code: str, *, address: str, now: int) -> Session:
    """The TOTP step of a session at stage ``totp``: a right code (each accepted once) makes it
    ``ok``; a wrong one counts as a failed login (throttled like a password)."""
    name = session.account.name
    with rt.db.read() as conn:
        wait = wait_ms(conn, name, address, now)
        secret, last = users.totp_secret(conn, rt.vault, name)
    if wait:
        raise _throttled(wait)
    if session.stage != TOTP or secret is None:
        raise LoginRefused("console.session_expired")
    step = users.totp_step_matching(secret, code, now, last)
    t = db.console_sessions
    if step is None:  # recorded in its own transaction, which must commit before refusing
        with rt.db.write() as conn:
            _failed(conn, name, address, now)
            audit.record(
                conn,
                "-",
                audit.LOGIN_FAILED,
                name,
                {"address": address[:150], "step": TOTP},
                now=now,
            )
        raise LoginRefused("account.bad_code")
    with rt.db.write() as conn:
        conn.execute(
            update(db.console_users).where(db.console_users.c.name == name).values(totp_step=step)
        )
        conn.execute(update(t).where(t.c.token_hash == session.token_hash).values(stage=OK))
        conn.execute(delete(db.console_attempts).where(db.console_attempts.c.key == f"u:{name}"))
        audit.record(
            conn, name, audit.LOGIN_OK, name, {"address": address[:150], "totp": True}, now=now
        )
    return Session(session.token_hash, session.account, OK, session.csrf, session.created_at, now)


def _known(conn: Connection, name: str) -> str:
    """The audit target of a login attempt: the account's name if it exists, else ``?`` (a
    mistyped name can be a password typed in the wrong field: never logged)."""
    return name if users.load(conn, name) is not None else "?"


def revoke_all(rt: Runtime, name: str, now: int) -> int:
    """End every session of an account; how many were live."""
    t = db.console_sessions
    with rt.db.write() as conn:
        result = conn.execute(
            update(t).where(t.c.user_name == name, t.c.revoked_at.is_(None)).values(revoked_at=now)
        )
    return int(result.rowcount)


def require_complete(session: Session | None) -> Session:
    if session is None or not session.complete:
        raise ValidationError("console.login_needed")
    return session
