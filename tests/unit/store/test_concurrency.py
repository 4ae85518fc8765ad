from __future__ import annotations

import threading
from pathlib import Path

from app.store import LocalStore
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op, note_op, record


def test_eight_writer_threads_lose_nothing(store_dir: Path) -> None:
    store = LocalStore.create(store_dir, PIN, compact_min_bytes=30_000)  # compacts meanwhile
    clock = HybridClock()
    per_thread = 40
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                n = t * per_thread + i
                store.record_change(household_op(clock, f"hh-{t}-{i}", n))
                if i % 5 == 0:
                    store.record_change(note_op(clock, f"hh-{t}-{i}", f"线程{t}第{i}次"))
                    store.find("household", {"building": "1栋"})
                if i % 10 == 9:
                    store.set_meta(f"thread-{t}", i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    store.close()
    assert store.compactions >= 1

    again = LocalStore.open(store_dir, PIN)
    try:
        assert again.count("household") == 8 * per_thread
        assert again.pending_count() == 8 * per_thread + 8 * (per_thread // 5)
        for t in range(8):
            assert again.get_meta(f"thread-{t}") == per_thread - 1
            assert record(again, "household", f"hh-{t}-5")["note"] == f"线程{t}第5次"
        assert len({op.op_id for op in again.pending_ops()}) == again.pending_count()
    finally:
        again.close()
