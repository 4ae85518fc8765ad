"""The record kinds: each kind's fields and their checks, what a new record must have, its
append-only children, its status machine and the fields only its creating op may set.

Every field may be cleared with ``None`` except the ``required`` ones. ``status`` is the only
state-machine field; ``context`` names the other fields an op may quote in ``seen`` so that it can
be judged alone (an assignment's ``type`` for its ``result``, a request's ``created_at`` for its
``due``). For kinds with a status machine a create is recognisable from the op alone (it sets
``status`` without having seen one), so ``required`` and ``create_only`` are enforced by
:func:`sync.domain.validation.validate_op`; for the others the change builders enforce
``required`` when there is no current record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from sync.domain import machines
from sync.domain.values import (
    Check,
    count,
    enum,
    enum_set,
    id_list,
    ident,
    phone,
    text,
    time,
)

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})

#: The domain schema version ops are made with (``Op.schema``). Raise it whenever a field, child
#: field, kind or enum value is added (``docs/upgrades.md``, "The evolution contract"):
#: 1 — launch; 2 — a visit carries its own ``result``; 3 — the key-care categories committees keep
#: (``care_flag``: very_old, scheduled_treatment, mental_illness, hardship, left_behind_child) and
#: a resident's ``care_other`` (the original text of a category that is none of them);
#: 4 — teams and members can be disabled (``disabled_at`` on ``team`` and ``member``: the time a
#: coordinator disabled them; cleared to enable again).
#:   and control status with its dates: ``control`` value ``home_isolation`` (居家隔离), a place's
#:   and a household's ``control_since`` / ``control_until`` and their append-only ``control_log``
#:   (every change of status: from, to, its dates, when, by whom).
#:   and (notices and the directory) notices gain ``expires_at``, ``withdrawn_at``, ``edited_at``
#:   and ``buildings`` (target some buildings of the community); contacts gain ``kind``
#:   (``contact.kind``), ``name``, ``note`` and ``removed_at``.
#: 5 — rounds: an assignment's ``round_id`` (the round that made it: bulk work in one action,
#:   ``sync/server/rounds.py``; absent on work assigned one by one).
SCHEMA_VERSION: Final = 5
CARE_OTHER_MAX: Final = 100
NOTICE_BUILDINGS_MAX: Final = 200
CONTACT_NOTE_MAX: Final = 200

NAME_MAX: Final = 50
TITLE_MAX: Final = 100
NOTE_MAX: Final = 1000
LONG_MAX: Final = 2000
BODY_MAX: Final = 10000
#: at most this many children in one op
CHILDREN_PER_OP: Final = 50


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """An append-only child list: every child has an ``id``; ``fields`` includes it."""

    fields: Mapping[str, Check]
    required: frozenset[str]


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: str
    fields: Mapping[str, Check]
    required: frozenset[str]
    defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    children: Mapping[str, ChildSpec] = field(default_factory=lambda: MappingProxyType({}))
    machine: machines.Machine | None = None
    create_only: frozenset[str] = frozenset()
    context: frozenset[str] = frozenset()
    #: False for kinds only the server writes (devices receive them read-only)
    device_writable: bool = True

    @property
    def seen_fields(self) -> frozenset[str]:
        """The fields an op of this kind may quote in ``seen``."""
        return self.context | ({"status"} if self.machine else frozenset())


def _kind(
    name: str,
    fields: dict[str, Check],
    required: tuple[str, ...],
    **extra: Any,
) -> KindSpec:
    return KindSpec(
        name=name,
        fields=MappingProxyType(fields),
        required=frozenset(required),
        **extra,
    )


def _result_shape(field_name: str, value: Any) -> None:
    """Placeholder: a result is checked against its assignment type in ``validation``."""


_NOTE = text(NOTE_MAX, multiline=True)
_NOTE_CHILD = ChildSpec(
    fields=MappingProxyType({"id": ident, "at": time, "member": ident, "text": _NOTE}),
    required=frozenset({"id", "at", "member", "text"}),
)
_VISIT_CHILD = ChildSpec(
    fields=MappingProxyType(
        {
            "id": ident,
            "at": time,
            "member": ident,
            "outcome": enum("visit.outcome"),
            "note": _NOTE,
            # what this visit achieved (people sampled, …), checked against the assignment's
            # type in ``validation``: the task's result is derived from its visits
            "result": _result_shape,
        }
    ),
    required=frozenset({"id", "at", "member", "outcome"}),
)


_SUMMARY = text(500, multiline=True)

#: assignment type -> (result fields, required result fields). Unlisted types: summary only.
RESULTS: Final[Mapping[str, tuple[Mapping[str, Check], tuple[str, ...]]]] = MappingProxyType(
    {
        "nucleic_acid_sampling": (
            {"people_sampled": count(), "people_absent": count(), "summary": _SUMMARY},
            ("people_sampled",),
        ),
        "supply_delivery": (
            {"items": text(200), "quantity": count(), "summary": _SUMMARY},
            ("items",),
        ),
        "welfare_check": (
            {"condition": enum("welfare.condition"), "summary": _SUMMARY},
            ("condition",),
        ),
        "flow_investigation": (
            {"contacts_found": count(), "summary": _SUMMARY},
            ("contacts_found",),
        ),
    }
)
FREE_RESULT: Final[tuple[Mapping[str, Check], tuple[str, ...]]] = (
    {"summary": _SUMMARY},
    ("summary",),
)

#: schema 4: one change of a place's or household's control status, kept for good. ``by`` is who
#: made it (a console account or a member id); ``since``/``until`` the status's dates as set.
_CONTROL_CHILD = ChildSpec(
    fields=MappingProxyType(
        {
            "id": ident,
            "at": time,
            "by": text(NAME_MAX),
            "from": enum("control"),
            "to": enum("control"),
            "since": time,
            "until": time,
        }
    ),
    required=frozenset({"id", "at", "to"}),
)
#: the control fields places and households share (schema 4 added the dates)
_CONTROL_FIELDS: Final[dict[str, Check]] = {
    "control": enum("control"),
    "control_since": time,
    "control_until": time,
}

PLACE_KIND = _kind(
    "place",
    {
        "parent_id": ident,
        "level": enum("place.level"),
        "name": text(TITLE_MAX),
        **_CONTROL_FIELDS,
    },
    ("level", "name"),
    defaults=MappingProxyType({"control": "normal"}),
    children=MappingProxyType({"control_log": _CONTROL_CHILD}),
)

HOUSEHOLD_KIND = _kind(
    "household",
    {
        "place_id": ident,
        "building": text(20),
        "unit": text(20),
        "room": text(20),
        "address": text(200),
        "phone": phone,
        **_CONTROL_FIELDS,
        "note": _NOTE,
    },
    ("place_id", "address"),
    defaults=MappingProxyType({"control": "normal"}),
    children=MappingProxyType({"control_log": _CONTROL_CHILD}),
)

RESIDENT_KIND = _kind(
    "resident",
    {
        "household_id": ident,
        "name": text(NAME_MAX),
        "phone": phone,
        "age_band": enum("age_band"),
        "care_flags": enum_set("care_flag"),
        "care_note": _NOTE,
        "care_other": text(CARE_OTHER_MAX),
    },
    ("household_id", "name"),
    defaults=MappingProxyType({"care_flags": ()}),
)

TEAM_KIND = _kind(
    "team",
    {
        "name": text(NAME_MAX),
        "kind": enum("team.kind"),
        "area": id_list(500),
        "community_id": ident,
        "disabled_at": time,  # schema 4
    },
    ("name", "kind", "community_id"),
    defaults=MappingProxyType({"area": ()}),
)

MEMBER_KIND = _kind(
    "member",
    {
        "name": text(NAME_MAX),
        "phone": phone,
        "role": enum("member.role"),
        "team_id": ident,
        "disabled_at": time,  # schema 4
    },
    ("name", "role"),
)

SHIFT_KIND = _kind(
    "shift",
    {"team_id": ident, "starts": time, "ends": time},
    ("team_id", "starts", "ends"),
    children=MappingProxyType({"handover": _NOTE_CHILD}),
)

ASSIGNMENT_KIND = _kind(
    "assignment",
    {
        "type": enum("assignment.type"),
        "target_kind": enum("assignment.target_kind"),
        "target_id": ident,
        "team_id": ident,
        "assignee_id": ident,
        "priority": enum("assignment.priority"),
        "due": time,
        "title": text(TITLE_MAX),
        "instructions": text(LONG_MAX, multiline=True),
        "status": enum("assignment.status"),
        "result": _result_shape,
        "revisit_due": time,
        "round_id": ident,  # schema 5
    },
    ("type", "target_kind", "target_id", "priority", "status"),
    defaults=MappingProxyType(
        {"priority": "normal", "status": machines.ASSIGNMENT_MACHINE.initial}
    ),
    children=MappingProxyType({"visits": _VISIT_CHILD}),
    machine=machines.ASSIGNMENT_MACHINE,
    create_only=frozenset({"type", "target_kind", "target_id", "round_id"}),
    context=frozenset({"type"}),
)

REQUEST_KIND = _kind(
    "request",
    {
        "household_id": ident,
        "category": enum("request.category"),
        "urgency": enum("request.urgency"),
        "created_at": time,
        "due": time,
        "description": text(LONG_MAX, multiline=True),
        "contact": phone,
        "status": enum("request.status"),
        "assignee_id": ident,
        "team_id": ident,
    },
    ("household_id", "category", "urgency", "created_at", "due", "status"),
    defaults=MappingProxyType({"status": machines.REQUEST_MACHINE.initial}),
    children=MappingProxyType({"notes": _NOTE_CHILD}),
    machine=machines.REQUEST_MACHINE,
    create_only=frozenset({"created_at"}),
    context=frozenset({"created_at"}),
)

NOTICE_KIND = _kind(
    "notice",
    {
        "kind": enum("notice.kind"),
        "title": text(TITLE_MAX),
        "body": text(BODY_MAX, multiline=True),
        "published_at": time,
        "community_id": ident,
        # schema 4: an edit, an expiry, a withdrawal and a target narrower than the community
        "edited_at": time,
        "expires_at": time,
        "withdrawn_at": time,
        "buildings": id_list(NOTICE_BUILDINGS_MAX),
    },
    ("kind", "title", "body", "published_at", "community_id"),
    device_writable=False,
)

CONTACT_KIND = _kind(
    "contact",
    {
        "community_id": ident,
        "team_id": ident,
        "label": text(NAME_MAX),
        "phone": phone,
        # schema 4: who it is (a person's name), what kind of contact, a short note (hours…),
        # and its removal from the directory (records are never deleted)
        "kind": enum("contact.kind"),
        "name": text(NAME_MAX),
        "note": text(CONTACT_NOTE_MAX),
        "removed_at": time,
    },
    ("community_id", "label", "phone"),
    device_writable=False,
)

#: every record kind by name, in the order the store keeps its tables
KINDS: Final[Mapping[str, KindSpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            PLACE_KIND,
            HOUSEHOLD_KIND,
            RESIDENT_KIND,
            TEAM_KIND,
            MEMBER_KIND,
            SHIFT_KIND,
            ASSIGNMENT_KIND,
            REQUEST_KIND,
            NOTICE_KIND,
            CONTACT_KIND,
        )
    }
)
