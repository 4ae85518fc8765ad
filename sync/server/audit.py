"""The audit log: an append-only, hash-chained record of who saw and changed what.

Every entry (table ``audit_log``) is ``id`` (1, 2, 3 … with no gap), ``at`` (epoch ms), ``who``
(a console account, ``cli`` or ``-`` for an unknown name at the login form), ``action`` (a
dotted code such as ``login.ok``; the catalogs say it in words: ``audit.action.<action>``),
``target`` (an id: an account name, a device, a review item, a place), ``details`` (a small JSON
object of ids, counts and flags) and two hashes::

    hash = sha256(prev_hash + "\\n" + canonical(id, at, who, action, target, details))

with ``prev_hash`` the previous entry's ``hash`` (:data:`GENESIS` for the first). Changing,
removing or re-ordering any entry breaks the chain from there on; :func:`verify` names the first
broken entry (``python -m sync.server audit verify``). The chain shows tampering by someone who
can write to the database but not the server's code; it cannot stop someone who rewrites every
later hash too (docs/security.md says so, and how to anchor the head elsewhere).

:func:`record` appends inside the caller's WRITE transaction (:meth:`Database.write`, serialized
across processes), so the chain never forks and an entry commits with the change it describes.
Details hold ids, counts and flags only — never a resident's name, phone or address (:func:`record`
refuses text longer than an id and nested values).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from sync.errors import ValidationError
from sync.server import db

GENESIS = "0" * 64
MAX_DETAILS = 24
MAX_TEXT = db.ID

# the actions this server records (later pages add their own, as dotted codes)
LOGIN_OK = "login.ok"
LOGIN_FAILED = "login.failed"
LOGIN_THROTTLED = "login.throttled"
LOGOUT = "logout"
ACCOUNT_ADD = "account.add"
ACCOUNT_DISABLE = "account.disable"
ACCOUNT_ENABLE = "account.enable"
ACCOUNT_RESET = "account.reset"
ACCOUNT_PASSWORD = "account.password"
ACCOUNT_TOTP = "account.totp"
ACCESS_DENIED = "access.denied"
DEVICE_RETIRE = "device.retire"
DEVICE_REVOKE = "device.revoke"
REVIEW_VIEW = "review.view"
REVIEW_APPLY = "review.apply"
REVIEW_DISMISS = "review.dismiss"
#: a page that shows residents' names or phone numbers (later pages record it on every view)
VIEW_PERSONAL = "view.personal"
EXPORT = "export"
IMPORT = "import"
ENROLL = "enroll"
#: a team or member created, edited, moved, disabled or enabled in the console
TEAM_CHANGE = "team.change"


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: int
    who: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "who": self.who,
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """:func:`verify`'s answer: how many entries were checked and the first broken one."""

    checked: int
    broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None


def canonical(entry_id: int, at: int, who: str, action: str, target: str, details: str) -> str:
    body = {
        "id": entry_id,
        "at": at,
        "who": who,
        "action": action,
        "target": target,
        "details": json.loads(details),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def _clean_details(details: Mapping[str, Any] | None) -> str:
    """The details as canonical JSON; ``audit.bad_details`` for anything but a few short
    scalars (ids, counts, flags) or lists of ids."""
    clean: dict[str, Any] = {}
    for key, value in (details or {}).items():
        ok_key = isinstance(key, str) and 0 < len(key) <= 64
        values = value if isinstance(value, list | tuple) else [value]
        ok_value = len(values) <= MAX_DETAILS and all(
            v is None
            or isinstance(v, bool | int)
            or (isinstance(v, str) and len(v) <= MAX_TEXT and v.isprintable())
            for v in values
        )
        if not (ok_key and ok_value):
            raise ValidationError("audit.bad_details", key=str(key)[:64])
        clean[key] = list(value) if isinstance(value, list | tuple) else value
    if len(clean) > MAX_DETAILS:
        raise ValidationError("audit.bad_details", key="*")
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _short(text: str) -> str:
    cleaned = "".join(ch for ch in str(text) if ch.isprintable())
    return cleaned[:MAX_TEXT] or "-"


def record(
    conn: Connection,
    who: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    now: int,
) -> Entry:
    """Append one entry, chained to the last one. Call inside a write transaction."""
    details_text = _clean_details(details)
    who, target, action = _short(who), _short(target), _short(action)[:64]
    last = conn.execute(
        select(db.audit_log.c.id, db.audit_log.c.hash).order_by(db.audit_log.c.id.desc()).limit(1)
    ).first()
    entry_id = int(last.id) + 1 if last else 1
    prev = str(last.hash) if last else GENESIS
    digest = chain_hash(prev, canonical(entry_id, now, who, action, target, details_text))
    conn.execute(
        db.audit_log.insert().values(
            id=entry_id,
            at=now,
            who=who,
            action=action,
            target=target,
            details=details_text,
            prev_hash=prev,
            hash=digest,
        )
    )
    return Entry(entry_id, now, who, action, target, json.loads(details_text), prev, digest)


def _entry(row: Any) -> Entry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"unreadable": True}
    return Entry(
        id=int(row.id),
        at=int(row.at),
        who=row.who,
        action=row.action,
        target=row.target,
        details=details if isinstance(details, dict) else {},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def listing(
    conn: Connection,
    *,
    who: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: int | None = None,
    until: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Entry]:
    """Entries newest first, filtered (``action`` matches itself and ``action.*``)."""
    t = db.audit_log
    q = select(t).order_by(t.c.id.desc()).limit(max(1, min(limit, 1000)))
    if who:
        q = q.where(t.c.who == who)
    if action:
        q = q.where((t.c.action == action) | t.c.action.startswith(f"{action}.", autoescape=True))
    if target:
        q = q.where(t.c.target == target)
    if since is not None:
        q = q.where(t.c.at >= since)
    if until is not None:
        q = q.where(t.c.at < until)
    if before_id is not None:
        q = q.where(t.c.id < before_id)
    return [_entry(row) for row in conn.execute(q)]


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(db.audit_log)).scalar_one())


def verify(conn: Connection, *, batch: int = 2000) -> Verdict:
    """Walk the chain from the first entry; the first entry whose id, link or hash is wrong."""
    t = db.audit_log
    prev, expected, checked = GENESIS, 1, 0
    while True:
        rows = conn.execute(select(t).where(t.c.id >= expected).order_by(t.c.id).limit(batch)).all()
        if not rows:
            return Verdict(checked)
        for row in rows:
            entry_id = int(row.id)
            if entry_id != expected:
                return Verdict(checked, expected, "missing")
            if row.prev_hash != prev:
                return Verdict(checked, entry_id, "link")
            try:
                text = canonical(
                    entry_id, int(row.at), row.who, row.action, row.target, row.details
                )
            except ValueError:
                return Verdict(checked, entry_id, "hash")
            if chain_hash(prev, text) != row.hash:
                return Verdict(checked, entry_id, "hash")
            prev, expected, checked = row.hash, expected + 1, checked + 1
