"""The scoped pull: feed entries after a device's cursor, in its scope, at most ``limit``.

The cursor a device holds is ``"<epoch>.<seq>"``: the last feed seq it has received, tagged with
the database's epoch (made at ``init``). A cursor of another epoch (the database was replaced) or
beyond ``head`` starts again from 0; ops are idempotent, so a device merges repeats harmlessly.

``head`` is read FIRST; write transactions are serialized (see :mod:`.db`), so every entry with
``seq <= head`` is committed by then and a page never skips an entry that commits late. Per scope
key, one index range scan of ``feed_scopes`` (``scope_key, seq``) with a limit; the union of those
gives the page. The device's own ops are left out of the page (it has them) but the cursor moves
past them. A page also ends before its op JSON passes ``MAX_PULL_BYTES`` (after its first op), so
the sealed answer stays under the body limit however large ``limit`` is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, select, union_all

from sync.domain.jsonlike import canonical_json
from sync.ops import Op
from sync.protocol.wire import MAX_PULL_BYTES
from sync.server import db
from sync.server.state import OpCache, chunks, op_aad
from sync.server.vault import Vault


@dataclass(frozen=True, slots=True)
class Page:
    ops: list[Op]
    cursor: str
    more: bool


def parse_cursor(cursor: str | None, epoch: str) -> int:
    if not cursor:
        return 0
    tag, _, number = cursor.partition(".")
    if tag != epoch or not number.isdigit() or len(number) > 18:
        return 0
    return int(number)


def format_cursor(seq: int, epoch: str) -> str:
    return f"{epoch}.{seq}"


def page_seqs(
    conn: Connection, keys: Collection[str] | None, after: int, head: int, limit: int
) -> list[int]:
    """Up to ``limit + 1`` feed seqs in ``(after, head]`` visible under ``keys`` (None = all)."""
    f, s = db.feed, db.feed_scopes
    if keys is None:
        q = select(f.c.seq).where(f.c.seq > after, f.c.seq <= head).order_by(f.c.seq)
        return list(conn.execute(q.limit(limit + 1)).scalars())
    if not keys:
        return []
    parts = [
        select(s.c.seq)
        .where(s.c.scope_key == key, s.c.seq > after, s.c.seq <= head)
        .order_by(s.c.seq)
        .limit(limit + 1)
        .subquery()
        for key in sorted(keys)
    ]
    merged = union_all(*(select(p.c.seq) for p in parts)).subquery()
    q = select(merged.c.seq).distinct().order_by(merged.c.seq).limit(limit + 1)
    return list(conn.execute(q).scalars())


def wire_size(op: Op) -> int:
    """The bytes of ``op``'s JSON in an answer (what the vault sealed: the same length)."""
    return len(canonical_json(op.to_dict()))


def pull(
    conn: Connection,
    vault: Vault,
    *,
    head: int,
    epoch: str,
    cache: OpCache | None = None,
    keys: Collection[str] | None,
    device_id: str,
    cursor: str | None,
    limit: int,
    max_bytes: int = MAX_PULL_BYTES,
) -> Page:
    """One page of changes for a device (``keys=None``: a coordinator, everything): at most
    ``limit`` feed entries and — past its first op — at most ``max_bytes`` of op JSON; a page
    ended by the bytes ends just before the op that did not fit (``more``, and the cursor lets
    the next page start with it).

    ``head`` must have been read in this transaction before anything else."""
    after = parse_cursor(cursor, epoch)
    if after > head:
        after = 0
    if limit <= 0:
        return Page([], format_cursor(after, epoch), False)
    seqs = page_seqs(conn, keys, after, head, limit)
    more = len(seqs) > limit
    seqs = seqs[:limit]
    last = seqs[-1] if more else head
    ops: list[Op] = []
    seen: set[str] = set()
    cache = cache or OpCache(0)
    budget = max_bytes
    for part in chunks(seqs, 500):
        rows = conn.execute(
            select(db.feed.c.seq, db.feed.c.op_id)
            .where(db.in_list(conn, db.feed.c.seq, part), db.feed.c.device != device_id)
            .order_by(db.feed.c.seq)
        ).all()
        wanted: list[tuple[int, str]] = []
        for row in rows:  # an op fed again (moved scope) may appear twice: send it once
            if row.op_id not in seen:
                seen.add(row.op_id)
                wanted.append((row.seq, row.op_id))
        found: dict[str, tuple[Op, int | None]] = {}
        for _seq, op_id in wanted:
            if (hit := cache.get_sized(op_id)) is not None:
                found[op_id] = hit
        missing = [op_id for _seq, op_id in wanted if op_id not in found]
        if missing:
            bodies = conn.execute(
                select(db.ops.c.op_id, db.ops.c.body).where(
                    db.in_list(conn, db.ops.c.op_id, missing)
                )
            )
            for row in bodies:
                op = Op.from_dict(vault.open(row.body, op_aad(row.op_id)))
                size = vault.plain_size(row.body)
                cache.put(op, size)
                found[op.op_id] = (op, size)
        for seq, op_id in wanted:
            op, known = found[op_id]
            size = wire_size(op) if known is None else known
            if known is None:
                cache.put(op, size)
            if ops and size > budget:  # the page is full: the next one starts with this op
                return Page(ops, format_cursor(seq - 1, epoch), True)
            budget -= size + 1  # and the comma
            ops.append(op)
    return Page(ops, format_cursor(last, epoch), more)
