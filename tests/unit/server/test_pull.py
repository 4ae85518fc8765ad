"""Cursors and the ledger's gap-free feed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.ops import Op
from sync.protocol import canonical_json
from sync.server import admin, db
from sync.server.admin import Author
from sync.server.pull import Page, format_cursor, parse_cursor, pull, wire_size
from sync.server.runtime import Runtime
from sync.server.state import OpCache, op_aad
from tests.integration.server.world import build_world


def test_cursor_round_trip_and_foreign_cursors_restart() -> None:
    assert parse_cursor(format_cursor(42, "ab12"), "ab12") == 42
    assert parse_cursor(None, "ab12") == 0
    assert parse_cursor("", "ab12") == 0
    assert parse_cursor(format_cursor(42, "ab12"), "other") == 0
    assert parse_cursor("ab12.-3", "ab12") == 0
    assert parse_cursor("ab12." + "9" * 30, "ab12") == 0


def test_feed_is_gap_free_and_matches_head(rt: Runtime) -> None:
    build_world(rt)
    build_world(rt)
    with rt.db.read() as conn:
        seqs = list(conn.execute(select(db.feed.c.seq).order_by(db.feed.c.seq)).scalars())
        head = db.get_counter(conn, "head")
    assert seqs == list(range(1, head + 1))


def everything(
    rt: Runtime, cursor: str | None, max_bytes: int, cache: OpCache | None = None
) -> Page:
    """One page of the whole feed (a coordinator's view) for a device that wrote none of it."""
    with rt.db.read() as conn:
        head = db.get_counter(conn, "head")  # first, as the service reads it
        return pull(
            conn,
            rt.vault,
            head=head,
            epoch=rt.ledger.epoch(conn),
            cache=cache,
            keys=None,
            device_id="dev-nobody",
            cursor=cursor,
            limit=10_000,
            max_bytes=max_bytes,
        )


def households(rt: Runtime, unit: str, count: int) -> None:
    def build(a: Author) -> None:
        for i in range(count):
            address = "观海轩 1栋 " + "甲" * (i % 40 + 1)
            a.op("household", set={"place_id": unit, "address": address})

    admin.write(rt, build)


def paged(rt: Runtime, max_bytes: int, cache: OpCache | None) -> list[Page]:
    pages, cursor = [], None
    while True:
        page = everything(rt, cursor, max_bytes, cache)
        pages.append(page)
        if not page.more:
            return pages
        cursor = page.cursor


@pytest.mark.parametrize("source", ["database", "cache without sizes", "cache with sizes"])
def test_a_page_ends_before_its_op_json_passes_the_byte_budget(rt: Runtime, source: str) -> None:
    world = build_world(rt)
    households(rt, world.unit_a, 120)
    whole = everything(rt, None, 10**9)
    assert len(whole.ops) > 130 and not whole.more
    cache: OpCache | None = None
    if source != "database":
        cache = OpCache()
        for op in whole.ops:
            cache.put(op)  # as the ledger does after a commit: no size yet
        if source == "cache with sizes":
            paged(rt, 10**9, cache)
    budget = 2_500
    pages = paged(rt, budget, cache)
    got = [op for page in pages for op in page.ops]
    assert [op.op_id for op in got] == [op.op_id for op in whole.ops]  # nothing lost or twice
    assert pages[-1].cursor == whole.cursor
    assert len(pages) > 10
    for page in pages:
        used = sum(wire_size(op) for op in page.ops) + len(page.ops) - 1  # ops and commas
        assert used <= budget
        if page.more:  # and the next op would not have fitted
            following = got[got.index(page.ops[-1]) + 1]
            assert used + 1 + wire_size(following) > budget


def test_an_op_larger_than_the_budget_still_goes_alone(rt: Runtime) -> None:
    build_world(rt)
    whole = everything(rt, None, 10**9)
    pages = paged(rt, 10, None)
    assert [len(page.ops) for page in pages] == [1] * len(whole.ops)
    assert [page.ops[0] for page in pages] == whole.ops


def test_the_wire_size_is_the_sealed_json_size(rt: Runtime) -> None:
    build_world(rt)
    with rt.db.read() as conn:
        rows = conn.execute(select(db.ops.c.op_id, db.ops.c.body)).all()
    assert rows
    for row in rows:
        op = Op.from_dict(rt.vault.open(row.body, op_aad(row.op_id)))
        assert rt.vault.plain_size(row.body) == wire_size(op) == len(canonical_json(op.to_dict()))
