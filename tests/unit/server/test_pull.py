"""Cursors and the ledger's gap-free feed."""

from __future__ import annotations

from sqlalchemy import select

from sync.server import db
from sync.server.pull import format_cursor, parse_cursor
from sync.server.runtime import Runtime
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
