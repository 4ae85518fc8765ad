"""Command-centre accounts: add, list, disable, enable, reset, change password, TOTP.

An account has a ``name``, a ``role`` (:data:`ROLES`: ``coordinator`` or ``admin``; only admins
read the audit log and manage accounts) and a ``scope``: the places it sees — every page and
export is filtered to them and what lies beneath (:class:`~.scope.Scope`). A coordinator needs at
least one place; an admin without one sees the whole operation.

Passwords are hashed with argon2id (argon2-cffi's defaults: 64 MiB, 3 passes); they are at least
:data:`MIN_PASSWORD` characters, not the account's name and not one repeated character. A reset
without a password sets a generated one-time password (printed once) that must be changed at the
next login. The optional TOTP secret is sealed under the data key (``totp:<name>``).

Every change records an audit entry (:mod:`sync.server.audit`) in the same write transaction and
a disable or reset ends the account's sessions at once. The CLI (``python -m sync.server user``)
and the console both call these functions.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from sync.errors import ValidationError
from sync.server import audit, db
from sync.server.runtime import Runtime
from sync.server.vault import Vault

COORDINATOR, ADMIN = "coordinator", "admin"
ROLES = (COORDINATOR, ADMIN)
MIN_PASSWORD = 12
MAX_PASSWORD = 256
#: letters (any script), digits and ``._-@``; 2 to 64 characters
NAME_RE = re.compile(r"^[\w.@-]{2,64}$")
GENERATED_BYTES = 12  # a generated password: 16 URL-safe characters (96 bits)

_hasher = PasswordHasher()
#: verified against for an unknown name, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    scope: tuple[str, ...]
    totp: bool
    must_change: bool
    created_at: int
    changed_at: int
    disabled_at: int | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "scope": list(self.scope),
            "totp": self.totp,
            "must_change": self.must_change,
            "created_at": self.created_at,
            "changed_at": self.changed_at,
            "disabled_at": self.disabled_at,
        }


def totp_aad(name: str) -> str:
    return f"totp:{name}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; an unknown account (``None``) costs the same time."""
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def check_password(name: str, password: str) -> None:
    """``account.weak_password`` unless the password follows the length and sense rules."""
    if (
        len(password) < MIN_PASSWORD
        or len(password) > MAX_PASSWORD
        or password.strip() != password
        or len(set(password)) < 4
        or password.casefold() == name.casefold()
    ):
        raise ValidationError("account.weak_password", min=MIN_PASSWORD, max=MAX_PASSWORD)


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_BYTES)


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        raise ValidationError("account.bad_name", name=name[:64])
    return name


def _account(row: Any) -> Account:
    scope = json.loads(row.scope) if row.scope else []
    return Account(
        name=row.name,
        role=row.role,
        scope=tuple(p for p in scope if isinstance(p, str)),
        totp=row.totp is not None,
        must_change=bool(row.must_change),
        created_at=int(row.created_at),
        changed_at=int(row.changed_at),
        disabled_at=row.disabled_at,
    )


def load(conn: Connection, name: str) -> Account | None:
    row = conn.execute(select(db.console_users).where(db.console_users.c.name == name)).first()
    return _account(row) if row else None


def require(conn: Connection, name: str) -> Account:
    found = load(conn, name)
    if found is None:
        raise ValidationError("account.unknown", name=name[:64])
    return found


def stored_hash(conn: Connection, name: str) -> str | None:
    """The password hash of an ENABLED account (``None``: no such account, or disabled)."""
    t = db.console_users
    value = conn.execute(
        select(t.c.password_hash).where(t.c.name == name, t.c.disabled_at.is_(None))
    ).scalar_one_or_none()
    return None if value is None else str(value)


def listing(conn: Connection) -> list[Account]:
    rows = conn.execute(select(db.console_users).order_by(db.console_users.c.name))
    return [_account(r) for r in rows]


def _check_scope(conn: Connection, role: str, scope: list[str]) -> list[str]:
    if role not in ROLES:
        raise ValidationError("account.bad_role", role=role, roles=", ".join(ROLES))
    places = sorted(set(scope))
    if role == COORDINATOR and not places:
        raise ValidationError("account.needs_scope")
    t = db.records
    for place in places:
        found = conn.execute(
            select(t.c.entity_id).where(t.c.kind == "place", t.c.entity_id == place)
        ).first()
        if found is None:
            raise ValidationError("admin.not_found", kind="place", id=place)
    return places


def add(
    rt: Runtime,
    name: str,
    role: str,
    scope: list[str],
    *,
    password: str | None,
    by: str,
    now: int,
) -> tuple[Account, str | None]:
    """A new account; with no ``password`` a generated one-time password is set and returned
    (to be changed at first login). ``account.exists`` if the name is taken."""
    _check_name(name)
    generated = None
    if password is None:
        password = generated = generate_password()
    else:
        check_password(name, password)
    hashed = hash_password(password)
    with rt.db.write() as conn:
        places = _check_scope(conn, role, scope)
        if load(conn, name) is not None:
            raise ValidationError("account.exists", name=name)
        conn.execute(
            db.console_users.insert().values(
                name=name,
                role=role,
                scope=json.dumps(places),
                password_hash=hashed,
                must_change=generated is not None,
                created_at=now,
                changed_at=now,
            )
        )
        audit.record(conn, by, audit.ACCOUNT_ADD, name, {"role": role, "scope": places}, now=now)
        account = require(conn, name)
    return account, generated


def _end_sessions(conn: Connection, name: str, now: int) -> None:
    t = db.console_sessions
    conn.execute(
        update(t).where(t.c.user_name == name, t.c.revoked_at.is_(None)).values(revoked_at=now)
    )


def set_disabled(rt: Runtime, name: str, disabled: bool, *, by: str, now: int) -> Account:
    """Disable (ending its sessions) or enable an account."""
    with rt.db.write() as conn:
        require(conn, name)
        conn.execute(
            update(db.console_users)
            .where(db.console_users.c.name == name)
            .values(disabled_at=now if disabled else None, changed_at=now)
        )
        if disabled:
            _end_sessions(conn, name, now)
        action = audit.ACCOUNT_DISABLE if disabled else audit.ACCOUNT_ENABLE
        audit.record(conn, by, action, name, now=now)
        return require(conn, name)


def reset(
    rt: Runtime, name: str, *, password: str | None, by: str, now: int
) -> tuple[Account, str | None]:
    """A new password (given, or a generated one-time one returned to print once); the
    account's sessions end and its failed-login count is cleared."""
    generated = None
    if password is None:
        password = generated = generate_password()
    else:
        check_password(name, password)
    hashed = hash_password(password)
    with rt.db.write() as conn:
        require(conn, name)
        conn.execute(
            update(db.console_users)
            .where(db.console_users.c.name == name)
            .values(password_hash=hashed, must_change=generated is not None, changed_at=now)
        )
        _end_sessions(conn, name, now)
        conn.execute(db.console_attempts.delete().where(db.console_attempts.c.key == f"u:{name}"))
        audit.record(
            conn, by, audit.ACCOUNT_RESET, name, {"one_time": generated is not None}, now=now
        )
        return require(conn, name), generated


def change_password(
    rt: Runtime, name: str, current: str, new: str, *, keep_session: str | None, now: int
) -> None:
    """The account holder's own change: ``account.wrong_password`` unless ``current`` matches.
    Every other session of the account ends (``keep_session``: the token hash to keep)."""
    with rt.db.read() as conn:
        stored = stored_hash(conn, name)
    if not password_matches(stored, current):
        raise ValidationError("account.wrong_password")
    if new == current:
        raise ValidationError("account.same_password")
    check_password(name, new)
    hashed = hash_password(new)
    with rt.db.write() as conn:
        conn.execute(
            update(db.console_users)
            .where(db.console_users.c.name == name)
            .values(password_hash=hashed, must_change=False, changed_at=now)
        )
        t = db.console_sessions
        conn.execute(
            update(t)
            .where(t.c.user_name == name, t.c.revoked_at.is_(None), t.c.token_hash != keep_session)
            .values(revoked_at=now)
        )
        audit.record(conn, name, audit.ACCOUNT_PASSWORD, name, now=now)


def set_totp(rt: Runtime, name: str, *, enable: bool, by: str, now: int) -> str | None:
    """Turn the second factor on (a new secret, returned to show once as an ``otpauth://`` URI
    or QR code) or off."""
    import pyotp

    secret = pyotp.random_base32() if enable else None
    with rt.db.write() as conn:
        require(conn, name)
        sealed = rt.vault.seal(secret, totp_aad(name)) if secret else None
        conn.execute(
            update(db.console_users)
            .where(db.console_users.c.name == name)
            .values(totp=sealed, totp_step=None, changed_at=now)
        )
        audit.record(conn, by, audit.ACCOUNT_TOTP, name, {"enabled": enable}, now=now)
    return secret


def totp_uri(secret: str, name: str, issuer: str = "linli") -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def totp_secret(conn: Connection, vault: Vault, name: str) -> tuple[str | None, int | None]:
    """The account's TOTP secret (``None``: no second factor) and the last accepted step."""
    t = db.console_users
    row = conn.execute(select(t.c.totp, t.c.totp_step).where(t.c.name == name)).first()
    if row is None or row.totp is None:
        return None, None
    return str(vault.open(row.totp, totp_aad(name))), row.totp_step


def totp_step_matching(secret: str, code: str, now_ms: int, last_step: int | None) -> int | None:
    """The time step (30 s) whose code is ``code`` — this one or a neighbour, for clock drift —
    and later than ``last_step`` (a code is accepted once); ``None`` if none."""
    import pyotp

    digits = "".join(code.split())
    if not (digits.isdigit() and len(digits) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = now_ms // 1000 // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * totp.interval), digits):
            return step
    return None
