"""Acknowledged ops are kept 14 days (encrypted, across restarts) and go back to the outbox
when the server turns out to have been restored from a backup."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import LocalStore
from app.store import local as local_module
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op


def test_acknowledged_ops_are_kept_and_requeued_in_order(
    store: LocalStore, store_dir: Path, clock: HybridClock
) -> None:
    ops = [household_op(clock, f"hh-{n}", n) for n in range(5)]
    store.record_changes(ops)
    assert store.acknowledge([ops[0].op_id, ops[1].op_id]) == 2
    assert store.acknowledge([ops[2].op_id], retain=False) == 1  # refused: nothing to re-send
    assert store.sent_count() == 2 and store.pending_count() == 2
    store.close()
    reopened = LocalStore.open(store_dir, PIN)  # kept across a restart
    try:
        assert reopened.sent_count() == 2
        assert reopened.requeue_sent() == 2
        assert reopened.sent_count() == 0
        assert [o.op_id for o in reopened.pending_ops()] == [
            ops[3].op_id,
            ops[4].op_id,
            ops[0].op_id,
            ops[1].op_id,
        ]
        assert reopened.pending_ops()[2] == ops[0]  # the same op, byte for byte
        assert reopened.requeue_sent() == 0
    finally:
        reopened.close()


def test_kept_ops_older_than_fourteen_days_are_pruned(
    store: LocalStore, clock: HybridClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = household_op(clock, "hh-1", 1), household_op(clock, "hh-2", 2)
    store.record_changes([old, new])
    start = 1_700_000_000.0
    monkeypatch.setattr(local_module.time, "time", lambda: start)
    store.acknowledge([old.op_id])
    later = start + local_module.RETAIN_MS / 1000 + 60
    monkeypatch.setattr(local_module.time, "time", lambda: later)
    store.acknowledge([new.op_id])
    assert store.sent_count() == 1
    assert store.requeue_sent() == 1
    assert [o.op_id for o in store.pending_ops()] == [new.op_id]
