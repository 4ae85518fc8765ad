"""The sync exchange's data types: headers, request, response, rejections and signed receipts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.crypto import signing
from sync.crypto.signing import SigningKey
from sync.errors import SyncError
from sync.ops import Op
from sync.protocol.keys import ServerKeys, signer_of
from sync.protocol.wire import (
    DEFAULT_PULL_LIMIT,
    PROTOCOL_VERSION,
    RECEIPT_CONTEXT,
    b64d,
    b64e,
    canonical_json,
    check_version,
    get_field,
    json_object,
    malformed,
    now_ms,
    str_list,
)

#: the HTTP header on every server answer (refusals and ``/healthz`` too) carrying the server's
#: time in ms since the epoch, so a phone can tell its clock is wrong even when refused. It is
#: not signed: a phone only shows it (its clock is corrected from the sealed ``server_time``).
TIME_HEADER = "X-Linli-Time"


def parse_time_header(value: str | None) -> int | None:
    """The server time in a :data:`TIME_HEADER` value; ``None`` when absent or not a time."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


@dataclass(frozen=True, slots=True)
class RequestHeader:
    device: str
    batch: str
    counter: int
    sent_at: int
    v: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": self.v,
                "device": self.device,
                "batch": self.batch,
                "counter": self.counter,
                "sent_at": self.sent_at,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> RequestHeader:
        obj = json_object(raw, "header")
        check_version(obj)
        return cls(
            device=get_field(obj, "device", str),
            batch=get_field(obj, "batch", str),
            counter=get_field(obj, "counter", int),
            sent_at=get_field(obj, "sent_at", int),
        )


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    batch: str
    sent_at: int
    v: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        return canonical_json({"v": self.v, "batch": self.batch, "sent_at": self.sent_at})

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseHeader:
        obj = json_object(raw, "header")
        check_version(obj)
        return cls(batch=get_field(obj, "batch", str), sent_at=get_field(obj, "sent_at", int))


@dataclass(frozen=True, slots=True)
class ClientReport:
    """What a phone says about itself with each sync: its app build, the domain schema it was
    built with and how many changes still wait in its outbox (shown in ``devices``; believed
    for display only)."""

    app: str
    schema: int
    pending: int

    def to_dict(self) -> dict[str, Any]:
        return {"app": self.app, "schema": self.schema, "pending": self.pending}

    @classmethod
    def from_dict(cls, raw: Any) -> ClientReport:
        if not isinstance(raw, dict):
            raise malformed("client")
        app, schema, pending = raw.get("app"), raw.get("schema"), raw.get("pending")
        if not (
            isinstance(app, str)
            and 0 < len(app) <= 40
            and app.isprintable()
            and type(schema) is int
            and 1 <= schema <= 10_000
            and type(pending) is int
            and 0 <= pending <= 10**9
        ):
            raise malformed("client")
        return cls(app, schema, pending)


@dataclass(frozen=True, slots=True)
class TeamPhone:
    """A teammate's phone as the lead's board shows it: when it last synced, what it still had
    to send then, and its app build (each ``None`` when it never reported)."""

    member: str
    last_sync: int | None
    pending: int | None
    app: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "last_sync": self.last_sync,
            "pending": self.pending,
            "app": self.app,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> TeamPhone:
        if not isinstance(raw, dict) or not isinstance(raw.get("member"), str):
            raise malformed("team")
        last, pending, app = raw.get("last_sync"), raw.get("pending"), raw.get("app")
        if not (
            (last is None or type(last) is int)
            and (pending is None or type(pending) is int)
            and (app is None or (isinstance(app, str) and len(app) <= 40))
        ):
            raise malformed("team")
        return cls(raw["member"], last, pending, app)


@dataclass(frozen=True, slots=True)
class SyncRequest:
    device_id: str
    batch_id: str
    counter: int
    ops: list[Op]
    cursor: str | None
    pull_limit: int = DEFAULT_PULL_LIMIT
    priority: bool = False
    sent_at: int | None = None
    client: ClientReport | None = None

    def header(self) -> RequestHeader:
        sent = now_ms() if self.sent_at is None else self.sent_at
        return RequestHeader(self.device_id, self.batch_id, self.counter, sent)


@dataclass(frozen=True, slots=True)
class Rejection:
    op_id: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op_id, "code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, raw: Any) -> Rejection:
        if not isinstance(raw, dict) or not isinstance(raw.get("params", {}), dict):
            raise malformed("rejected")
        return cls(
            get_field(raw, "op", str), get_field(raw, "code", str), dict(raw.get("params", {}))
        )


@dataclass(frozen=True, slots=True)
class ServerCopy:
    """The server's record of an entity the device's op on it was refused or narrowed on, as
    the device may see it (``record`` is ``None`` when it lies outside the device's scope or
    does not exist): the phone rebuilds its copy as this + its still-pending ops."""

    kind: str
    entity_id: str
    record: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.entity_id,
            "record": dict(self.record) if self.record is not None else None,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> ServerCopy:
        if not isinstance(raw, dict):
            raise malformed("records")
        kind, entity_id = get_field(raw, "kind", str), get_field(raw, "id", str)
        record = raw.get("record")
        if record is not None and (not isinstance(record, dict) or record.get("id") != entity_id):
            raise malformed("records")
        return cls(kind, entity_id, record)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The server's signed statement that it durably accepted ``ops`` from ``device``."""

    batch: str
    device: str
    ops: list[str]
    server_time: int
    sig: str

    def signed_bytes(self) -> bytes:
        return RECEIPT_CONTEXT + canonical_json(
            {
                "batch": self.batch,
                "device": self.device,
                "ops": self.ops,
                "server_time": self.server_time,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "device": self.device,
            "ops": list(self.ops),
            "server_time": self.server_time,
            "sig": self.sig,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Receipt:
        if not isinstance(raw, dict):
            raise malformed("receipt")
        return cls(
            batch=get_field(raw, "batch", str),
            device=get_field(raw, "device", str),
            ops=str_list(raw.get("ops"), "receipt ops"),
            server_time=get_field(raw, "server_time", int),
            sig=get_field(raw, "sig", str),
        )


def make_receipt(
    batch_id: str,
    device_id: str,
    op_ids: Sequence[str],
    server_time: int,
    server: ServerKeys | SigningKey,
) -> Receipt:
    unsigned = Receipt(batch_id, device_id, list(op_ids), server_time, "")
    return Receipt(
        batch_id,
        device_id,
        list(op_ids),
        server_time,
        b64e(signer_of(server).sign(unsigned.signed_bytes())),
    )


def verify_receipt(receipt: Receipt | Mapping[str, Any], server_signing_public: bytes) -> bool:
    """True only for a well-formed receipt signed by the server. Never raises."""
    try:
        r = receipt if isinstance(receipt, Receipt) else Receipt.from_dict(dict(receipt))
        sig = b64d(r.sig, "receipt sig")
    except SyncError:
        return False
    return signing.verify(server_signing_public, sig, r.signed_bytes())


#: the values of :attr:`SyncResponse.wipe`: why the server tells a phone to erase itself
WIPE_REASONS = ("retired", "revoked")


@dataclass(frozen=True, slots=True)
class SyncResponse:
    """One sealed answer. ``wipe`` (``None`` unless set): the server tells this phone to erase
    its data — ``"retired"`` (handed back: its ops were processed as usual) or ``"revoked"``
    (lost or stolen: its ops were refused into the review queue). The phone wipes only once its
    outbox is empty; a value it does not know counts as ``"revoked"``. Absent from older answers.
    """

    batch_id: str
    acks: list[str]
    rejected: list[Rejection]
    changes: list[Op]
    cursor: str | None
    more: bool
    receipt: Receipt | None
    server_time: int
    #: acked ops the server applied only in part (fields dropped, children kept), with why
    partial: list[Rejection] = field(default_factory=list)
    #: the server's copies of the entities of refused and partial ops
    records: list[ServerCopy] = field(default_factory=list)
    wipe: str | None = None
    #: the server's data epoch: a change means it was restored from a backup, so the phone
    #: re-sends the changes it keeps (``None``: an older server that does not say)
    epoch: str | None = None
    #: the server is a practice (training) server: every phone screen shows a 演练 banner.
    #: Sent only when true; absent (an older or a live server) reads as False
    practice: bool = False
    #: for a team lead's phone: how each teammate's phone last reported (``None``: not a lead,
    #: or an older server)
    team: list[TeamPhone] | None = None
