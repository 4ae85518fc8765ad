"""The commit: exactly the preview's plan, through the one write path, in small chunks.

Each chunk is one :func:`sync.server.admin.write` transaction — ops of the ``system`` device
through :meth:`Ledger.commit <sync.server.ledger.Ledger.commit>`, so phones pull the households
like any other change — holding at most :data:`CHUNK` changes, which keeps each transaction well
under a second (``docs/benchmarks.md``): a phone's sync waits behind one chunk at most. The
values the file gave each entity are remembered in the same transaction (:mod:`.remembered`).

Run again after an interruption (a crash, a killed process), a commit completes: chunks already
written find their values remembered and their records as planned, and write nothing; an entity
planned as new that now exists is only brought to the planned values. Ids are derived, so
nothing is created twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sync.errors import ValidationError
from sync.server import logs
from sync.server.admin import Author, write
from sync.server.importing import remembered
from sync.server.importing.model import Change, Preview
from sync.server.importing.plan import _same
from sync.server.runtime import Runtime

CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    #: seconds the last chunk's transaction took
    chunk_s: float


@dataclass(slots=True)
class CommitResult:
    ops: int = 0
    chunks: int = 0
    skipped_lines: int = 0
    #: the longest chunk transaction, seconds
    longest_chunk_s: float = 0.0


def _wanted(change: Change, current: dict[str, Any] | None) -> dict[str, Any]:
    """What is still to set: the planned values the record does not have yet."""
    if current is None:
        return dict(change.set)
    return {k: v for k, v in change.set.items() if not _same(current.get(k), v)}


def commit(
    rt: Runtime,
    preview: Preview,
    *,
    skip_bad_rows: bool = False,
    progress: Callable[[Progress], None] | None = None,
    chunk: int = CHUNK,
) -> CommitResult:
    """Apply ``preview``'s plan. Refused (``import.not_ready``, nothing written) while it has
    problems or undecided residents, unless ``skip_bad_rows`` (they are then left out)."""
    if not preview.ready and not skip_bad_rows:
        raise ValidationError(
            "import.not_ready",
            problems=len(preview.problems),
            undecided=len(preview.undecided),
        )
    plan = [c for c in preview.plan if c.line not in preview.undecided or c.kind != "resident"]
    result = CommitResult(skipped_lines=len(preview.bad_lines | preview.undecided))
    community = preview.community_id
    total = len(plan)
    for start in range(0, total, chunk):
        part = plan[start : start + chunk]

        def build(a: Author, part: list[Change] = part) -> int:
            conn = a.world.conn
            ids = [c.entity_id for c in part if c.values]
            before = remembered.load(conn, rt.vault, community, ids)
            a.world.load_records({(c.kind, c.entity_id) for c in part})
            keep: dict[str, tuple[str, dict[str, Any]]] = {}
            for change in part:
                values = _wanted(change, a.record(change.kind, change.entity_id))
                if values:
                    a.op(change.kind, change.entity_id, set=values)
                if change.values:
                    now = {**before.get(change.entity_id, {}), **change.values}
                    if now != before.get(change.entity_id):
                        keep[change.entity_id] = (change.kind, now)
            remembered.save(conn, rt.vault, community, keep)
            return len(a.ops)

        began = time.perf_counter()
        ops = write(rt, build)[0] if part else 0
        took = time.perf_counter() - began
        result.ops += ops
        result.chunks += 1
        result.longest_chunk_s = max(result.longest_chunk_s, took)
        if progress is not None:
            progress(Progress(min(start + chunk, total), total, took))
    logs.event("import.commit", ops=result.ops, chunks=result.chunks)
    return result
