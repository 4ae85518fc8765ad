"""One-time enrollment codes and ``POST /v1/enroll``.

A code is 12 characters from a 31-letter alphabet without look-alikes (0/O, 1/I/L), shown as
``XXXX-XXXX-XXXX`` (about 59 bits). The server stores only ``code_id`` (indexed) and the two keys
derived from the code (sealed at rest), never the code. A code names an existing member, is
single use and expires (default 24 h). Enrolling with a code:

1. ``parse_enroll_request`` (shape, version, keys); find the code by ``code_id``
   (``enroll.unknown_code``); used (``enroll.used``) or expired (``enroll.expired``);
2. ``verify_enroll_request`` — the proof must match, else ``enroll.bad_proof`` and the code is
   NOT consumed; ``open_enroll_label`` opens the sealed label (a version-1 clear body was already
   refused as ``sync.bad_version``, also without consuming the code);
3. consume the code and create the device in one transaction; answer with the member details
   sealed under the code and the MACed server keys.

A retry with the same device keys after a lost answer gets the same answer again (same device id),
so a phone on a bad link does not burn its code.

QR content: ``linli://enroll?server=<url-encoded server URL>&code=<code>&fp=<fingerprint>``
(:func:`sync.protocol.enroll_link`; the phone checks the fingerprint against the keys it
receives). A phone that sends an empty label is labelled with its member's name.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from sync import protocol
from sync.errors import SyncError, ValidationError
from sync.ops import new_id
from sync.protocol import EnrollSecret, b64d, b64e
from sync.server import db, logs
from sync.server.runtime import Runtime

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
DEFAULT_TTL_S = 24 * 3600
QR_SCHEME = protocol.LINK_SCHEME


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def qr_content(server_url: str, code: str, fingerprint: str | None = None) -> str:
    """The QR code's text (:func:`sync.protocol.enroll_link`)."""
    return protocol.enroll_link(server_url, code, fingerprint)


def link_for(rt: Runtime, code: str, server_url: str | None = None) -> str:
    """The enrollment link of ``code`` on this server, with its key fingerprint."""
    return qr_content(server_url or rt.settings.public_url, code, protocol.fingerprint_of(rt.keys))


def parse_qr_content(text: str) -> tuple[str, str]:
    """``(server_url, code)`` from a QR's text; ``enroll.bad_link`` if it is not one."""
    link = protocol.parse_enroll_link(text)
    return link.server, link.code


def parse_duration(text: str) -> int:
    """Seconds in ``"90m"``, ``"24h"``, ``"7d"`` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    scale = units.get(text[-1:], 0)
    number = text[:-1] if scale else text
    if not number.isdigit() or int(number) <= 0:
        raise ValidationError("validation.invalid", field="expires", reason=text)
    return int(number) * (scale or 1)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    code_id: str
    member_id: str
    expires_at: int


def issue(rt: Runtime, member_id: str, ttl_s: int = DEFAULT_TTL_S) -> IssuedCode:
    """A new one-time code for an existing member."""
    with rt.db.read() as conn:
        if rt.ledger.world(conn).refs("member", member_id) is None:
            raise ValidationError("admin.not_found", kind="member", id=member_id)
    code = new_code()
    secret = protocol.enroll_secret(code)
    now = protocol.now_ms()
    sealed = rt.vault.seal(
        {"request_key": b64e(secret.request_key), "response_key": b64e(secret.response_key)},
        f"code:{secret.code_id}",
    )
    with rt.db.write() as conn:
        conn.execute(
            db.enroll_codes.insert().values(
                code_id=secret.code_id,
                member_id=member_id,
                secret=sealed,
                created_at=now,
                expires_at=now + ttl_s * 1000,
            )
        )
    logs.event("enroll.code", member=member_id, expires_at=now + ttl_s * 1000)
    return IssuedCode(code, secret.code_id, member_id, now + ttl_s * 1000)


def enroll(rt: Runtime, body: Any) -> dict[str, Any]:
    """Answer an enroll body (see the module docs); raises coded errors."""
    req = protocol.parse_enroll_request(body)
    if not db.storable_id(req.code_id):
        raise SyncError("enroll.unknown_code")
    now = protocol.now_ms()
    with rt.db.write() as conn:
        row = conn.execute(
            select(db.enroll_codes).where(db.enroll_codes.c.code_id == req.code_id)
        ).first()
        if row is None:
            raise SyncError("enroll.unknown_code")
        keys = rt.vault.open(row.secret, f"code:{row.code_id}")
        secret = EnrollSecret(row.code_id, b64d(keys["request_key"]), b64d(keys["response_key"]))
        if not protocol.verify_enroll_request(secret, body):
            raise SyncError("enroll.bad_proof")
        label = protocol.open_enroll_label(secret, body)
        device_id = _consume(rt, conn, row, req, now)
        world = rt.ledger.world(conn)
        member_refs = world.refs("member", row.member_id)
        member = world.record("member", row.member_id)
        if member_refs is None or member is None:
            raise SyncError("enroll.unknown_code")
        role = str(member_refs.get("role", "volunteer"))
        team_id = member_refs.get("team_id")
        if row.device_id is None:
            label = label.strip() or str(member.get("name", ""))
            conn.execute(
                db.devices.insert().values(
                    device_id=device_id,
                    member_id=row.member_id,
                    role=role,
                    team_id=team_id,
                    label=rt.vault.seal(label, f"device:{device_id}"),
                    signing_public=req.signing_public,
                    sealing_public=req.sealing_public,
                    enrolled_at=now,
                    last_counter=0,
                    system=False,
                )
            )
    logs.event("enroll", device=device_id, member=row.member_id, role=role)
    return protocol.enroll_response(
        secret,
        device_id=device_id,
        member_id=row.member_id,
        name=str(member.get("name", "")),
        role=role,
        team_id=team_id if isinstance(team_id, str) else None,
        server=rt.keys,
        server_time=now,
    )


def _consume(rt: Runtime, conn: Any, row: Any, req: protocol.EnrollRequest, now: int) -> str:
    """The device id for this enrollment: a new one, or the same one for a retry."""
    if row.used_at is not None:
        owner = conn.execute(
            select(db.devices.c.signing_public).where(db.devices.c.device_id == row.device_id)
        ).scalar_one_or_none()
        if owner is not None and bytes(owner) == req.signing_public:
            return str(row.device_id)
        raise SyncError("enroll.used")
    if row.expires_at <= now:
        raise SyncError("enroll.expired")
    device_id = new_id("dv-")
    conn.execute(
        update(db.enroll_codes)
        .where(db.enroll_codes.c.code_id == row.code_id)
        .values(used_at=now, device_id=device_id)
    )
    return device_id
