"""Notices from the command centre: publish, edit, withdraw, expire, target buildings, and the
"copy for the WeChat group" text. The console's 通知 page and the ``notice`` command both call
these functions; nothing else writes notices.

A notice belongs to a community (``community_id``) and reaches every team of it, or only the
teams at, under or over some of its buildings (``buildings``; scope keys in
:mod:`sync.server.scope`). Records are never deleted: a withdrawal sets ``withdrawn_at``, an
expiry is ``expires_at``, an edit sets the new text and ``edited_at`` (domain schema 4). Phones
receive each change as an op of the ``system`` device, hide a withdrawn or expired notice and
show the new text of an edited one. Times are stored UTC (``YYYY-MM-DDTHH:MM:SSZ``); callers
turn typed local times into that with :func:`sync.server.localtime.parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Final

from sync.domain import label
from sync.domain.enums import NOTICE_KINDS
from sync.domain.times import now_iso
from sync.errors import ValidationError
from sync.i18n import t
from sync.server import localtime
from sync.server.admin import Author, write
from sync.server.names import Directory
from sync.server.runtime import Runtime

#: what an edit may change (the community and the publication time stay)
EDITABLE: Final = ("kind", "title", "body", "buildings", "expires_at")
ACTIVE, EXPIRED, WITHDRAWN = "active", "expired", "withdrawn"


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    kind: str
    title: str
    body: str
    community_id: str
    buildings: tuple[str, ...]
    published_at: str
    edited_at: str | None
    expires_at: str | None
    withdrawn_at: str | None

    @classmethod
    def of(cls, notice_id: str, record: Mapping[str, Any]) -> Notice:
        def opt(name: str) -> str | None:
            value = record.get(name)
            return value if isinstance(value, str) else None

        buildings = record.get("buildings") or ()
        return cls(
            id=notice_id,
            kind=str(record.get("kind") or ""),
            title=str(record.get("title") or ""),
            body=str(record.get("body") or ""),
            community_id=str(record.get("community_id") or ""),
            buildings=tuple(str(b) for b in buildings),
            published_at=str(record.get("published_at") or ""),
            edited_at=opt("edited_at"),
            expires_at=opt("expires_at"),
            withdrawn_at=opt("withdrawn_at"),
        )

    def state(self, now: str | None = None) -> str:
        """``withdrawn``, ``expired`` (its expiry is past) or ``active``."""
        if self.withdrawn_at:
            return WITHDRAWN
        if self.expires_at and self.expires_at <= (now or now_iso()):
            return EXPIRED
        return ACTIVE

    @property
    def places(self) -> tuple[str, ...]:
        """The places it is for: its buildings, or its community."""
        return self.buildings or (self.community_id,)


def _check_kind(kind: Any) -> None:
    if kind not in NOTICE_KINDS:
        raise ValidationError("notice.bad_kind", kinds=", ".join(NOTICE_KINDS))


def _check_target(a: Author, community_id: str, buildings: Iterable[str]) -> list[str]:
    """The buildings, each a building of ``community_id`` (``notice.not_in_community``)."""
    community = a.record("place", community_id)
    if community is None:
        raise ValidationError("admin.not_found", kind="place", id=community_id)
    if community.get("level") != "community":
        raise ValidationError("notice.not_a_community", place=community_id)
    out: list[str] = []
    for building in buildings:
        record = a.record("place", building)
        if record is None:
            raise ValidationError("admin.not_found", kind="place", id=building)
        if record.get("level") != "building" or record.get("parent_id") != community_id:
            raise ValidationError("notice.not_in_community", place=building)
        if building not in out:
            out.append(building)
    return out


def _check_expiry(expires_at: Any, now: str) -> None:
    if isinstance(expires_at, str) and expires_at <= now:
        raise ValidationError("notice.expiry_past")


def publish(
    rt: Runtime,
    *,
    kind: str,
    title: str,
    body: str,
    community_id: str,
    buildings: Iterable[str] = (),
    expires_at: str | None = None,
    now: str | None = None,
) -> str:
    """A new notice for the community (or some of its buildings); its id."""
    now = now or now_iso()
    _check_kind(kind)
    _check_expiry(expires_at, now)

    def build(a: Author) -> str:
        targets = _check_target(a, community_id, buildings)
        values: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "body": body,
            "community_id": community_id,
            "published_at": now,
        }
        if targets:
            values["buildings"] = targets
        if expires_at:
            values["expires_at"] = expires_at
        return a.op("notice", set=values).entity_id

    return write(rt, build)[0]


def edit(
    rt: Runtime, notice_id: str, changes: Mapping[str, Any], *, now: str | None = None
) -> bool:
    """Change some of :data:`EDITABLE` (``None`` clears the expiry; ``[]`` targets the whole
    community again). False if nothing differs; ``notice.withdrawn`` for a withdrawn notice."""
    now = now or now_iso()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError("notice.not_editable", fields=", ".join(sorted(unknown)))
    if "kind" in changes:
        _check_kind(changes["kind"])
    _check_expiry(changes.get("expires_at"), now)

    def build(a: Author) -> bool:
        current = _current(a, notice_id)
        values = dict(changes)
        if "buildings" in values:
            values["buildings"] = _check_target(
                a, str(current.get("community_id")), values["buildings"] or ()
            )
        wanted = {
            k: v
            for k, v in values.items()
            if _norm(k, v) != _norm(k, current.get(k)) and not (v is None and k not in current)
        }
        if not wanted:
            return False
        a.op("notice", notice_id, set={**wanted, "edited_at": now})
        return True

    return write(rt, build)[0]


def _norm(name: str, value: Any) -> Any:
    if name == "buildings":
        return tuple(value or ())
    return value


def withdraw(rt: Runtime, notice_id: str, *, now: str | None = None) -> None:
    """Take a notice back: phones stop showing it (``notice.withdrawn`` if it already was)."""
    now = now or now_iso()

    def build(a: Author) -> None:
        _current(a, notice_id)
        a.op("notice", notice_id, set={"withdrawn_at": now})

    write(rt, build)


def _current(a: Author, notice_id: str) -> dict[str, Any]:
    current = a.record("notice", notice_id)
    if current is None:
        raise ValidationError("admin.not_found", kind="notice", id=notice_id)
    if current.get("withdrawn_at"):
        raise ValidationError("notice.withdrawn", notice=notice_id)
    return current


def listing(
    rt: Runtime, allows: Callable[[Notice], bool] | None = None, names: Directory | None = None
) -> list[Notice]:
    """Every notice (or those ``allows`` accepts), newest first."""
    records = (names or Directory(rt)).records("notice")
    found = [Notice.of(nid, r) for nid, r in records.items()]
    found = [n for n in found if allows is None or allows(n)]
    found.sort(key=lambda n: (n.published_at, n.id), reverse=True)
    return found


def get(rt: Runtime, notice_id: str, names: Directory | None = None) -> Notice | None:
    record = (names or Directory(rt)).records("notice").get(notice_id)
    return Notice.of(notice_id, record) if record is not None else None


def target_names(notice: Notice, names: Directory) -> str:
    """The community's name, and the buildings' names if it targets some."""
    community = names.name("place", notice.community_id)
    if not notice.buildings:
        return community
    return f"{community} " + "、".join(names.name("place", b) for b in notice.buildings)


def wechat_text(notice: Notice, names: Directory, zone: tzinfo, lang: str) -> str:
    """The plain text to paste in a WeChat group: kind and title, sender and local date, body
    (and the expiry, if any)."""
    kind = label("notice.kind", notice.kind, lang)
    when = localtime.show(notice.edited_at or notice.published_at, zone)
    lines = [
        t("server.notice.wechat_title", lang, kind=kind, title=notice.title),
        t("server.notice.wechat_from", lang, place=target_names(notice, names), when=when),
        "",
        notice.body.strip(),
    ]
    if notice.expires_at:
        until = localtime.show(notice.expires_at, zone)
        lines += ["", t("server.notice.wechat_until", lang, until=until)]
    return "\n".join(lines)
