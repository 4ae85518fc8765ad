"""Compaction keeps every record, and a crash at any step of it recovers the same state."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from app.store import LocalStore, engine, files
from app.store.journal import HEADER
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op, note_op


def names(store_dir: Path) -> list[str]:
    return sorted(
        p.name for p in store_dir.iterdir() if p.name not in ("lock", "key.json", "head.bin")
    )


def state_of(store_dir: Path) -> tuple[list[dict[str, Any]], list[str], str | None]:
    s = LocalStore.open(store_dir, PIN)
    try:
        return s.all("household"), [op.op_id for op in s.pending_ops()], s.cursor()
    finally:
        s.close()


def test_compaction_preserves_data_and_starts_a_new_generation(
    store: LocalStore, store_dir: Path, clock: HybridClock
) -> None:
    store.record_changes([household_op(clock, f"hh-{n}", n) for n in range(50)])
    store.acknowledge([op.op_id for op in store.pending_ops(limit=10)])
    store.apply_remote([note_op(clock, "hh-3", "远端备注")], "cursor-1")
    expected = (store.all("household"), [op.op_id for op in store.pending_ops()], "cursor-1")
    assert names(store_dir) == ["journal-1.log", "snapshot-1.bin"]
    store.compact()
    assert names(store_dir) == ["journal-2.log", "snapshot-2.bin"]
    assert (store_dir / "journal-2.log").read_bytes() == HEADER  # no frames yet
    assert store.compactions == 1
    store.record_change(note_op(clock, "hh-4", "压缩后写入"))
    expected[0][4]["note"] = "压缩后写入"
    store.close()
    got = state_of(store_dir)
    assert [r["note"] for r in got[0]] == [r["note"] for r in expected[0]]
    assert got[1] == expected[1] + [got[1][-1]]
    assert got[2] == "cursor-1"


def test_compaction_starts_by_itself_when_the_journal_grows(
    store_dir: Path, clock: HybridClock
) -> None:
    s = LocalStore.create(store_dir, PIN, compact_min_bytes=20_000)
    for n in range(80):
        s.record_change(household_op(clock, f"hh-{n}", n))
    s.wait_compaction()
    assert s.compactions >= 1
    s.close()
    assert len(state_of(store_dir)[0]) == 80


def test_crash_images_at_every_compaction_step_recover_everything(
    store: LocalStore,
    store_dir: Path,
    tmp_path: Path,
    clock: HybridClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store.record_changes([household_op(clock, f"hh-{n}", n) for n in range(20)])
    images: dict[str, Path] = {}

    def image(label: str) -> None:
        dest = tmp_path / label
        shutil.copytree(store_dir, dest, ignore=shutil.ignore_patterns("lock"))
        images[label] = dest

    # step 1 done, snapshot not yet written: writers already use the new journal
    release = threading.Event()
    encode = engine.encode_snapshot

    def slow_encode(*args: Any) -> bytes:
        release.wait(10)
        return encode(*args)

    real_replace = files.os.replace

    def replace_then_image(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        if str(dst).endswith("snapshot-2.bin"):
            image("after-step-2")

    real_remove = files.remove_files

    def image_then_remove(paths: list[Path]) -> None:
        if any(p.name == "snapshot-1.bin" for p in paths):
            image("before-step-3")
        real_remove(paths)

    monkeypatch.setattr(engine, "encode_snapshot", slow_encode)
    monkeypatch.setattr(files.os, "replace", replace_then_image)
    monkeypatch.setattr(engine.files, "remove_files", image_then_remove)
    store.compact(wait=False)
    store.record_change(note_op(clock, "hh-1", "压缩中写入"))
    image("after-step-1")
    release.set()
    store.wait_compaction()
    store.record_change(note_op(clock, "hh-2", "压缩后写入"))
    image("after-step-3")
    monkeypatch.undo()

    assert names(images["after-step-1"]) == ["journal-1.log", "journal-2.log", "snapshot-1.bin"]
    assert names(images["after-step-2"]) == [
        "journal-1.log",
        "journal-2.log",
        "snapshot-1.bin",
        "snapshot-2.bin",
    ]
    assert names(images["after-step-3"]) == ["journal-2.log", "snapshot-2.bin"]
    for label, path in images.items():
        records, pending, _ = state_of(path)
        assert len(records) == 20, label
        assert records[1]["note"] == "压缩中写入", label
        expected_pending = 22 if label == "after-step-3" else 21
        assert len(pending) == expected_pending, label
        assert names(path)[-1].startswith("snapshot-"), label
    # recovering an image mid-compaction finishes the job: leftovers go, a new snapshot comes
    s = LocalStore.open(images["after-step-1"], PIN)
    s.wait_compaction()
    s.close()
    assert names(images["after-step-1"]) == ["journal-3.log", "snapshot-3.bin"]


def test_failed_compaction_keeps_the_journals(
    store: LocalStore, store_dir: Path, clock: HybridClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.record_changes([household_op(clock, f"hh-{n}", n) for n in range(10)])

    write = files.atomic_write

    def no_space(path: Path, data: bytes) -> None:
        if path.name.startswith("snapshot-"):  # the disk fills up while writing the snapshot
            raise OSError(28, "No space left on device")
        write(path, data)

    monkeypatch.setattr(engine.files, "atomic_write", no_space)
    store.compact()
    monkeypatch.undo()
    assert store.compactions == 0
    store.record_change(note_op(clock, "hh-0", "之后"))
    store.close()
    assert names(store_dir) == ["journal-1.log", "journal-2.log", "snapshot-1.bin"]
    records, pending, _ = state_of(store_dir)
    assert len(records) == 10 and records[0]["note"] == "之后" and len(pending) == 11
