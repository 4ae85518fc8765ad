"""Notices from the command centre (newest first, unread marks kept on this phone) and the
community's contact directory (tap to call).

Which notices this person has read is kept only on this phone, in the store's meta
``read_notices`` (a list of notice ids); notices and contacts themselves are server-written.

A notice is listed while it is current for this phone (:func:`current`): not withdrawn, not
past its expiry, and — if it targets some buildings — one of them is a place this phone holds
(the server feeds place records exactly to the teams at, under or over them, and tells a phone a
notice left it by feeding it the change). An edited notice shows its new text and when it was
edited. A contact removed from the directory is no longer listed; contacts show the person's
name, what the entry is and its note, and call on a tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from app.i18n import language, tr
from app.services.device import Device
from app.viewmodels.base import Navigator, Observable, ViewModel
from app.viewmodels.field_common import tel_url
from app.viewmodels.timefmt import Clock, local_time, parse_time, utc_now
from sync.domain import label
from sync.domain.enums import CONTACT_KINDS

META_READ: Final = "read_notices"
#: the directory lists the phone's own team first, then by kind in this order
KIND_ORDER: Final = {kind: i for i, kind in enumerate(CONTACT_KINDS)}
MAX_READ_KEPT: Final = 2000
EXCERPT: Final = 60


@dataclass(frozen=True)
class NoticeRow:
    id: str
    kind: str
    kind_label: str
    title: str
    excerpt: str
    published_label: str
    unread: bool
    edited_label: str = ""  # "" unless edited since it was published


@dataclass(frozen=True)
class ContactRow:
    id: str
    label: str
    phone: str
    team: str  # the team's name for a team's own contact, "" for the community's
    name: str = ""  # the person's name, "" for an office or a hotline
    kind_label: str = ""
    note: str = ""

    @property
    def tel_url(self) -> str:
        return tel_url(self.phone)


def current(device: Device, notice: dict[str, Any], now: datetime) -> bool:
    """Is this notice one the phone shows today (see the module's docstring)?"""
    if notice.get("withdrawn_at"):
        return False
    expires = parse_time(notice.get("expires_at"))
    if expires is not None and expires <= now:
        return False
    buildings = notice.get("buildings") or []
    return not buildings or any(device.get("place", str(b)) is not None for b in buildings)


def read_ids(device: Device) -> set[str]:
    store = device.store
    raw = store.get_meta(META_READ, []) if store is not None else []
    return {str(i) for i in raw or []}


def mark_read(device: Device, notice_id: str) -> bool:
    """Remember that ``notice_id`` was read here; False if it already was."""
    store = device.require_store()
    kept = list(store.get_meta(META_READ, []) or [])
    if notice_id in kept:
        return False
    store.set_meta(META_READ, [*kept, notice_id][-MAX_READ_KEPT:])
    return True


class NoticesViewModel(ViewModel):
    """State of the ``/notices`` tab."""

    def __init__(self, device: Device, nav: Navigator, *, now: Clock = utc_now) -> None:
        super().__init__()
        self.device, self.nav, self.now = device, nav, now
        self.rows: list[NoticeRow] = []
        self.unread = 0
        self.contacts_count = 0
        self.watch(device, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if self.device.store is None:
            return
        now, lang, read = self.now(), language(), read_ids(self.device)
        found = [n for n in self.device.find("notice") if current(self.device, n, now)]
        found.sort(key=lambda n: (str(n.get("published_at") or ""), str(n["id"])), reverse=True)
        self.rows = [
            NoticeRow(
                id=str(n["id"]),
                kind=str(n.get("kind")),
                kind_label=label("notice.kind", str(n.get("kind")), lang),
                title=str(n.get("title") or ""),
                excerpt=_excerpt(str(n.get("body") or "")),
                published_label=local_time(n.get("published_at"), now),
                unread=str(n["id"]) not in read,
                edited_label=_edited(n, now),
            )
            for n in found
        ]
        self.unread = sum(r.unread for r in self.rows)
        self.contacts_count = sum(not c.get("removed_at") for c in self.device.find("contact"))
        self.changed()

    def open(self, notice_id: str) -> None:
        self.nav.go(f"/notice/{notice_id}")

    def contacts(self) -> None:
        self.nav.go("/contacts")

    def mark_all_read(self) -> None:
        store = self.device.require_store()
        ids = [r.id for r in self.rows]
        kept = [i for i in store.get_meta(META_READ, []) or [] if i not in ids]
        store.set_meta(META_READ, [*kept, *ids][-MAX_READ_KEPT:])


def _edited(notice: dict[str, Any], now: datetime) -> str:
    edited = notice.get("edited_at")
    if not edited:
        return ""
    return tr("ui.field.notice.edited", when=local_time(edited, now))


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


class NoticeViewModel(Observable):
    """State of ``/notice/{id}``: opening it marks it read."""

    def __init__(
        self, device: Device, nav: Navigator, notice_id: str, *, now: Clock = utc_now
    ) -> None:
        super().__init__()
        self.device, self.nav, self.now = device, nav, now
        self.notice_id = notice_id
        self.notice: dict[str, Any] | None = device.get("notice", notice_id)
        if self.notice is not None:
            mark_read(device, notice_id)

    @property
    def found(self) -> bool:
        return self.notice is not None

    @property
    def gone(self) -> bool:
        """Withdrawn, expired or no longer for this phone: shown as such, not as news."""
        return self.notice is not None and not current(self.device, self.notice, self.now())

    @property
    def gone_text(self) -> str:
        if self.notice is not None and self.notice.get("withdrawn_at"):
            return tr("ui.field.notice.withdrawn")
        return tr("ui.field.notice.expired")

    @property
    def edited_label(self) -> str:
        return _edited(self.notice or {}, self.now())

    @property
    def kind(self) -> str:
        return str((self.notice or {}).get("kind") or "")

    @property
    def kind_label(self) -> str:
        return label("notice.kind", self.kind, language()) if self.kind else ""

    @property
    def title(self) -> str:
        return str((self.notice or {}).get("title") or tr("ui.field.notice.missing"))

    @property
    def body(self) -> str:
        return str((self.notice or {}).get("body") or "")

    @property
    def published_label(self) -> str:
        return local_time((self.notice or {}).get("published_at"), self.now())


class ContactsViewModel(ViewModel):
    """State of ``/contacts``: the team's own contacts first, then the community's."""

    def __init__(self, device: Device, nav: Navigator) -> None:
        super().__init__()
        self.device, self.nav = device, nav
        self.rows: list[ContactRow] = []
        self.watch(device, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if self.device.store is None:
            return
        teams = {t["id"]: str(t.get("name") or t["id"]) for t in self.device.find("team")}
        mine, lang = self.device.team_id, language()
        found = [c for c in self.device.find("contact") if not c.get("removed_at")]
        found.sort(
            key=lambda c: (
                c.get("team_id") != mine or mine is None,
                c.get("team_id") is not None,
                KIND_ORDER.get(str(c.get("kind") or "other"), len(KIND_ORDER)),
                str(c.get("label") or ""),
                str(c.get("name") or ""),
            )
        )
        self.rows = [
            ContactRow(
                id=str(c["id"]),
                label=str(c.get("label") or ""),
                phone=str(c.get("phone") or ""),
                team=teams.get(str(c.get("team_id")), "") if c.get("team_id") else "",
                name=str(c.get("name") or ""),
                kind_label=label("contact.kind", str(c["kind"]), lang) if c.get("kind") else "",
                note=str(c.get("note") or ""),
            )
            for c in found
        ]
        self.changed()
