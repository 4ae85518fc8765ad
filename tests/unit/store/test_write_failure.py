"""A disk that refuses a write leaves the journal and memory exactly as they were."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from app.store import LocalStore
from sync.errors import StoreWriteFailed
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op, note_op


def journal_size(store_dir: Path) -> int:
    return sum(p.stat().st_size for p in store_dir.glob("journal-*.log"))


def failing(code: int) -> Any:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("call", "code"),
    [("write", errno.ENOSPC), ("fdatasync", errno.EIO), ("fdatasync", errno.ENOSPC)],
)
def test_failed_write_changes_nothing(
    store: LocalStore,
    store_dir: Path,
    clock: HybridClock,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
    code: int,
) -> None:
    store.record_change(household_op(clock, "hh-1", 1))
    before_record = store.get("household", "hh-1")
    before_size = journal_size(store_dir)
    heard: list[frozenset[str]] = []
    store.add_listener(heard.append)

    with monkeypatch.context() as m:
        m.setattr(os, call, failing(code))
        with pytest.raises(StoreWriteFailed) as err:
            store.record_changes(
                [note_op(clock, "hh-1", "不应保存"), household_op(clock, "hh-2", 2)]
            )
        with pytest.raises(StoreWriteFailed):
            store.acknowledge([op.op_id for op in store.pending_ops()])
        with pytest.raises(StoreWriteFailed):
            store.apply_remote([household_op(clock, "hh-3", 3)], "cursor-9")
    assert err.value.params == {"reason": errno.errorcode[code]}
    assert "清理手机存储空间" in err.value.describe("zh-CN")

    assert store.get("household", "hh-1") == before_record
    assert store.get("household", "hh-2") is None
    assert store.get("household", "hh-3") is None
    assert store.pending_count() == 1
    assert store.cursor() is None
    assert journal_size(store_dir) == before_size
    assert heard == []

    # the disk works again: so does the store, and a reopen sees only committed writes
    store.record_change(household_op(clock, "hh-4", 4))
    store.close()
    again = LocalStore.open(store_dir, PIN)
    try:
        assert sorted(r["id"] for r in again.all("household")) == ["hh-1", "hh-4"]
        assert again.get("household", "hh-1") == before_record
        assert again.pending_count() == 2
        assert again.torn_tail_dropped == 0
    finally:
        again.close()


def test_partial_write_then_failure_is_cut_back(
    store: LocalStore, store_dir: Path, clock: HybridClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = {"n": 0}

    def half_then_fail(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "no space")

    before = journal_size(store_dir)
    with monkeypatch.context() as m:
        m.setattr(os, "write", half_then_fail)
        with pytest.raises(StoreWriteFailed):
            store.record_change(household_op(clock, "hh-1", 1))
    assert journal_size(store_dir) == before
    store.record_change(household_op(clock, "hh-2", 2))
    store.close()
    again = LocalStore.open(store_dir, PIN)
    assert [r["id"] for r in again.all("household")] == ["hh-2"]
    assert again.torn_tail_dropped == 0
    again.close()


def test_when_even_the_cut_back_fails_writes_stop_until_reopen(
    store: LocalStore, store_dir: Path, clock: HybridClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.record_change(household_op(clock, "hh-1", 1))
    real_write = os.write
    calls = {"n": 0}

    def part_then_fail(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:20]))
        raise OSError(errno.EIO, "i/o error")

    with monkeypatch.context() as m:
        m.setattr(os, "write", part_then_fail)
        m.setattr(os, "ftruncate", failing(errno.EIO))
        with pytest.raises(StoreWriteFailed):
            store.record_change(household_op(clock, "hh-2", 2))
    with pytest.raises(StoreWriteFailed):
        store.record_change(household_op(clock, "hh-3", 3))
    assert store.get("household", "hh-2") is None
    store.close()
    again = LocalStore.open(store_dir, PIN)
    assert again.torn_tail_dropped == 1
    assert [r["id"] for r in again.all("household")] == ["hh-1"]
    again.close()
