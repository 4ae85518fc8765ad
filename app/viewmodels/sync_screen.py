"""``/sync``: the sync state, "Sync now" with progress, the last summary (sent, received,
rejected with reasons, the server's receipts) and the list of receipts kept on the phone.

A receipt is the server's signed statement that it durably stored a batch of this phone's
changes; a team lead can show it when asked whether something reached the command centre.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.i18n import language, tr
from app.services.sync_service import SyncService, SyncStatus
from app.viewmodels.base import Navigator, ViewModel, clock_warning, sync_now_text
from app.viewmodels.refusals import refusal_text
from app.viewmodels.timefmt import ms_label
from sync.client import SyncSummary
from sync.domain import KINDS, kind_label, label

MAX_LISTED = 200  # newest rejections / receipts shown


def rejection_text(
    code: str, params: Mapping[str, Any] | None, lang: str, *, partial: bool = False
) -> str:
    """Why the server refused a change (or kept only part of it), and what to do."""
    return refusal_text(code, params, lang, partial=partial)


@dataclass(frozen=True)
class RejectionRow:
    op_id: str
    what: str  # the kind of record and its id
    code: str
    text: str
    at: str


@dataclass(frozen=True)
class ReceiptRow:
    batch: str
    ops: int
    server_time: str
    signature: str  # the start of the server's signature, to read out when checking


@dataclass(frozen=True)
class SummaryView:
    sent: int
    acked: int
    received: int
    rejected: list[RejectionRow]
    receipts: list[ReceiptRow]
    pending: int
    more: bool
    #: notes on what else happened: kept ops sent again after a server restore
    notes: list[str] = field(default_factory=list)


Describe = Callable[[str, str], str]


def rejection_row(
    raw: Mapping[str, Any], lang: str, describe: Describe | None = None
) -> RejectionRow:
    """One refused change; ``describe(kind, id)`` names the record it touched, if known."""
    kind = raw.get("kind")
    entity = str(raw.get("entity") or "")
    what = (describe(str(kind), entity) if describe else "") if kind else ""
    if not what:
        what = f"{kind_label(str(kind), lang)} {entity}".strip() if kind else entity
    params = raw.get("params")
    return RejectionRow(
        op_id=str(raw.get("op", "")),
        what=what,
        code=str(raw.get("code", "")),
        text=rejection_text(
            str(raw.get("code", "")),
            params if isinstance(params, Mapping) else None,
            lang,
            partial=bool(raw.get("partial")),
        ),
        at=ms_label(raw.get("at")),
    )


def receipt_row(raw: Mapping[str, Any]) -> ReceiptRow:
    ops = raw.get("ops")
    return ReceiptRow(
        batch=str(raw.get("batch", "")),
        ops=len(ops) if isinstance(ops, list) else 0,
        server_time=ms_label(raw.get("server_time")),
        signature=str(raw.get("sig", ""))[:16],
    )


class SyncScreenViewModel(ViewModel):
    def __init__(self, sync: SyncService, nav: Navigator) -> None:
        super().__init__()
        self.sync, self.device, self.nav = sync, sync.device, nav
        self.error: str | None = None
        self.message: str | None = None
        self.watch(sync, self.changed)
        self.watch(self.device, self._reload)
        self.receipts: list[ReceiptRow] = []
        self.rejections: list[RejectionRow] = []
        self._load()

    # ------------------------------------------------------------------ state

    @property
    def status(self) -> SyncStatus:
        return self.sync.status

    @property
    def state_text(self) -> str:
        s = self.status
        if s.syncing:
            return tr("ui.syncpage.state_syncing")
        if s.online is None:
            return tr("ui.syncpage.state_unknown")
        return tr("ui.sync.online") if s.online else tr("ui.syncpage.state_offline")

    @property
    def clock_warning(self) -> str | None:
        """What to do while this phone's date and time are wrong; ``None`` when they are right."""
        return clock_warning(self.status)

    @property
    def last_sync(self) -> str:
        s = self.status
        return ms_label(s.last_sync_ms) or tr("ui.syncpage.never")

    @property
    def summary(self) -> SummaryView | None:
        """The last sync of this session, or ``None`` before the first one."""
        s: SyncSummary | None = self.status.last_summary
        if s is None:
            return None
        lang = language()
        rejected = [
            rejection_row({"op": r.op_id, "code": r.code, "params": dict(r.params)}, lang)
            for r in s.rejected
        ] + [
            rejection_row(
                {"op": r.op_id, "code": r.code, "params": dict(r.params), "partial": True}, lang
            )
            for r in s.partial
        ]
        kinds = {row.get("op"): row for row in self.status.rejections}
        # the kept rejections know which record an op touched: name it when we can
        rejected = [
            rejection_row(kinds[row.op_id], lang, self.describe) if row.op_id in kinds else row
            for row in rejected
        ]
        return SummaryView(
            sent=s.sent,
            acked=s.acked,
            received=s.received,
            rejected=rejected,
            receipts=[receipt_row(r.to_dict()) for r in s.receipts],
            pending=s.pending,
            more=s.more,
            notes=[tr("ui.syncpage.resent", n=s.resent)] if s.resent else [],
        )

    @property
    def waiting_update(self) -> str | None:
        """Changes from the command centre this app is too old to show, kept until the update."""
        store = self.device.store
        n = store.deferred_count() if store is not None else 0
        return tr("ui.syncpage.deferred", n=n) if n else None

    def _reload(self) -> None:
        if self.device.store is None:
            return
        self._load()
        self.changed()

    def _load(self) -> None:
        store = self.device.store
        if store is None:
            self.receipts, self.rejections = [], []
            return
        self.receipts = [receipt_row(r) for r in _newest(store.receipts())]
        engine = self.device.engine
        kept: Iterable[Any] = engine.rejections() if engine is not None else self.status.rejections
        lang = language()
        self.rejections = [
            rejection_row(r, lang, self.describe) for r in _newest(kept) if isinstance(r, Mapping)
        ]

    def describe(self, kind: str, entity_id: str) -> str:
        """The record a change touched, as a person knows it: "任务：核酸采样 · 观海轩 1栋…"."""
        store = self.device.store
        if store is None or kind not in KINDS:
            return ""
        record = store.get(kind, entity_id)
        if record is None:
            return ""
        lang = language()
        parts: list[str] = []
        if kind == "assignment":
            if record.get("type"):
                parts.append(label("assignment.type", str(record["type"]), lang))
            target = record.get("target_id")
            table = "place" if record.get("target_kind") == "place" else "household"
            place = store.get(table, str(target)) if target else None
            if place:
                parts.append(str(place.get("address") or place.get("name") or ""))
        elif kind == "request":
            if record.get("category"):
                parts.append(label("request.category", str(record["category"]), lang))
            household = store.get("household", str(record.get("household_id") or ""))
            if household:
                parts.append(str(household.get("address") or ""))
        text = " · ".join(p for p in parts if p)
        return tr("ui.syncpage.what", kind=kind_label(kind, lang), what=text) if text else ""

    # ------------------------------------------------------------------ actions

    def sync_now(self) -> bool:
        """Sync at once (call off the UI thread). True when it ran to the end."""
        self.error, self.message = None, None
        self.changed()
        outcome = sync_now_text(self.sync, busy_key="ui.syncpage.busy", done_key="ui.syncpage.done")
        self.error, self.message = outcome.error, outcome.message
        if outcome.error is None:
            self._load()
        self.changed()
        return outcome.summary is not None


def _newest(items: Iterable[Any]) -> list[Any]:
    return list(items)[::-1][:MAX_LISTED]
