"""The ONE path by which ops enter the server: from devices (sync) and from the server itself
(CLI, CSV import, demo seed, authored by the ``system`` device).

Inside a serialized write transaction (:meth:`sync.server.db.Database.write`), for a list of ops
already checked on their own (``validate_op``, clock):

1. op ids already stored are acked again and not applied twice;
2. each new op is judged (:mod:`.authz`) against the records as they stand, including the
   batch's earlier ops — refused whole, accepted, or narrowed to the children it carries (a
   visit is kept even when its status move is not allowed) — then merged into its record by one
   :class:`~sync.merge.Merger` per commit (each record copied once, each child list merged
   once); a narrowed op is stored and fed as narrowed;
3. each accepted op is appended to the feed at the next gap-free ``seq`` with its scope keys
   (:mod:`.scope`: the keys of its entity after the op and after the whole batch);
4. an op on a notice or a contact (server-written, fed to many phones) that narrows its target
   is also fed under the keys the record had before, so the phones it no longer reaches learn
   it left them (the phone then hides it: see ``app.viewmodels.notices``);
5. when a batch moves an entity into a new scope (a household to another place, an assignment to
   another team, a place under another parent) the entity's earlier ops — for a household, also
   its residents', requests' and assignments'; for a place, everything beneath it — are fed again
   under the added keys, so devices that newly see it receive its
   whole history (a DEVICE whose own scope changes restarts its pull instead: see service);
6. ops, feed, scope index, records and the ``head`` counter are written with a few executemany
   statements, and the counting projection of the changed records (:mod:`.projection`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from sync.domain import validate_op
from sync.domain.jsonlike import plain
from sync.errors import LinliError
from sync.merge import Merger
from sync.ops import Op
from sync.protocol import Rejection
from sync.server import db, projection
from sync.server.authz import Actor, StoredChild, Verdict, authorize
from sync.server.scope import (
    World,
    entity_keys,
    household_keys,
    parent_ref,
    place_chain,
    refs_of,
)
from sync.server.state import Key, OpCache, PlaceCache, TxWorld, chunks, op_aad, record_aad
from sync.server.vault import Vault

DEPENDANTS = ("resident", "request", "assignment")
#: kinds whose changes can change OTHER entities' scope keys (place chains, household places)
RESHAPING = frozenset({"place", "household"})
#: kinds whose ops are also fed under the record's keys from before the commit (see step 4)
FOLLOWED = frozenset({"notice", "contact"})


@dataclass(slots=True)
class Outcome:
    """What became of a list of ops: acks and rejections in request order."""

    acks: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    #: acked ops the server narrowed (fields dropped, children kept): code, params, ``dropped``
    partial: list[Rejection] = field(default_factory=list)
    #: the entities of refused and narrowed ops (their authors get the server's record)
    disputed: set[Key] = field(default_factory=set)
    applied: int = 0
    fed: int = 0


def rejection(op_id: str, exc: LinliError) -> Rejection:
    return Rejection(op_id, exc.code, exc.to_dict()["params"])


class Ledger:
    """Commits ops. One per process; holds the place-tree cache."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.places = PlaceCache()
        self.ops = OpCache()

    def world(self, conn: Connection) -> TxWorld:
        return TxWorld(conn, self.vault, self.places)

    def epoch(self, conn: Connection) -> str:
        """The database's data epoch: made at ``init``, renewed when the database is found (or
        marked) restored from a backup — read each time, so every server process sees a renewal
        at once."""
        return db.get_meta(conn, "epoch") or ""

    def commit(
        self,
        conn: Connection,
        actor: Actor,
        ops: Sequence[Op],
        *,
        batch_id: str | None = None,
        prejudged: Mapping[str, Rejection] | None = None,
        validate: bool = True,
        world: TxWorld | None = None,
    ) -> Outcome:
        """Apply ``ops`` inside a write transaction. ``prejudged``: rejections decided earlier
        (``validate=False`` says each op was already checked with ``validate_op``). ``world``:
        this transaction's world if the caller already made one (nothing put into it yet)."""
        prejudged = prejudged or {}
        world = world or self.world(conn)
        todo = self._new_ops(conn, ops, prejudged)
        world.load_records({(op.kind, op.entity_id) for op in todo})
        world.load_refs(_referenced(world, todo))
        batch = _Batch()
        merger = Merger()  # child lists merged once per commit, in finish()
        for op in todo:
            try:
                verdict = _authorize(actor, op, world, validate, batch.stored_child(op))
                merged = _merge(verdict.op, world, merger)
            except LinliError as exc:
                batch.refused[op.op_id] = rejection(op.op_id, exc)
                batch.disputed.add((op.kind, op.entity_id))
                continue
            if verdict.reason is not None:
                params = {**verdict.reason.to_dict()["params"], "dropped": list(verdict.dropped)}
                batch.partial.append(Rejection(op.op_id, verdict.reason.code, params))
                batch.disputed.add((op.kind, op.entity_id))
            batch.accept(verdict.op, merged, world)
        merger.finish()
        fed = self._feed(conn, world, batch, batch_id)
        return batch.outcome(ops, prejudged, fed)

    # -- steps ---------------------------------------------------------------------------
    def _new_ops(
        self, conn: Connection, ops: Sequence[Op], prejudged: Mapping[str, Rejection]
    ) -> list[Op]:
        """The ops to apply: not prejudged, not stored already, each id once."""
        seen = self._existing(conn, [op.op_id for op in ops if op.op_id not in prejudged])
        todo: list[Op] = []
        for op in ops:
            if op.op_id not in seen and op.op_id not in prejudged:
                seen.add(op.op_id)
                todo.append(op)
        return todo

    def _feed(self, conn: Connection, world: TxWorld, batch: _Batch, batch_id: str | None) -> int:
        """Append the accepted ops (and the ops fed again) to the feed under their final scope
        keys and write everything; how many feed entries were written."""
        if any(op.kind in RESHAPING for op, _ in batch.accepted):
            final = {k: entity_keys(world, *k, refs) for k, (refs, _) in batch.known.items()}
        else:  # no place or household changed: each entity's last keys are its final keys
            final = {k: keys for k, (_, keys) in batch.known.items()}
        left = _left_behind(world, final)
        entries = [
            (op, keys | final[(op.kind, op.entity_id)] | left.get((op.kind, op.entity_id), set()))
            for op, keys in batch.accepted
        ]
        fed = self._write(conn, world, entries, self._refeeds(conn, world, final), batch_id)
        for op, _ in entries:
            self.ops.put(op)
        return fed

    def _existing(self, conn: Connection, op_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(sorted(set(op_ids))):
            found.update(
                conn.execute(
                    select(db.ops.c.op_id).where(db.in_list(conn, db.ops.c.op_id, part))
                ).scalars()
            )
        return found

    def _refeeds(
        self, conn: Connection, world: TxWorld, final: Mapping[Key, set[str]]
    ) -> dict[str, tuple[str, set[str]]]:
        """Earlier ops to feed again because this batch moved their entity into a new scope
        (``final``: the keys of each entity the batch changed, as they stand after it)."""
        start = world.at_start()
        out: dict[str, tuple[str, set[str]]] = {}

        def feed_again(rows: Sequence[Any], keys: set[str]) -> None:
            for op_id, device in rows:
                out.setdefault(op_id, (device, set()))[1].update(keys)

        moved: list[tuple[str, set[str]]] = []  # households in a new place: their keys added
        rehomed: list[tuple[str, set[str]]] = []  # places under a new parent: keys added beneath
        for kind, entity_id in sorted(final):
            before = start.refs(kind, entity_id) or {}
            after = world.refs(kind, entity_id) or {}
            if before == after:
                continue  # nothing that decides its scope changed
            if world.existed(kind, entity_id):
                added = final[(kind, entity_id)] - entity_keys(start, kind, entity_id, before)
                if added:
                    feed_again(self._ops_of(conn, [(kind, entity_id)]), added)
            if kind == "household" and before.get("place_id") != after.get("place_id"):
                added = household_keys(world, entity_id) - household_keys(start, entity_id)
                if added:
                    moved.append((entity_id, added))
            if kind == "place" and before.get("parent_id") != after.get("parent_id"):
                added = _under(world, entity_id) - _under(start, entity_id)
                if added and world.existed(kind, entity_id):
                    rehomed.append((entity_id, added))
        dependants = self._dependants(conn, [household for household, _ in moved])
        for household, added in moved:
            if household in dependants:
                feed_again(self._ops_of(conn, dependants[household]), added)
        for place_id, added in rehomed:
            feed_again(self._ops_of_many(conn, self._beneath(conn, world, place_id)), added)
        return out

    def _beneath(self, conn: Connection, world: TxWorld, place_id: str) -> list[Key]:
        """Everything under a place: its places at every depth, their households and the
        households' residents, requests and assignments, and the assignments on the places."""
        places = [
            p for p in world.place_ids() if p != place_id and place_id in place_chain(world, p)
        ]
        out: list[Key] = [("place", p) for p in sorted(places)]
        homes: list[str] = []
        t = db.records
        for part in chunks([place_id, *sorted(places)]):
            rows = conn.execute(
                select(t.c.kind, t.c.entity_id).where(
                    db.in_list(conn, t.c.parent_ref, part),
                    t.c.kind.in_(("household", "assignment")),
                )
            )
            for r in rows:
                out.append((r.kind, r.entity_id))
                if r.kind == "household":
                    homes.append(r.entity_id)
        for keys in self._dependants(conn, homes).values():
            out.extend(keys)
        return out

    def _ops_of_many(self, conn: Connection, entities: list[Key]) -> list[Any]:
        """The (op id, device) of every op on these entities: one query per kind and chunk."""
        by_kind: dict[str, list[str]] = {}
        for kind, entity_id in sorted(set(entities)):
            by_kind.setdefault(kind, []).append(entity_id)
        rows: list[Any] = []
        for kind, ids in by_kind.items():
            for part in chunks(ids):
                rows.extend(
                    conn.execute(
                        select(db.ops.c.op_id, db.ops.c.device).where(
                            db.ops.c.kind == kind, db.in_list(conn, db.ops.c.entity_id, part)
                        )
                    ).all()
                )
        return rows

    def _ops_of(self, conn: Connection, entities: list[Key]) -> list[Any]:
        rows: list[Any] = []
        for kind, entity_id in entities:
            rows.extend(
                conn.execute(
                    select(db.ops.c.op_id, db.ops.c.device).where(
                        db.ops.c.kind == kind, db.ops.c.entity_id == entity_id
                    )
                ).all()
            )
        return rows

    def _dependants(self, conn: Connection, household_ids: list[str]) -> dict[str, list[Key]]:
        """The residents, requests and assignments of each household (one query per chunk of
        households: an import creates thousands, almost all without any yet)."""
        t = db.records
        out: dict[str, list[Key]] = {}
        for part in chunks(household_ids):
            # by parent_ref alone, so the parent_ref index is used (with ``kind IN`` as well,
            # SQLite walks the primary key over every resident instead); kinds filtered here
            rows = conn.execute(
                select(t.c.parent_ref, t.c.kind, t.c.entity_id).where(
                    db.in_list(conn, t.c.parent_ref, part)
                )
            )
            for r in rows:
                if r.kind in DEPENDANTS:
                    out.setdefault(r.parent_ref, []).append((r.kind, r.entity_id))
        return out

    def _write(
        self,
        conn: Connection,
        world: TxWorld,
        entries: list[tuple[Op, set[str]]],
        refeeds: Mapping[str, tuple[str, set[str]]],
        batch_id: str | None,
    ) -> int:
        if not entries and not refeeds:
            return 0
        seq = world.counters["head"]
        op_rows: list[dict[str, Any]] = []
        feed_rows: list[dict[str, Any]] = []
        scope_rows: list[dict[str, Any]] = []

        def feed(op_id: str, device: str, keys: set[str]) -> None:
            nonlocal seq
            seq += 1
            feed_rows.append({"seq": seq, "op_id": op_id, "device": device})
            scope_rows.extend({"scope_key": k, "seq": seq} for k in sorted(keys))

        for op, keys in entries:
            op_rows.append(
                {
                    "op_id": op.op_id,
                    "kind": op.kind,
                    "entity_id": op.entity_id,
                    "device": op.device,
                    "batch_id": batch_id,
                    "body": self.vault.seal(op.to_dict(), op_aad(op.op_id)),
                }
            )
            feed(op.op_id, op.device, keys)
        for op_id, (device, keys) in sorted(refeeds.items()):
            feed(op_id, device, keys)

        db.insert_rows(conn, db.ops, op_rows)
        db.insert_rows(conn, db.feed, feed_rows)
        db.insert_rows(conn, db.feed_scopes, scope_rows)
        self._write_records(conn, world, seq)
        db.set_counter(conn, "head", seq)
        if any(op.kind == "place" for op, _ in entries):
            db.set_counter(conn, "places", world.counters["places"] + 1)
        return len(feed_rows)

    def _write_records(self, conn: Connection, world: TxWorld, seq: int) -> None:
        rows: list[dict[str, Any]] = []
        for (kind, entity_id), record in world.changed().items():
            refs = dict(world.refs(kind, entity_id) or {})
            rows.append(
                {
                    "kind": kind,
                    "entity_id": entity_id,
                    "parent_ref": parent_ref(kind, refs),
                    "refs": json.dumps(refs, ensure_ascii=False, sort_keys=True),
                    "body": self.vault.seal(record, record_aad(kind, entity_id)),
                    "seq": seq,
                }
            )
        db.upsert_records(conn, rows)
        projection.refresh(conn, world, seq)


@dataclass(slots=True)
class _Batch:
    """One commit's ops as they are judged: the refused ones, the accepted ones with the scope
    keys of their entity right after them, and each changed entity's refs and keys."""

    refused: dict[str, Rejection] = field(default_factory=dict)
    partial: list[Rejection] = field(default_factory=list)
    disputed: set[Key] = field(default_factory=set)
    accepted: list[tuple[Op, set[str]]] = field(default_factory=list)
    known: dict[Key, tuple[dict[str, Any], set[str]]] = field(default_factory=dict)
    #: children accepted in this commit (the merger writes child lists back only at the end)
    children: dict[tuple[str, str, str, str], Mapping[str, Any]] = field(default_factory=dict)

    def stored_child(self, op: Op) -> StoredChild:
        def lookup(name: str, child_id: str) -> Mapping[str, Any] | None:
            return self.children.get((op.kind, op.entity_id, name, child_id))

        return lookup

    def accept(self, op: Op, merged: dict[str, Any], world: TxWorld) -> None:
        key = (op.kind, op.entity_id)
        for name, items in op.add.items():
            for child in items:
                self.children.setdefault((op.kind, op.entity_id, name, child["id"]), child)
        refs = refs_of(op.kind, merged)
        world.put(op.kind, op.entity_id, merged, refs)
        if key not in self.known or self.known[key][0] != refs:
            self.known[key] = (refs, entity_keys(world, op.kind, op.entity_id, refs))
        self.accepted.append((op, self.known[key][1]))

    def outcome(self, ops: Sequence[Op], prejudged: Mapping[str, Rejection], fed: int) -> Outcome:
        """Acks and rejections in request order, each op id once."""
        outcome = Outcome(
            applied=len(self.accepted), fed=fed, partial=self.partial, disputed=self.disputed
        )
        answered: set[str] = set()
        for op in ops:
            if op.op_id in answered:
                continue
            answered.add(op.op_id)
            bad = prejudged.get(op.op_id) or self.refused.get(op.op_id)
            if bad is not None:
                outcome.rejected.append(bad)
            else:
                outcome.acks.append(op.op_id)
        return outcome


def _left_behind(world: TxWorld, final: Mapping[Key, set[str]]) -> dict[Key, set[str]]:
    """The keys a followed record (a notice, a contact) had before this commit, where they are
    not all among its keys now: its ops are fed there too, so the phones it leaves hear of it."""
    out: dict[Key, set[str]] = {}
    start: World | None = None
    for key, keys in final.items():
        kind, entity_id = key
        if kind not in FOLLOWED or not world.existed(kind, entity_id):
            continue
        start = start or world.at_start()
        before = entity_keys(start, kind, entity_id, start.refs(kind, entity_id) or {})
        if before - keys:
            out[key] = before - keys
    return out


def _authorize(
    actor: Actor, op: Op, world: TxWorld, validate: bool, stored: StoredChild
) -> Verdict:
    """What of ``op`` may ``actor`` make to the records as they stand (the batch's earlier ops
    included)? Raises the op's rejection if nothing."""
    if validate:
        validate_op(op)
    return authorize(actor, op, world, stored)


def _under(world: World, place_id: str) -> set[str]:
    return {f"p:{p}" for p in place_chain(world, place_id)}


def _merge(op: Op, world: TxWorld, merger: Merger) -> dict[str, Any]:
    """``op`` merged into its record as it stands (its child lists are brought up to date by
    ``merger.finish()``; the rules read fields and refs only)."""
    current = world.record(op.kind, op.entity_id)
    if (op.kind, op.entity_id) not in world.changed():
        # the first op on this record in this transaction: copy it once, then merge in place
        current = plain(current) if current else None
    return merger.apply(current, op)


def _referenced(world: World, ops: Sequence[Op]) -> set[Key]:
    """Records the rules will look up for these ops (households, members, teams), for prefetch."""
    keys: set[Key] = set()
    for op in ops:
        for refs in (op.set, world.refs(op.kind, op.entity_id) or {}):
            household = refs.get("household_id")
            if isinstance(household, str):
                keys.add(("household", household))
            target = refs.get("target_id")
            if isinstance(target, str) and op.kind == "assignment":
                keys.add(("household", target))
            for name, kind in (("assignee_id", "member"), ("team_id", "team")):
                value = refs.get(name)
                if isinstance(value, str):
                    keys.add((kind, value))
    return keys
