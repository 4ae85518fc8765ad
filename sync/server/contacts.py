"""The contact directory of a community: each team's lead and members, the community office, the
duty doctor, public hotlines (120, 12345). The console's 通讯录 page and the ``contact`` command
both call these functions.

A contact is a ``contact`` record (domain schema 4: ``kind``, ``name``, ``note``,
``removed_at``) fed to every phone of its community (scope key ``c:<community>``). Records are
never deleted: removing one sets ``removed_at`` and phones stop listing it. A contact made from
a member (:func:`from_member`) copies the member's name, phone and team at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sync.domain.enums import CONTACT_KINDS
from sync.domain.times import now_iso
from sync.errors import ValidationError
from sync.server.admin import Author, write
from sync.server.importing import labels
from sync.server.names import Directory
from sync.server.runtime import Runtime

EDITABLE: Final = ("kind", "label", "name", "phone", "team_id", "note")
#: the order the directory lists its kinds in
ORDER: Final = {kind: i for i, kind in enumerate(CONTACT_KINDS)}


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    community_id: str
    kind: str
    label: str
    name: str
    phone: str
    team_id: str | None
    note: str
    removed_at: str | None

    @classmethod
    def of(cls, contact_id: str, record: Mapping[str, Any]) -> Contact:
        team = record.get("team_id")
        removed = record.get("removed_at")
        return cls(
            id=contact_id,
            community_id=str(record.get("community_id") or ""),
            kind=str(record.get("kind") or "other"),
            label=str(record.get("label") or ""),
            name=str(record.get("name") or ""),
            phone=str(record.get("phone") or ""),
            team_id=team if isinstance(team, str) else None,
            note=str(record.get("note") or ""),
            removed_at=removed if isinstance(removed, str) else None,
        )


def clean_phone(text: str) -> str:
    """A phone number as typed (``+86 138-0000-3333``, ``0755-1234 5678``, ``120``) in its
    stored form; ``contact.bad_phone`` if it is none."""
    try:
        found = labels.phone(text)
    except labels.Bad as exc:
        raise ValidationError("contact.bad_phone") from exc
    if found is None:
        raise ValidationError("contact.bad_phone")
    return found


def _check(a: Author, community_id: str, values: Mapping[str, Any]) -> None:
    community = a.record("place", community_id)
    if community is None:
        raise ValidationError("admin.not_found", kind="place", id=community_id)
    if community.get("level") != "community":
        raise ValidationError("contact.not_a_community", place=community_id)
    if "kind" in values and values["kind"] not in CONTACT_KINDS:
        raise ValidationError("contact.bad_kind", kinds=", ".join(CONTACT_KINDS))
    team_id = values.get("team_id")
    if team_id:
        team = a.record("team", team_id)
        if team is None:
            raise ValidationError("admin.not_found", kind="team", id=team_id)
        if team.get("community_id") != community_id:
            raise ValidationError("contact.team_elsewhere", team=team_id)


def _tidy(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip() or None
        if key == "phone" and value is not None:
            value = clean_phone(value)
        out[key] = value
    return out


def add(
    rt: Runtime,
    *,
    community_id: str,
    kind: str,
    label: str,
    phone: str,
    name: str | None = None,
    team_id: str | None = None,
    note: str | None = None,
) -> str:
    """A new entry in the community's directory; its id."""
    given = {"kind": kind, "label": label, "phone": phone, "name": name, "team_id": team_id}
    values = _tidy({**given, "note": note})
    if not values.get("label"):
        raise ValidationError("contact.no_label")

    def build(a: Author) -> str:
        _check(a, community_id, values)
        clean = {k: v for k, v in values.items() if v is not None}
        return a.op("contact", set={"community_id": community_id, **clean}).entity_id

    return write(rt, build)[0]


def from_member(rt: Runtime, member_id: str, names: Directory | None = None) -> dict[str, Any]:
    """The values of a directory entry for a team member: name, phone, team, lead or member,
    and the team's name as the label (``contact.member_no_phone`` if it has no phone)."""
    names = names or Directory(rt)
    member = names.records("member").get(member_id)
    if member is None:
        raise ValidationError("admin.not_found", kind="member", id=member_id)
    if not member.get("phone"):
        raise ValidationError("contact.member_no_phone", member=member_id)
    team_id = member.get("team_id")
    team = names.records("team").get(str(team_id)) if team_id else None
    if team is None:
        raise ValidationError("contact.member_no_team", member=member_id)
    return {
        "community_id": str(team.get("community_id")),
        "kind": "team_lead" if member.get("role") == "team_lead" else "team_member",
        "label": str(team.get("name") or team_id),
        "name": str(member.get("name") or ""),
        "phone": str(member["phone"]),
        "team_id": str(team_id),
    }


def edit(rt: Runtime, contact_id: str, changes: Mapping[str, Any]) -> bool:
    """Change some of :data:`EDITABLE` (``None`` or ``""`` clears an optional one); False if
    nothing differs, ``contact.removed`` for a removed entry."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError("contact.not_editable", fields=", ".join(sorted(unknown)))
    values = _tidy(changes)
    for required, code in (("label", "no_label"), ("phone", "bad_phone"), ("kind", "bad_kind")):
        if required in values and values[required] is None:
            raise ValidationError(f"contact.{code}", kinds=", ".join(CONTACT_KINDS))

    def build(a: Author) -> bool:
        current = _current(a, contact_id)
        _check(a, str(current.get("community_id")), values)
        wanted = {
            k: v
            for k, v in values.items()
            if v != current.get(k) and not (v is None and k not in current)
        }
        if not wanted:
            return False
        a.op("contact", contact_id, set=wanted)
        return True

    return write(rt, build)[0]


def remove(rt: Runtime, contact_id: str, *, now: str | None = None) -> None:
    """Take an entry out of the directory (phones stop listing it)."""
    now = now or now_iso()

    def build(a: Author) -> None:
        _current(a, contact_id)
        a.op("contact", contact_id, set={"removed_at": now})

    write(rt, build)


def _current(a: Author, contact_id: str) -> dict[str, Any]:
    current = a.record("contact", contact_id)
    if current is None:
        raise ValidationError("admin.not_found", kind="contact", id=contact_id)
    if current.get("removed_at"):
        raise ValidationError("contact.removed", contact=contact_id)
    return current


def listing(
    rt: Runtime,
    allows: Callable[[Contact], bool] | None = None,
    *,
    removed: bool = False,
    names: Directory | None = None,
) -> list[Contact]:
    """The directory (or the entries ``allows`` accepts): by community, kind, label and name;
    removed entries only if asked."""
    records = (names or Directory(rt)).records("contact")
    found = [Contact.of(cid, r) for cid, r in records.items()]
    found = [
        c for c in found if (removed or c.removed_at is None) and (allows is None or allows(c))
    ]
    found.sort(key=lambda c: (c.community_id, ORDER.get(c.kind, 99), c.label, c.name, c.id))
    return found


def get(rt: Runtime, contact_id: str, names: Directory | None = None) -> Contact | None:
    record = (names or Directory(rt)).records("contact").get(contact_id)
    return Contact.of(contact_id, record) if record is not None else None
