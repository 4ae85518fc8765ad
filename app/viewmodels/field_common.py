"""What the field screens share: addresses, natural sorting, readable errors and the server's
rejections of this phone's changes; times and countdowns are :mod:`app.viewmodels.timefmt`'s
(imported here for the field screens). Every text comes from the ``field.json`` catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.i18n import language, tr
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.base import Navigator, ViewModel, error_text
from app.viewmodels.refusals import readable_params, refusal_text
from app.viewmodels.timefmt import Clock
from sync import i18n
from sync.domain.control import control_text
from sync.errors import LinliError

#: store meta key: op ids of rejections the person has acknowledged on this phone
META_DISMISSED = "field.dismissed_rejections"


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort "2栋" before "10栋": digit runs compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))


def household_label(household: Mapping[str, Any] | None) -> str:
    if not household:
        return tr("ui.field.unknown_household")
    return str(household.get("address") or household.get("id") or "")


def tel_url(phone: str) -> str:
    """The ``tel:`` link that dials ``phone``."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c in "+-")


def localise_params(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """An error's parameters with the field, record kind, status and role it names in words."""
    return readable_params(params, lang)


def problem_text(exc: BaseException) -> str:
    """The catalog text of an error, naming fields, kinds and roles in words."""
    if isinstance(exc, LinliError):
        lang = language()
        return i18n.t(exc.message_key, lang, **localise_params(exc.params, lang))
    return error_text(exc)


@dataclass(frozen=True)
class Rejection:
    """One of this phone's changes the server did not accept."""

    op_id: str
    kind: str
    entity_id: str
    code: str
    text: str


class _Blanks(dict[str, Any]):
    """Format values where a parameter the server did not send shows as "…"."""

    def __missing__(self, key: str) -> str:
        return "…"


def rejection_text(
    code: str,
    params: Mapping[str, Any],
    *,
    partial: bool = False,
    names: Mapping[str, str] | None = None,
) -> str:
    """What the server refused (or, ``partial``, kept only part of) and what to do, in the
    current language."""
    lang = language()
    if partial:
        return refusal_text(code, params, lang, partial=True, names=names)
    cats = i18n.catalogs()
    template = cats[lang].get(f"error.{code}") or cats[i18n.DEFAULT_LANGUAGE].get(f"error.{code}")
    if template is None:
        reason = tr("ui.field.rejected_unknown", code=code)
    else:
        reason = i18n.fill(template, _Blanks(readable_params(params, lang, names)))
    return tr("ui.field.rejected", reason=reason)


def rejections_by_record(
    raw: Iterable[Mapping[str, Any]],
    dismissed: Iterable[str] = (),
    role: str | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[tuple[str, str], Rejection]:
    """The latest not-dismissed rejection of each ``(kind, entity_id)`` among ``raw`` (the
    engine's rejection entries: ``op``, ``code``, ``params``, ``kind``, ``entity``). The record
    kind and this phone's ``role`` fill in what the server's parameters leave out."""
    skip = set(dismissed)
    out: dict[tuple[str, str], Rejection] = {}
    for entry in raw:
        op_id, kind, entity = entry.get("op"), entry.get("kind"), entry.get("entity")
        if not (isinstance(op_id, str) and isinstance(kind, str) and isinstance(entity, str)):
            continue
        if op_id in skip:
            continue
        code = str(entry.get("code") or "op.rejected")
        params = entry.get("params")
        values = {"kind": kind, **({"role": role} if role else {})}
        values.update(params if isinstance(params, Mapping) else {})
        text = rejection_text(code, values, partial=bool(entry.get("partial")), names=names)
        out[(kind, entity)] = Rejection(op_id, kind, entity, code, text)
    return out


def current_rejections(
    device: Device, sync: SyncService | None
) -> dict[tuple[str, str], Rejection]:
    """The server's refusals of this phone's changes (kept by the sync engine across restarts,
    plus the latest sync's), less those the person has dismissed here."""
    raw: list[Mapping[str, Any]] = []
    engine = device.engine
    if engine is not None:
        raw.extend(engine.rejections())
    if sync is not None:
        known = {(r.get("op"), r.get("batch")) for r in raw}
        raw.extend(r for r in sync.status.rejections if (r.get("op"), r.get("batch")) not in known)
    store = device.store
    dismissed = store.get_meta(META_DISMISSED, []) if store is not None else []
    names = {str(m["id"]): str(m.get("name") or m["id"]) for m in device.find("member")}
    return rejections_by_record(raw, dismissed or [], device.role, names)


def unsent_children(device: Device, kind: str, entity_id: str) -> set[str]:
    """Ids of the visits/notes of one record still waiting in this phone's outbox (shown as
    "not yet sent"); after a sync the server's accepted copy replaces the phone's."""
    store = device.store
    if store is None:
        return set()
    return {
        str(child.get("id"))
        for op in store.pending_ops()
        if op.kind == kind and op.entity_id == entity_id
        for children in op.add.values()
        for child in children
    }


def dismiss_rejection(device: Device, op_id: str) -> None:
    """Remember on this phone that the person has seen the rejection of ``op_id``."""
    store = device.require_store()
    kept = list(store.get_meta(META_DISMISSED, []) or [])
    if op_id not in kept:
        store.set_meta(META_DISMISSED, [*kept, op_id][-1000:])


class FieldListViewModel(ViewModel):
    """A field list screen (home, requests): redrawn by :meth:`refresh` when the phone's data
    changes and when a sync brings new rejections of this phone's changes."""

    def __init__(
        self, device: Device, nav: Navigator, sync: SyncService | None, now: Clock
    ) -> None:
        super().__init__()
        self.device, self.nav, self.sync, self.now = device, nav, sync, now
        self._rejection_count = -1
        self.watch(device, self.refresh)
        if sync is not None:
            self.watch(sync, self._sync_changed)

    def refresh(self) -> None:
        raise NotImplementedError

    def _sync_changed(self) -> None:
        if self.sync is not None and len(self.sync.status.rejections) != self._rejection_count:
            self.refresh()

    def _rejections_seen(self) -> None:
        """Note how many rejections this refresh showed (see :meth:`_sync_changed`)."""
        if self.sync is not None:
            self._rejection_count = len(self.sync.status.rejections)


def control_label(
    device: Device, household: Mapping[str, Any] | None, now: datetime, lang: str
) -> str:
    """The control status a household lives under, with its day count in the phone's calendar
    (``居家隔离 · 第 3 天/共 14 天``): its own, or else that of the nearest place above it that is
    under control (a sealed building); "" when none is."""
    local = now.astimezone()
    zone = local.tzinfo or UTC
    shown = control_text(household, local.date(), zone, lang)
    place_id = (household or {}).get("place_id")
    seen: set[str] = set()
    while not shown and isinstance(place_id, str) and place_id not in seen:
        seen.add(place_id)
        place = device.get("place", place_id)
        shown = control_text(place, local.date(), zone, lang)
        place_id = (place or {}).get("parent_id")
    return shown
