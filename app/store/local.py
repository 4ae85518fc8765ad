"""``LocalStore``: the phone's records, outbox, pull cursor, receipts and settings.

Every write is one journal frame, so each public write call is atomic: a local change updates its
record *and* queues its op in the outbox together; a pull merges its ops *and* moves the cursor
together; an acknowledgement drops all its ops together. Reads hand out deep copies, so the UI
never holds a stored dict. Queries take plain mappings and predicates; TinyDB stays inside.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from app.store import codec
from app.store.engine import StoreEngine
from app.store.journal import Changes
from app.store.restamp import correct_record
from app.store.tables import KINDS, META, OUTBOX, RECEIPTS
from sync import merge
from sync.domain import validate_op
from sync.errors import LinliError, ValidationError
from sync.ops import Op

log = logging.getLogger(__name__)

CURSOR_KEY = "sync.cursor"
#: meta keys of pulled ops kept until an app update can judge them (one entry per op)
DEFERRED_PREFIX = "deferred/"
#: meta keys of acknowledged ops kept for re-sending after a server restore (one per op)
SENT_PREFIX = "sent/"
#: how long acknowledged ops are kept
RETAIN_MS = 14 * 24 * 3600 * 1000
_KEY_WIDTH = 16


def _key(n: int) -> str:
    return f"{n:0{_KEY_WIDTH}d}"


class LocalStore(StoreEngine):
    """The encrypted, crash-safe local store. ``LocalStore.create(dir, pin)`` / ``.open(dir, pin)``."""

    def _loaded(self) -> None:
        outbox = self._tables.docs(OUTBOX)
        self._outbox_index: dict[str, str] = {doc["i"]: key for key, doc in outbox.items()}
        self._outbox_next = int(max(outbox, default="0")) + 1
        self._receipt_next = int(max(self._tables.docs(RECEIPTS), default="0")) + 1
        #: ``(op_id, error code)`` of remote ops the last ``apply_remote`` skipped as invalid.
        self.last_rejected: list[tuple[str, str]] = []

    # -- local changes -----------------------------------------------------------------------

    def record_change(self, op: Op) -> dict[str, Any]:
        """Validate ``op``, merge it into its record and queue it for sync, atomically."""
        return self.record_changes([op])[0]

    def record_changes(self, ops: Sequence[Op]) -> list[dict[str, Any]]:
        """Like :meth:`record_change` for several ops, all in one atomic write. Returns a copy of
        each op's record as it stood right after that op."""
        ops = list(ops)
        if not ops:
            return []
        for op in ops:
            validate_op(op)
            _check_kind(op.kind)
        with self._lock:
            self._check_open()
            records, changes = self._merge_ops(ops, each=True)
            queued: list[tuple[str, str]] = []
            next_key = self._outbox_next
            for op in ops:
                if op.op_id in self._outbox_index or any(op.op_id == i for i, _ in queued):
                    continue
                key = _key(next_key)
                next_key += 1
                queued.append((op.op_id, key))
                changes.append((OUTBOX, key, op_document(op)))
            self._commit(changes)
            self._outbox_next = next_key
            self._outbox_index.update(queued)
            result = [codec.clone(r) for r in records]
        self._notify({op.kind for op in ops} | {OUTBOX})
        return result

    def _merge_ops(
        self, ops: Sequence[Op], *, each: bool = False
    ) -> tuple[list[dict[str, Any]], Changes]:
        """The change set of the records that changed, and with ``each`` a copy of each op's
        record as it stood right after that op. A page of ops copies each touched record once
        and merges each child list once (:class:`sync.merge.Merger`), so the cost is linear in
        the ops, not in ops × record size."""
        merger = merge.Merger()
        before: dict[tuple[str, str], dict[str, Any] | None] = {}
        owned: dict[tuple[str, str], dict[str, Any]] = {}
        last = {(op.kind, op.entity_id): i for i, op in enumerate(ops)} if each else {}
        snapshots: list[dict[str, Any] | tuple[str, str]] = []
        for i, op in enumerate(ops):
            slot = (op.kind, op.entity_id)
            if slot in owned:
                current: dict[str, Any] | None = owned[slot]
            else:
                stored = before[slot] = self._tables.docs(op.kind).get(op.entity_id)
                # our own copy, so the stored dict is never touched (children stay shared: a
                # merge replaces child lists and never changes a stored child)
                current = codec.fork(stored) if stored is not None else None
            try:
                owned[slot] = merger.apply(current, op)
            except codec.NotJson as exc:
                raise ValidationError("store.not_json", reason=str(exc)) from exc
            if each:  # the record again later in this call: copy it as it stands now
                if last[slot] == i:
                    snapshots.append(slot)
                else:
                    merger.finish()
                    snapshots.append(codec.clone(owned[slot]))
        merger.finish()
        records = [owned[s] if isinstance(s, tuple) else s for s in snapshots]
        changes: Changes = [
            (kind, entity_id, doc)
            for (kind, entity_id), doc in owned.items()
            if doc != before[(kind, entity_id)]
        ]
        return records, changes

    # -- reads -------------------------------------------------------------------------------

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        _check_kind(kind)
        with self._lock:
            self._check_open()
            doc = self._tables.docs(kind).get(entity_id)
            return None if doc is None else codec.clone(doc)

    def find(
        self,
        kind: str,
        where: Mapping[str, Any] | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Copies of the ``kind`` records whose fields equal ``where`` and satisfy ``predicate``.

        ``predicate`` sees the stored record itself (copying every candidate would cost more than
        the search): it must only read it.
        """
        _check_kind(kind)
        with self._lock:
            self._check_open()
            return [codec.clone(doc) for doc in self._tables.search(kind, where, predicate)]

    def count(self, kind: str, where: Mapping[str, Any] | None = None) -> int:
        _check_kind(kind)
        with self._lock:
            self._check_open()
            if not where:
                return len(self._tables.docs(kind))
            return len(self._tables.search(kind, where, None))

    def all(self, kind: str) -> list[dict[str, Any]]:
        return self.find(kind)

    # -- outbox and pull ---------------------------------------------------------------------

    def pending_ops(self, limit: int | None = None) -> list[Op]:
        """Ops not yet acknowledged by the server, oldest first."""
        with self._lock:
            self._check_open()
            out: list[Op] = []
            for doc in self._tables.docs(OUTBOX).values():
                if limit is not None and len(out) >= limit:
                    break
                out.append(Op.from_dict(doc))
            return out

    def pending_count(self) -> int:
        with self._lock:
            self._check_open()
            return len(self._tables.docs(OUTBOX))

    def acknowledge(self, op_ids: Iterable[str], retain: bool = True) -> int:
        """Drop settled ops from the outbox in one write; how many were dropped. With ``retain``
        (ops the server acknowledged) each is kept, encrypted like everything here, for
        :data:`RETAIN_MS` (14 days) — what the phone re-sends if the server is restored from a
        backup (:meth:`requeue_sent`); older kept ops are pruned in the same write."""
        now = int(time.time() * 1000)
        with self._lock:
            self._check_open()
            keys = {self._outbox_index[i]: i for i in set(op_ids) if i in self._outbox_index}
            if not keys:
                return 0
            outbox = self._tables.docs(OUTBOX)
            changes: Changes = [(OUTBOX, key, None) for key in keys]
            if retain:
                changes += [
                    (META, SENT_PREFIX + op_id, {"v": {"op": outbox[key], "at": now}})
                    for key, op_id in keys.items()
                ]
                changes += [
                    (META, key, None)
                    for key, doc in self._tables.docs(META).items()
                    if key.startswith(SENT_PREFIX) and doc["v"].get("at", 0) < now - RETAIN_MS
                ]
            self._commit(changes)
            for op_id in keys.values():
                del self._outbox_index[op_id]
        self._notify({OUTBOX, META} if retain else {OUTBOX})
        return len(keys)

    def sent_count(self) -> int:
        """Acknowledged ops kept for re-sending after a server restore."""
        with self._lock:
            self._check_open()
            return sum(key.startswith(SENT_PREFIX) for key in self._tables.docs(META))

    def requeue_sent(self) -> int:
        """Put every kept acknowledged op back in the outbox, oldest first, in one write (the
        server was restored from a backup and may lack them; it takes ops it still has
        idempotently). Returns how many went back."""
        with self._lock:
            self._check_open()
            kept = sorted(
                (
                    (doc["v"].get("at", 0), key, doc["v"]["op"])
                    for key, doc in self._tables.docs(META).items()
                    if key.startswith(SENT_PREFIX)
                ),
                key=lambda item: (item[0], str(item[2].get("t")), item[1]),
            )
            if not kept:
                return 0
            changes: Changes = []
            queued: list[tuple[str, str]] = []
            next_key = self._outbox_next
            for _at, meta_key, doc in kept:
                changes.append((META, meta_key, None))
                op_id = str(doc.get("i"))
                if op_id in self._outbox_index:
                    continue
                key = _key(next_key)
                next_key += 1
                queued.append((op_id, key))
                changes.append((OUTBOX, key, doc))
            self._commit(changes)
            self._outbox_next = next_key
            self._outbox_index.update(queued)
        self._notify({OUTBOX, META})
        return len(queued)

    def restamp(
        self, op_ids: Iterable[str], stamp: Callable[[], str], ceiling_ms: int, floor: str
    ) -> int:
        """Give the pending ops ``op_ids`` new stamps from ``stamp`` (a corrected clock's
        ``now``), oldest first, keeping their ids and outbox places; correct the stamps they
        left in their records, and lower every other stamp past ``ceiling_ms`` to ``floor``
        (see :mod:`app.store.restamp`) — all in one atomic write. Returns how many ops changed.
        """
        wanted = set(op_ids)
        with self._lock:
            self._check_open()
            changes: Changes = []
            renamed: dict[str, str] = {}
            for key, doc in self._tables.docs(OUTBOX).items():
                op = Op.from_dict(doc)
                if op.op_id not in wanted:
                    continue
                fresh = dataclasses.replace(op, hlc=stamp())
                renamed[merge.stamp_of(op)] = merge.stamp_of(fresh)
                changes.append((OUTBOX, key, op_document(fresh)))
            for kind in KINDS:
                for entity_id, doc in self._tables.docs(kind).items():
                    fixed = correct_record(doc, renamed, ceiling_ms, floor)
                    if fixed is not None:
                        changes.append((kind, entity_id, fixed))
            if changes:
                self._commit(changes)
        if changes:
            self._notify({kind for kind, _key, _doc in changes})
        return len(renamed)

    def apply_remote(self, ops: Iterable[Op], cursor: str | None) -> int:
        """Merge ops pulled from the server (no outbox entries) and store ``cursor``, in one
        write. Ops seen before change nothing. An op this build cannot judge — made by a newer
        app (``op.schema_too_new``), or naming a kind, field or value it does not know — is
        DEFERRED, never skipped: kept in the store and merged by :meth:`apply_deferred` once an
        updated app can judge it (the cursor still moves on; :attr:`last_rejected` lists them).
        Returns how many ops were merged."""
        accepted: list[Op] = []
        deferred: list[tuple[Op, str]] = []
        for op in ops:
            try:
                validate_op(op)
                _check_kind(op.kind)
            except LinliError as exc:
                deferred.append((op, exc.code))
                continue
            accepted.append(op)
        if deferred:
            log.warning(
                "deferred %d remote op(s) this build cannot judge yet: %s",
                len(deferred),
                [(op.op_id, code) for op, code in deferred[:5]],
            )
        with self._lock:
            self._check_open()
            self.last_rejected = [(op.op_id, code) for op, code in deferred]
            _records, changes = self._merge_ops(accepted)
            touched = {kind for kind, _key, _doc in changes}
            for op, _code in deferred:
                changes.append((META, DEFERRED_PREFIX + op.op_id, {"v": op_document(op)}))
                touched.add(META)
            if cursor is not None and cursor != self._meta_value(CURSOR_KEY):
                changes.append((META, CURSOR_KEY, {"v": cursor}))
                touched.add(META)
            if changes:
                self._commit(changes)
        self._notify(touched)
        return len(accepted)

    def deferred_count(self) -> int:
        """Pulled ops kept until an app update can judge them."""
        with self._lock:
            self._check_open()
            return sum(key.startswith(DEFERRED_PREFIX) for key in self._tables.docs(META))

    def apply_deferred(self) -> int:
        """Merge the deferred ops this build can now judge (after an app update), dropping them
        from the deferred set, in one write; how many were merged. Ops it still cannot judge
        stay deferred."""
        with self._lock:
            self._check_open()
            ready: list[Op] = []
            keys: list[str] = []
            for key, doc in self._tables.docs(META).items():
                if not key.startswith(DEFERRED_PREFIX):
                    continue
                try:
                    op = Op.from_dict(doc["v"])
                    validate_op(op)
                    _check_kind(op.kind)
                except LinliError:
                    continue
                ready.append(op)
                keys.append(key)
            if not ready:
                return 0
            ready.sort(key=lambda op: op.order)
            _records, changes = self._merge_ops(ready)
            touched = {kind for kind, _key, _doc in changes} | {META}
            changes.extend((META, key, None) for key in keys)
            self._commit(changes)
        self._notify(touched)
        return len(ready)

    def rebuild(
        self, copies: Iterable[tuple[str, str, Mapping[str, Any] | None]], settled: Iterable[str]
    ) -> int:
        """Make each record the server's copy (``None``: not on this phone) with this phone's
        still-pending ops on it merged again — after the server refused or narrowed an op on
        it, so phone and server agree after one sync and no pending change is lost. The ops
        ``settled`` by the same answer (acked: in the copy; refused: undone) are not merged
        again; :meth:`acknowledge` takes them out of the outbox. One atomic write; returns how
        many records changed."""
        wanted = {(kind, entity_id): record for kind, entity_id, record in copies if kind in KINDS}
        done = set(settled)
        with self._lock:
            self._check_open()
            pending: dict[tuple[str, str], list[Op]] = {}
            for doc in self._tables.docs(OUTBOX).values():
                if doc["i"] in done:
                    continue
                op = Op.from_dict(doc)
                if (op.kind, op.entity_id) in wanted:
                    pending.setdefault((op.kind, op.entity_id), []).append(op)
            changes: Changes = []
            for (kind, entity_id), record in wanted.items():
                try:
                    base = codec.plain(record) if record is not None else None
                    rebuilt = merge.merge_many(base, pending.get((kind, entity_id), []))
                except (codec.NotJson, LinliError) as exc:
                    log.warning("server copy of a %s record not usable: %s", kind, exc)
                    continue
                if rebuilt != self._tables.docs(kind).get(entity_id):
                    changes.append((kind, entity_id, rebuilt))
            if changes:
                self._commit(changes)
        self._notify({kind for kind, _key, _doc in changes})
        return len(changes)

    def cursor(self) -> str | None:
        with self._lock:
            self._check_open()
            value = self._meta_value(CURSOR_KEY)
            return value if isinstance(value, str) else None

    # -- receipts and settings ---------------------------------------------------------------

    def add_receipt(self, receipt: Mapping[str, Any]) -> None:
        doc = _plain_doc(receipt)
        with self._lock:
            self._check_open()
            key = _key(self._receipt_next)
            self._commit([(RECEIPTS, key, doc)])
            self._receipt_next += 1
        self._notify({RECEIPTS})

    def receipts(self) -> list[dict[str, Any]]:
        with self._lock:
            self._check_open()
            return [codec.clone(doc) for doc in self._tables.docs(RECEIPTS).values()]

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            self._check_open()
            doc = self._tables.docs(META).get(key)
            return default if doc is None else codec.clone(doc["v"])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-like ``value`` under ``key`` (``None`` removes it)."""
        if not isinstance(key, str) or not key:
            raise ValidationError("validation.invalid", field="key", reason="empty")
        doc = None if value is None else _plain_doc({"v": value})
        with self._lock:
            self._check_open()
            self._commit([(META, key, doc)])
        self._notify({META})

    def _meta_value(self, key: str) -> Any:
        doc = self._tables.docs(META).get(key)
        return None if doc is None else doc["v"]


def op_document(op: Op) -> dict[str, Any]:
    """The stored outbox form of ``op`` (its compact wire dict)."""
    doc: dict[str, Any] = codec.plain(op.to_dict())
    return doc


def _plain_doc(value: Mapping[str, Any]) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = codec.plain(value)
    except codec.NotJson as exc:
        raise ValidationError("store.not_json", reason=str(exc)) from exc
    return doc


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError("store.unknown_kind", kind=kind)
