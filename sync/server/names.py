"""Human names for ids: place paths, team names, member names and household addresses.

The command line accepts an id or, where one record has it, its name: a place by its path of
names (``观海轩社区/5栋/1单元``; any tail of the full path from the district down will do, and a
segment may leave out the start of a name — ``5栋`` for ``观海轩 5栋`` — if nothing is called
``5栋``), a team or a member by name, a household by its unit's path and room
(``观海轩社区/5栋/1单元/301``), an active device by its label or its member's name. An unknown or
ambiguous name is a coded error (``names.unknown``, ``names.ambiguous``) listing candidates.

Names are encrypted at rest, so a :class:`Directory` reads the merged records of one kind at a time
through the vault, only when a text is not already an id (ids are checked in plaintext).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from sync.errors import ValidationError
from sync.server import db, devices
from sync.server.runtime import Runtime
from sync.server.state import record_aad

SEP = "/"
#: how many candidates an error lists at most
MAX_CANDIDATES = 8


def _norm(text: str) -> str:
    """A name as compared: without any whitespace (``观海轩 1栋`` is ``观海轩1栋``)."""
    return "".join(text.split())


def _segments(path: str) -> list[str]:
    return [_norm(part) for part in path.split(SEP) if part.strip()]


class Directory:
    """The records of the kinds names are asked for, decrypted on first use, per command."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._records: dict[str, dict[str, dict[str, Any]]] = {}

    # -- reading -------------------------------------------------------------------------
    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every ``kind`` record, ``{id: record}`` (ids in id order)."""
        if kind not in self._records:
            t = db.records
            with self.rt.db.read() as conn:
                rows = conn.execute(
                    select(t.c.entity_id, t.c.body).where(t.c.kind == kind).order_by(t.c.entity_id)
                )
                self._records[kind] = {
                    r.entity_id: self.rt.vault.open(r.body, record_aad(kind, r.entity_id))
                    for r in rows
                }
        return self._records[kind]

    def _is_id(self, kind: str, text: str) -> bool:
        if kind in self._records:
            return text in self._records[kind]
        t = db.records
        with self.rt.db.read() as conn:
            found = conn.execute(
                select(t.c.entity_id).where(t.c.kind == kind, t.c.entity_id == text)
            ).first()
        return found is not None

    # -- names of ids --------------------------------------------------------------------
    def place_path(self, place_id: str | None) -> str:
        """The names from the top of the tree down to ``place_id``, joined by ``/``."""
        if not place_id:
            return ""
        places = self.records("place")
        chain = self.ancestors(place_id)
        return SEP.join(str(places[p].get("name", p)) for p in reversed(chain))

    def ancestors(self, place_id: str) -> list[str]:
        """``place_id`` and the places above it, nearest first."""
        places = self.records("place")
        chain: list[str] = []
        current: str | None = place_id
        while current and current in places and current not in chain:
            chain.append(current)
            current = places[current].get("parent_id")
        return chain

    def name(self, kind: str, entity_id: str | None) -> str:
        """The name of a team or member (``""`` for none, the id itself if it has no record)."""
        if not entity_id:
            return ""
        record = self.records(kind).get(entity_id)
        return str(record.get("name", entity_id)) if record else entity_id

    # -- ids of names --------------------------------------------------------------------
    def place(self, text: str) -> str:
        if self._is_id("place", text):
            return text
        wanted = _segments(text)
        paths = {pid: self.place_path(pid) for pid in self.records("place")}
        found = [pid for pid, path in paths.items() if _tail(_segments(path), wanted, _same)]
        if not found:
            found = [pid for pid, path in paths.items() if _tail(_segments(path), wanted, _ends)]
        return _one("place", text, found, paths, wanted[-1:] if wanted else [])

    def team(self, text: str) -> str:
        return self._by_name("team", text)

    def member(self, text: str) -> str:
        return self._by_name("member", text)

    def household(self, text: str) -> str:
        """A household id, or ``<unit path>/<room>``."""
        if self._is_id("household", text):
            return text
        parent, _, room = text.strip().rstrip(SEP).rpartition(SEP)
        if not parent:
            raise ValidationError("names.unknown", kind="household", name=text, candidates="-")
        place_id = self.place(parent)
        homes = {
            hid: f"{self.place_path(place_id)}{SEP}{h.get('room', '')}"
            for hid, h in self.records("household").items()
            if h.get("place_id") == place_id
        }
        found = [
            hid
            for hid, h in self.records("household").items()
            if h.get("place_id") == place_id and _norm(str(h.get("room", ""))) == _norm(room)
        ]
        return _one("household", text, found, homes, [])

    def device(self, text: str) -> str:
        """A device id, or the label or member name of exactly one active device. A text that
        names none is returned as it is (the caller reports an unknown device)."""
        with self.rt.db.read() as conn:
            rows = devices.listing(conn, self.rt.vault)
        if any(r["device_id"] == text for r in rows):
            return text
        active = [r for r in rows if not r["revoked"]]
        found = [r for r in active if _norm(str(r["label"])) == _norm(text)]
        if not found:
            people = {mid for mid, m in self.records("member").items() if _same_name(m, text)}
            found = [r for r in active if r["member_id"] in people]
        labels = {
            r["device_id"]: f"{r['label'] or self.name('member', r['member_id'])}" for r in found
        }
        if len(found) > 1:
            raise ValidationError(
                "names.ambiguous",
                kind="device",
                name=text,
                candidates=_listing(list(labels), labels),
            )
        return str(found[0]["device_id"]) if found else text

    def target(self, kind: str, text: str) -> str:
        """An assignment target: a household or a place."""
        return self.household(text) if kind == "household" else self.place(text)

    def _by_name(self, kind: str, text: str) -> str:
        if self._is_id(kind, text):
            return text
        records = self.records(kind)
        labels = {rid: str(r.get("name", "")) for rid, r in records.items()}
        found = [rid for rid, r in records.items() if _same_name(r, text)]
        return _one(kind, text, found, labels, [text])


def _same(name: str, typed: str) -> bool:
    return name == typed


def _ends(name: str, typed: str) -> bool:
    """``5栋`` for ``观海轩 5栋`` (but not ``1单元`` for ``11单元``)."""
    before = name[: len(name) - len(typed)]
    return name.endswith(typed) and not (before[-1:].isascii() and before[-1:].isalnum())


def _same_name(record: Mapping[str, Any], text: str) -> bool:
    return _norm(str(record.get("name", ""))) == _norm(text)


def _tail(path: list[str], wanted: list[str], match: Callable[[str, str], bool]) -> bool:
    """Does the place path end with the typed segments (each compared by ``match``)?"""
    if not wanted or len(wanted) > len(path):
        return False
    return all(match(name, typed) for name, typed in zip(path[-len(wanted) :], wanted, strict=True))


def _one(
    kind: str, text: str, found: list[str], labels: Mapping[str, str], hints: Iterable[str]
) -> str:
    """The one match, or a coded error listing the matches (or, if none, near names)."""
    if len(found) == 1:
        return found[0]
    if found:
        raise ValidationError(
            "names.ambiguous", kind=kind, name=text, candidates=_listing(found, labels)
        )
    near = [rid for rid, label in labels.items() if any(_near(h, label) for h in hints)]
    raise ValidationError("names.unknown", kind=kind, name=text, candidates=_listing(near, labels))


def _near(hint: str, label: str) -> bool:
    hint = _norm(hint)
    return bool(hint) and hint in _norm(label)


def _listing(ids: list[str], labels: Mapping[str, str]) -> str:
    if not ids:
        return "-"
    shown = [f"{labels.get(i, '')} ({i})" for i in ids[:MAX_CANDIDATES]]
    more = len(ids) - MAX_CANDIDATES
    return "; ".join(shown) + (f"; … (+{more})" if more > 0 else "")
